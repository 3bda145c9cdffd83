"""`issue_api_key` and `revoke_api_key` (issue 17, item 4): a second key beside the first,
so a till switches without downtime, then the old one stops working."""

import io

import pytest
from django.core.management import CommandError, call_command

from backoffice.models import ApiKey, AuditEvent
from tests.test_settlement_api import post

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_a_second_key_works_beside_the_first_until_the_first_is_revoked(client, location, api_key):
    out = run("issue_api_key", "fjordkafe", "sentrum")
    second = out.strip().splitlines()[-1]
    assert second.startswith("bo_") and second != api_key

    assert post(client, {}, api_key).status_code == 400  # both keys are let in
    assert post(client, {}, second).status_code == 400

    first_prefix = api_key.split("_")[1]
    out = run("revoke_api_key", "fjordkafe", "sentrum", first_prefix)

    assert f"Revoked key {first_prefix}… of Fjordkafé Sentrum; 1 active keys left." in out
    assert post(client, {}, api_key).status_code == 401
    assert post(client, {}, second).status_code == 400


def test_issuing_and_revoking_is_in_the_audit_log(location, api_key):
    run("issue_api_key", "fjordkafe", "sentrum")
    run("revoke_api_key", "fjordkafe", "sentrum", api_key.split("_")[1])

    events = list(AuditEvent.objects.order_by("at", "id").values_list("action", "actor_label"))
    assert events == [
        ("api_key_issued", "manage.py issue_api_key"),
        ("api_key_revoked", "manage.py revoke_api_key"),
    ]


def test_revoking_twice_changes_nothing(location, api_key):
    prefix = api_key.split("_")[1]
    run("revoke_api_key", "fjordkafe", "sentrum", prefix)

    out = run("revoke_api_key", "fjordkafe", "sentrum", prefix)

    assert "was revoked already" in out
    assert AuditEvent.objects.filter(action="api_key_revoked").count() == 1


def test_it_refuses_an_unknown_store_or_key(location, other_location, api_key):
    with pytest.raises(CommandError, match="No store 'sentrum' in organisation 'bakeri-nord'"):
        run("issue_api_key", "bakeri-nord", "sentrum")
    with pytest.raises(CommandError, match="No key 'deadbeef' at Fjordkafé Sentrum"):
        run("revoke_api_key", "fjordkafe", "sentrum", "deadbeef")
    # Another organisation's store cannot revoke this store's key.
    with pytest.raises(CommandError, match="No key"):
        run("revoke_api_key", "bakeri-nord", "torget", api_key.split("_")[1])
    assert ApiKey.objects.filter(revoked_at__isnull=True).count() == 1
