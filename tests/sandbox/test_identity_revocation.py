"""/connect/revocation (RFC 7009)."""

from .conftest import REVOCATION, api, basic, form_post, token_request


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
