"""POST /api/v1/settlements against thousands of malformed bodies (issue 8, part 2).

Every body goes through the real view with a valid API key. Whatever comes in:
- never a 500: the answer is 400 or 413 (201, 200 or 409 when a body happens to be valid);
- never a partial write: the rows of Settlement, SaleLine, Payment, CashMovement and
  Register are unchanged after a refused body, and grow by one whole settlement after a 201;
- every 400 names at least one field by a path that points into the input ("" = the body);
- a settlement that was accepted shows on its page.

Most effective generator: the worked example with one or several fields broken.
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from backoffice.models import Register
from settlements.models import CashMovement, Payment, SaleLine, Settlement

from .support import (
    SOAK_FACTOR,
    TALLY,
    Dup,
    Raw,
    containers,
    decode,
    dumps,
    fuzz_settings,
    path_in,
    record,
)

URL = "/api/v1/settlements"
LIMIT = django_settings.SETTLEMENT_MAX_BODY_BYTES
TABLES = [m._meta.db_table for m in (Settlement, SaleLine, Payment, CashMovement, Register)]
COUNT_SQL = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {t})" for t in TABLES)


def row_counts() -> tuple[int, ...]:
    with connection.cursor() as cursor:
        cursor.execute(COUNT_SQL)
        return tuple(cursor.fetchone())


class Api:
    """Posts bodies as a till of Fjordkafé Sentrum and checks every answer."""

    def __init__(self, key: str, viewer: Client, name: str):
        self.client = Client(raise_request_exception=False)
        self.key = key
        self.viewer = viewer
        self.name = name

    def post(self, raw: bytes, **extra):
        extra.setdefault("HTTP_AUTHORIZATION", f"Bearer {self.key}")
        content_type = extra.pop("content_type", "application/json")
        return self.client.post(URL, data=raw, content_type=content_type, **extra)

    def check(self, body, **extra):
        """Post `body` (a generated value, JSON text or bytes); assert the invariants."""
        if isinstance(body, bytes):
            raw = body
        else:
            text = body if isinstance(body, Raw) else dumps(body)
            raw = text.encode("utf-8", "surrogatepass")
        before = row_counts()
        response = self.post(raw, **extra)
        after = row_counts()
        status = response.status_code
        record(self.name, tried=1, **{f"status {status}": 1})
        if status >= 500:
            record(self.name, server_errors=1)
        assert status < 500, f"server error for body {raw[:300]!r}"
        assert status in (200, 201, 400, 409, 413), (status, raw[:300])
        assert response["Content-Type"].startswith("application/json")
        answer = response.json()

        declared = int(extra.get("CONTENT_LENGTH", len(raw)))
        if len(raw) > LIMIT or declared > LIMIT:
            assert status == 413, (status, len(raw), declared)
        if status == 413:
            assert len(raw) > LIMIT or declared > LIMIT

        if status == 201:
            doc = decode(raw[:declared])
            grown = tuple(b - a for a, b in zip(before, after, strict=True))
            whole = (
                1,
                len(doc["sales"]),
                len(doc["payments"]),
                len(doc.get("pay_ins") or []) + len(doc.get("pay_outs") or []),
            )
            if grown[:4] != whole or grown[4] not in (0, 1):
                record(self.name, partial_writes=1)
            assert grown[:4] == whole and grown[4] in (0, 1), (grown, whole)
            page = self.viewer.get(f"/dagsoppgjor/{answer['id']}/")
            assert page.status_code == 200, raw[:300]
            assert b"<script>alert(1)</script>" not in page.content  # escaped
            return response
        if after != before:
            record(self.name, partial_writes=1)
        assert after == before, f"rows written by a {status} answer: {before} -> {after}"

        if status == 400:
            errors = answer["errors"]
            assert errors, raw[:300]
            for error in errors:
                assert isinstance(error["path"], str)
                assert isinstance(error["message"], str) and error["message"].strip()
            doc = decode(raw[:declared])
            paths = [error["path"] for error in errors]
            assert any(path_in(doc, path) for path in paths), (paths, raw[:300])
        return response


@pytest.fixture
def viewer(alice) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    return client


@pytest.fixture
def api_for(api_key, viewer):
    def make(name: str) -> Api:
        return Api(api_key, viewer, name)

    return make


@pytest.fixture
def base(worked_example) -> dict:
    return worked_example["settlement"]


# --------------------------------------------------------------------------- generators

WEIRD_NUMBERS = [
    "1.005", "-0.001", "0.1e-1", "1e400", "-1e400", "1E-400", "1e12", "999999999999.99",
    "1000000000000", "-999999999999.995", "9" * 40, "9" * 5000, "-0", "-0.0", "0e0",
    "1.0e2", "2.50E+1", "12.000", "NaN", "Infinity", "-Infinity", "+1", ".5", "1.", "0x10",
    "01", "1e", "--1", "1_000", "2147483648", "9223372036854775808", "18446744073709551616",
    "-1", "-2147483649", "1e-7", "123456789012.34",
]  # fmt: skip
WEIRD_TEXTS = [
    "", " ", "\t\n", "\x00", "KASSE\x00-1", "\ud800", "a\udfffb", "\ufeff", "\u202e", "NaN",
    "Infinity", "1,50", "1 000.00", "100.00\n", " 100.00", "1e3", "-", "+100.00",
    "١٢٣", "１２３", "12.345", "0.001", "25 %", "25,0", "true", "null", "[]", "{}",
    "2026-11-27T25:00:00", "2026-02-30", "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00", "9999-12-31T23:59:59.999999",
    "2026-11-27T21:04:55+24:00", "2026-W48-5", "27.11.2026", "2026-11-27\n",
    "x" * 65, "x" * 101, "x" * 201, "Ø" * 100, "é" * 64, "<script>alert(1)</script>",
    "'; DROP TABLE settlements_settlement; --", "{{ 7*7 }}", "%s%s%n", "../../etc/passwd",
]  # fmt: skip
FIELD_NAMES = [
    "register_id", "z_number", "business_date", "opened_at", "closed_at", "currency",
    "sales", "payments", "tips", "gift_cards_sold", "rounding", "cash_count", "pay_ins",
    "pay_outs", "counters", "product_group", "vat_rate", "gross_amount", "vat_amount",
    "count", "method", "amount", "reason", "opening_float", "counted", "receipts",
    "__proto__", "constructor", "", " ", "sales[0]", "a.b", "Z", "\ud800", "\x00",
]  # fmt: skip


def _deep(depth: int, kind: str) -> Raw:
    if kind == "list":
        return Raw("[" * depth + "]" * depth)
    return Raw('{"a":' * depth + "1" + "}" * depth)


deep_values = st.builds(
    _deep, st.sampled_from([50, 500, 990, 1100, 5000]), st.sampled_from(["list", "obj"])
)
fixed_offsets = st.builds(
    dt.timezone, st.timedeltas(min_value=-dt.timedelta(hours=23), max_value=dt.timedelta(hours=23))
)
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([Raw(n) for n in WEIRD_NUMBERS]),
    st.decimals(allow_nan=False, allow_infinity=False).map(lambda d: Raw(str(d))),
    st.decimals(places=3, min_value=-(10**13), max_value=10**13).map(str),
    st.from_regex(r"-?[0-9]{0,14}(\.[0-9]{0,4})?", fullmatch=True),
    st.sampled_from(WEIRD_TEXTS),
    st.text(max_size=20),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=5).map(lambda s: s + "\ud800"),
    st.datetimes().map(lambda d: d.isoformat()),
    st.datetimes(timezones=fixed_offsets).map(lambda d: d.isoformat()),
    st.dates().map(lambda d: d.isoformat()),
    deep_values,
)
keys = st.sampled_from(FIELD_NAMES) | st.text(max_size=8)
junk = st.recursive(leaves, containers(keys, size=4), max_leaves=8)


def all_paths(node, prefix=()) -> list[tuple]:
    """Every place in a generated body that a mutation can touch (the root included)."""
    found = [prefix]
    if isinstance(node, Dup | Raw):
        return found
    if isinstance(node, dict):
        for key, value in node.items():
            found += all_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += all_paths(value, (*prefix, index))
    return found


def _get(node, path):
    for step in path:
        node = node[step]
    return node


def _set(root, path, value):
    if not path:
        return value
    _get(root, path[:-1])[path[-1]] = value
    return root


OPS = ["replace", "replace", "replace", "delete", "unknown", "duplicate", "wrap", "unwrap"]


@st.composite
def mutated(draw, base: dict):
    """The worked example with 1 to 4 fields broken."""
    body = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(all_paths(body)))
        target = _get(body, path) if path else body
        parent = _get(body, path[:-1]) if path else None
        op = draw(st.sampled_from(OPS))
        if op == "replace":
            body = _set(body, path, draw(junk))
        elif op == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif op == "unknown" and isinstance(target, dict):
            key = draw(st.sampled_from(FIELD_NAMES) | st.text(max_size=10))
            target[key] = draw(junk)
        elif op == "duplicate" and isinstance(target, dict) and target:
            key = draw(st.sampled_from(sorted(target, key=str)))
            body = _set(body, path, Dup([*target.items(), (key, draw(junk))]))
        elif op == "wrap":
            body = _set(body, path, [target])
        elif op == "unwrap" and isinstance(target, list):
            body = _set(body, path, target[0] if target else {})
        if isinstance(body, Dup | Raw) or not isinstance(body, dict):
            break
    return body


# --------------------------------------------------------------------------- the fuzzers


def test_it_never_fails_on_mutations_of_the_worked_example(api_for, base):
    api = api_for("api: worked example mutated")

    @fuzz_settings(900)
    @given(body=mutated(base))
    def run(body):
        api.check(body)

    run()
    assert TALLY[api.name]["tried"] >= 800
    assert TALLY[api.name]["status 400"] >= 600


WRONG_TYPES = [
    None, True, 0, -1, 2**63, Raw("1.005"), Raw("1e400"), Raw("9" * 5000), "", " ",
    "\x00", "\ud800", "x" * 300, [], [1], {}, {"a": 1}, Raw("[" * 100_000 + "]" * 100_000),
]  # fmt: skip


def dotted(path: tuple) -> str:
    return "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in path).lstrip(".")


def test_it_refuses_a_wrong_type_at_every_field(api_for, base):
    """Systematic: every field of the worked example (and every container) replaced by
    every kind of wrong value. A refusal names that field (or one inside or around it)."""
    api = api_for("api: wrong type at every field")
    for path in all_paths(base)[1:]:
        name, parent = dotted(path), dotted(path[:-1])
        for value in WRONG_TYPES:
            body = _set(copy.deepcopy(base), path, value)
            response = api.check(body)
            if response.status_code == 400:
                paths = [e["path"] for e in response.json()["errors"]]
                # The field itself, something inside it, the object around it, or (for a
                # value of an acceptable type) a neighbour it must agree with.
                related = [
                    p
                    for p in paths
                    if p.startswith(name)
                    or name.startswith(p)
                    or (parent and p.startswith(parent))
                    or (name, p) == ("opened_at", "closed_at")
                ]
                assert related, (name, value, paths)
    assert TALLY[api.name]["tried"] == (len(all_paths(base)) - 1) * len(WRONG_TYPES)


NUMBER_TEXTS = [
    "NaN", "1,50", "1 000.00", "100.00\n", " 100.00", "1e3", "+100.00", "١٢٣", "１２３",
    "12.345", "0.001", "25 %", "-", "",
]  # fmt: skip
TEXT_FIELDS = {"register_id", "business_date", "opened_at", "closed_at", "currency"}
TEXT_FIELDS |= {"product_group", "method", "reason"}


def test_it_stores_or_refuses_extreme_values_at_every_field(api_for, base):
    """Systematic: every leaf of the worked example given every odd value of its kind
    (texts for the text and date fields, odd numbers and number-like texts for the rest).
    Each body gets its own Z-number, so whatever is valid is stored, and its page shown."""
    api = api_for("api: extreme value at every field")
    numbers = [Raw(n) for n in WEIRD_NUMBERS] + NUMBER_TEXTS
    leaves_of_base = [p for p in all_paths(base) if not isinstance(_get(base, p), dict | list)]
    if not SOAK_FACTOR:
        # The other lines of a list are the same kind of field as the first one.
        leaves_of_base = [p for p in leaves_of_base if not any(s in p for s in (1, 2, 3))]
    z = 10_000
    for path in leaves_of_base:
        for value in WEIRD_TEXTS if path[-1] in TEXT_FIELDS else numbers:
            z += 1
            body = _set(copy.deepcopy(base), path, value)
            if path != ("z_number",):
                body["z_number"] = z
            api.check(body)
    assert TALLY[api.name]["status 201"] >= len(leaves_of_base)


json_values = st.recursive(leaves, containers(keys, size=6), max_leaves=12)
top_level_objects = st.fixed_dictionaries(
    {},
    optional={
        name: json_values
        for name in (
            "register_id", "z_number", "business_date", "opened_at", "closed_at", "currency",
            "sales", "payments", "tips", "gift_cards_sold", "rounding", "cash_count",
            "pay_ins", "pay_outs", "counters",
        )
    },
)  # fmt: skip


def test_it_never_fails_on_arbitrary_json(api_for):
    """Any JSON value at all: arrays, strings, numbers, null, objects with the right field
    names and anything in them."""
    api = api_for("api: arbitrary JSON")

    @fuzz_settings(200)
    @given(body=st.one_of(json_values, top_level_objects, top_level_objects))
    def run(body):
        api.check(body)

    run()
    assert TALLY[api.name]["tried"] >= 180


BAD_BYTES = [
    b"\xff", b"\xfe", b"\xc3", b"\xc3\x28", b"\xa0\xa1", b"\xe2\x28\xa1", b"\xf0\x28\x8c\xbc",
    b"\xed\xa0\x80", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf8\x88\x80\x80\x80", b"\x80", b"\x00",
]  # fmt: skip


@st.composite
def broken_bytes(draw, base: dict):
    text = dumps(draw(st.one_of(st.just(base), mutated(base))))
    raw = text.encode("utf-8", "surrogatepass")
    how = draw(st.sampled_from(["insert", "insert", "truncate", "latin1", "utf16", "bom", "flip"]))
    if how == "insert":
        for _ in range(draw(st.integers(1, 3))):
            at = draw(st.integers(0, len(raw)))
            raw = raw[:at] + draw(st.sampled_from(BAD_BYTES)) + raw[at:]
    elif how == "truncate":
        raw = raw[: draw(st.integers(0, len(raw) - 1))]
    elif how == "latin1":
        raw = text.encode("latin-1", "replace")
    elif how == "utf16":
        raw = text.encode("utf-16", "surrogatepass")
    elif how == "bom":
        raw = b"\xef\xbb\xbf" + raw
    else:
        at = draw(st.integers(0, len(raw) - 1))
        raw = raw[:at] + bytes([draw(st.integers(0, 255))]) + raw[at + 1 :]
    return raw


def test_it_never_fails_on_broken_bytes(api_for, base):
    api = api_for("api: broken bytes")

    @fuzz_settings(400)
    @given(raw=broken_bytes(base))
    def run(raw):
        api.check(raw)

    run()
    assert TALLY[api.name]["tried"] >= 350


EMPTY_BODIES = [b"", b" ", b"\n\t\r ", b"\xef\xbb\xbf", b"null", b"0", b'""', b"[]", b"{}", b"[{}]"]


def test_it_refuses_empty_and_whitespace_bodies(api_for):
    api = api_for("api: empty and whitespace")
    for raw in EMPTY_BODIES:
        assert api.check(raw).status_code == 400


@st.composite
def oversized(draw, base: dict):
    """Bodies a little under, at and over 1 MiB: padded with whitespace (valid JSON), a long
    unknown field, many sales lines, or a huge string."""
    size = LIMIT + draw(st.sampled_from([-100, -1, 0, 1, 2, 100, 4096, 300_000]))
    text = dumps(base)
    kind = draw(st.sampled_from(["pad", "unknown", "lines", "string"]))
    if kind == "pad":
        body = text[:-1] + " " * max(0, size - len(text)) + "}"
    elif kind == "unknown":
        body = text[:-1] + ',"padding":"' + "p" * max(0, size - len(text) - 14) + '"}'
    elif kind == "lines":
        line = ',{"product_group":"Mat","vat_rate":"15","gross_amount":"0.00"}'
        sales_end = text.index("]")
        lines = line * max(0, (size - len(text)) // len(line))
        body = text[:sales_end] + lines + text[sales_end:]
        body = body[:-1] + " " * max(0, size - len(body)) + "}"
    else:
        body = text.replace('"KASSE-1"', '"' + "K" * max(1, size - len(text)) + '"')
    return Raw(body)


def test_it_refuses_bodies_over_one_mebibyte(api_for, base):
    api = api_for("api: near and over 1 MiB")

    @fuzz_settings(40)
    @given(body=oversized(base))
    def run(body):
        response = api.check(body)
        assert (response.status_code == 413) == (len(body.encode()) > LIMIT)

    run()
    # The declared length decides before the body is read at all.
    raw = dumps(base).encode()
    assert api.check(raw, CONTENT_LENGTH=str(LIMIT + 1)).status_code == 413
    assert api.check(raw, CONTENT_LENGTH=str(2**63)).status_code == 413
    # A declared length shorter than the body: the server reads a truncated body.
    assert api.check(raw, CONTENT_LENGTH=str(len(raw) // 2)).status_code == 400
    assert TALLY[api.name]["status 413"] >= 15


def test_it_answers_the_same_whatever_the_content_type(api_for, base):
    api = api_for("api: content types")
    raw = dumps({**base, "tips": "1.005"}).encode()
    for content_type in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "application/json; charset=latin-1",
        "",
    ):
        assert api.check(raw, content_type=content_type).status_code == 400


@st.composite
def authorizations(draw, key: str):
    kind = draw(st.sampled_from(["text", "scheme", "almost", "none"]))
    if kind == "text":
        return draw(st.text(st.characters(max_codepoint=255, exclude_characters="\r\n")))
    if kind == "scheme":
        scheme = draw(st.sampled_from(["Bearer", "bearer", "Basic", "Token", "", "Bearer\t"]))
        return f"{scheme} {draw(st.text(st.characters(max_codepoint=255), max_size=80))}"
    if kind == "almost":
        at = draw(st.integers(0, len(key) - 1))
        flip = draw(st.characters(max_codepoint=255).filter(lambda c: c != key[at]))
        return f"Bearer {key[:at]}{flip}{key[at + 1 :]}"
    return None


def test_it_refuses_wrong_api_keys_without_writing(api_key, base):
    """Any Authorization header but the key itself: 401, nothing stored."""
    client = Client(raise_request_exception=False)
    raw = dumps(base).encode()
    name = "api: wrong keys"

    @fuzz_settings(200)
    @given(header=authorizations(api_key))
    def run(header):
        extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
        before = row_counts()
        response = client.post(URL, data=raw, content_type="application/json", **extra)
        record(name, tried=1, **{f"status {response.status_code}": 1})
        assert response.status_code == 401, header
        assert row_counts() == before
        assert response["WWW-Authenticate"].startswith("Bearer")

    run()
    assert TALLY[name]["tried"] >= 150


def test_it_treats_numbers_and_strings_as_one_content(api_for, base):
    """Not a refusal, a sanity check of the tally: the worked example goes in once (201),
    again (200), and with other content under its Z-number (409), writing only once."""
    api = api_for("api: valid bodies")
    assert api.check(base).status_code == 201
    same = {**base, "tips": Decimal("150"), "rounding": Raw("-0.4")}
    assert api.check(same).status_code == 200
    assert api.check({**base, "tips": "151.00"}).status_code == 409
