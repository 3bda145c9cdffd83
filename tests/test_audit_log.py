"""Oppsett > Logg (issue 17, item 9): connection changes, transfer settings, kontooppsett
changes and API keys are recorded (who, when, what) in one append-only log for admins."""

import pytest
from django.db import DatabaseError, connection, transaction

from accounting.services import import_mapping, save_mapping
from backoffice import audit
from backoffice.models import AuditEvent
from integrations.visma import tokens
from integrations.visma.models import TransferSettings
from tests.visma.conftest import make_connection

LOG = "/oppsett/logg/"
INTEGRATION = "/oppsett/integrasjoner/visma-eaccounting/"

pytestmark = pytest.mark.django_db


def lines(org) -> list[tuple]:
    return [
        (e.action, e.actor_label, e.details)
        for e in AuditEvent.objects.filter(organization=org).order_by("at", "id")
    ]


def test_a_change_of_the_transfer_settings_is_logged_with_old_and_new(client, alice, org):
    TransferSettings.for_organization(org)
    client.force_login(alice)

    # The Z-report box stays ticked (its default), as the browser sends it.
    client.post(
        INTEGRATION,
        {"interval": "weekly", "lookback_days": "14", "run_time": "07:30", "attach_zreport": "on"},
    )

    [(action, who, details)] = lines(org)
    assert (action, who) == ("transfer_settings", "alice")
    assert details == [
        "Hvor ofte: Daglig → Ukentlig",
        "Hent oppgjør bakover (dager): 30 → 14",
        "Klokkeslett: 06:00 → 07:30",
    ]


def test_disconnecting_and_needing_a_reconnect_are_logged(client, alice, org):
    make_connection(org, alice)
    tokens.mark_reconnect_required(org, "Visma avviste fornyelsen (invalid_grant).")
    client.force_login(alice)

    client.post(f"{INTEGRATION}koble-fra/")

    assert [(a, w) for a, w, _ in lines(org)] == [
        ("visma_reconnect", "Visma"),
        ("visma_disconnected", "alice"),
    ]
    assert lines(org)[0][2] == ["Visma avviste fornyelsen (invalid_grant)."]


def test_a_kontooppsett_change_is_logged_line_by_line(alice, org, worked_example):
    mapping = import_mapping(organization=org, data=worked_example["mapping"])
    mapping.payments["vipps"] = 1921

    save_mapping(organization=org, mapping=mapping, user=alice)

    (imported, _, _), (action, who, details) = lines(org)
    assert imported == "mapping_changed"
    assert (action, who) == ("mapping_changed", "alice")
    assert any("vipps" in line and "1921" in line for line in details), details


def test_admins_see_their_own_log_and_nobody_else_does(client, alice, bob, charlie, org):
    audit.record(
        organization=org, action=AuditEvent.Action.API_KEY_ISSUED, actor=alice, details=["x…"]
    )
    client.force_login(alice)
    page = client.get(LOG).content.decode()
    assert "API-nøkkel laget" in page and "alice" in page

    client.force_login(bob)
    assert client.get(LOG).status_code == 403

    client.force_login(charlie)
    assert "API-nøkkel laget" not in client.get(LOG).content.decode()


def test_the_log_cannot_be_changed_or_deleted(org, alice):
    event = audit.record(organization=org, action=AuditEvent.Action.MAPPING_CHANGED, actor=alice)

    event.actor_label = "someone else"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).update(actor_label="someone else")
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    # Not even behind the model's back.
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE backoffice_auditevent SET actor_label = 'x'")
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM backoffice_auditevent")
    assert AuditEvent.objects.get().actor_label == "alice"
