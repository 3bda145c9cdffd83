"""A VAT rate is written one way everywhere: "25 %", "11,11 %" on the kontooppsett and the
voucher rows (in any language), and as the reader's language has it on the pages that use
the `rate` filter ("11.11 %" in English)."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from accounting.mapping import rate_label


@pytest.mark.parametrize(
    ("value", "text"),
    [("25", "25 %"), (Decimal("25.00"), "25 %"), (Decimal("10"), "10 %"), ("11.11", "11,11 %")],
)
def test_it_writes_a_rate_without_needless_decimals(value, text):
    with translation.override("en"):
        assert rate_label(value) == text


@pytest.mark.parametrize(("language", "text"), [("nb", "11,11 %"), ("en", "11.11 %")])
def test_the_rate_filter_follows_the_readers_language(language, text):
    template = Template("{% load money %}{{ rate|rate }}|{{ none|rate }}")
    with translation.override(language):
        shown = template.render(Context({"rate": Decimal("11.110"), "none": None}))
    assert shown == f"{text}|"
