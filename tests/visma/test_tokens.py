"""The token store: a valid access token on demand, refreshed a minute before expiry with
rotation, serialized per organisation, and invalid_grant turned into "må kobles til på
nytt" with one e-mail to the admins."""

import base64
import json
import threading
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.core import mail
from django.db import connection as db
from django.utils import timezone

from integrations.visma import client, tokens
from integrations.visma.models import VismaConnection

from .conftest import API, COMPANY, TOKEN_URL, make_connection, token_answer


def sent_refresh_tokens(rsps) -> list[str]:
    return [
        parse_qs(call.request.body)["refresh_token"][0]
        for call in rsps.calls
        if call.request.url == TOKEN_URL
    ]


@pytest.mark.django_db
def test_a_fresh_token_is_handed_out_without_asking_visma(org, connected, mocked):
    assert tokens.get_access_token(org) == "access-1"
    assert len(mocked.calls) == 0


@pytest.mark.django_db
def test_a_token_expiring_within_a_minute_is_refreshed_and_rotated(org, alice, mocked):
    make_connection(org, alice, expires_in=50)
    mocked.post(TOKEN_URL, json=token_answer("access-2", "refresh-2"))
    assert tokens.get_access_token(org) == "access-2"

    connection = VismaConnection.objects.get(organization=org)
    assert connection.refresh_token == "refresh-2"
    assert connection.expires_at > timezone.now() + timedelta(minutes=59)

    # The next refresh spends the new refresh token, never the old (Visma cancelled it).
    VismaConnection.objects.filter(pk=connection.pk).update(expires_at=timezone.now())
    mocked.post(TOKEN_URL, json=token_answer("access-3", "refresh-3"))
    assert tokens.get_access_token(org) == "access-3"
    assert sent_refresh_tokens(mocked) == ["refresh-1", "refresh-2"]
    body = parse_qs(mocked.calls[0].request.body)
    assert body["grant_type"] == ["refresh_token"] and "scope" not in body
    assert mocked.calls[0].request.headers["Authorization"].startswith("Basic ")


@pytest.mark.django_db
def test_a_token_that_is_not_due_is_not_refreshed(org, alice, mocked):
    make_connection(org, alice, expires_in=120)
    assert tokens.get_access_token(org) == "access-1"
    assert len(mocked.calls) == 0


def jwt(claims: dict) -> str:
    """An access token shaped as Visma's identity server issues them (a JWT)."""
    parts = [{"alg": "RS256", "typ": "JWT"}, claims]
    encoded = [base64.urlsafe_b64encode(json.dumps(p).encode()).rstrip(b"=") for p in parts]
    return ".".join(part.decode() for part in encoded) + ".c2lnbmF0dXJl"


@pytest.mark.django_db
def test_a_refresh_learns_which_visma_user_granted_the_access(org, alice, mocked):
    # Connected before the Visma user was recorded: the next refresh's token names them.
    make_connection(org, alice, expires_in=50)
    user = "1072cd43-d99a-4d44-84a2-5f80720c1a19"
    mocked.post(TOKEN_URL, json=token_answer(jwt({"sub": user, "client_id": "x"}), "refresh-2"))

    tokens.get_access_token(org)

    assert VismaConnection.objects.get(organization=org).visma_user_id == user
    # A token that names no one (opaque) keeps what is known.
    VismaConnection.objects.filter(organization=org).update(expires_at=timezone.now())
    mocked.post(TOKEN_URL, json=token_answer("opaque-access", "refresh-3"))
    tokens.get_access_token(org)
    assert VismaConnection.objects.get(organization=org).visma_user_id == user


@pytest.mark.django_db(transaction=True)
def test_two_workers_refreshing_at_once_spend_the_refresh_token_once(org, alice, mocked):
    make_connection(org, alice, expires_in=10)
    spent = []

    def token_endpoint(request):
        spent.append(parse_qs(request.body)["refresh_token"][0])
        threading.Event().wait(0.4)  # slow enough for the other worker to be waiting
        return (
            200,
            {},
            '{"access_token": "access-2", "refresh_token": "refresh-2", "expires_in": 3600}',
        )

    mocked.add_callback("POST", TOKEN_URL, callback=token_endpoint)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(tokens.get_access_token(org))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert errors == []
    assert results == ["access-2", "access-2"]
    assert spent == ["refresh-1"]
    connection = VismaConnection.objects.get(organization=org)
    assert connection.status == VismaConnection.Status.CONNECTED
    assert connection.refresh_token == "refresh-2"


@pytest.mark.django_db
def test_invalid_grant_asks_for_a_reconnect_and_tells_the_admins_once(
    org, alice, bob, mocked, alice_client
):
    make_connection(org, alice, expires_in=0)
    mocked.post(
        TOKEN_URL,
        status=400,
        json={"error": "invalid_grant", "error_description": "refresh token revoked"},
    )
    with pytest.raises(tokens.ReconnectRequired) as caught:
        tokens.get_access_token(org)
    assert "invalid_grant" in caught.value.reason

    connection = VismaConnection.objects.get(organization=org)
    assert connection.status == VismaConnection.Status.RECONNECT_REQUIRED
    assert "invalid_grant" in connection.reason
    assert not connection.has_tokens  # the dead pair is gone

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.org"]  # the admin, not bob (staff)
    assert "Fjordkafé AS" in message.subject
    assert "/oppsett/integrasjoner/visma-eaccounting/" in message.body
    assert "refresh-1" not in message.body

    # A second failure (another worker, the next run): no second e-mail, no second call.
    with pytest.raises(tokens.ReconnectRequired):
        tokens.get_access_token(org)
    tokens.mark_reconnect_required(org, "fortsatt ugyldig")
    assert len(mail.outbox) == 1
    assert len(mocked.calls) == 1

    # …and every page says so.
    page = alice_client.get("/dagsoppgjor/").content.decode()
    assert "Visma-tilkoblingen må kobles til på nytt:" in page
    assert "invalid_grant" in page
    assert 'href="/oppsett/integrasjoner/visma-eaccounting/"' in page


@pytest.mark.django_db
def test_a_reconnect_clears_the_notice_so_the_next_incident_mails_again(
    org, alice, mocked, alice_client
):
    make_connection(org, alice)
    tokens.mark_reconnect_required(org, "første gang")
    assert len(mail.outbox) == 1
    from integrations.visma import services

    mocked.post(TOKEN_URL, json=token_answer())
    mocked.get(f"{API}/companysettings", json=COMPANY)
    for path in ("vouchers", "accounts", "vatcodes", "fiscalyears"):
        mocked.get(
            f"{API}/{path}", json={"Meta": {"CurrentPage": 1, "TotalNumberOfPages": 0}, "Data": []}
        )
    services.complete_connection(org, user=alice, code="c", code_verifier="v", redirect_uri="r")
    assert "må kobles til på nytt" not in alice_client.get("/dagsoppgjor/").content.decode()
    tokens.mark_reconnect_required(org, "andre gang")
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_an_identity_server_that_is_down_leaves_the_connection_alone(org, alice, mocked):
    make_connection(org, alice, expires_in=0)
    mocked.post(TOKEN_URL, status=503, body="maintenance")
    with pytest.raises(tokens.RefreshFailed):
        tokens.get_access_token(org)
    connection = VismaConnection.objects.get(organization=org)
    assert connection.status == VismaConnection.Status.CONNECTED
    assert connection.refresh_token == "refresh-1"
    assert mail.outbox == []


@pytest.mark.django_db
def test_not_connected(org):
    with pytest.raises(tokens.NotConnected):
        tokens.get_access_token(org)


@pytest.mark.django_db
def test_tokens_no_key_can_open_ask_for_a_reconnect(org, alice, settings, mocked):
    from cryptography.fernet import Fernet

    make_connection(org, alice)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(tokens.ReconnectRequired) as caught:
        tokens.get_access_token(org)
    assert "FIELD_ENCRYPTION_KEY" in caught.value.reason
    assert len(mocked.calls) == 0


@pytest.mark.django_db
def test_a_401_gets_one_retry_with_a_refreshed_token(org, connected, mocked):
    mocked.get(f"{API}/companysettings", status=401, json={"Message": "expired"})
    mocked.post(TOKEN_URL, json=token_answer("access-2", "refresh-2"))
    mocked.get(f"{API}/companysettings", json=COMPANY)
    company = tokens.call(org, client.get_company_settings)
    assert company.name == "Fjordkafé AS"
    auth = [c.request.headers.get("Authorization") for c in mocked.calls if "/v2/" in c.request.url]
    assert auth == ["Bearer access-1", "Bearer access-2"]


@pytest.mark.django_db
def test_force_refresh_skips_when_another_worker_already_replaced_the_token(org, alice, mocked):
    make_connection(org, alice, access="access-9")
    assert tokens.force_refresh(org, rejected_token="access-1") == "access-9"
    assert len(mocked.calls) == 0
    mocked.post(TOKEN_URL, json=token_answer("access-10", "refresh-10"))
    assert tokens.force_refresh(org, rejected_token="access-9") == "access-10"


@pytest.mark.django_db
def test_a_missing_scope_asks_for_a_reconnect(org, connected, mocked):
    mocked.get(
        f"{API}/accounts",
        status=403,
        json={"ErrorCode": 4006, "DeveloperErrorMessage": "Missing scope ea:accounting"},
    )
    with pytest.raises(client.MissingScope):
        tokens.call(org, client.list_accounts)
    connection = VismaConnection.objects.get(organization=org)
    assert connection.status == VismaConnection.Status.RECONNECT_REQUIRED
    assert "ea:accounting" in connection.reason
    assert len(mail.outbox) == 1
