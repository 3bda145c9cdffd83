"""The Celery tasks stay thin: they call the service and handle retries. The tick sends
every run it claims, and again when the broker lost it."""

import contextlib
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from integrations.visma import tasks, transfer
from integrations.visma.models import ExportRun, TransferSettings
from settlements.parsing import parse_settlement
from settlements.services import ingest_settlement
from tests.transfer.test_dispatch import make_org


@pytest.mark.django_db
def test_it_marks_a_run_aborted_when_visma_stays_away(org, monkeypatch):
    def down(**kwargs):
        raise transfer.TransientRunError("503 Service Unavailable")

    monkeypatch.setattr(transfer, "export_organization", down)
    run = ExportRun.objects.create(organization=org, trigger=ExportRun.Trigger.MANUAL)

    result = tasks.export_organization_task.apply(
        args=(org.pk, "manual", run.pk), retries=tasks.export_organization_task.max_retries
    )

    assert result.failed()
    run.refresh_from_db()
    assert run.status == ExportRun.Status.ABORTED
    assert "503" in run.summary["message"]


# -- the tick: every claimed run is a row before its task goes to the broker -----------------


class Broker:
    """Stands in for `.delay` of the two export tasks: records what was sent, or is down."""

    def __init__(self, monkeypatch):
        self.sent: list[tuple] = []
        self.down = False
        monkeypatch.setattr(tasks.export_organization_task, "delay", self._organization)
        monkeypatch.setattr(tasks.export_settlement_task, "delay", self._settlement)

    def _organization(self, organization_id, trigger, run_id):
        self._send(("organization", organization_id, trigger, run_id))

    def _settlement(self, settlement_id, run_id):
        self._send(("settlement", settlement_id, run_id))

    def _send(self, message):
        if self.down:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        self.sent.append(message)


def due_org(slug: str):
    return make_org(slug, next_run_at=timezone.now() - timedelta(minutes=1))


def later(seconds: int) -> datetime:
    return timezone.now() + timedelta(seconds=seconds)


@contextlib.contextmanager
def time_machine(monkeypatch, moment: datetime):
    with monkeypatch.context() as patch:
        patch.setattr(timezone, "now", lambda: moment)
        yield


@pytest.mark.django_db
def test_the_tick_queues_a_run_for_each_due_organisation(monkeypatch):
    broker = Broker(monkeypatch)
    org = due_org("fjordkafe")

    assert tasks.dispatch_due_transfers() == [org.pk]

    run = ExportRun.objects.get()
    assert (run.organization, run.trigger, run.status) == (org, "schedule", "queued")
    assert run.enqueued_at is not None
    assert broker.sent == [("organization", org.pk, "schedule", run.pk)]


@pytest.mark.django_db
def test_a_run_whose_task_was_lost_is_sent_again_once(monkeypatch, settings):
    settings.TRANSFER_REQUEUE_SECONDS = 1800
    broker = Broker(monkeypatch)
    org = due_org("fjordkafe")
    broker.down = True  # Redis down at the tick: the task never reaches a worker
    tasks.dispatch_due_transfers()
    run = ExportRun.objects.get()
    assert broker.sent == []
    broker.down = False

    # Within the half hour: left alone (its task may still be waiting for a worker).
    with time_machine(monkeypatch, later(1700)):
        tasks.dispatch_due_transfers()
    assert broker.sent == []

    with time_machine(monkeypatch, later(1900)):
        tasks.dispatch_due_transfers()
        tasks.dispatch_due_transfers()  # the next tick does not send it a second time

    assert broker.sent == [("organization", org.pk, "schedule", run.pk)]
    assert ExportRun.objects.count() == 1


@pytest.mark.django_db
def test_a_started_or_finished_run_is_never_sent_again(monkeypatch):
    broker = Broker(monkeypatch)
    org = due_org("fjordkafe")
    long_ago = timezone.now() - timedelta(hours=2)
    ExportRun.objects.create(
        organization=org, trigger="schedule", enqueued_at=long_ago, started_at=long_ago
    )
    ExportRun.objects.create(
        organization=org, trigger="schedule", enqueued_at=long_ago, status="done"
    )
    TransferSettings.objects.update(next_run_at=timezone.now() + timedelta(days=1))

    tasks.dispatch_due_transfers()

    assert broker.sent == []


@pytest.mark.django_db
def test_a_lost_transfer_of_one_settlement_is_sent_again_for_that_settlement(
    monkeypatch, location, alice, worked_example, django_capture_on_commit_callbacks
):
    broker = Broker(monkeypatch)
    settlement = ingest_settlement(
        location=location, data=parse_settlement(worked_example["settlement"])
    ).settlement
    broker.down = True
    with django_capture_on_commit_callbacks(execute=True):
        # The broker is down: logged, and the run stays queued ("Overfør nå" does not fail).
        run = tasks.enqueue_settlement(settlement, user=alice)
    broker.down = False

    with time_machine(monkeypatch, later(1900)):
        tasks.dispatch_due_transfers()

    assert broker.sent == [("settlement", settlement.pk, run.pk)]


@pytest.mark.django_db
def test_a_task_that_turns_up_after_its_run_finished_does_nothing(org, monkeypatch):
    def must_not_run(**kwargs):  # pragma: no cover - the assertion is that it is not called
        raise AssertionError("the run was done twice")

    monkeypatch.setattr(transfer, "export_organization", must_not_run)
    run = ExportRun.objects.create(organization=org, trigger="schedule", status="done")

    result = tasks.export_organization_task.apply(args=(org.pk, "schedule", run.pk))

    assert result.successful()
    assert result.result is None


# -- a run is loaded only together with its organisation (issue 17, item 10) -------------


@pytest.mark.django_db
def test_an_organisation_task_leaves_another_organisations_run_alone(org, other_org, monkeypatch):
    calls = []
    monkeypatch.setattr(transfer, "export_organization", lambda **kwargs: calls.append(kwargs))
    theirs = ExportRun.objects.create(organization=other_org, trigger=ExportRun.Trigger.MANUAL)

    result = tasks.export_organization_task.apply(args=(org.pk, "manual", theirs.pk))

    assert result.successful() and result.result is None
    assert calls == []
    theirs.refresh_from_db()
    assert theirs.status == ExportRun.Status.QUEUED


@pytest.mark.django_db
def test_a_settlement_task_leaves_another_organisations_run_alone(
    org, other_location, worked_example, monkeypatch
):
    calls = []
    monkeypatch.setattr(transfer, "export_organization", lambda **kwargs: calls.append(kwargs))
    settlement = ingest_settlement(
        location=other_location, data=parse_settlement(worked_example["settlement"])
    ).settlement
    mine = ExportRun.objects.create(organization=org, trigger=ExportRun.Trigger.MANUAL)

    result = tasks.export_settlement_task.apply(args=(settlement.pk, mine.pk))

    assert result.successful() and result.result is None
    assert calls == []
    mine.refresh_from_db()
    assert mine.status == ExportRun.Status.QUEUED
