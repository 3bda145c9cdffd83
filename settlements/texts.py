"""Words the shop owner reads about a settlement, in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from backoffice.templatetags.money import format_money

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The problem (settlements.transfer.TransferStatus.problem) of a settlement whose payments
# do not match its sales.
UNBALANCED = "unbalanced"
# Settlement.hold_code of one whose VAT disagrees with its rate (DESIGN.md 4.1), and of one
# whose source failed a cross-check of its own (a SAF-T Z report whose totals disagree,
# DESIGN.md 4.6). Like an unbalanced one it is never posted; only a corrected settlement
# from the till (same register and Z-number) fixes it, and that replaces the stored one.
VAT_MISMATCH = "vat_mismatch"
SOURCE_MISMATCH = "source_mismatch"


@dataclass(frozen=True)
class PaymentMethod:
    label: StrOrPromise  # lazy: what the reader sees on the pages, in the reader's language
    voucher_text: str  # the row text in the books: always Norwegian, as the worked example


# The common payment methods (one table for the pages and the voucher rows); any other
# method is shown, and booked, as the till calls it.
PAYMENT_METHODS = {
    "cash": PaymentMethod(_("Kontant"), "Kontant"),
    "card": PaymentMethod(_("Kort"), "Kort"),
    "vipps": PaymentMethod(_("Vipps"), "Vipps"),
    # "innløst": the voucher also has a "Gavekort solgt" row when gift cards are sold.
    "gift_card": PaymentMethod(_("Gavekort"), "Gavekort innløst"),
    "invoice": PaymentMethod(_("Faktura"), "Faktura"),
}


def payment_label(method: str) -> str:
    known = PAYMENT_METHODS.get(method)
    return str(known.label) if known else method


def payment_voucher_text(method: str) -> str:
    known = PAYMENT_METHODS.get(method.lower())
    return known.voucher_text if known else method


def unbalanced_reason(difference: Decimal) -> str:
    """Why an unbalanced settlement waits, and what to do (in the active language)."""
    amount = format_money(abs(difference))
    if difference > 0:
        text = gettext(
            "Oppgjøret går ikke i balanse: betalingene er {amount} kr mer enn salg, tips, "
            "solgte gavekort og øreavrunding til sammen. Det overføres ikke til Visma før "
            "det er rettet. Kontroller dagsoppgjøret i kassen og send det rettede oppgjøret "
            "på nytt med samme Z-nummer: det erstatter dette."
        )
    else:
        text = gettext(
            "Oppgjøret går ikke i balanse: betalingene er {amount} kr mindre enn salg, tips, "
            "solgte gavekort og øreavrunding til sammen. Det overføres ikke til Visma før "
            "det er rettet. Kontroller dagsoppgjøret i kassen og send det rettede oppgjøret "
            "på nytt med samme Z-nummer: det erstatter dette."
        )
    return text.format(amount=amount)


def vat_mismatch_reason(disagreements) -> str:
    """ "MVA 17,88 stemmer ikke med 15 % av 119,20" for each rate, and what to do."""
    parts = [
        gettext("MVA {vat} stemmer ikke med {rate} % av {gross}").format(
            vat=format_money(d.vat),
            rate=format(d.rate, "f").replace(".", ","),
            gross=format_money(d.gross),
        )
        for d in disagreements
    ]
    return (
        "; ".join(parts)
        + " "
        + gettext(
            "(mer enn øreavrunding kan forklare). Oppgjøret overføres ikke til Visma før det er "
            "rettet: send det rettede oppgjøret på nytt med samme Z-nummer, det erstatter dette."
        )
    )


def source_mismatch_reason(checks) -> str:
    """The cross-checks a source file failed (already worded), and what to do."""
    return (
        "; ".join(checks)
        + ". "
        + gettext(
            "Oppgjøret overføres ikke til Visma før det er rettet: importer den rettede filen "
            "på nytt, den erstatter dette."
        )
    )
