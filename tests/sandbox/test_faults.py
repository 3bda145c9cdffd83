"""The fault switches, set from Python (the page and the command are tested apart)."""

import time

from visma_sandbox import services
from visma_sandbox.models import SandboxVoucher

from .conftest import BAKERI, api, get_tokens, post_voucher, simple_voucher, token_request


def test_it_stores_the_voucher_then_loses_the_answer(tokens, client):
    services.set_fault(lose_after_store=1)
    lost = post_voucher(client, tokens["access_token"], simple_voucher(text="lost one"))
    # Django's test client has no socket to drop: the fallback is a gateway's 504 page.
    assert lost.status_code == 504
    assert lost["Content-Type"].startswith("text/html")
    stored = SandboxVoucher.objects.get()
    assert stored.voucher_text == "lost one"
    # The voucher is there for a client that looks before posting again.
    found = api(
        client,
        tokens["access_token"],
        "GET",
        "/vouchers",
        **{
            "$filter": "VoucherDate ge 2026-11-27T00:00:00.00Z and VoucherDate le 2026-11-27T23:59:59.00Z"
        },
    )
    assert [v["VoucherText"] for v in found.json()["Data"]] == ["lost one"]
    answer = post_voucher(client, tokens["access_token"], simple_voucher())
    assert answer.status_code == 201
    assert answer.json()["NumberAndNumberSeries"] == "A2"


def test_it_loses_answers_only_of_stored_vouchers(tokens, client):
    services.set_fault(lose_after_store=1, lose_mode="504")
    refused = post_voucher(client, tokens["access_token"], simple_voucher("2024-01-05"))
    assert refused.status_code == 400  # not stored, so answered as usual
    assert api(client, tokens["access_token"], "GET", "/vouchers").status_code == 200
    assert post_voucher(client, tokens["access_token"], simple_voucher()).status_code == 504


def test_it_answers_500_for_the_next_n_requests_and_changes_nothing(tokens, client):
    services.set_fault(fail_5xx=2)
    first = post_voucher(client, tokens["access_token"], simple_voucher())
    second = api(client, tokens["access_token"], "GET", "/fiscalyears")
    assert (first.status_code, second.status_code) == (500, 500)
    assert first.json()["ErrorCode"] == 5000
    assert not SandboxVoucher.objects.exists()
    assert api(client, tokens["access_token"], "GET", "/fiscalyears").status_code == 200


def test_it_answers_429_for_the_next_n_requests(tokens, client):
    services.set_fault(fail_429=1, retry_after_seconds=3)
    answer = api(client, tokens["access_token"], "GET", "/accounts")
    assert answer.status_code == 429
    assert answer.json()["ErrorCode"] == 4010
    assert "Try again in 3 seconds" in answer.json()["DeveloperErrorMessage"]
    assert answer["Retry-After"] == "3"
    assert api(client, tokens["access_token"], "GET", "/accounts").status_code == 200


def test_it_keeps_a_companys_faults_to_that_company(oauth_client, client):
    demo = get_tokens(client)["access_token"]
    bakeri = get_tokens(client, company=BAKERI)["access_token"]
    services.set_fault(company=BAKERI, fail_5xx=5)
    assert api(client, demo, "GET", "/fiscalyears").status_code == 200
    assert api(client, bakeri, "GET", "/fiscalyears").status_code == 500
    services.clear_faults()
    assert api(client, bakeri, "GET", "/fiscalyears").status_code == 200


def test_it_expires_every_access_token_now(tokens, client):
    assert services.expire_access_tokens() == 1
    assert api(client, tokens["access_token"], "GET", "/fiscalyears").status_code == 401
    refreshed = token_request(
        client, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    ).json()
    assert api(client, refreshed["access_token"], "GET", "/fiscalyears").status_code == 200


def test_it_revokes_a_companys_refresh_tokens(oauth_client, client):
    demo = get_tokens(client)
    bakeri = get_tokens(client, company=BAKERI)
    assert services.revoke_refresh_tokens(company="912345678") == 1
    refused = token_request(
        client, {"grant_type": "refresh_token", "refresh_token": demo["refresh_token"]}
    )
    assert refused.status_code == 400
    assert refused.json() == {"error": "invalid_grant"}
    still = token_request(
        client, {"grant_type": "refresh_token", "refresh_token": bakeri["refresh_token"]}
    )
    assert still.status_code == 200


def test_it_adds_latency_to_every_api_answer(tokens, client):
    services.set_fault(latency_ms=250)
    started = time.monotonic()
    assert api(client, "no-token", "GET", "/fiscalyears").status_code == 401
    assert api(client, tokens["access_token"], "GET", "/fiscalyears").status_code == 200
    assert time.monotonic() - started >= 0.5
    services.set_fault(latency_ms=0)
    started = time.monotonic()
    api(client, tokens["access_token"], "GET", "/fiscalyears")
    assert time.monotonic() - started < 0.25
