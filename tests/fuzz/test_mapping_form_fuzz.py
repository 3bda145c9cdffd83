"""The kontooppsett form (POST /oppsett/kontooppsett/ as an admin) against random and
malformed field values (issue 8, part 2).

Whatever is posted: never a 500; invalid input re-renders the page (200) with its error
box and writes nothing (the saved kontooppsett and its change log stay as they were);
valid input saves and redirects (302) to a page that shows again.
"""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from accounting.models import MappingChange
from accounting.services import export_mapping

from .support import TALLY, fuzz_settings, record

URL = "/oppsett/kontooppsett/"
ERROR_BOX = 'role="alert"'


def form_of(mapping: dict) -> dict[str, str]:
    """The worked example's kontooppsett as the page posts it (named inputs)."""
    data: dict[str, str] = {}
    for i, (rate, entry) in enumerate(mapping["sales_by_vat_rate"].items()):
        data |= {f"sales-{i}-key": rate, f"sales-{i}-account": str(entry["account"])}
        data[f"sales-{i}-vat_code"] = entry["vat_code"]
    for i, (group, entry) in enumerate(mapping["sales_by_product_group"].items()):
        data |= {f"group-{i}-key": group, f"group-{i}-account": str(entry["account"])}
        data[f"group-{i}-vat_code"] = entry["vat_code"]
    for i, (rate, account) in enumerate(mapping["output_vat_by_rate"].items()):
        data |= {f"vat-{i}-key": rate, f"vat-{i}-account": str(account)}
    for i, (method, account) in enumerate(mapping["payments"].items()):
        data |= {f"payment-{i}-key": method, f"payment-{i}-account": str(account)}
    for name in ("tips", "gift_cards_sold", "rounding", "cash", "cash_difference"):
        data[name] = str(mapping[name])
    data |= {"pay_ins": str(mapping["pay_ins"]), "pay_outs": str(mapping["pay_outs"])}
    return data


EXTRA_NAMES = [
    "group-new-key", "group-new-account", "group-new-vat_code", "payment-new-key",
    "payment-new-account", "action", "sales-99-key", "sales-99-account", "sales-99-vat_code",
    "vat-7-key", "vat-7-account", "payment-12345678901234567890-key", "group-0-key",
]  # fmt: skip
ODD_VALUES = [
    "", " ", "0", "999", "1000", "999999999", "1000000000", "9" * 30, "9" * 5000,
    "0" * 30 + "3000", "-3000", "+3000", "3000.0", "3 000", "３０００", "٣٠٠٠", "3000\n", "1e4",
    "\x00", "3000\x00", "abc", "<b>3000</b>", "{{ x }}", "x" * 300, "standard", "25",
    "25.00", "25,5", "12.345", "100", "-1", "NaN", "sNaN", "Infinity", "1E+999999",
    "1E-999999", "3", "31", "33", "5", "6", "1", "14", "x" * 21, "Klær", " cash ", "kort",
]  # fmt: skip
values = st.one_of(
    st.sampled_from(ODD_VALUES),
    st.sampled_from(ODD_VALUES),
    st.text(st.characters(codec="utf-8"), max_size=30),
    st.from_regex(r"[0-9]{1,12}", fullmatch=True),
)


@st.composite
def posts(draw, base: dict[str, str]):
    data = dict(base)
    names = sorted(base) + EXTRA_NAMES
    for _ in range(draw(st.integers(1, 5))):
        name = draw(st.sampled_from(names))
        if draw(st.integers(0, 5)) == 0:
            data.pop(name, None)
        else:
            data[name] = draw(values)
    if draw(st.booleans()):
        data["action"] = "standard"
    return data


@pytest.fixture
def admin(alice) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    return client


def check(admin: Client, org, name: str, data: dict) -> int:
    """Post the form; assert the invariants; the status (200 refused, 302 saved)."""
    saved, changes = export_mapping(organization=org), MappingChange.objects.count()
    response = admin.post(URL, data)
    status = response.status_code
    record(name, tried=1, **{f"status {status}": 1})
    if status >= 500:
        record(name, server_errors=1)
    assert status in (200, 302), (status, data)
    if status == 200:
        # Refused: the page again with its errors, and nothing written.
        assert ERROR_BOX in response.content.decode(), data
        unchanged = (export_mapping(organization=org), MappingChange.objects.count())
        if unchanged != (saved, changes):
            record(name, partial_writes=1)
        assert unchanged == (saved, changes), data
    else:
        assert response["Location"] == URL
        assert admin.get(URL).status_code == 200
    return status


ACCOUNTS = [
    "", " ", "0", "999", "1000", "999999999", "1000000000", "9" * 30, "9" * 5000,
    "0" * 30 + "3000", "-3000", "+3000", "3000.0", "3 000", "３０００", "٣٠٠٠", "3000\n",
    "1e4", "\x00", "3000\x00", "abc", "x" * 300,
]  # fmt: skip
KEYS = [
    "", " ", "0", "25.00", "25,5", "12.345", "100", "-1", "NaN", "sNaN", "Infinity",
    "1E+999999", "1E-999999", "9" * 5000, "\x00", "Klær\x00", "x" * 101, " cash ", "<b>",
]  # fmt: skip
CODES = ["", " ", "3", "31", "5", "6", "1", "14", "99", "x" * 21, "\x00", "3\x00", "٣"]
GRID = {
    "sales-0-key": KEYS, "sales-0-account": ACCOUNTS, "sales-0-vat_code": CODES,
    "group-0-key": KEYS, "group-0-account": ACCOUNTS, "group-0-vat_code": CODES,
    "vat-0-key": KEYS, "vat-0-account": ACCOUNTS, "payment-0-key": KEYS,
    "payment-0-account": ACCOUNTS, "tips": ACCOUNTS, "group-new-key": KEYS,
    "group-new-vat_code": CODES, "payment-new-key": KEYS,
}  # fmt: skip


def test_it_refuses_or_saves_an_odd_value_in_every_kind_of_field(admin, org, worked_example):
    """Systematic: each kind of input (rate key, name key, account, VAT code, new row)
    given every odd value of its kind, the rest of the form valid."""
    name = "kontooppsett form: odd value per field"
    base = form_of(worked_example["mapping"])
    for field, odd in GRID.items():
        for value in odd:
            data = base | {field: value}
            if field == "group-new-vat_code":
                data |= {"group-new-key": "Ny gruppe", "group-new-account": "3000"}
            check(admin, org, name, data)
    assert TALLY[name]["tried"] == sum(len(odd) for odd in GRID.values())


def test_it_never_fails_on_malformed_kontooppsett_forms(admin, org, worked_example):
    name = "kontooppsett form"
    base = form_of(worked_example["mapping"])

    @fuzz_settings(150)
    @given(data=posts(base))
    def run(data):
        check(admin, org, name, data)

    run()
    assert TALLY[name]["tried"] >= 130
    # Both ways were taken: the fuzzer is not only ever refused.
    assert TALLY[name]["status 200"] and TALLY[name]["status 302"]
