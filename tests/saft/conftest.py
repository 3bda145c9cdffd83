"""Skatteetaten's example SAF-T Cash Register file, read from ../shared/saft/ beside the
checkout (never copied into the repository), and variants of it written to tmp_path."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import SHARED

EXAMPLE = SHARED / "saft" / "ExampleFile_SAF-T_Cash_Register_999999999_20210330104000.xml"
REGISTER = "11.222-33.44.567"


def example_text() -> str:
    assert EXAMPLE.exists(), f"{EXAMPLE} is missing"
    return EXAMPLE.read_text(encoding="utf-8")


def replace_once(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def wrong_vat_base(text: str) -> str:
    """The 25 % VAT computed on the wrong base: 25 % of the gross 411.40 = 102.85 (instead
    of 82.28), the amount without VAT lowered to match, so the day still balances."""
    text = replace_once(
        text, "<cashSaleAmnt>329.12</cashSaleAmnt>", "<cashSaleAmnt>308.55</cashSaleAmnt>"
    )
    return replace_once(text, "<vatAmnt>82.28</vatAmnt>", "<vatAmnt>102.85</vatAmnt>")


def other_payments(text: str) -> str:
    """The same Z report with 100.00 moved from cash to card: other content, still balanced."""
    text = replace_once(
        text, "<paymentAmnt>295.00</paymentAmnt>", "<paymentAmnt>195.00</paymentAmnt>"
    )
    return replace_once(
        text, "<paymentAmnt>218.80</paymentAmnt>", "<paymentAmnt>318.80</paymentAmnt>"
    )


def with_z_reports(text: str, numbers: list[int]) -> str:
    """The example's Z report repeated under other Z-numbers, one day each after 1 January
    (those days have no cash transactions: their sales stay per VAT rate)."""
    match = re.search(r"\t*<event>\s*<eventID>2016</eventID>.*?</event>\n", text, re.S)
    assert match
    block = match.group(0)
    extra = ""
    for n in numbers:
        day = f"2020-01-{n:02d}"
        copy = block.replace("<reportID>1</reportID>", f"<reportID>{n}</reportID>")
        copy = copy.replace("<eventID>2016</eventID>", f"<eventID>{3000 + n}</eventID>")
        extra += copy.replace("2020-01-01", day)
    return text.replace(block, block + extra, 1)


@pytest.fixture
def saft_file(tmp_path) -> Callable[..., Path]:
    """saft_file(text=None, name="kasse.xml"): the example (or the given text) on disk."""

    def _write(text: str | None = None, name: str = "kasse.xml") -> Path:
        path = tmp_path / name
        path.write_text(example_text() if text is None else text, encoding="utf-8")
        return path

    return _write
