"""SAF-T standard codes on the kontooppsett (DESIGN.md 4.6).

A till's SAF-T file names its payment types and article groups with its own codes and
Skatteetaten's standard code (PredefinedBasicID-12 for payments, -04 for article groups;
the code lists are in ../shared/saft/code-lists/). The kontooppsett shows each with the
till's description and the standard code, and "Bruk standard kontoplan" gives a payment
type the account its standard code stands for. Only this table of accounts is ours; the
descriptions come from the tills' files (saft.models.SaftCode).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from .catalog import Catalog
from .mapping import STANDARD_PAYMENTS, account_problem

# Standard payment code -> the NS 4102 account "Bruk standard kontoplan" fills in: the same
# accounts as for the JSON API's usual method names (mapping.STANDARD_PAYMENTS).
PAYMENT_ACCOUNTS = {
    "12001": STANDARD_PAYMENTS["cash"],  # Kontant: the till's cash
    "12002": STANDARD_PAYMENTS["card"],  # Bankkort: card clearing
    "12003": STANDARD_PAYMENTS["card"],  # Kredittkort: card clearing
    "12004": 1920,  # Bankkonto
    "12005": STANDARD_PAYMENTS["gift_card"],  # Gavekort: the gift-card liability
    "12006": STANDARD_PAYMENTS["invoice"],  # Kundekonto: customer receivables
    "12011": STANDARD_PAYMENTS["vipps"],  # Mobiltelefon (Vipps …): mobile clearing
}


def _codes(organization, kind: str) -> dict:
    from saft.models import SaftCode

    return {c.key: c for c in SaftCode.objects.filter(organization=organization, kind=kind)}


def fill_payments(data: dict, *, organization, catalog: Catalog | None) -> dict:
    """The JSON form with every EMPTY payment row of a SAF-T payment type filled from its
    standard code (only accounts the company has, with a catalog)."""
    payments = dict(data.get("payments") or {})
    for key, code in _codes(organization, "payment").items():
        account = PAYMENT_ACCOUNTS.get(code.standard_code)
        if account is None or payments.get(key) not in (None, ""):
            continue
        if account_problem(account, catalog) is None:
            payments[key] = account
    return {**data, "payments": payments}


def describe(page, *, organization) -> None:
    """Name each SAF-T payment type and article group on the page: the till's code and
    description, and the standard code ("DEBCARD · Debit card · standardkode 12002")."""
    from saft.models import SaftCode

    row_kind = {"payment": "payment", "article_group": "group"}
    codes: dict[str, dict] = {"payment": {}, "group": {}}
    # One query for both kinds: the page's query count does not grow with this section.
    for found in SaftCode.objects.filter(organization=organization, kind__in=list(row_kind)):
        codes[row_kind[found.kind]][found.key] = found
    for section in page.sections:
        for row in section.rows:
            code = codes.get(row.kind, {}).get(row.key)
            if code is None:
                continue
            parts = [p for p in (code.till_code, code.description) if p and p != row.key]
            if code.standard_code:
                parts.append(_("standardkode %(code)s") % {"code": code.standard_code})
            text = " · ".join(parts)
            row.help = f"{text}. {row.help}" if row.help else text
