"""/connect/authorize: the sign-in page, the company choice and the consent page."""

import pytest

from .conftest import (
    AUTHORIZE,
    BAKERI,
    CALLBACK,
    DEMO,
    authorize_params,
    query_of,
    sign_in_and_allow,
)


def test_it_refuses_an_unknown_client_on_a_page_without_redirecting(oauth_client, client):
    answer = client.get(AUTHORIZE, authorize_params(client_id="nobody"))
    assert answer.status_code == 400
    assert b"Unknown client" in answer.content


def test_it_refuses_a_redirect_uri_that_is_not_exactly_registered(oauth_client, client):
    for wrong in (CALLBACK.rstrip("/"), CALLBACK + "x", CALLBACK.replace("http:", "https:")):
        answer = client.get(AUTHORIZE, authorize_params(redirect_uri=wrong))
        assert answer.status_code == 400, wrong
        assert b"Invalid redirect_uri" in answer.content


def test_it_sends_scope_and_request_errors_back_to_the_client_with_the_state(oauth_client, client):
    cases = [
        ({"scope": "ea:api ea:everything"}, "invalid_scope"),
        ({"scope": ""}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge_method": "S512"}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"code_challenge": None}, "invalid_request"),  # a method without a challenge
    ]
    for overrides, error in cases:
        answer = client.get(AUTHORIZE, authorize_params(**overrides))
        assert answer.status_code == 302, overrides
        assert answer["Location"].startswith(CALLBACK)
        query = query_of(answer["Location"])
        assert query["error"] == error, overrides
        assert query["state"] == "state-123"


def test_it_shows_a_visma_like_sign_in_page_with_the_demo_user(oauth_client, client):
    answer = client.get(AUTHORIZE, authorize_params(), follow=True)
    page = answer.content.decode()
    assert answer.status_code == 200
    assert "Log in" in page and "VISMA" in page
    assert 'value="demo@visma.example"' in page
    assert "demo@visma.example</code> / password <code>demo" in page
    assert "Backoffice" in page  # the client's name: "to continue to Backoffice"


def test_it_refuses_a_wrong_password(oauth_client, client):
    login = client.get(AUTHORIZE, authorize_params())["Location"]
    answer = client.post(
        login, {"txn": query_of(login)["txn"], "email": "demo@visma.example", "password": "x"}
    )
    assert answer.status_code == 400
    assert b"incorrect" in answer.content


def test_it_lets_the_user_choose_the_company_when_asked_with_forceselectcompany(
    oauth_client, client
):
    login = client.get(AUTHORIZE, authorize_params())["Location"]
    answer = client.post(
        login, {"txn": query_of(login)["txn"], "email": "demo@visma.example", "password": "demo"}
    )
    assert "/account/company" in answer["Location"]
    page = client.get(answer["Location"]).content.decode()
    for name in ("Fjordkafé AS", "Bakeri Nord AS", "Kiosk Vest AS"):
        assert name in page


@pytest.mark.parametrize("prompt", [None, "select_account"])
def test_it_uses_the_default_company_without_forceselectcompany(oauth_client, client, prompt):
    """Like Visma's identity server: prompt=select_account alone shows no company list."""
    login = client.get(AUTHORIZE, authorize_params(prompt=prompt, acr_values=None))["Location"]
    answer = client.post(
        login, {"txn": query_of(login)["txn"], "email": "demo@visma.example", "password": "demo"}
    )
    assert "/consent" in answer["Location"]
    assert "Fjordkafé AS" in client.get(answer["Location"]).content.decode()


def test_it_skips_the_choice_for_a_user_with_one_company(oauth_client, client):
    redirect = sign_in_and_allow(client, email="bakeri@visma.example")
    assert "code" in redirect


def test_it_lists_the_scopes_on_the_consent_page_and_returns_code_and_state(oauth_client, client):
    login = client.get(AUTHORIZE, authorize_params(acr_values=None))["Location"]
    consent = client.post(
        login, {"txn": query_of(login)["txn"], "email": "demo@visma.example", "password": "demo"}
    )["Location"]
    page = client.get(consent).content.decode()
    assert "Yes, allow" in page and "No, cancel" in page
    for scope in ("ea:api", "offline_access", "ea:accounting", "ea:sales_readonly"):
        assert f"<code>{scope}</code>" in page
    answer = client.post(consent, {"txn": query_of(consent)["txn"], "decision": "allow"})
    query = query_of(answer["Location"])
    assert query["state"] == "state-123"
    assert len(query["code"]) > 30


def test_it_answers_access_denied_when_the_user_declines(oauth_client, client):
    redirect = sign_in_and_allow(client, decision="deny")
    assert redirect["error"] == "access_denied"
    assert redirect["state"] == "state-123"
    assert "code" not in redirect


def test_it_remembers_the_sign_in_but_not_a_finished_flow(oauth_client, client):
    first = sign_in_and_allow(client, company=BAKERI)
    assert "code" in first
    # Signed in already: straight to the company choice, no password again.
    again = client.get(AUTHORIZE, authorize_params())
    assert "/account/company" in again["Location"]
    # prompt=login asks for the password again.
    forced = client.get(AUTHORIZE, authorize_params(prompt="login"))
    assert "/account/login" in forced["Location"]


def test_it_refuses_a_spent_or_unknown_transaction(oauth_client, client):
    login = client.get(AUTHORIZE, authorize_params(acr_values=None))["Location"]
    txn = query_of(login)["txn"]
    consent = client.post(login, {"txn": txn, "email": "demo@visma.example", "password": "demo"})
    client.post(consent["Location"], {"txn": txn, "decision": "allow"})
    replay = client.post(consent["Location"], {"txn": txn, "decision": "allow"})
    assert replay.status_code == 400
    assert b"expired or was already completed" in replay.content
    assert client.post(login, {"txn": "forged"}).status_code == 400


def test_it_accepts_vismas_forceselectcompany_acr_value_without_prompt(oauth_client, client):
    params = authorize_params(prompt=None, acr_values="forceselectcompany:true")
    login = client.get(AUTHORIZE, params)["Location"]
    answer = client.post(
        login, {"txn": query_of(login)["txn"], "email": "demo@visma.example", "password": "demo"}
    )
    assert "/account/company" in answer["Location"]


def test_it_publishes_a_discovery_document(oauth_client, client):
    document = client.get("/visma-sandbox/identity/.well-known/openid-configuration").json()
    assert document["token_endpoint"] == "http://testserver/visma-sandbox/identity/connect/token"
    assert document["code_challenge_methods_supported"] == ["plain", "S256"]
    assert DEMO  # the demo company is the default one of the demo user
