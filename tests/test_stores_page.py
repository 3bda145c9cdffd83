"""Oppsett > Butikker (issue 17, item 4): admins issue a key (shown once) and revoke keys
of their own stores; staff and other organisations cannot."""

import re

import pytest

from backoffice.models import ApiKey, AuditEvent, hash_api_key
from tests.test_settlement_api import post

PAGE = "/oppsett/butikker/"

pytestmark = pytest.mark.django_db


def issue_url(location) -> str:
    return f"/oppsett/butikker/{location.pk}/ny-nokkel/"


def revoke_url(key) -> str:
    return f"/oppsett/butikker/nokler/{key.pk}/trekk-tilbake/"


def test_it_lists_the_stores_keys_without_their_secret(client, alice, location, api_key):
    client.force_login(alice)

    page = client.get(PAGE).content.decode()

    assert "Fjordkafé Sentrum" in page
    assert f"bo_{api_key.split('_')[1]}_…" in page
    assert api_key not in page
    assert "aktiv" in page


def test_it_shows_a_new_key_once_and_the_key_works(client, alice, location, api_key):
    client.force_login(alice)

    response = client.post(issue_url(location))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    [raw] = re.findall(r'<code class="api-key">(bo_[^<]+)</code>', page)
    assert ApiKey.objects.filter(key_hash=hash_api_key(raw)).exists()
    assert "Den vises bare denne ene gangen" in page
    assert raw not in client.get(PAGE).content.decode()
    assert post(client, {}, raw).status_code == 400  # let in (then refused as empty)
    event = AuditEvent.objects.get()
    assert (event.action, event.actor_label) == ("api_key_issued", "alice")


def test_a_revoked_key_stops_working(client, alice, location, api_key):
    client.force_login(alice)
    key = ApiKey.objects.get()

    response = client.post(revoke_url(key))

    assert response.status_code == 302
    assert post(client, {}, api_key).status_code == 401
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert AuditEvent.objects.get().action == "api_key_revoked"


def test_staff_cannot_see_or_change_keys(client, bob, location, api_key):
    client.force_login(bob)

    assert client.get(PAGE).status_code == 403
    assert client.post(issue_url(location)).status_code == 403
    assert client.post(revoke_url(ApiKey.objects.get())).status_code == 403
    assert ApiKey.objects.filter(revoked_at__isnull=True).count() == 1


def test_another_organisations_admin_cannot_touch_the_keys(client, charlie, location, api_key):
    client.force_login(charlie)

    assert client.post(issue_url(location)).status_code == 404
    assert client.post(revoke_url(ApiKey.objects.get())).status_code == 404
    assert "Fjordkafé Sentrum" not in client.get(PAGE).content.decode()
    assert ApiKey.objects.count() == 1
