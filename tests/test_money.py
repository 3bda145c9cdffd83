"""Amounts as the shop owner reads them on the pages and in e-mails."""

from decimal import Decimal

from backoffice.templatetags.money import format_money


def test_it_groups_with_a_no_break_space_and_a_decimal_comma_in_norwegian():
    assert format_money(Decimal("1234567.5"), "nb") == "1\u00a0234\u00a0567,50"


def test_it_uses_english_separators_in_english():
    assert format_money(Decimal("1234.5"), "en") == "1,234.50"


def test_it_rounds_half_up_and_writes_a_true_minus():
    # Django's number_format alone would round 0.005 to 0,00 (half even) and write "-".
    assert format_money(Decimal("-0.005"), "nb") == "−0,01"
    assert format_money(Decimal("2.675"), "nb") == "2,68"


def test_it_leaves_what_is_not_a_number_as_it_is():
    assert format_money("abc", "nb") == "abc"
    assert format_money(None) == ""
