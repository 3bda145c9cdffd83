"""The Visma connection's secrets (issue 8, part 3).

- The OAuth callback refuses (403) a forged state, a missing one, a used one, and a state
  that belongs to another browser session, another user or another organisation; nothing
  is exchanged with Visma and no connection changes.
- After a whole connect round trip, token refreshes (on expiry and after a 401) and API
  calls, none of the tokens, the authorization code or the client secret is in the
  database (dumpdata and every row of every table), in the logs (captured at DEBUG, SQL
  included) or in the 500 page.

Visma is mocked with `responses`.
"""

from __future__ import annotations

import json
import logging
import secrets
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from cryptography.fernet import Fernet
from django.db import connection as db
from django.test import Client
from django.utils import timezone

from backoffice.models import Membership
from integrations.visma import client as visma_client
from integrations.visma import tokens
from integrations.visma.models import VismaConnection

from .conftest import fingerprint, signed_in
from .dump import database_as_text

IDENTITY = "https://identity.visma.test"
API = "https://api.visma.test/v2"
TOKEN_URL = f"{IDENTITY}/connect/token"
CLIENT_SECRET = "client-secret-" + secrets.token_hex(8)
PAGE = "/oppsett/integrasjoner/visma-eaccounting/"
CONNECT = PAGE + "koble-til/"
CALLBACK = PAGE + "callback/"
REFRESH_CHART = PAGE + "oppdater-kontoplan/"
YEAR = str(uuid.UUID(int=2026))


@pytest.fixture(autouse=True)
def visma(settings):
    settings.VISMA_CLIENT_ID = "backoffice-security-test"
    settings.VISMA_CLIENT_SECRET = CLIENT_SECRET
    settings.VISMA_REDIRECT_URI = ""
    settings.VISMA_IDENTITY_URL = IDENTITY
    settings.VISMA_API_URL = API
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


class FakeVisma:
    """Visma's identity server and API: every token it hands out is new and recorded."""

    def __init__(self, mock: responses.RequestsMock):
        self.issued: list[str] = []
        self.mock = mock
        mock.add_callback("POST", TOKEN_URL, callback=self.token)
        page = {"Meta": {"CurrentPage": 1, "TotalNumberOfPages": 1}}
        company = {"Name": "Fjordkafé AS", "CorporateIdentityNumber": "912345678"}
        mock.get(f"{API}/companysettings", json=company)
        accounts = [{"Number": "1900", "Name": "Kasse", "IsActive": True, "FiscalYearId": YEAR}]
        mock.get(f"{API}/accounts", json={**page, "Data": accounts})
        vat = [{"Id": str(uuid.UUID(int=3)), "Code": "3", "Description": "Høy", "VatRate": 0.25}]
        mock.get(f"{API}/vatcodes", json={**page, "Data": vat})
        year = {
            "Id": YEAR,
            "StartDate": "2026-01-01T00:00:00",
            "EndDate": "2026-12-31T00:00:00",
            "IsLockedForAccounting": False,
        }
        mock.get(f"{API}/fiscalyears", json={**page, "Data": [year]})
        mock.get(f"{API}/vouchers", json={**page, "Data": []})  # the connect's check

    def token(self, request):
        access = "acc-" + secrets.token_urlsafe(24)
        refresh = "ref-" + secrets.token_urlsafe(24)
        self.issued += [access, refresh]
        body = {"access_token": access, "refresh_token": refresh, "expires_in": 3600}
        return 200, {}, json.dumps({**body, "token_type": "Bearer", "scope": "ea:api"})

    @property
    def token_calls(self) -> int:
        return sum(1 for call in self.mock.calls if call.request.url == TOKEN_URL)


@pytest.fixture
def fake_visma():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeVisma(mock)


def start(client: Client) -> str:
    """Click "Connect Visma eAccounting"; the state sent to Visma."""
    response = client.post(CONNECT)
    assert response.status_code == 302
    return parse_qs(urlsplit(response["Location"]).query)["state"][0]


# --------------------------------------------------------------------------- the state


def forged(alice_client, charlie_client, alice, other_org) -> str:
    start(alice_client)
    return secrets.token_urlsafe(32)


def missing(alice_client, charlie_client, alice, other_org) -> str:
    start(alice_client)
    return ""


def from_another_browser(alice_client, charlie_client, alice, other_org) -> str:
    return start(signed_in(alice))


def from_another_user(alice_client, charlie_client, alice, other_org) -> str:
    return start(charlie_client)


def for_another_organisation(alice_client, charlie_client, alice, other_org) -> str:
    """Alice is admin of both; she starts for Bakeri Nord, then switches to Fjordkafé."""
    Membership.objects.create(user=alice, organization=other_org, role=Membership.Role.ADMIN)
    session = alice_client.session
    session["org_id"] = other_org.pk
    session.save()
    state = start(alice_client)
    session = alice_client.session
    session["org_id"] = alice.memberships.get(organization__slug="fjordkafe").organization_id
    session.save()
    return state


@pytest.mark.parametrize(
    "make_state",
    [forged, missing, from_another_browser, from_another_user, for_another_organisation],
)
def test_the_callback_refuses_a_state_it_did_not_give_this_session(
    alice_client, charlie_client, alice, org, other_org, fake_visma, make_state
):
    state = make_state(alice_client, charlie_client, alice, other_org)
    before = fingerprint()

    response = alice_client.get(CALLBACK, {"code": "the-code", "state": state})

    assert response.status_code == 403
    assert fake_visma.token_calls == 0
    after = fingerprint()
    assert after["visma.VismaConnection"] == before["visma.VismaConnection"] == []


def test_the_callback_refuses_a_state_used_once_already(alice_client, org, fake_visma):
    state = start(alice_client)
    assert alice_client.get(CALLBACK, {"code": "c1", "state": state}).status_code == 302
    connected = VismaConnection.objects.get(organization=org).access_token

    again = alice_client.get(CALLBACK, {"code": "c2", "state": state})

    assert again.status_code == 403
    assert fake_visma.token_calls == 1
    assert VismaConnection.objects.get(organization=org).access_token == connected


# --------------------------------------------------------------------------- the tokens


def connect_refresh_and_call(alice_client, org, fake_visma) -> list[str]:
    """Every way the tokens travel: connect (code exchange and the chart), the chart button,
    a refresh on expiry, a refresh after a 401; the secrets that were in play."""
    code = "code-" + secrets.token_urlsafe(16)
    state = start(alice_client)
    response = alice_client.get(CALLBACK, {"code": code, "state": state}, follow=True)
    assert "Visma Account connected" in response.content.decode()

    assert alice_client.post(REFRESH_CHART).status_code == 302

    VismaConnection.objects.filter(organization=org).update(
        expires_at=timezone.now() - timedelta(minutes=5)
    )
    assert visma_client.get_company_settings(tokens.get_access_token(org)).name == "Fjordkafé AS"

    # Visma turns down the current access token once: refreshed and retried.
    rejected = tokens.get_access_token(org)
    fake_visma.mock.replace("GET", f"{API}/companysettings", status=401, json={"ErrorCode": 4000})
    fake_visma.mock.add("GET", f"{API}/companysettings", json={"Name": "Fjordkafé AS"})
    assert tokens.call(org, visma_client.get_company_settings).name == "Fjordkafé AS"
    assert tokens.get_access_token(org) != rejected

    assert fake_visma.token_calls == 3
    return [*fake_visma.issued, code, CLIENT_SECRET]


def test_no_token_is_stored_or_logged_in_plain_text(alice_client, org, fake_visma, caplog):
    for name in (None, "django", "django.request", "django.db.backends"):
        caplog.set_level(logging.DEBUG, logger=name)
    db.force_debug_cursor = True  # every SQL statement logged, parameters included
    try:
        secrets_in_play = connect_refresh_and_call(alice_client, org, fake_visma)
    finally:
        db.force_debug_cursor = False

    assert len(secrets_in_play) == 8
    # The SQL log was captured, the statements that store the tokens included.
    assert "UPDATE" in caplog.text and "visma_vismaconnection" in caplog.text
    dump = database_as_text()
    assert VismaConnection.objects.get(organization=org).access_token_encrypted in dump
    for secret in secrets_in_play:
        assert secret not in dump, "a Visma secret is stored in plain text"
        assert secret not in caplog.text, "a Visma secret is in the log"
    # The encrypted columns name nothing that resembles a token either.
    assert "acc-" not in dump and "ref-" not in dump


def test_the_500_page_shows_no_token(alice_client, alice, org, fake_visma, settings, monkeypatch):
    connect_refresh_and_call(alice_client, org, fake_visma)
    settings.DEBUG = False
    connection = VismaConnection.objects.get(organization=org)
    access, refresh = connection.access_token, connection.refresh_token

    def broken(access_token):
        raise RuntimeError(f"something unexpected while holding {access_token[:4]}...")

    monkeypatch.setattr(visma_client, "get_company_settings", broken)

    response = signed_in(alice).post(REFRESH_CHART)

    assert response.status_code == 500
    body = response.content.decode()
    assert access not in body and refresh not in body
    assert "RuntimeError" not in body  # the plain error page, not the technical one
