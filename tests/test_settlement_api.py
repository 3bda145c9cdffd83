"""POST /api/v1/settlements as a till (and its vendor) meets it (../shared/DESIGN.md 4.1)."""

import copy
import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.utils import timezone

from backoffice.models import ApiKey, Register
from integrations.visma.models import SettlementExport
from settlements import services
from settlements.models import CashMovement, Payment, SaleLine, Settlement
from settlements.parsing import parse_settlement
from settlements.services import ingest_settlement
from tests.conftest import set_transfer, status_of

URL = "/api/v1/settlements"


def post(client, body, key, **headers):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    if key is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client.post(URL, data=raw, content_type="application/json", **headers)


def with_raw(body: dict, path: tuple, raw_json: str) -> bytes:
    """The body as JSON with one value written as raw JSON text (a number like 1.005)."""
    body = copy.deepcopy(body)
    target = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = "__RAW__"
    return json.dumps(body).replace('"__RAW__"', raw_json).encode()


@pytest.fixture
def body(worked_example) -> dict:
    return worked_example["settlement"]


def paths(response) -> set[str]:
    return {error["path"] for error in response.json()["errors"]}


def nothing_stored():
    return not (
        Settlement.objects.exists()
        or SaleLine.objects.exists()
        or Payment.objects.exists()
        or CashMovement.objects.exists()
        or Register.objects.exists()
    )


# --------------------------------------------------------------------------- 201 / 200 / 409


def test_it_creates_the_worked_example(client, api_key, location, body):
    response = post(client, body, api_key)

    assert response.status_code == 201
    answer = response.json()
    settlement = Settlement.objects.get()
    assert answer["id"] == settlement.pk
    assert answer["state"] == "pending"
    assert answer["balance_difference"] == "0.00"
    assert answer["cash_difference"] == "-20.00"
    assert answer["url"] == f"http://testserver/dagsoppgjor/{settlement.pk}/"
    assert response["Location"] == answer["url"]

    assert settlement.location == location
    assert settlement.organization == location.organization
    assert (settlement.register_id, settlement.z_number) == ("KASSE-1", 1042)
    assert settlement.total_sales == Decimal("10000.00")
    assert settlement.total_vat == Decimal("1721.74")
    assert settlement.total_payments == Decimal("10649.60")
    assert settlement.cash_difference == Decimal("-20.00")
    # VAT was absent for "Mat" and is computed half-up: 4000 x 15/115 = 521.739 -> 521.74.
    assert [(s.product_group, s.vat_amount) for s in settlement.sales.all()] == [
        ("Klær", Decimal("1200.00")),
        ("Mat", Decimal("521.74")),
    ]
    assert [p.method for p in settlement.payments.all()] == ["cash", "card", "vipps", "gift_card"]
    assert settlement.counters["receipts"] == 212
    assert Register.objects.filter(location=location, code="KASSE-1").exists()


def test_it_answers_200_for_the_same_content_written_differently(client, api_key, body):
    first = post(client, body, api_key)
    again = copy.deepcopy(body)
    again["sales"][0].update(vat_rate="25.00", gross_amount=6000)  # "25" and "6000.00" before
    del again["sales"][0]["vat_amount"]  # computed: 6000 x 25/125 = 1200.00, as sent before
    again["opened_at"] = "2026-11-27T08:58:12Z"  # the same instant as 09:58:12+01:00
    del again["pay_ins"]
    raw = with_raw(again, ("tips",), "150.0")

    response = post(client, raw, api_key)

    assert response.status_code == 200
    assert response.json()["id"] == first.json()["id"]
    assert Settlement.objects.count() == 1


def test_it_answers_409_for_the_same_z_number_with_other_content(client, api_key, body):
    first = post(client, body, api_key).json()
    changed = copy.deepcopy(body)
    changed["cash_count"]["counted"] = "4431.00"

    response = post(client, changed, api_key)

    assert response.status_code == 409
    assert response.json()["errors"][0]["path"] == "z_number"
    assert "1042" in response.json()["errors"][0]["message"]
    assert response.json()["id"] == first["id"]
    settlement = Settlement.objects.get()
    assert settlement.cash_counted == Decimal("4430.00")


def test_it_never_overwrites_a_posted_settlement(client, api_key, body):
    post(client, body, api_key)
    set_transfer(Settlement.objects.all(), SettlementExport.State.POSTED)
    changed = copy.deepcopy(body)
    changed["payments"][1]["amount"] = "6000.00"

    assert post(client, changed, api_key).status_code == 409
    assert post(client, body, api_key).status_code == 200
    settlement = Settlement.objects.get()
    assert status_of(settlement).state == SettlementExport.State.POSTED
    assert settlement.total_payments == Decimal("10649.60")


def test_it_keeps_the_same_z_number_of_another_register_apart(client, api_key, body):
    post(client, body, api_key)
    other_till = {**body, "register_id": "KASSE-2"}

    assert post(client, other_till, api_key).status_code == 201
    assert Settlement.objects.count() == 2


@pytest.mark.parametrize("invisible", ["\ufeff", "\u200b", " \u200e\t"])
def test_it_refuses_a_register_id_of_only_invisible_characters(client, api_key, body, invisible):
    response = post(client, {**body, "register_id": invisible}, api_key)

    assert response.status_code == 400
    assert paths(response) == {"register_id"}
    assert nothing_stored()


def test_it_strips_invisible_characters_around_names(client, api_key, body):
    sales = [{**body["sales"][0], "product_group": "\ufeff" + body["sales"][0]["product_group"]}]
    sent = {
        **body,
        "register_id": body["register_id"] + "\u200b",
        "sales": sales + body["sales"][1:],
    }

    assert post(client, sent, api_key).status_code == 201

    settlement = Settlement.objects.get()
    assert settlement.register_id == body["register_id"]
    assert settlement.sales.filter(product_group=body["sales"][0]["product_group"]).exists()
    # The same settlement without the invisible characters is the same content.
    assert post(client, body, api_key).status_code == 200


def test_it_keeps_another_organisations_settlements_apart(client, api_key, other_location, body):
    post(client, body, api_key)
    _key, other_key = ApiKey.issue(other_location)

    response = post(client, body, other_key)

    # Their own settlement, not ours: nothing about ours is revealed to them.
    assert response.status_code == 201
    assert Settlement.objects.filter(organization=other_location.organization).count() == 1


def test_it_stores_an_unbalanced_settlement_as_needing_action(client, api_key, body):
    unbalanced = copy.deepcopy(body)
    unbalanced["payments"][1]["amount"] = "6109.60"  # card 10.00 too much

    response = post(client, unbalanced, api_key)

    assert response.status_code == 201
    answer = response.json()
    assert answer["state"] == "needs_action"
    assert answer["balance_difference"] == "10.00"
    settlement = Settlement.objects.get()
    assert status_of(settlement).state == SettlementExport.State.NEEDS_ACTION
    assert status_of(settlement).problem == "unbalanced"
    assert "10,00 kr mer" in status_of(settlement).reason


def test_it_stores_a_shortfall_in_payments_with_the_difference(client, api_key, body):
    short = copy.deepcopy(body)
    short["payments"][2]["amount"] = "1799.50"  # vipps 0.50 missing

    answer = post(client, short, api_key).json()

    assert answer["balance_difference"] == "-0.50"
    assert "0,50 kr mindre" in status_of(Settlement.objects.get()).reason


def test_it_accepts_a_settlement_with_only_the_required_fields(client, api_key):
    minimal = {
        "register_id": "K1",
        "z_number": 1,
        "business_date": "2026-11-27",
        "sales": [{"product_group": "Mat", "vat_rate": 15, "gross_amount": 115}],
        "payments": [{"method": "card", "amount": 115}],
    }

    response = post(client, minimal, api_key)

    assert response.status_code == 201
    assert response.json()["cash_difference"] is None
    settlement = Settlement.objects.get()
    assert settlement.total_vat == Decimal("15.00")
    assert status_of(settlement).state == SettlementExport.State.PENDING


# --------------------------------------------------------------------------- 400


def test_it_names_every_bad_field_at_once(client, api_key, body):
    bad = copy.deepcopy(body)
    bad["sales"][0]["vat_rate"] = "tjuefem"
    bad["sales"][1]["count"] = 5.5
    bad["payments"][2]["amount"] = "1800,00"
    bad["currency"] = "EUR"
    bad["tip"] = "10.00"
    del bad["register_id"]

    response = post(client, bad, api_key)

    assert response.status_code == 400
    assert paths(response) == {
        "sales[0].vat_rate",
        "sales[1].count",
        "payments[2].amount",
        "currency",
        "tip",
        "register_id",
    }
    messages = {e["path"]: e["message"] for e in response.json()["errors"]}
    assert "NOK" in messages["currency"]
    assert "tip" in messages["tip"]
    assert nothing_stored()


@pytest.mark.parametrize(
    "path, raw, expected_path",
    [
        (("sales", 0, "gross_amount"), "1.005", "sales[0].gross_amount"),
        (("sales", 0, "gross_amount"), '"1.005"', "sales[0].gross_amount"),
        (("sales", 0, "gross_amount"), '"6 000,00"', "sales[0].gross_amount"),
        (("sales", 0, "gross_amount"), "1e400", "sales[0].gross_amount"),
        (("sales", 0, "gross_amount"), "true", "sales[0].gross_amount"),
        (("sales", 0, "gross_amount"), "null", "sales[0].gross_amount"),
        (("sales", 0, "vat_amount"), '"7000.00"', "sales[0].vat_amount"),
        (("sales", 0, "vat_rate"), "125", "sales[0].vat_rate"),
        (("sales", 0, "vat_rate"), '"25 %"', "sales[0].vat_rate"),
        (("sales", 0, "count"), '"12"', "sales[0].count"),
        (("sales", 0, "count"), "12.5", "sales[0].count"),
        (("sales", 0, "count"), "-3000000000", "sales[0].count"),
        (("sales", 0, "count"), "3000000000", "sales[0].count"),
        (("sales", 0, "product_group"), '"  "', "sales[0].product_group"),
        (("sales", 0, "vat_amnt"), '"1200.00"', "sales[0].vat_amnt"),
        (("payments", 1, "amount"), '"abc"', "payments[1].amount"),
        (("payments", 1, "method"), "7", "payments[1].method"),
        (("payments",), "{}", "payments"),
        (("sales",), '"Klær"', "sales"),
        (("z_number",), '"1042"', "z_number"),
        (("z_number",), "-1042", "z_number"),
        (("z_number",), str(2**63), "z_number"),
        (("business_date",), '"27.11.2026"', "business_date"),
        (("business_date",), '"2026-02-30"', "business_date"),
        (("opened_at",), '"i morges"', "opened_at"),
        (("closed_at",), '"2026-11-27T08:00:00+01:00"', "closed_at"),
        (("currency",), '"nok"', "currency"),
        (("tips",), '"-150.00"', "tips"),
        (("cash_count", "counted"), '"-1.00"', "cash_count.counted"),
        (("cash_count", "float"), '"2000.00"', "cash_count.float"),
        (("pay_outs",), '[{"reason": "Melk"}]', "pay_outs[0].amount"),
        (("counters", "receipts"), "-5", "counters.receipts"),
        (("counters", "voids"), "1", "counters.voids"),
        (("register_id",), '""', "register_id"),
        (("register_id",), '"' + "K" * 65 + '"', "register_id"),
    ],
)
def test_it_refuses_a_malformed_field_naming_its_path(
    client, api_key, body, path, raw, expected_path
):
    response = post(client, with_raw(body, path, raw), api_key)

    assert response.status_code == 400
    assert paths(response) == {expected_path}
    assert all(error["message"] for error in response.json()["errors"])
    assert nothing_stored()


def test_it_refuses_a_business_date_more_than_a_day_ahead(client, api_key, body):
    today = timezone.localdate()
    ahead = {**body, "business_date": (today + dt.timedelta(days=2)).isoformat()}
    tomorrow = {**body, "business_date": (today + dt.timedelta(days=1)).isoformat()}

    assert paths(post(client, ahead, api_key)) == {"business_date"}
    assert post(client, tomorrow, api_key).status_code == 201


def test_it_refuses_a_vat_amount_with_a_zero_rate(client, api_key, body):
    zero = copy.deepcopy(body)
    zero["sales"][0]["vat_rate"] = "0"

    assert paths(post(client, zero, api_key)) == {"sales[0].vat_amount"}


@pytest.mark.parametrize(
    "raw, words",
    [
        (b'{"register_id": "KASSE-1", ', "JSON"),
        (b"", "tomt"),
        (b'{"register_id": "KASSE-\xff1"}', "UTF-8"),
        (b'{"tips": NaN}', "NaN"),
        (b'{"tips": Infinity}', "Infinity"),
        (b'{"tips": "1.00", "tips": "2.00"}', "tips"),
    ],
)
def test_it_refuses_a_body_that_is_not_json(client, api_key, raw, words):
    response = post(client, raw, api_key)

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["path"] == ""
    assert words in error["message"]


@pytest.mark.parametrize("raw", [b"[]", b'"KASSE-1"', b"1042", b"null"])
def test_it_refuses_a_body_that_is_not_an_object(client, api_key, raw):
    response = post(client, raw, api_key)

    assert response.status_code == 400
    assert paths(response) == {""}


def test_it_speaks_english_to_a_client_that_asks_for_it(client, api_key, body):
    response = post(client, {**body, "currency": "EUR"}, api_key, HTTP_ACCEPT_LANGUAGE="en")

    assert response.json()["errors"][0]["message"].startswith("Only NOK")


# --------------------------------------------------------------------------- 401 / 405 / 413


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong-key", "Basic YWRtaW46YWRtaW4=", "Token {key}"],
)
def test_it_refuses_a_missing_or_wrong_key(client, api_key, body, authorization):
    headers = {}
    if authorization is not None:
        headers["HTTP_AUTHORIZATION"] = authorization.format(key=api_key)

    response = post(client, body, None, **headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["errors"][0]["message"]
    assert nothing_stored()


def test_it_refuses_a_revoked_key(client, location, body):
    key, raw = ApiKey.issue(location)
    key.revoked_at = timezone.now()
    key.save()

    assert post(client, body, raw).status_code == 401


def test_it_takes_the_scheme_in_any_case(client, api_key, body):
    assert post(client, body, None, HTTP_AUTHORIZATION=f"bearer {api_key}").status_code == 201


def test_it_refuses_a_body_over_one_mebibyte(client, api_key, body, settings):
    assert settings.SETTLEMENT_MAX_BODY_BYTES == 1024 * 1024
    raw = json.dumps(body).encode()
    padded = raw[:-1] + b" " * (1024 * 1024 - len(raw)) + b" }"  # valid JSON, 1 MiB + 1

    response = post(client, padded, api_key)

    assert response.status_code == 413
    assert nothing_stored()
    assert post(client, padded[:-2] + b"}", api_key).status_code == 201  # exactly 1 MiB


def test_it_refuses_an_oversized_body_whatever_its_declared_length(rf, api_key, body, settings):
    from settlements.api import settlements_endpoint

    settings.SETTLEMENT_MAX_BODY_BYTES = 100
    request = rf.post(
        URL,
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api_key}",
    )
    request.META["CONTENT_LENGTH"] = "50"  # a lying header; the stream holds more

    assert settlements_endpoint(request).status_code == 413


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_it_allows_only_post(client, api_key, method):
    response = getattr(client, method)(URL, HTTP_AUTHORIZATION=f"Bearer {api_key}")

    assert response.status_code == 405
    assert response["Allow"] == "POST"


# --------------------------------------------------------------------------- all or nothing


def test_it_writes_nothing_when_storing_fails_half_way(client, api_key, body, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    # After the settlement and its lines are written, before the transaction commits.
    monkeypatch.setattr(services.limits, "check_new_registers", broken)
    client.raise_request_exception = True

    with pytest.raises(RuntimeError):
        post(client, body, api_key)

    assert nothing_stored()


def test_it_answers_as_second_when_two_tills_race_for_one_z_number(location, body, monkeypatch):
    data = parse_settlement(body)
    first = ingest_settlement(location=location, data=data)
    # Nothing is read before the INSERT, so a request that comes second (by a microsecond
    # or by a day) meets the first one's row in the unique constraint and only then looks
    # it up. (A real two-connection race: tests/test_ingest_economy.py.)
    real_existing = services._existing
    calls = []

    def looked_up(location, data):
        calls.append(1)
        return real_existing(location, data)

    monkeypatch.setattr(services, "_existing", looked_up)

    second = ingest_settlement(location=location, data=data)

    assert len(calls) == 1
    assert second.outcome == "unchanged"
    assert second.settlement.pk == first.settlement.pk
    assert Settlement.objects.count() == 1
    assert SaleLine.objects.count() == 2


def test_it_lets_an_unexpected_integrity_error_through(location, body, monkeypatch):
    monkeypatch.setattr(services, "_existing", lambda location, data: None)

    def fails(*args, **kwargs):
        raise IntegrityError("something else")

    # Raised while the new settlement is stored, as another constraint would.
    monkeypatch.setattr(services.limits, "check_new_registers", fails)

    with pytest.raises(IntegrityError):
        ingest_settlement(location=location, data=parse_settlement(body))
