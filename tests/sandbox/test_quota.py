"""The per-client, per-endpoint quota: 429 with ErrorCode 4010 "Try again in N seconds"."""

import re

import pytest

from visma_sandbox import runtime, services
from visma_sandbox.models import AccessToken, QuotaCounter, SandboxClient

from .conftest import api, get_tokens, post_voucher, simple_voucher


@pytest.fixture(autouse=True)
def mid_window(monkeypatch):
    """20 seconds into a minute, so no window ends during a test."""
    pinned = (int(runtime.time.time()) // 60) * 60 + 20
    monkeypatch.setattr(runtime, "clock", lambda: pinned)


def _seconds(answer) -> int:
    body = answer.json()
    assert answer.status_code == 429
    assert body["ErrorCode"] == 4010
    found = re.search(r"Try again in (\d+) seconds", body["DeveloperErrorMessage"])
    assert found, body
    seconds = int(found[1])
    assert seconds == 40  # to the end of the pinned window
    assert answer["Retry-After"] == str(seconds)
    return seconds


def test_it_answers_429_4010_after_the_quota(tokens, client):
    services.set_quota(5)
    for _ in range(5):
        assert api(client, tokens["access_token"], "GET", "/fiscalyears").status_code == 200
    sixth = api(client, tokens["access_token"], "GET", "/fiscalyears")
    _seconds(sixth)
    assert "maximum admitted 5 per Minute" in sixth.json()["DeveloperErrorMessage"]
    # Another endpoint has its own count; a POST over the quota stores nothing.
    assert api(client, tokens["access_token"], "GET", "/accounts").status_code == 200
    for _ in range(5):
        post_voucher(client, tokens["access_token"], simple_voucher())
    _seconds(post_voucher(client, tokens["access_token"], simple_voucher()))
    assert services.get_company("912345678").vouchers.count() == 5


def test_it_counts_per_client_in_the_database(tokens, client):
    services.set_quota(2)
    api(client, tokens["access_token"], "GET", "/vatcodes")
    api(client, tokens["access_token"], "GET", "/vatcodes")
    assert api(client, tokens["access_token"], "GET", "/vatcodes").status_code == 429
    counter = QuotaCounter.objects.get(endpoint="vatcodes")
    assert counter.client_id == "backoffice-test"
    assert counter.count == 3
    assert counter.window_start % 60 == 0
    services.register_client(
        client_id="second", client_secret="s", redirect_uris=["http://testserver/cb/"]
    )
    # The same user through another integration is counted apart.
    AccessToken.objects.update(client=SandboxClient.objects.get(client_id="second"))
    assert api(client, tokens["access_token"], "GET", "/vatcodes").status_code == 200


def test_it_takes_the_quota_from_the_setting_until_changed_at_runtime(
    oauth_client, client, settings
):
    settings.VISMA_SANDBOX_QUOTA_PER_MINUTE = 1
    token = get_tokens(client)["access_token"]
    assert api(client, token, "GET", "/fiscalyears").status_code == 200
    assert api(client, token, "GET", "/fiscalyears").status_code == 429
    services.set_quota(600)
    assert api(client, token, "GET", "/fiscalyears").status_code == 200
    services.set_quota(None)
    assert services.quota_per_minute() == 1
