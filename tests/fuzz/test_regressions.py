"""One test per defect the fuzzers found (issue 8, part 4). Each failed before its fix."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from accounting.mapping import MappingValidationError, mapping_from_json
from accounting.models import MappingChange
from accounting.services import load_mapping
from settlements.models import Settlement

URL = "/api/v1/settlements"


def post(client, key, text: str):
    return client.post(
        URL,
        data=text.encode("utf-8", "surrogatepass"),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )


def with_field(body: dict, name: str, raw_json: str) -> str:
    return json.dumps({**body, name: "__RAW__"}).replace('"__RAW__"', raw_json)


@pytest.fixture
def body(worked_example) -> dict:
    return worked_example["settlement"]


def paths(response) -> list[str]:
    return [error["path"] for error in response.json()["errors"]]


# settlements/parsing.py decode_body: a lone surrogate escape ("\ud800") is valid JSON but
# no UTF-8 text: echoing it in the 400 (JsonResponse, ensure_ascii=False) or hashing a
# valid settlement holding it raised UnicodeEncodeError -> 500.
def test_it_refuses_a_lone_surrogate_in_a_value_naming_the_field(client, api_key, body):
    text = json.dumps(body).replace('"Kl\\u00e6r"', '"Kl\\ud800r"')

    response = post(client, api_key, text)

    assert response.status_code == 400
    assert paths(response) == ["sales[0].product_group"]
    assert not Settlement.objects.exists()


def test_it_refuses_a_lone_surrogate_in_an_unknown_field_name(client, api_key, body):
    text = json.dumps({**body, "x\ud800": 1})

    response = post(client, api_key, text)

    assert response.status_code == 400
    assert paths(response) == [""]


# settlements/parsing.py: "\u0000" in a text field passed validation, and PostgreSQL
# cannot store NUL in text: ValueError from the driver -> 500.
def test_it_refuses_a_nul_character_in_a_text_field(client, api_key, body):
    response = post(client, api_key, json.dumps({**body, "register_id": "KASSE\u00001"}))

    assert response.status_code == 400
    assert paths(response) == ["register_id"]
    assert not Settlement.objects.exists()


# settlements/parsing.py _Collector.datetime: a time with no UTC instant (year 1 east of
# Greenwich, year 9999 west of it) passed, then astimezone(UTC) raised OverflowError -> 500.
@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00"]
)
def test_it_refuses_a_time_outside_the_utc_range(client, api_key, body, moment):
    response = post(client, api_key, json.dumps({**body, "opened_at": moment}))

    assert response.status_code == 400
    assert paths(response) == ["opened_at"]


# settlements/parsing.py MONEY_RE / RATE_RE / DATE_RE: Python's \d took any Unicode digit
# and "$" a trailing newline, so "١٢٣" was 123 kroner, unlike the published schema.
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tips", "١٥٠.00"),
        ("tips", "150.00\n"),
        ("tips", "１５０"),
    ],
)
def test_it_refuses_non_ascii_digits_and_trailing_newlines(client, api_key, body, field, value):
    response = post(client, api_key, json.dumps({**body, field: value}))

    assert response.status_code == 400
    assert paths(response) == [field]


def test_it_refuses_a_vat_rate_in_other_digits(client, api_key, body):
    sales = [{**body["sales"][0], "vat_rate": "٢٥"}, body["sales"][1]]

    response = post(client, api_key, json.dumps({**body, "sales": sales}))

    assert paths(response) == ["sales[0].vat_rate"]


# accounting/forms.py _rates: a posted rate key "NaN" is a Decimal, and sorting the rows
# compared it: InvalidOperation -> 500 on the kontooppsett page.
def test_the_kontooppsett_page_refuses_a_nan_rate(client, alice, org):
    client.force_login(alice)

    response = client.post(
        "/oppsett/kontooppsett/",
        {"sales-0-key": "NaN", "sales-0-account": "3000", "sales-0-vat_code": "3"},
    )

    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert not MappingChange.objects.exists()


# accounting/mapping.py _Parser.account: int() of an account text over 4300 digits raised
# ValueError -> 500 on the page, a traceback from the import.
def test_the_kontooppsett_page_refuses_an_endless_account_number(client, alice, org):
    client.force_login(alice)

    response = client.post("/oppsett/kontooppsett/", {"tips": "9" * 5000})

    assert response.status_code == 200
    assert "høyst 9 sifre" in response.content.decode()


def test_an_account_number_with_leading_zeros_is_still_the_number():
    assert mapping_from_json({"tips": "0" * 30 + "2910"}).tips == 2910


# accounting/mapping.py _Parser.name: a payment method or product group holding NUL was
# saved -> ValueError from PostgreSQL -> 500 (a lone surrogate likewise).
@pytest.mark.parametrize("name", ["kort\x00", "\x00", "kort\ud800"])
def test_it_refuses_a_name_that_cannot_be_stored(name):
    with pytest.raises(MappingValidationError) as refused:
        mapping_from_json({"payments": {name: 1901}})

    assert [error.path[0] for error in refused.value.errors] == ["payments"]


def test_the_kontooppsett_page_refuses_a_nul_in_a_new_payment_method(client, alice, org):
    client.force_login(alice)

    response = client.post(
        "/oppsett/kontooppsett/", {"payment-new-key": "kort\x00", "payment-new-account": "1901"}
    )

    assert response.status_code == 200
    assert load_mapping(org).payments == {}


# accounting/management/commands/account_mapping.py: a file that is not UTF-8, an integer of
# over 4300 digits, or nesting deeper than Python recurses escaped as a traceback
# (UnicodeDecodeError, ValueError, RecursionError) instead of a CommandError.
@pytest.mark.parametrize(
    "raw",
    [b'{"tips": "\xff"}', b'{"tips": ' + b"9" * 5000 + b"}", b"[" * 100_000 + b"]" * 100_000],
    ids=["latin-1", "huge-integer", "deep"],
)
def test_the_import_command_stops_with_a_command_error(org, tmp_path, raw):
    path = tmp_path / "kontooppsett.json"
    path.write_bytes(raw)

    with pytest.raises(CommandError):
        call_command(
            "account_mapping", "import", "--org", org.slug, str(path), stderr=io.StringIO()
        )

    assert not MappingChange.objects.exists()


def test_it_reports_an_unstorable_text_under_an_empty_key_at_the_body(client, api_key):
    # Found by `make soak`: {"": ["0\ud800"]} was reported at "[0]", a path into nothing.
    response = client.post(
        "/api/v1/settlements",
        data='{"": ["0\\ud800"]}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api_key}",
    )
    assert response.status_code == 400
    assert [e["path"] for e in response.json()["errors"]] == [""]


def test_it_names_a_duplicated_unstorable_key_without_a_server_error(client, api_key):
    # Found by `make soak`: the duplicate-key message echoed a lone surrogate (500).
    response = client.post(
        "/api/v1/settlements",
        data='{"\\ud800": null, "\\ud800": null}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api_key}",
    )
    assert response.status_code == 400
    assert "\\ud800" in response.json()["errors"][0]["message"]


# Found by `make soak`: an offset with seconds ("+00:00:01.000001", or "-20:54:26.999931"
# after arithmetic) is valid for Python but PostgreSQL cannot read it: DataError "time zone
# displacement out of range" -> 500. Times now reach the database in UTC.
@pytest.mark.parametrize(
    "moment, utc",
    [
        ("2000-01-01T00:00:00+00:00:01.000001", "1999-12-31T23:59:58.999999+00:00"),
        ("2026-11-27T09:58:12+20:54:26", "2026-11-26T13:03:46+00:00"),
        ("2026-11-27T09:58:12+23:59", "2026-11-26T09:59:12+00:00"),
    ],
)
def test_it_stores_a_time_with_an_unusual_offset_as_its_instant(client, api_key, body, moment, utc):
    response = post(client, api_key, json.dumps({**body, "opened_at": moment}))

    assert response.status_code == 201
    settlement = Settlement.objects.get()
    assert settlement.opened_at.isoformat() == utc
    # The same instant written in UTC is the same content.
    assert post(client, api_key, json.dumps({**body, "opened_at": utc})).status_code == 200
