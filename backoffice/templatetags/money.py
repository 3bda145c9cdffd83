"""Money as a Norwegian reads it: 1 200,00 (nb) or 1,200.00 (en); VAT rates as 25 % and
11,11 % (en: 11.11 %). Never via float."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import get_language

register = template.Library()


def format_money(value, language: str | None = None) -> str:
    """Two places, rounded half up as the books round, grouped and separated by Django's
    locale formats (nb: NBSP and comma; en: comma and point); a true minus sign."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    with translation.override(language or get_language() or "nb"):
        text = number_format(abs(amount), decimal_pos=2, force_grouping=True)
    return f"−{text}" if amount < 0 else text


def format_rate(value, decimal_mark: str = ",") -> str:
    """A VAT rate without needless decimals: "25 %", "11,11 %" (the voucher rows and the
    kontooppsett write it so in any language; the `rate` filter follows the reader's)."""
    text = format(Decimal(str(value)).normalize(), "f")
    return f"{text.replace('.', decimal_mark)} %"


@register.filter
def kr(value) -> str:
    return format_money(value)


@register.filter
def rate(value) -> str:
    """A VAT rate without needless decimals: 25 %, 11,11 % (en: 11.11 %)."""
    if value is None:
        return ""
    language = get_language()
    return format_rate(value, "," if language and not language.startswith("en") else ".")
