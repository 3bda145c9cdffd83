"""The Django admin of API keys (issue 17, item 4): no key by hand (it saved an empty
hash, and a second one was a 500), and a key cannot be moved to another store."""

import pytest
from django.contrib.auth.models import User

from backoffice.models import ApiKey
from tests.test_settlement_api import post

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client):
    from tests.conftest import verified_login

    root = User.objects.create_superuser("root", "root@example.org", "root-password-long")
    verified_login(client, root)
    return client


def test_a_key_cannot_be_added_by_hand(superuser_client, location):
    assert superuser_client.get("/admin/backoffice/apikey/add/").status_code == 403

    response = superuser_client.post(
        "/admin/backoffice/apikey/add/", {"location": location.pk, "prefix": "x"}
    )

    assert response.status_code == 403
    assert not ApiKey.objects.exists()


def test_a_key_cannot_be_moved_to_another_store(
    superuser_client, client, location, other_location, api_key
):
    key = ApiKey.objects.get()
    url = f"/admin/backoffice/apikey/{key.pk}/change/"
    assert superuser_client.get(url).status_code == 200

    superuser_client.post(
        url, {"location": other_location.pk, "revoked_at_0": "", "revoked_at_1": ""}
    )

    key.refresh_from_db()
    assert key.location == location


def test_a_key_can_be_revoked_in_the_admin(superuser_client, location, api_key):
    key = ApiKey.objects.get()
    url = f"/admin/backoffice/apikey/{key.pk}/change/"

    response = superuser_client.post(
        url, {"revoked_at_0": "2026-11-30", "revoked_at_1": "12:00:00"}
    )

    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert post(superuser_client, {}, api_key).status_code == 401
