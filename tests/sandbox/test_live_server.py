"""The simulator over real HTTP (pytest-django's live server, `requests` as the client): the
whole connect flow, the API, refresh rotation, and a connection really dropped after the
voucher was stored."""

import pytest
import requests

from visma_sandbox import services
from visma_sandbox.models import SandboxCompany, SandboxVoucher

from .conftest import SCOPES, VERIFIER, authorize_params, query_of, s256, simple_voucher

TIMEOUT = 10


@pytest.fixture
def live(live_server):
    services.setup_demo()
    callback = f"{live_server.url}/oppsett/integrasjoner/visma-eaccounting/callback/"
    services.register_client(
        client_id="live-client", client_secret="live-secret", redirect_uris=[callback]
    )
    return live_server.url, callback


def _connect(base: str, callback: str) -> dict:
    """Sign in, choose Bakeri Nord AS, allow; exchange the code (client_secret_basic)."""
    browser = requests.Session()
    identity = f"{base}/visma-sandbox/identity"
    params = authorize_params(client_id="live-client", redirect_uri=callback)
    login = browser.get(f"{identity}/connect/authorize", params=params, timeout=TIMEOUT)
    assert login.status_code == 200 and "Log in" in login.text
    txn = query_of(login.url)["txn"]
    answer = browser.post(
        login.url,
        data={"txn": txn, "email": "demo@visma.example", "password": "demo"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert "/account/company" in answer.headers["Location"]
    company = SandboxCompany.objects.get(org_number="923456783")
    answer = browser.post(
        f"{identity}/account/company",
        data={"txn": txn, "company": company.pk},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    consent = browser.get(f"{base}{answer.headers['Location']}", timeout=TIMEOUT)
    assert "Yes, allow" in consent.text and "Bakeri Nord AS" in consent.text
    answer = browser.post(
        consent.url,
        data={"txn": txn, "decision": "allow"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    redirect = answer.headers["Location"]
    assert redirect.startswith(callback)
    assert query_of(redirect)["state"] == "state-123"
    tokens = requests.post(
        f"{identity}/connect/token",
        data={
            "grant_type": "authorization_code",
            "code": query_of(redirect)["code"],
            "redirect_uri": callback,
            "code_verifier": VERIFIER,
        },
        auth=("live-client", "live-secret"),
        timeout=TIMEOUT,
    )
    assert tokens.status_code == 200, tokens.text
    return tokens.json()


def test_it_speaks_vismas_protocol_over_real_http(live):
    base, callback = live
    assert s256(VERIFIER) == authorize_params()["code_challenge"]
    tokens = _connect(base, callback)
    assert tokens["scope"] == SCOPES
    api = f"{base}/visma-sandbox/api/v2"
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}

    settings = requests.get(f"{api}/companysettings", headers=bearer, timeout=TIMEOUT).json()
    assert settings["Name"] == "Bakeri Nord AS"

    body = simple_voucher("2026-11-27")
    for row in body["Rows"]:
        for key in ("DebitAmount", "CreditAmount"):
            if key in row:
                row[key] = float(row[key])
    flags = {"useDefaultVatCodes": "false", "useAutomaticVatCalculation": "false"}
    created = requests.post(
        f"{api}/vouchers", json=body, params=flags, headers=bearer, timeout=TIMEOUT
    )
    assert created.status_code == 201, created.text
    assert created.json()["NumberAndNumberSeries"] == "A1"

    # The answer to the next stored voucher is lost: the connection drops, no status line.
    services.set_fault(lose_after_store=1)
    with pytest.raises(requests.exceptions.ConnectionError) as dropped:
        requests.post(
            f"{api}/vouchers",
            json={**body, "VoucherText": "Z1043"},
            params=flags,
            headers=bearer,
            timeout=TIMEOUT,
        )
    assert not isinstance(dropped.value, requests.exceptions.Timeout)
    assert SandboxVoucher.objects.filter(voucher_text="Z1043").exists()
    found = requests.get(
        f"{api}/vouchers",
        params={
            "$filter": "VoucherDate ge 2026-11-27T00:00:00.00Z and VoucherDate le 2026-11-27T23:59:59.00Z"
        },
        headers=bearer,
        timeout=TIMEOUT,
    ).json()
    assert [v["NumberAndNumberSeries"] for v in found["Data"]] == ["A1", "A2"]

    # Refresh rotation, client_secret_post this time.
    token_url = f"{base}/visma-sandbox/identity/connect/token"
    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": "live-client",
        "client_secret": "live-secret",
    }
    rotated = requests.post(token_url, data=refresh, timeout=TIMEOUT)
    assert rotated.status_code == 200
    assert rotated.json()["refresh_token"] != tokens["refresh_token"]
    reused = requests.post(token_url, data=refresh, timeout=TIMEOUT)
    assert (reused.status_code, reused.json()) == (400, {"error": "invalid_grant"})

    # The simulator's page shows what arrived.
    page = requests.get(f"{base}/visma-sandbox/", timeout=TIMEOUT).text
    assert "Z1043" in page and "Bakeri Nord AS" in page
