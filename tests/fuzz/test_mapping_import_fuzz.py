"""The mapping import against random JSON (issue 8, part 2): `accounting.services.
import_mapping` and `manage.py account_mapping import`.

Whatever the file holds: the service either imports it whole or raises the named
validation error (MappingValidationError) and changes nothing; the command either
imports or stops with a CommandError and changes nothing. Nothing else escapes.
"""

from __future__ import annotations

import copy
import io

import pytest
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import strategies as st

from accounting.mapping import MappingValidationError, mapping_to_json
from accounting.models import MappingChange
from accounting.services import export_mapping, import_mapping

from .support import TALLY, Raw, containers, dumps, fuzz_settings, record

KEYS = [
    "sales_by_vat_rate", "sales_by_product_group", "output_vat_by_rate", "payments", "tips",
    "gift_cards_sold", "rounding", "cash", "cash_difference", "pay_ins", "pay_outs",
    "account", "vat_code", "mapping", "25", "15", "12", "0", "25.00", "25,0", "100", "-5",
    "NaN", "sNaN", "Infinity", "1E+999999", "1E-999999", "11.115", "cash", "card", "vipps",
    "Klær", "", " ", "\x00", "x" * 101,
]  # fmt: skip
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([1000, 1900, 3000, 999, 999_999_999, 1_000_000_000, 0, -1900, 2**63]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["3000", " 3000 ", "3", "31", "5", "6", "1", "99", "x" * 21, "", "\x00"]),
    st.sampled_from(["9" * 30, "0" * 20 + "1900", "3000.0", "３０００", "1e4", "NaN"]),
    st.text(max_size=12),
)
json_data = st.recursive(
    leaves, containers(st.sampled_from(KEYS) | st.text(max_size=6), size=5), max_leaves=15
)


def all_paths(node, prefix=()):
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += all_paths(value, (*prefix, key))
    return found


@st.composite
def mutated_mapping(draw, base: dict):
    """The worked example's kontooppsett with 1 to 4 entries broken, removed or added."""
    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(all_paths(data)))
        if not path:
            data[draw(st.sampled_from(KEYS))] = draw(json_data)
            continue
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        how = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if how == "replace":
            parent[path[-1]] = draw(leaves | json_data)
        elif how == "delete":
            del parent[path[-1]]
        elif isinstance(parent[path[-1]], dict):
            parent[path[-1]][draw(st.sampled_from(KEYS) | st.text(max_size=6))] = draw(json_data)
    return data


def state(org):
    return export_mapping(organization=org), MappingChange.objects.count()


def try_import(org, name: str, data) -> None:
    before = state(org)
    record(name, tried=1)
    try:
        mapping = import_mapping(organization=org, data=data)
    except MappingValidationError as exc:
        record(name, refused=1)
        assert exc.errors and all(str(error) for error in exc.errors)
        after = state(org)
        if after != before:
            record(name, partial_writes=1)
        assert after == before, data
    except Exception:
        record(name, server_errors=1)
        raise
    else:
        record(name, imported=1)
        assert export_mapping(organization=org) == mapping_to_json(mapping)


@pytest.fixture
def base(worked_example) -> dict:
    return worked_example["mapping"]


def test_it_imports_all_or_nothing_from_a_mutated_mapping(org, base):
    name = "mapping import: worked example mutated"

    @fuzz_settings(300)
    @given(data=mutated_mapping(base))
    def run(data):
        try_import(org, name, data)

    run()
    assert TALLY[name]["tried"] >= 250
    assert TALLY[name]["imported"] and TALLY[name]["refused"]


def test_it_imports_all_or_nothing_from_arbitrary_json(org):
    name = "mapping import: arbitrary JSON"

    @fuzz_settings(200)
    @given(data=json_data | st.dictionaries(st.sampled_from(KEYS), json_data, max_size=8))
    def run(data):
        try_import(org, name, data)

    run()
    assert TALLY[name]["tried"] >= 180


BAD_FILES = [
    b"", b"   ", b"\xff\xfe{}", b'{"tips": "\xff"}', b"\xef\xbb\xbf{}", b'{"tips": 1900',
    b"[" * 100_000 + b"]" * 100_000, b'{"tips": ' + b"9" * 5000 + b"}", b"NaN",
    b'{"tips": NaN}', b'{"tips": 1e999}', b'{"payments": {"\\ud800": 1900}}',
    b'{"payments": {"\\u0000": 1900}}', b'{"mapping": {"tips": 1900}}', b'{"mapping": 5}',
    b'{"tips": 1900, "tips": 2910}', "{\"payments\": {\"Kl\u00e6r\": 1900}}".encode("latin-1"),
]  # fmt: skip


@st.composite
def files(draw, base: dict):
    kind = draw(st.sampled_from(["bad", "mutated", "mutated", "bytes", "whole"]))
    if kind == "bad":
        return draw(st.sampled_from(BAD_FILES))
    text = dumps(draw(mutated_mapping(base)))
    if kind == "whole":
        return dumps({"settlement": {}, "mapping": Raw(text)}).encode()
    raw = text.encode("utf-8", "surrogatepass")
    if kind == "bytes" and raw:
        at = draw(st.integers(0, len(raw) - 1))
        raw = raw[:at] + bytes([draw(st.integers(0, 255))]) + raw[at + 1 :]
    return raw


def test_the_command_imports_or_stops_with_a_command_error(org, base, tmp_path):
    name = "mapping import: manage.py account_mapping"
    path = tmp_path / "kontooppsett.json"
    out = io.StringIO()

    def run_command(raw: bytes) -> None:
        path.write_bytes(raw)
        before = state(org)
        record(name, tried=1)
        try:
            call_command(
                "account_mapping", "import", "--org", org.slug, str(path), stdout=out, stderr=out
            )
        except CommandError:
            record(name, refused=1)
            after = state(org)
            if after != before:
                record(name, partial_writes=1)
            assert after == before, raw[:200]
        except Exception:
            record(name, server_errors=1)
            raise
        else:
            record(name, imported=1)

    for raw in BAD_FILES:
        run_command(raw)

    @fuzz_settings(150)
    @given(raw=files(base))
    def run(raw):
        run_command(raw)

    run()
    assert TALLY[name]["tried"] >= 150
