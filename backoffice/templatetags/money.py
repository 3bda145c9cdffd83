"""Money as a Norwegian reads it: 1 200,00 (nb) or 1,200.00 (en). Never via float."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils.translation import get_language

register = template.Library()

NBSP = "\u00a0"


def format_money(value, language: str | None = None) -> str:
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    sign = "−" if amount < 0 else ""
    whole, _, frac = f"{abs(amount):.2f}".partition(".")
    groups: list[str] = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    language = language or get_language() or "nb"
    if language.startswith("en"):
        return f"{sign}{','.join(groups)}.{frac}"
    return f"{sign}{NBSP.join(groups)},{frac}"


@register.filter
def kr(value) -> str:
    return format_money(value)


@register.filter
def rate(value) -> str:
    """A VAT rate without needless decimals: 25, 15, 12, 11,11."""
    if value is None:
        return ""
    text = format(Decimal(value).normalize(), "f")
    if get_language() and not get_language().startswith("en"):
        text = text.replace(".", ",")
    return f"{text} %"
