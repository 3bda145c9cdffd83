"""/connect/revocation (RFC 7009)."""

import base64
import json

from django.test import Client

from visma_sandbox import services

from .conftest import (
    BAKERI,
    CALLBACK,
    DEMO,
    REVOCATION,
    TOKEN,
    VERIFIER,
    api,
    basic,
    form_post,
    get_tokens,
    sign_in_and_allow,
    token_request,
)


def _revoke(client, token, hint=None, auth=None):
    data = {"token": token}
    if hint:
        data["token_type_hint"] = hint
    return form_post(client, REVOCATION, data, {"Authorization": auth or basic()})


def test_it_revokes_a_refresh_token_and_the_access_tokens_of_its_grant(tokens, client):
    answer = _revoke(client, tokens["refresh_token"], "refresh_token")
    assert answer.status_code == 200
    refresh = token_request(
        client, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert refresh.status_code == 400
    assert refresh.json()["error"] == "invalid_grant"
    assert api(client, tokens["access_token"], "GET", "/fiscalyears").status_code == 401


def test_it_revokes_an_access_token_alone(tokens, client):
    assert _revoke(client, tokens["access_token"]).status_code == 200
    assert api(client, tokens["access_token"], "GET", "/fiscalyears").status_code == 401
    refresh = token_request(
        client, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert refresh.status_code == 200


def test_it_answers_200_for_an_unknown_token(tokens, client):
    assert _revoke(client, "never-issued").status_code == 200
    assert _revoke(client, "never-issued", "access_token").status_code == 200


def test_it_authenticates_the_client_and_needs_a_token(tokens, client):
    assert _revoke(client, tokens["refresh_token"], auth=basic(secret="bad")).status_code == 401
    assert form_post(client, REVOCATION, {}, {"Authorization": basic()}).status_code == 400
    assert _revoke(client, tokens["refresh_token"], "id_token").json() == {
        "error": "unsupported_token_type"
    }
    # None of these revoked anything.
    assert api(client, tokens["access_token"], "GET", "/fiscalyears").status_code == 200


def _claims(access_token: str) -> dict:
    payload = access_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _refreshes(client, refresh_token) -> bool:
    answer = token_request(client, {"grant_type": "refresh_token", "refresh_token": refresh_token})
    return answer.status_code == 200


def _other_clients_tokens() -> dict:
    services.register_client(
        client_id="other-app", client_secret="other-secret-1", redirect_uris=[CALLBACK]
    )
    browser = Client()
    redirect = sign_in_and_allow(browser, company=DEMO, client_id="other-app")
    answer = form_post(
        browser,
        TOKEN,
        {
            "grant_type": "authorization_code",
            "code": redirect["code"],
            "redirect_uri": CALLBACK,
            "code_verifier": VERIFIER,
        },
        {"Authorization": basic("other-app", "other-secret-1")},
    )
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_it_revokes_every_token_the_same_user_holds_for_the_client(oauth_client, client):
    # Demo Demosen connected two companies to the same integration (two sign-ins), and
    # Kari Kafé one; another integration holds a grant from Demo Demosen too.
    fjordkafe = get_tokens(client, company=DEMO)
    bakeri = get_tokens(client, company=BAKERI)
    kari = get_tokens(Client(), company=DEMO, email="kafe@visma.example")
    other_app = _other_clients_tokens()
    assert _claims(fjordkafe["access_token"])["sub"] == _claims(bakeri["access_token"])["sub"]
    assert _claims(kari["access_token"])["sub"] != _claims(bakeri["access_token"])["sub"]

    assert _revoke(client, fjordkafe["refresh_token"], "refresh_token").status_code == 200

    # As IdentityServer: all of that user's tokens for this client, in both companies.
    assert not _refreshes(client, bakeri["refresh_token"])
    assert api(client, bakeri["access_token"], "GET", "/fiscalyears").status_code == 401
    # Another user's grant and another client's stay.
    assert _refreshes(client, kari["refresh_token"])
    assert api(client, other_app["access_token"], "GET", "/fiscalyears").status_code == 200
