"""The tills' API is throttled and bounded (issue 17, item 3): 429 with Retry-After past
a rate no chain reaches, per key and per address; a 400 of at most 50 errors that names the
allowed fields once; at most 500 sales and 100 payment lines; at most 50 new registers and
200 new names per store and day."""

import copy
import json

import pytest
import time_machine
from django.utils import timezone

from backoffice.models import ApiKey, Register
from settlements.models import Settlement
from tests.test_settlement_api import post

pytestmark = pytest.mark.django_db


@pytest.fixture
def body(worked_example) -> dict:
    return copy.deepcopy(worked_example["settlement"])


@pytest.fixture
def limiter_reset(settings):
    """A fresh window, and a wide one: the limits count as they do per second, but a slow
    machine's dozen requests cannot slide out of it while they are counted. Earlier tests'
    requests are forgotten in the in-process fallback and in Redis at once."""
    from backoffice import throttle

    settings.API_RATE_WINDOW_SECONDS = 60
    throttle._limiter = None
    lim = throttle.api_limiter()
    if lim._redis is not None:
        for key in lim._redis.scan_iter("ratelimit:api:*"):
            lim._redis.delete(key)
    yield


def numbered(body: dict, z: int) -> dict:
    return {**body, "z_number": z}


# ------------------------------------------------------------------------------ the throttle


def test_it_answers_429_with_retry_after_past_the_limit_per_key(
    client, api_key, body, settings, limiter_reset
):
    settings.API_RATE_PER_KEY = 10
    settings.API_RATE_PER_ADDRESS = 1000

    statuses = [post(client, numbered(body, 2000 + i), api_key).status_code for i in range(30)]

    assert statuses[:10] == [201] * 10
    assert set(statuses[10:]) == {429}, statuses
    refused = post(client, numbered(body, 3000), api_key)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert "For mange forespørsler" in refused.json()["errors"][0]["message"]
    # Nothing of the refused ones was stored.
    assert Settlement.objects.count() == 10


def test_one_keys_burst_does_not_hold_back_another_key(
    client, api_key, location, body, settings, limiter_reset
):
    settings.API_RATE_PER_KEY = 5
    settings.API_RATE_PER_ADDRESS = 1000
    _, second = ApiKey.issue(location)
    for i in range(8):
        post(client, numbered(body, 4000 + i), api_key)

    assert post(client, numbered(body, 5000), second).status_code == 201


def test_it_throttles_an_address_before_looking_at_the_key(client, settings, limiter_reset):
    settings.API_RATE_PER_ADDRESS = 5
    statuses = [
        post(client, {}, f"guessed-key-{i}", REMOTE_ADDR="203.0.113.9").status_code
        for i in range(12)
    ]

    assert statuses[:5] == [401] * 5
    assert set(statuses[5:]) == {429}
    # Another address is not affected.
    assert post(client, {}, "guess", REMOTE_ADDR="203.0.113.10").status_code == 401


def test_it_believes_x_forwarded_for_only_from_the_proxy(client, settings, limiter_reset):
    settings.API_RATE_PER_ADDRESS = 3
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    # Through the proxy: each client has its own window.
    for i in range(6):
        assert (
            post(
                client, {}, "k", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}"
            ).status_code
            == 401
        )
    # Not through the proxy: a forged header does not buy a fresh window.
    statuses = [
        post(
            client, {}, "k", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}"
        ).status_code
        for i in range(6)
    ]
    assert statuses[3:] == [429] * 3


# ------------------------------------------------------------------------------ the 400


def test_a_400_lists_at_most_50_errors_and_the_allowed_fields_once(client, api_key, body):
    # About 249 KB of unknown fields, as in the review.
    noisy = {**body, **{f"field_{i:05d}_{'x' * 10}": 1 for i in range(9000)}}
    raw = json.dumps(noisy).encode()
    assert len(raw) > 240_000

    response = post(client, raw, api_key)

    assert response.status_code == 400
    answer = response.json()
    assert len(answer["errors"]) == 50
    assert answer["errors_total"] == 9000
    assert answer["allowed_fields"]["(body)"][:3] == ["register_id", "z_number", "business_date"]
    assert all("register_id" not in error["message"] for error in answer["errors"])
    assert len(response.content) < 10_000


def test_a_400_still_names_each_bad_field(client, api_key, body):
    bad = copy.deepcopy(body)
    bad["sales"][0]["colour"] = "red"
    bad["payments"][1]["amount"] = "a lot"

    answer = post(client, bad, api_key).json()

    paths = {error["path"]: error["message"] for error in answer["errors"]}
    assert paths["sales[0].colour"] == "Ukjent felt «colour»."
    assert "payments[1].amount" in paths
    assert answer["allowed_fields"] == {
        "sales[]": ["product_group", "vat_rate", "gross_amount", "vat_amount", "count"]
    }


# ------------------------------------------------------------------------------ line counts


def test_it_refuses_more_than_500_sales_lines(client, api_key, body):
    line = body["sales"][0]
    many = {**body, "sales": [dict(line) for _ in range(501)]}

    response = post(client, many, api_key)

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"path": "sales", "message": "Høyst 500 salgslinjer per oppgjør (fikk 501)."}
    ]
    assert not Settlement.objects.exists()


def test_it_refuses_more_than_100_payment_lines(client, api_key, body):
    many = {**body, "payments": [{"method": "card", "amount": "1.00"}] * 101}

    response = post(client, many, api_key)

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "payments"


# ------------------------------------------------------------------------------ per day


def test_a_store_gets_at_most_50_new_registers_a_day(client, api_key, location, body):
    with time_machine.travel(timezone.now(), tick=False):
        answers = [post(client, {**body, "register_id": f"KASSE-{i}"}, api_key) for i in range(51)]

        assert [a.status_code for a in answers[:50]] == [201] * 50
        refused = answers[50]
        assert refused.status_code == 429
        assert int(refused["Retry-After"]) > 0
        assert refused.json()["errors"][0]["path"] == "register_id"
        assert "50 nye kasser i dag" in refused.json()["errors"][0]["message"]
        assert Register.objects.filter(location=location).count() == 50
        # A known register still goes in.
        assert (
            post(client, {**body, "register_id": "KASSE-3", "z_number": 9}, api_key).status_code
            == 201
        )


def test_a_store_gets_at_most_200_new_names_a_day(client, api_key, location, body):
    def day_with_groups(z: int, first: int) -> dict:
        sales = [
            {"product_group": f"Gruppe {first + i}", "vat_rate": "25", "gross_amount": "100.00"}
            for i in range(100)
        ]
        return {
            **body,
            "z_number": z,
            "sales": sales,
            "payments": [{"method": "card", "amount": "10000.00"}],
            "tips": "0",
            "gift_cards_sold": "0",
            "rounding": "0",
            "cash_count": None,
        }

    with time_machine.travel(timezone.now(), tick=False):
        # 100 + 1 (card) + 99 new: 200 exactly; the next new one is refused.
        assert post(client, day_with_groups(1, 0), api_key).status_code == 201
        second = day_with_groups(2, 100)
        second["sales"] = second["sales"][:99]
        second["payments"] = [{"method": "card", "amount": "9900.00"}]
        assert post(client, second, api_key).status_code == 201
        refused = post(client, day_with_groups(3, 500), api_key)

    assert refused.status_code == 429
    assert "200 nye varegrupper og betalingsmåter i dag" in refused.json()["errors"][0]["message"]
    assert Settlement.objects.filter(z_number=3).count() == 0
