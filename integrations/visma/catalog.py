"""The kontooppsett seam (accounting/catalog.py) fed from the cached Visma chart.

Set as ACCOUNTING_CATALOG_PROVIDER: the kontooppsett offers the company's own active
accounts and VAT codes and checks entries against them (unknown or inactive account, VAT
code whose rate does not match, an account blocked for manual booking).

Visma keeps a chart per fiscal year. The kontooppsett is about the days to come, so it gets
the current year's chart; the transfer checks each voucher against the chart of its date's
year (preflight.Company.accounts_on), so a December settlement posted in January meets
December's chart.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Protocol, TypeVar

from django.db.models import Q
from django.utils import timezone

from accounting.catalog import Catalog, KnownAccount, KnownVatCode

from .models import VismaAccount, VismaConnection, VismaFiscalYear, VismaVatCode


class _Period(Protocol):
    # Read-only, so frozen dataclasses (client.FiscalYear) fit as well as models.
    @property
    def start_date(self) -> date: ...

    @property
    def end_date(self) -> date: ...


Y = TypeVar("Y", bound=_Period)


def year_of(years: Iterable[Y], day: date) -> Y | None:
    """The fiscal year that holds `day`, or None."""
    return next((y for y in years if y.start_date <= day <= y.end_date), None)


def current_year(years: Iterable[Y], today: date) -> Y | None:
    """The year of `today`; without one (next year not created yet) the latest year begun
    before it, else the first: the chart Visma's GET /accounts would answer."""
    ordered = sorted(years, key=lambda y: y.start_date)
    found = year_of(ordered, today)
    if found is not None:
        return found
    begun = [y for y in ordered if y.start_date <= today]
    return begun[-1] if begun else (ordered[0] if ordered else None)


def known_account(account: VismaAccount) -> KnownAccount:
    return KnownAccount(
        number=account.number,
        name=account.name,
        active=account.is_active,
        blocked_for_manual_booking=account.blocked_for_manual_booking,
        first_cost_center_mandatory=account.first_cost_center_mandatory,
        allows_transaction_text=account.allows_transaction_text,
    )


def charts(organization) -> dict[int | None, dict[int, KnownAccount]]:
    """Every cached chart: VismaFiscalYear pk (None: read without a fiscal year) → accounts."""
    found: dict[int | None, dict[int, KnownAccount]] = {}
    for account in VismaAccount.objects.filter(organization=organization):
        found.setdefault(account.fiscal_year_id, {})[account.number] = known_account(account)
    return found


def current_chart(organization) -> dict[int, KnownAccount]:
    """The current fiscal year's cached chart (or the one read without a year)."""
    year = current_year(VismaFiscalYear.objects.filter(organization=organization), _today())
    found: dict[int | None, dict[int, KnownAccount]] = {}
    for account in VismaAccount.objects.filter(
        Q(fiscal_year=year) | Q(fiscal_year__isnull=True), organization=organization
    ):
        found.setdefault(account.fiscal_year_id, {})[account.number] = known_account(account)
    return found.get(year.pk if year else None) or found.get(None) or {}


def _today() -> date:
    return timezone.localdate()


def company_catalog(organization) -> Catalog | None:
    """The company's accounts and VAT codes; None when Visma is not connected or the chart
    was never fetched. While the connection waits for a reconnect the cached chart is still
    offered: it is the same company's."""
    if organization is None:
        return None
    connection = (
        VismaConnection.objects.filter(organization=organization)
        .only("status", "company_name", "company_refreshed_at")
        .first()
    )
    if (
        connection is None
        or connection.status == VismaConnection.Status.NOT_CONNECTED
        or connection.company_refreshed_at is None
    ):
        return None
    vat_codes = {}
    for code in VismaVatCode.objects.filter(organization=organization):
        vat_codes[code.code] = KnownVatCode(
            code=code.code,
            description=code.description,
            rate=code.percent,
            external_id=str(code.visma_id),
        )
    return Catalog(
        accounts=current_chart(organization),
        vat_codes=vat_codes,
        source=f"Visma eAccounting: {connection.company_name}",
    )
