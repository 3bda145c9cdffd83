"""/connect/token: the authorization code (single use, PKCE, exact redirect URI), client
authentication both ways, refresh-token rotation and the access-token lifetime."""

from datetime import timedelta

from django.utils import timezone

from visma_sandbox import services
from visma_sandbox.models import AccessToken, AuthorizationCode

from .conftest import (
    CALLBACK,
    CLIENT_ID,
    SCOPES,
    TOKEN,
    VERIFIER,
    api,
    basic,
    form_post,
    get_tokens,
    sign_in_and_allow,
    token_request,
)


def _code(client, **overrides) -> str:
    return sign_in_and_allow(client, **overrides)["code"]


def _exchange(client, code, *, auth="basic", redirect_uri=CALLBACK, verifier=VERIFIER):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier is not None:
        data["code_verifier"] = verifier
    return token_request(client, data, auth=auth)


def test_it_exchanges_a_code_with_client_secret_basic(oauth_client, client):
    answer = _exchange(client, _code(client))
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == SCOPES
    assert answer["Cache-Control"] == "no-store"


def test_it_exchanges_a_code_with_client_secret_post(oauth_client, client):
    answer = _exchange(client, _code(client), auth="post")
    assert answer.status_code == 200
    assert answer.json()["access_token"]


def test_it_refuses_a_wrong_client_secret_either_way(oauth_client, client):
    code = _code(client)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    wrong_basic = form_post(client, TOKEN, data, {"Authorization": basic(secret="nope")})
    assert wrong_basic.status_code == 401
    assert wrong_basic.json() == {"error": "invalid_client"}
    wrong_post = form_post(client, TOKEN, {**data, "client_id": CLIENT_ID, "client_secret": "x"})
    assert wrong_post.status_code == 401
    assert wrong_post.json()["error"] == "invalid_client"
    nothing = form_post(client, TOKEN, data)
    assert nothing.status_code == 401
    # The failed attempts did not spend the code.
    assert _exchange(client, code).status_code == 200


def test_it_accepts_a_code_only_once_and_cancels_what_it_gave(oauth_client, client):
    code = _code(client)
    first = _exchange(client, code).json()
    again = _exchange(client, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    # A replayed code revokes the tokens it gave (RFC 6749 4.1.2).
    assert api(client, first["access_token"], "GET", "/fiscalyears").status_code == 401
    refreshed = token_request(
        client, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert refreshed.json()["error"] == "invalid_grant"


def test_it_requires_the_exact_redirect_uri_of_the_authorize_request(oauth_client, client):
    answer = _exchange(client, _code(client), redirect_uri=CALLBACK + "other/")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


def test_it_verifies_pkce_s256(oauth_client, client):
    assert _exchange(client, _code(client), verifier="x" * 50).json()["error"] == "invalid_grant"
    assert _exchange(client, _code(client), verifier=None).json()["error"] == "invalid_grant"
    assert _exchange(client, _code(client), verifier=VERIFIER).status_code == 200


def test_it_verifies_pkce_plain_and_works_without_pkce(oauth_client, client):
    plain = "p" * 43
    code = _code(client, code_challenge=plain, code_challenge_method="plain")
    assert _exchange(client, code, verifier="q" * 43).status_code == 400
    code = _code(client, code_challenge=plain, code_challenge_method="plain")
    assert _exchange(client, code, verifier=plain).status_code == 200
    code = _code(client, code_challenge=None, code_challenge_method=None)
    assert _exchange(client, code, verifier=None).status_code == 200


def test_it_refuses_an_expired_code(oauth_client, client):
    code = _code(client)
    AuthorizationCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _exchange(client, code).json()["error"] == "invalid_grant"


def test_it_rotates_refresh_tokens_and_refuses_a_used_one(oauth_client, client):
    first = get_tokens(client)
    answer = token_request(
        client, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert answer.status_code == 200
    second = answer.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert api(client, second["access_token"], "GET", "/fiscalyears").status_code == 200

    reuse = token_request(
        client, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert reuse.status_code == 400
    assert reuse.json() == {"error": "invalid_grant"}
    # The new one works (once), with client_secret_post too.
    third = token_request(
        client,
        {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]},
        auth="post",
    )
    assert third.status_code == 200


def test_it_refuses_another_clients_refresh_token(oauth_client, client):
    tokens = get_tokens(client)
    services.register_client(client_id="other", client_secret="other-secret")
    answer = form_post(
        client,
        TOKEN,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        {"Authorization": basic("other", "other-secret")},
    )
    assert answer.json()["error"] == "invalid_grant"


def test_it_may_narrow_but_not_widen_the_scope_on_refresh(oauth_client, client):
    tokens = get_tokens(client)
    wider = token_request(
        client,
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "scope": SCOPES + " ea:purchase",
        },
    )
    assert wider.json()["error"] == "invalid_scope"
    narrower = token_request(
        client,
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "scope": "ea:api offline_access ea:accounting",
        },
    )
    assert narrower.json()["scope"] == "ea:api offline_access ea:accounting"


def test_it_gives_no_refresh_token_without_offline_access(oauth_client, client):
    tokens = get_tokens(client, scope="ea:api ea:accounting")
    assert "refresh_token" not in tokens


def test_it_uses_the_clients_or_the_configured_access_token_lifetime(
    oauth_client, client, settings
):
    settings.VISMA_SANDBOX_ACCESS_TOKEN_SECONDS = 120
    assert get_tokens(client)["expires_in"] == 120
    services.register_client(client_id=CLIENT_ID, access_token_lifetime=30)
    tokens = get_tokens(client)
    assert tokens["expires_in"] == 30
    stored = AccessToken.objects.latest("pk")
    assert 25 <= (stored.expires_at - timezone.now()).total_seconds() <= 30


def test_it_wants_a_form_body_and_a_known_grant_type(oauth_client, client):
    as_json = client.post(
        TOKEN,
        {"grant_type": "authorization_code"},
        content_type="application/json",
        headers={"Authorization": basic()},
    )
    assert as_json.json()["error"] == "invalid_request"
    assert token_request(client, {"grant_type": "password"}).json() == {
        "error": "unsupported_grant_type"
    }
    assert token_request(client, {}).json()["error"] == "invalid_request"
    assert client.get(TOKEN).status_code == 405
