"""Pre-flight: what Visma would refuse, judged before anything is sent from the company
data read once at the start of a run (fiscal years, lock date, each year's chart with the
accounts' rules for manual vouchers, VAT codes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounting.builder import Voucher
from accounting.catalog import Catalog, KnownAccount
from backoffice.models import Location, Organization

from .catalog import charts, company_catalog, year_of
from .models import (
    Problem,
    StoreCostCenter,
    VismaConnection,
    VismaCostCenterItem,
    VismaFiscalYear,
)


@dataclass
class Company:
    """What one run knows of the Visma company (read once per run)."""

    catalog: Catalog | None
    years: list[VismaFiscalYear]
    locked_to: date | None
    # Cost centres (costcentres.py): whether the company uses them, its items by Visma id,
    # and the item chosen per store (Location id → item id).
    uses_cost_center: bool = False
    cost_center_items: dict[str, VismaCostCenterItem] = field(default_factory=dict)
    store_cost_centers: dict[int, str] = field(default_factory=dict)
    # Every cached chart by VismaFiscalYear pk (None: read without a fiscal year).
    charts: dict[int | None, dict[int, KnownAccount]] = field(default_factory=dict)

    @property
    def vat_code_ids(self) -> dict[str, str]:
        """Our VAT codes → Visma's VatCodeId."""
        if self.catalog is None:
            return {}
        return {code: known.external_id for code, known in self.catalog.vat_codes.items()}

    def accounts_on(self, day: date) -> dict[int, KnownAccount]:
        """The chart a voucher dated `day` meets in Visma: its fiscal year's, so a December
        settlement posted in January is checked against December's chart. Where that chart
        was not read (no fiscal years known), the current one."""
        year = year_of(self.years, day)
        if year is not None and year.pk in self.charts:
            return self.charts[year.pk]
        return self.catalog.accounts if self.catalog is not None else {}

    def accounts_without_text(self, day: date) -> frozenset[int]:
        """The accounts on which Visma refuses a row text (AllowTransactionText false)."""
        return frozenset(
            number
            for number, known in self.accounts_on(day).items()
            if not known.allows_transaction_text
        )


def read_company(organization: Organization) -> Company:
    locked_to, uses_cost_center = (
        VismaConnection.objects.filter(organization=organization)
        .values_list("accounting_locked_to", "uses_cost_center")
        .first()
    ) or (None, False)
    items: dict[str, VismaCostCenterItem] = {}
    stores: dict[int, str] = {}
    if uses_cost_center:
        items = {
            str(item.visma_id): item
            for item in VismaCostCenterItem.objects.filter(organization=organization)
        }
        stores = {
            location_id: str(item_id)
            for location_id, item_id in StoreCostCenter.objects.filter(
                location__organization=organization
            ).values_list("location_id", "item_visma_id")
        }
    return Company(
        catalog=company_catalog(organization),
        years=list(VismaFiscalYear.objects.filter(organization=organization)),
        locked_to=locked_to,
        uses_cost_center=uses_cost_center,
        cost_center_items=items,
        store_cost_centers=stores,
        charts=charts(organization),
    )


def _day(day: date) -> str:
    return date_format(day, "d.m.Y")


def _has_cost_centre(store: Location | None, company: Company) -> bool:
    """Every row of the store's vouchers carries its cost centre item (costcentres.py)."""
    return (
        store is not None
        and company.uses_cost_center
        and bool(company.store_cost_centers.get(store.pk))
    )


def cost_center_problem(store: Location, company: Company) -> tuple[str, str] | None:
    """The cost centre item chosen for the store is inactive (or gone) in Visma: Visma would
    refuse every row of the voucher."""
    if not company.uses_cost_center:
        return None
    chosen = company.store_cost_centers.get(store.pk)
    if not chosen:
        return None
    item = company.cost_center_items.get(chosen)
    if item is None:
        return Problem.COST_CENTER, _(
            "Kostnadsstedet som er valgt for butikken %(store)s, finnes ikke lenger i Visma; "
            "velg et annet under Oppsett > Integrasjoner. Oppgjøret overføres ved neste kjøring."
        ) % {"store": store.name}
    if not item.is_active:
        return Problem.COST_CENTER, _(
            "Kostnadssted «%(item)s» er ikke aktivt i Visma; velg et annet for butikken "
            "%(store)s under Oppsett > Integrasjoner, eller aktiver det i Visma. Oppgjøret "
            "overføres ved neste kjøring."
        ) % {"item": item.name, "store": store.name}
    return None


def preflight(
    day: date, voucher: Voucher, company: Company, *, store: Location | None = None
) -> tuple[str, str] | None:
    """What Visma would refuse, as (Problem code, Norwegian reason with what to do).
    `store`: the settlement's, whose cost centre item goes on every row."""
    if company.years:
        year = year_of(company.years, day)
        if year is None:
            return Problem.FISCAL_YEAR_MISSING, _(
                "Visma-selskapet har ikke noe regnskapsår for %(day)s. Opprett regnskapsåret "
                "i Visma (Innstillinger > Regnskapsår); oppgjøret overføres ved neste kjøring."
            ) % {"day": _day(day)}
        if year.is_locked:
            return Problem.PERIOD_LOCKED, _(
                "Regnskapsåret %(start)s–%(end)s er låst i Visma. Åpne året i Visma, eller "
                "før oppgjøret manuelt; det prøves igjen ved neste kjøring."
            ) % {"start": _day(year.start_date), "end": _day(year.end_date)}
    if company.locked_to and day <= company.locked_to:
        return Problem.PERIOD_LOCKED, _(
            "Perioden er låst i Visma til %(date)s. Åpne perioden i Visma, eller før "
            "oppgjøret manuelt; det prøves igjen ved neste kjøring."
        ) % {"date": _day(company.locked_to)}
    catalog = company.catalog
    if catalog is None:
        return cost_center_problem(store, company) if store is not None else None
    accounts = company.accounts_on(day)
    problems = []
    refused = []
    for number in sorted({row.account for row in voucher.rows}):
        known = accounts.get(number)
        if known is None:
            problems.append(
                (Problem.ACCOUNT_MISSING, _("Konto %(n)s finnes ikke i Visma") % {"n": number})
            )
        elif not known.active:
            problems.append(
                (Problem.ACCOUNT_MISSING, _("Konto %(n)s er inaktiv i Visma") % {"n": number})
            )
        elif known.blocked_for_manual_booking:
            refused.append(
                _(
                    "Konto %(n)s er sperret for manuell bokføring i Visma, og bilagene fra "
                    "Backoffice føres som manuelle bilag. Velg en annen konto i Oppsett > "
                    "Kontooppsett, eller fjern sperren for manuell bokføring på konto %(n)s "
                    "i Visma (Innstillinger > Kontoplan)."
                )
                % {"n": number}
            )
        elif known.first_cost_center_mandatory and not _has_cost_centre(store, company):
            refused.append(
                _(
                    "Konto %(n)s krever kostnadssted i Visma, og butikken har ikke noe "
                    "kostnadssted valgt. Velg kostnadssted for butikken under Oppsett > "
                    "Integrasjoner (når selskapet bruker kostnadssteder), velg en annen konto i "
                    "Oppsett > Kontooppsett, eller slå av kravet om kostnadssted på konto %(n)s "
                    "i Visma (Innstillinger > Kontoplan)."
                )
                % {"n": number}
            )
    for code in sorted({row.vat_code for row in voucher.rows if row.vat_code}):
        known_code = catalog.vat_codes.get(code)
        if known_code is None or not known_code.external_id:
            problems.append(
                (Problem.VAT_CODE_MISSING, _("MVA-kode %(c)s finnes ikke i Visma") % {"c": code})
            )
    if problems:
        text = "; ".join(message for _code, message in problems)
        message = _(
            "%(problems)s. Opprett eller aktiver i Visma, eller velg en annen i "
            "Oppsett > Kontooppsett; oppgjøret overføres ved neste kjøring."
        ) % {"problems": text}
        return problems[0][0], " ".join([message, *refused])
    if refused:
        return Problem.ACCOUNT_BLOCKED, _("%(problems)s Oppgjøret overføres ved neste kjøring.") % {
            "problems": " ".join(refused)
        }
    return cost_center_problem(store, company) if store is not None else None
