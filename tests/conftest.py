"""A small fixed cast: Alice (admin) and Bob (staff) of Fjordkafé AS, Charlie (admin) of
Bakeri Nord AS, another organisation whose books Alice and Bob must never see."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from backoffice.models import ApiKey, Location, Membership, Organization
from tests import clock

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
WORKED_EXAMPLE_PATH = SHARED / "domain" / "worked-example.json"


@pytest.fixture(autouse=True)
def _the_suite_clock() -> Iterator[None]:
    """Every test runs at clock.NOW, and so do the processes it starts (tests/clock.py)."""
    with clock.travel(clock.NOW):
        yield


@pytest.fixture
def worked_example() -> dict:
    """The contract's worked example: shared/ lies beside the checkout (CI has it). Its
    settlement is of 2026-11-27, yesterday on the suite's clock (tests/clock.py)."""
    assert WORKED_EXAMPLE_PATH.exists(), f"{WORKED_EXAMPLE_PATH} is missing"
    example = json.loads(WORKED_EXAMPLE_PATH.read_text(encoding="utf-8"))
    assert example["settlement"]["business_date"] == clock.iso_days_ago(1)
    return example


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


def status_of(settlement):
    """A settlement's transfer as the pages show it (state, problem, reason), read afresh."""
    from integrations.visma.selectors import transfer_of
    from settlements.models import Settlement

    pk = settlement if isinstance(settlement, int) else settlement.pk
    return transfer_of(Settlement.objects.select_related("visma_export").get(pk=pk))


def set_transfer(settlements, state: str, problem_code: str = "", reason: str = "", **fields):
    """Put settlements (one, a list or a queryset) in a transfer state, as a run would."""
    from integrations.visma.models import SettlementExport

    items = [settlements] if hasattr(settlements, "pk") else list(settlements)
    for settlement in items:
        SettlementExport.objects.update_or_create(
            settlement_id=settlement.pk,
            defaults={"state": state, "problem_code": problem_code, "reason": reason, **fields},
        )


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
