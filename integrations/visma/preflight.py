"""Pre-flight: what Visma would refuse, judged before anything is sent from the company
data read once at the start of a run (fiscal years, lock date, chart, VAT codes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounting.builder import Voucher
from accounting.catalog import Catalog
from backoffice.models import Organization

from .catalog import company_catalog
from .models import Problem, VismaConnection, VismaFiscalYear


@dataclass
class Company:
    """What one run knows of the Visma company (read once per run)."""

    catalog: Catalog | None
    years: list[VismaFiscalYear]
    locked_to: date | None

    @property
    def vat_code_ids(self) -> dict[str, str]:
        """Our VAT codes → Visma's VatCodeId."""
        if self.catalog is None:
            return {}
        return {code: known.external_id for code, known in self.catalog.vat_codes.items()}


def read_company(organization: Organization) -> Company:
    return Company(
        catalog=company_catalog(organization),
        years=list(VismaFiscalYear.objects.filter(organization=organization)),
        locked_to=VismaConnection.objects.filter(organization=organization)
        .values_list("accounting_locked_to", flat=True)
        .first(),
    )


def _day(day: date) -> str:
    return date_format(day, "d.m.Y")


def preflight(day: date, voucher: Voucher, company: Company) -> tuple[str, str] | None:
    """What Visma would refuse, as (Problem code, Norwegian reason with what to do)."""
    if company.years:
        year = next((y for y in company.years if y.start_date <= day <= y.end_date), None)
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
        return None
    problems = []
    for number in sorted({row.account for row in voucher.rows}):
        known = catalog.accounts.get(number)
        if known is None:
            problems.append(
                (Problem.ACCOUNT_MISSING, _("Konto %(n)s finnes ikke i Visma") % {"n": number})
            )
        elif not known.active:
            problems.append(
                (Problem.ACCOUNT_MISSING, _("Konto %(n)s er inaktiv i Visma") % {"n": number})
            )
    for code in sorted({row.vat_code for row in voucher.rows if row.vat_code}):
        known_code = catalog.vat_codes.get(code)
        if known_code is None or not known_code.external_id:
            problems.append(
                (Problem.VAT_CODE_MISSING, _("MVA-kode %(c)s finnes ikke i Visma") % {"c": code})
            )
    if problems:
        text = "; ".join(message for _code, message in problems)
        return problems[0][0], _(
            "%(problems)s. Opprett eller aktiver i Visma, eller velg en annen i "
            "Oppsett > Kontooppsett; oppgjøret overføres ved neste kjøring."
        ) % {"problems": text}
    return None
