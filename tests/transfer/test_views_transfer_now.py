"""Oppsett > Integrasjoner > Visma eAccounting: "Overfør nå" for the organisation, its
progress while the run is queued or running, the status JSON the page polls, and the
last run's summary."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from integrations.visma import tasks
from integrations.visma.models import ExportRun, TransferSettings, VismaConnection

PAGE = "/oppsett/integrasjoner/visma-eaccounting/"
TRANSFER_NOW = "/oppsett/integrasjoner/visma-eaccounting/overfor-na/"
STATUS = "/oppsett/integrasjoner/visma-eaccounting/status/"
ROOT = Path(__file__).resolve().parent.parent.parent

pytestmark = pytest.mark.django_db


@pytest.fixture
def delays(monkeypatch) -> list[tuple]:
    """The export task's .delay calls (the worker is not what these tests are about)."""
    calls: list[tuple] = []
    monkeypatch.setattr(tasks.export_organization_task, "delay", lambda *a: calls.append(a))
    return calls


@pytest.fixture
def connected(org) -> VismaConnection:
    return VismaConnection.objects.create(
        organization=org, status=VismaConnection.Status.CONNECTED, company_name="Fjordkafé AS"
    )


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def button(page: str) -> str:
    return re.search(r"<button[^>]*>Overfør nå</button>", page).group(0)


def test_it_starts_a_run_for_the_admins_organisation(
    client, alice, org, other_org, connected, delays, django_capture_on_commit_callbacks
):
    client.force_login(alice)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(TRANSFER_NOW)

    assert response.status_code == 302
    assert response["Location"].startswith(PAGE)
    [run] = ExportRun.objects.all()
    assert run.organization == org
    assert run.trigger == ExportRun.Trigger.MANUAL
    assert run.requested_by == alice
    assert delays == [(org.pk, ExportRun.Trigger.MANUAL, run.pk)]
    assert texts(response) == ["Overføringen er startet."]


def test_it_shows_the_button_to_admins_of_a_connected_organisation(client, alice, connected):
    client.force_login(alice)

    page = client.get(PAGE).content.decode()

    assert "disabled" not in button(page)
    assert f'action="{TRANSFER_NOW}"' in page


def test_it_explains_the_disabled_button_and_sends_nothing_without_a_connection(
    client, alice, org, delays, django_capture_on_commit_callbacks
):
    client.force_login(alice)

    page = client.get(PAGE).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(TRANSFER_NOW)

    assert "disabled" in button(page)
    assert "Overføring er mulig når Visma eAccounting er tilkoblet." in page
    assert not ExportRun.objects.exists()
    assert delays == []
    assert texts(response) == ["Koble til Visma eAccounting før du overfører."]


def test_it_refuses_staff(client, bob, connected, delays):
    client.force_login(bob)

    page = client.get(PAGE).content.decode()
    response = client.post(TRANSFER_NOW)

    assert response.status_code == 403
    assert "Overfør nå" not in page
    assert not ExportRun.objects.exists()
    assert delays == []


def test_it_does_not_queue_a_second_run_while_one_is_active(
    client, alice, org, connected, delays, django_capture_on_commit_callbacks
):
    ExportRun.objects.create(organization=org, trigger=ExportRun.Trigger.SCHEDULE)
    client.force_login(alice)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(TRANSFER_NOW)

    assert ExportRun.objects.count() == 1
    assert delays == []
    assert texts(response) == ["En overføring pågår allerede."]


def test_it_shows_progress_and_polls_while_a_run_is_running(client, bob, org, connected):
    ExportRun.objects.create(
        organization=org,
        trigger=ExportRun.Trigger.MANUAL,
        status=ExportRun.Status.RUNNING,
        total=12,
        processed=3,
    )
    client.force_login(bob)

    page = client.get(PAGE).content.decode()

    assert "Overfører: 3 av 12" in page
    assert '<progress max="12" value="3">' in page
    assert f'data-status-url="{STATUS}"' in page
    # The polling script is a static file (the Content-Security-Policy allows no inline one).
    assert '<script src="/static/js/transfer-progress.js" defer></script>' in page
    assert "window.location.reload()" in (ROOT / "static/js/transfer-progress.js").read_text()


def test_it_says_queued_while_the_run_waits_for_a_worker(client, alice, org, connected):
    ExportRun.objects.create(organization=org, trigger=ExportRun.Trigger.MANUAL)
    client.force_login(alice)

    page = client.get(PAGE).content.decode()

    assert "I kø" in page
    assert "disabled" in button(page)
    assert "Du kan starte en ny overføring når denne er ferdig." in page


def test_it_stops_following_a_run_that_was_abandoned_hours_ago(client, alice, org, connected):
    ExportRun.objects.create(
        organization=org,
        trigger=ExportRun.Trigger.MANUAL,
        created_at=timezone.now() - timezone.timedelta(hours=5),
    )
    client.force_login(alice)

    page = client.get(PAGE).content.decode()

    assert "data-status-url" not in page
    assert "disabled" not in button(page)


def test_it_neither_polls_nor_shows_progress_when_the_run_is_done(client, alice, org, connected):
    ExportRun.objects.create(
        organization=org, trigger=ExportRun.Trigger.MANUAL, status=ExportRun.Status.DONE
    )
    client.force_login(alice)

    page = client.get(PAGE).content.decode()

    assert "data-status-url" not in page
    assert "<script" not in page


def test_it_shows_the_last_summary_with_a_link_to_what_needs_action(client, bob, org):
    TransferSettings.for_organization(org)
    TransferSettings.objects.filter(organization=org).update(
        last_run_at=timezone.now(),
        last_run_summary={
            "posted": 3,
            "already_posted": 0,
            "needs_action": 2,
            "failed": 0,
            "waiting": 0,
            "message": "",
        },
    )
    client.force_login(bob)

    page = client.get(PAGE).content.decode()

    assert "3 overført" in page and "2 trenger handling" in page
    assert 'href="/dagsoppgjor/?state=needs_action"' in page


def test_it_links_to_nothing_when_no_settlement_needs_action(client, bob, org):
    TransferSettings.for_organization(org)
    TransferSettings.objects.filter(organization=org).update(
        last_run_at=timezone.now(), last_run_summary={"posted": 4, "needs_action": 0}
    )
    client.force_login(bob)

    page = client.get(PAGE).content.decode()

    assert "4 overført" in page
    assert "?state=needs_action" not in page


def test_the_status_json_reports_the_latest_run(client, bob, org):
    ExportRun.objects.create(
        organization=org,
        trigger=ExportRun.Trigger.SCHEDULE,
        status=ExportRun.Status.DONE,
        created_at=timezone.now() - timezone.timedelta(hours=1),
    )
    ExportRun.objects.create(
        organization=org,
        trigger=ExportRun.Trigger.MANUAL,
        status=ExportRun.Status.RUNNING,
        total=12,
        processed=3,
        summary={"message": ""},
    )
    client.force_login(bob)

    response = client.get(STATUS)

    assert response.status_code == 200
    data = response.json()
    assert {k: data[k] for k in ("status", "total", "processed", "summary")} == {
        "status": "running",
        "total": 12,
        "processed": 3,
        "summary": {"message": ""},
    }
    assert data["active"] is True
    assert data["label"] == "Overfører: 3 av 12"


def test_the_status_json_says_done_with_the_summary(client, alice, org):
    summary = {"posted": 2, "already_posted": 0, "needs_action": 1, "failed": 0, "waiting": 0}
    ExportRun.objects.create(
        organization=org,
        trigger=ExportRun.Trigger.MANUAL,
        status=ExportRun.Status.DONE,
        total=3,
        processed=3,
        summary=summary,
    )
    client.force_login(alice)

    data = client.get(STATUS).json()

    assert data["status"] == "done"
    assert data["active"] is False
    assert data["summary"] == summary


def test_the_status_json_shows_nothing_of_another_organisation(client, charlie, org):
    theirs = ExportRun.objects.create(organization=org, trigger=ExportRun.Trigger.MANUAL)
    client.force_login(charlie)

    assert client.get(STATUS).json()["status"] is None
    assert client.get(STATUS, {"run": theirs.pk}).status_code == 404


def test_the_status_json_needs_a_signed_in_user(client, db):
    response = client.get(STATUS)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_offers_overfor_na_on_the_settlement_list_to_admins_only(client, alice, bob):
    client.force_login(alice)
    assert (
        'action="/oppsett/integrasjoner/visma-eaccounting/overfor-na/"'
        in client.get("/dagsoppgjor/").content.decode()
    )
    client.force_login(bob)
    assert "overfor-na" not in client.get("/dagsoppgjor/").content.decode()
