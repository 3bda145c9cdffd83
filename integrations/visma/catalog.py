"""The kontooppsett seam (accounting/catalog.py) fed from the cached Visma chart.

Set as ACCOUNTING_CATALOG_PROVIDER: the kontooppsett offers the company's own active
accounts and VAT codes and checks entries against them (unknown or inactive account, VAT
code whose rate does not match).
"""

from __future__ import annotations

from accounting.catalog import Catalog, KnownAccount, KnownVatCode

from .models import VismaAccount, VismaConnection, VismaVatCode


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
    accounts = {
        number: KnownAccount(number=number, name=name, active=active)
        for number, name, active in VismaAccount.objects.filter(
            organization=organization
        ).values_list("number", "name", "is_active")
    }
    vat_codes = {}
    for code in VismaVatCode.objects.filter(organization=organization):
        vat_codes[code.code] = KnownVatCode(
            code=code.code,
            description=code.description,
            rate=code.percent,
            external_id=str(code.visma_id),
        )
    return Catalog(
        accounts=accounts,
        vat_codes=vat_codes,
        source=f"Visma eAccounting: {connection.company_name}",
    )
