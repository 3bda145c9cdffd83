"""Words the shop owner reads about a settlement, in the reader's language."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from backoffice.templatetags.money import format_money

# Settlement.problem_code of a settlement whose payments do not match its sales.
UNBALANCED = "unbalanced"

# The common payment methods by their friendly names; any other method is shown as the
# till calls it.
PAYMENT_LABELS = {
    "cash": _("Kontant"),
    "card": _("Kort"),
    "vipps": _("Vipps"),
    "gift_card": _("Gavekort"),
    "invoice": _("Faktura"),
}


def payment_label(method: str) -> str:
    return str(PAYMENT_LABELS.get(method, method))


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
