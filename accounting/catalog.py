"""The seam between the kontooppsett and whatever accounting system is connected.

`company_catalog(organization)` answers "which accounts and VAT codes does this
organisation's accounting company have?" The kontooppsett page offers them as pick-lists
and validates against them. Until an integration registers a provider (setting
`ACCOUNTING_CATALOG_PROVIDER`, a dotted path to a function organization -> Catalog | None)
the answer is None: nothing is known, nothing is checked against the company.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class KnownAccount:
    number: int
    name: str
    active: bool = True
    # The accounting system's rules for a manual voucher's row on the account (Visma:
    # IsBlockedForManualBooking, IsFirstCostCenterMandatory, AllowTransactionText). Ours
    # are manual vouchers and carry no cost centre, so the first two refuse a transfer.
    blocked_for_manual_booking: bool = False
    first_cost_center_mandatory: bool = False
    allows_transaction_text: bool = True


@dataclass(frozen=True)
class KnownVatCode:
    code: str  # the SAF-T / MVA-kode as the company shows it, e.g. "3", "31"
    description: str
    rate: Decimal | None
    external_id: str = ""  # the accounting system's own id for the code (Visma: VatCodeId)


@dataclass(frozen=True)
class Catalog:
    accounts: dict[int, KnownAccount] = field(default_factory=dict)
    vat_codes: dict[str, KnownVatCode] = field(default_factory=dict)
    source: str = ""  # e.g. "Visma eAccounting: Fjordkafé AS"


def company_catalog(organization) -> Catalog | None:
    path = getattr(settings, "ACCOUNTING_CATALOG_PROVIDER", "")
    if not path:
        return None
    return import_string(path)(organization)
