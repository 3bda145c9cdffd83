"""The connect flow: POST "Connect Visma eAccounting" → Visma's authorize URL (PKCE S256,
single-use state bound to the session and organisation) → callback → tokens stored
encrypted, company read, chart cached, success message. And every way it can go wrong."""

import base64
import hashlib
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.db import connection as db
from django.urls import reverse

from integrations.visma.models import VismaAccount, VismaConnection, VismaVatCode
from integrations.visma.views import SESSION_KEY

from .conftest import API, AUTHORIZE_URL, REVOCATION_URL, TOKEN_URL, add_chart, token_answer

PAGE = "/oppsett/integrasjoner/visma-eaccounting/"
CALLBACK = "/oppsett/integrasjoner/visma-eaccounting/callback/"


def start(client) -> dict:
    """POST the connect button; the query of the redirect to Visma."""
    response = client.post(reverse("visma:connect"))
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(AUTHORIZE_URL + "?")
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def texts(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.mark.django_db
def test_the_whole_round_trip_stores_the_tokens_encrypted(alice_client, org, alice, mocked):
    query = start(alice_client)
    assert query["response_type"] == "code"
    assert query["client_id"] == "backoffice-test"
    assert query["redirect_uri"] == "http://testserver" + CALLBACK
    assert query["scope"] == "ea:api offline_access ea:accounting ea:sales_readonly"
    assert query["prompt"] == "select_account"
    assert query["acr_values"] == "forceselectcompany:true"  # the user chooses the company
    assert query["code_challenge_method"] == "S256"
    assert len(query["state"]) >= 20

    sent = {}

    def token_endpoint(request):
        sent["auth"] = request.headers["Authorization"]
        sent["body"] = {k: v[0] for k, v in parse_qs(request.body).items()}
        return 200, {}, __import__("json").dumps(token_answer("access-NEW-abc", "refresh-NEW-xyz"))

    mocked.add_callback("POST", TOKEN_URL, callback=token_endpoint)
    add_chart(mocked)

    response = alice_client.get(
        CALLBACK, {"code": "the-code", "state": query["state"]}, follow=True
    )

    assert response.redirect_chain == [(PAGE, 302)]
    assert ("success", "Innlogging hos Visma lyktes. Koblet til Fjordkafé AS.") in texts(response)
    content = response.content.decode()
    assert "Visma Account connected" in content and "912345678" in content

    # client_secret_basic, the code and the PKCE verifier that matches the challenge
    expected = base64.b64encode(b"backoffice-test:s3cret-client").decode()
    assert sent["auth"] == f"Basic {expected}"
    body = sent["body"]
    assert body["grant_type"] == "authorization_code" and body["code"] == "the-code"
    assert body["redirect_uri"] == "http://testserver" + CALLBACK
    assert s256(body["code_verifier"]) == query["code_challenge"]
    assert "client_secret" not in body

    connection = VismaConnection.objects.get(organization=org)
    assert connection.status == VismaConnection.Status.CONNECTED
    assert (connection.company_name, connection.connected_by) == ("Fjordkafé AS", alice)
    assert connection.access_token == "access-NEW-abc"
    assert connection.refresh_token == "refresh-NEW-xyz"
    assert 3500 < (connection.expires_at - connection.token_refreshed_at).total_seconds() <= 3600
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT access_token_encrypted, refresh_token_encrypted FROM visma_vismaconnection"
        )
        raw = " ".join(cursor.fetchone())
    assert "access-NEW-abc" not in raw and "refresh-NEW-xyz" not in raw
    assert "NEW" not in raw

    # the chart is cached on connect
    assert VismaAccount.objects.filter(organization=org).count() == 5
    assert VismaVatCode.objects.filter(organization=org).count() == 2


@pytest.mark.django_db
def test_a_state_that_does_not_match_is_refused(alice_client, mocked):
    start(alice_client)
    response = alice_client.get(CALLBACK, {"code": "c", "state": "someone-elses-state"})
    assert response.status_code == 403
    assert len(mocked.calls) == 0


@pytest.mark.django_db
def test_a_callback_without_state_is_refused(alice_client, mocked):
    start(alice_client)
    assert alice_client.get(CALLBACK, {"code": "c"}).status_code == 403


@pytest.mark.django_db
def test_a_state_is_single_use(alice_client, org, mocked):
    state = start(alice_client)["state"]
    mocked.post(TOKEN_URL, json=token_answer())
    add_chart(mocked)
    first = alice_client.get(CALLBACK, {"code": "c", "state": state})
    assert first.status_code == 302
    again = alice_client.get(CALLBACK, {"code": "c", "state": state})
    assert again.status_code == 403
    assert sum(1 for call in mocked.calls if call.request.url == TOKEN_URL) == 1


@pytest.mark.django_db
def test_a_state_started_for_another_organisation_is_refused(alice_client, other_org, mocked):
    session = alice_client.session
    session[SESSION_KEY] = {
        "st-other": {
            "org_id": other_org.pk,
            "code_verifier": "v" * 64,
            "redirect_uri": "http://testserver" + CALLBACK,
            "created": time.time(),
        }
    }
    session.save()
    response = alice_client.get(CALLBACK, {"code": "c", "state": "st-other"})
    assert response.status_code == 403
    assert len(mocked.calls) == 0
    assert not VismaConnection.objects.filter(organization=other_org).exists()


@pytest.mark.django_db
def test_a_state_from_another_browser_session_is_refused(alice_client, alice, mocked):
    from .conftest import login

    state = start(alice_client)["state"]
    other_browser = login(alice)
    assert other_browser.get(CALLBACK, {"code": "c", "state": state}).status_code == 403


@pytest.mark.django_db
def test_declining_at_visma_is_a_friendly_cancel(alice_client, org, mocked):
    state = start(alice_client)["state"]
    response = alice_client.get(CALLBACK, {"error": "access_denied", "state": state}, follow=True)
    assert response.status_code == 200
    [(level, text)] = texts(response)
    assert level == "warning" and "Tilkoblingen ble avbrutt" in text
    assert len(mocked.calls) == 0
    assert "Connect Visma eAccounting" in response.content.decode()


@pytest.mark.django_db
def test_another_error_from_visma_is_shown(alice_client, mocked):
    state = start(alice_client)["state"]
    response = alice_client.get(
        CALLBACK,
        {"error": "invalid_scope", "error_description": "ea:foo is unknown", "state": state},
        follow=True,
    )
    [(level, text)] = texts(response)
    assert level == "error" and "invalid_scope" in text and "ea:foo is unknown" in text


@pytest.mark.django_db
def test_a_refused_code_exchange_is_a_clear_message(alice_client, org, mocked):
    state = start(alice_client)["state"]
    mocked.post(
        TOKEN_URL, status=400, json={"error": "invalid_grant", "error_description": "code used"}
    )
    response = alice_client.get(CALLBACK, {"code": "c", "state": state}, follow=True)
    assert response.status_code == 200
    [(level, text)] = texts(response)
    assert level == "error" and "invalid_grant" in text
    assert not VismaConnection.objects.filter(
        organization=org, status=VismaConnection.Status.CONNECTED
    ).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    ["<html>Service unavailable</html>", '{"access_token": "a", "token_type": "Bearer"}', "[]"],
)
def test_a_malformed_token_answer_is_a_clear_message(alice_client, org, mocked, body):
    state = start(alice_client)["state"]
    mocked.post(TOKEN_URL, status=200, body=body, content_type="application/json")
    response = alice_client.get(CALLBACK, {"code": "c", "state": state}, follow=True)
    assert response.status_code == 200
    [(level, text)] = texts(response)
    assert level == "error" and "invalid_response" in text
    assert not VismaConnection.objects.filter(organization=org).exists()


@pytest.mark.django_db
def test_an_identity_server_that_is_down_is_a_clear_message(alice_client, mocked):
    state = start(alice_client)["state"]
    mocked.post(TOKEN_URL, status=503, body="down")
    response = alice_client.get(CALLBACK, {"code": "c", "state": state}, follow=True)
    [(level, text)] = texts(response)
    assert level == "error" and "Visma svarte ikke" in text


@pytest.mark.django_db
def test_a_company_that_cannot_be_read_is_not_connected_and_the_grant_is_revoked(
    alice_client, org, mocked
):
    state = start(alice_client)["state"]
    mocked.post(TOKEN_URL, json=token_answer())
    mocked.get(
        f"{API}/companysettings",
        status=403,
        json={"ErrorCode": 4006, "DeveloperErrorMessage": "Missing scope ea:sales"},
    )
    mocked.post(REVOCATION_URL, status=200)
    response = alice_client.get(CALLBACK, {"code": "c", "state": state}, follow=True)
    [(level, text)] = texts(response)
    assert level == "error" and "mangler rettighet" in text
    assert not VismaConnection.objects.filter(organization=org).exists()
    revoked = [c for c in mocked.calls if c.request.url == REVOCATION_URL]
    assert len(revoked) == 1 and "token=refresh-2" in revoked[0].request.body


@pytest.mark.django_db
def test_connected_even_when_the_chart_cannot_be_fetched_yet(alice_client, org, mocked):
    state = start(alice_client)["state"]
    mocked.post(TOKEN_URL, json=token_answer())
    mocked.get(f"{API}/companysettings", json={"Name": "Fjordkafé AS"})
    mocked.get(
        f"{API}/vouchers", json={"Meta": {"CurrentPage": 1, "TotalNumberOfPages": 1}, "Data": []}
    )
    mocked.get(f"{API}/accounts", status=503, body="")
    response = alice_client.get(CALLBACK, {"code": "c", "state": state}, follow=True)
    levels = [level for level, _text in texts(response)]
    assert levels == ["success", "warning"]
    assert VismaConnection.objects.get(organization=org).is_connected


@pytest.mark.django_db
def test_an_old_state_has_expired(alice_client, mocked):
    state = start(alice_client)["state"]
    session = alice_client.session
    session[SESSION_KEY][state]["created"] -= 3600
    session.save()
    response = alice_client.get(CALLBACK, {"code": "c", "state": state}, follow=True)
    [(level, text)] = texts(response)
    assert level == "error" and "tok for lang tid" in text
    assert len(mocked.calls) == 0


@pytest.mark.django_db
def test_the_configured_redirect_uri_is_used(alice_client, settings, mocked):
    settings.VISMA_REDIRECT_URI = (
        "https://backoffice.example/oppsett/integrasjoner/visma-eaccounting/callback/"
    )
    query = start(alice_client)
    assert query["redirect_uri"] == settings.VISMA_REDIRECT_URI


@pytest.mark.django_db
def test_without_a_client_id_the_page_explains_and_connect_does_not_fail(
    alice_client, settings, mocked
):
    settings.VISMA_CLIENT_ID = ""
    page = alice_client.get(PAGE).content.decode()
    assert "VISMA_CLIENT_ID" in page and "VISMA_CLIENT_SECRET" in page
    assert "http://testserver" + CALLBACK in page
    assert "disabled" in page.split("Connect Visma eAccounting")[0].rsplit("<button", 1)[1]

    response = alice_client.post(reverse("visma:connect"), follow=True)
    assert response.redirect_chain == [(PAGE, 302)]
    [(level, text)] = texts(response)
    assert level == "warning" and "VISMA_CLIENT_ID" in text
    assert len(mocked.calls) == 0


@pytest.mark.django_db
def test_staff_cannot_connect(bob_client, mocked):
    assert bob_client.post(reverse("visma:connect")).status_code == 403
    assert bob_client.get(CALLBACK, {"code": "c", "state": "x"}).status_code == 403


@pytest.mark.django_db
def test_connect_needs_a_post(alice_client):
    assert alice_client.get(reverse("visma:connect")).status_code == 405


@pytest.mark.django_db
def test_it_form_urlencodes_the_client_id_and_secret_before_basic(
    alice_client, org, mocked, settings
):
    """RFC 6749 §2.3.1: a secret holding "+", "%" or "/" reaches Visma as itself."""
    settings.VISMA_CLIENT_ID = "backoffice test"
    settings.VISMA_CLIENT_SECRET = "a+b%c/d:e"
    query = start(alice_client)
    sent = {}

    def token_endpoint(request):
        sent["auth"] = request.headers["Authorization"]
        return 200, {}, __import__("json").dumps(token_answer("access-1", "refresh-1"))

    mocked.add_callback("POST", TOKEN_URL, callback=token_endpoint)
    add_chart(mocked)

    alice_client.get(CALLBACK, {"code": "the-code", "state": query["state"]})

    expected = base64.b64encode(b"backoffice+test:a%2Bb%25c%2Fd%3Ae").decode()
    assert sent["auth"] == f"Basic {expected}"
    assert VismaConnection.objects.get(organization=org).status == "connected"
