"""The published JSON Schema says what the parser accepts, so a POS vendor can check a body
before sending it."""

import copy
import datetime as dt
import json
from decimal import Decimal

import pytest
from jsonschema import Draft202012Validator

from backoffice.management.commands.seed_demo import demo_settlement
from settlements.parsing import SettlementInvalid, parse_settlement

URL = "/api/v1/schema/settlement.json"


@pytest.fixture
def schema(client) -> dict:
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


@pytest.fixture
def validator(schema) -> Draft202012Validator:
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.mark.django_db
def test_it_is_published_without_signing_in_and_is_a_valid_schema(client, schema):
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == "http://testserver/api/v1/schema/settlement.json"
    assert set(schema["required"]) == {
        "register_id",
        "z_number",
        "business_date",
        "sales",
        "payments",
    }


@pytest.mark.django_db
def test_it_accepts_the_worked_example(validator, worked_example):
    body = worked_example["settlement"]

    assert list(validator.iter_errors(body)) == []
    # ... and so does the parser, with numbers decoded as the API decodes them.
    assert parse_settlement(json.loads(json.dumps(body), parse_float=Decimal)).z_number == 1042


@pytest.mark.django_db
def test_it_accepts_what_the_demo_tills_send(validator):
    body = demo_settlement("bryggen", "KASSE-1", dt.date(2026, 11, 20), 0)

    assert list(validator.iter_errors(body)) == []
    parse_settlement(body)


def mutate(body: dict, change) -> dict:
    body = copy.deepcopy(body)
    change(body)
    return body


REFUSED = {
    "an unknown field": lambda b: b.update(tip="10.00"),
    "an unknown field in a sales line": lambda b: b["sales"][0].update(vat_amnt="1.00"),
    "an amount with 3 decimals": lambda b: b["sales"][0].update(gross_amount="1.005"),
    "an amount with a decimal comma": lambda b: b["payments"][0].update(amount="2450,00"),
    "a negative counter": lambda b: b["counters"].update(receipts=-1),
    "a count as text": lambda b: b["sales"][1].update(count="57"),
    "another currency": lambda b: b.update(currency="EUR"),
    "no register": lambda b: b.pop("register_id"),
    "no payments": lambda b: b.pop("payments"),
    "a rate as words": lambda b: b["sales"][0].update(vat_rate="tjuefem"),
    "a rate over 100": lambda b: b["sales"][0].update(vat_rate=125),
    "a negative tip": lambda b: b.update(tips="-1.00"),
    "a cash count without the count": lambda b: b["cash_count"].pop("counted"),
    "a date in another format": lambda b: b.update(business_date="27.11.2026"),
    "a Z-number as text": lambda b: b.update(z_number="1042"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("change", REFUSED.values(), ids=REFUSED.keys())
def test_it_refuses_what_the_parser_refuses(validator, worked_example, change):
    body = mutate(worked_example["settlement"], change)

    assert list(validator.iter_errors(body)), "the schema let it through"
    with pytest.raises(SettlementInvalid):
        parse_settlement(body)


@pytest.mark.django_db
def test_it_documents_the_correction_flag(schema, validator, worked_example):
    correction = schema["properties"]["correction"]
    assert {"type": "boolean"} in correction["anyOf"]
    assert "409" in correction["description"]
    body = {**worked_example["settlement"], "correction": True}
    assert list(validator.iter_errors(body)) == []
    assert list(validator.iter_errors({**body, "correction": "yes"}))
