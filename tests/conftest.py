"""A small fixed cast: Alice (admin) and Bob (staff) of Fjordkafé AS, Charlie (admin) of
Bakeri Nord AS, another organisation whose books Alice and Bob must never see."""

import json
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from backoffice.models import ApiKey, Location, Membership, Organization

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
WORKED_EXAMPLE_PATH = SHARED / "domain" / "worked-example.json"
# In a fresh clone, shared/ lies beside the checkout; tests keep their own copy of the
# worked example too, so they run wherever the repository is.
LOCAL_WORKED_EXAMPLE = Path(__file__).resolve().parent / "data" / "worked-example.json"


@pytest.fixture
def worked_example() -> dict:
    path = LOCAL_WORKED_EXAMPLE if LOCAL_WORKED_EXAMPLE.exists() else WORKED_EXAMPLE_PATH
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def org(db) -> Organization:
    return Organization.objects.create(slug="fjordkafe", name="Fjordkafé AS")


@pytest.fixture
def other_org(db) -> Organization:
    return Organization.objects.create(slug="bakeri-nord", name="Bakeri Nord AS")


@pytest.fixture
def location(org) -> Location:
    return Location.objects.create(organization=org, code="sentrum", name="Fjordkafé Sentrum")


@pytest.fixture
def other_location(other_org) -> Location:
    return Location.objects.create(organization=other_org, code="torget", name="Bakeri Torget")


def _member(username: str, org: Organization, role: str) -> User:
    user = User.objects.create_user(username, f"{username}@example.org", "pw-" + username)
    Membership.objects.create(user=user, organization=org, role=role)
    return user


@pytest.fixture
def alice(org) -> User:
    return _member("alice", org, Membership.Role.ADMIN)


@pytest.fixture
def bob(org) -> User:
    return _member("bob", org, Membership.Role.STAFF)


@pytest.fixture
def charlie(other_org) -> User:
    return _member("charlie", other_org, Membership.Role.ADMIN)


@pytest.fixture
def api_key(location) -> str:
    _, raw = ApiKey.issue(location)
    return raw


def verified_login(client, user) -> None:
    """Sign `user` in as the sign-in page would after a correct two-factor code, for the
    pages that require it (the admin site). Gives the user a TOTP device if they have none."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
