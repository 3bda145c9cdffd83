"""Celery tasks: thin. Load by id, call the service, retry passing failures there."""

from __future__ import annotations

import logging
import math

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from backoffice.models import Organization
from settlements.missing import notify_missing_days
from settlements.models import Settlement

from . import dispatch, reconcile, transfer
from .models import ExportRun

logger = logging.getLogger(__name__)

# Minutes between retries of a run whose settlements failed for a passing reason.
RETRY_COUNTDOWNS = [60, 300, 900, 1800, 3600, 3600]


def _countdown(retries: int) -> int:
    return RETRY_COUNTDOWNS[min(retries, len(RETRY_COUNTDOWNS) - 1)]


@shared_task
def dispatch_due_transfers() -> list[int]:
    """Beat's one static entry: claim the due organisations and send their runs; send again
    the runs whose task the broker lost."""
    dispatch.schedule_unscheduled()
    now = timezone.now()
    # The claim and its runs in one transaction: a tick that dies in between loses neither.
    with transaction.atomic():
        claimed = dispatch.claim_due_organizations(now=now)
        runs = ExportRun.objects.bulk_create(
            ExportRun(
                organization_id=organization_id,
                trigger=ExportRun.Trigger.SCHEDULE,
                enqueued_at=now,
            )
            for organization_id in claimed
        )
    for run in runs:
        _send(run)
    if claimed:
        logger.info("transfer runs enqueued for %d organisations", len(claimed))
    stalled = dispatch.claim_stalled_runs(now=now)
    for run in stalled:
        _send(run)
    if stalled:
        logger.warning("%d queued transfer runs had lost their task: sent again", len(stalled))
    return claimed


def _send(run: ExportRun) -> None:
    """Hand the run's task to the broker. A broker that is down does not stop the tick: the
    run stays queued and a later tick sends it again (dispatch.claim_stalled_runs)."""
    try:
        if run.settlement_id is not None:
            export_settlement_task.delay(run.settlement_id, run.pk)
        else:
            export_organization_task.delay(run.organization_id, run.trigger, run.pk)
    except Exception:  # kombu raises several kinds (OperationalError, ConnectionError)
        logger.exception("could not send transfer run %s to the broker; sent again later", run.pk)


class _ForeignRun(Exception):
    """The task names a run of another organisation (or one that is gone)."""


def _run_of(organization_id: int, run_id) -> ExportRun | None:
    """The task's run, loaded only together with its organisation: a run id that belongs
    to another organisation (a forged or mixed-up message) is never touched."""
    if not run_id:
        return None
    run = ExportRun.objects.filter(pk=run_id, organization_id=organization_id).first()
    if run is None:
        logger.error(
            "transfer task for organisation %s names run %s, not one of its own: ignored",
            organization_id,
            run_id,
        )
        raise _ForeignRun(run_id)
    return run


def _finished(run: ExportRun | None) -> bool:
    # A task sent again (claim_stalled_runs) may turn up after the first one did the run.
    return run is not None and not run.is_active and run.status != ExportRun.Status.QUEUED


@shared_task(bind=True, max_retries=len(RETRY_COUNTDOWNS))
def export_organization_task(self, organization_id: int, trigger: str = "schedule", run_id=None):
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return None
    try:
        run = _run_of(organization.pk, run_id)
    except _ForeignRun:
        return None
    if _finished(run):
        return None
    try:
        result = transfer.export_organization(organization=organization, trigger=trigger, run=run)
    except transfer.TransientRunError as exc:
        if self.request.retries >= self.max_retries:
            # Given up: say so on the page (the next scheduled run starts afresh).
            _abort(run, exc)
            raise
        if run is not None:
            ExportRun.objects.filter(pk=run.pk).update(
                status=ExportRun.Status.QUEUED, summary={"message": str(exc)}
            )
        raise self.retry(countdown=_countdown(self.request.retries), exc=exc) from exc
    # After the run, the calendar's check (issue 18.4): at most one e-mail a day. Its
    # trouble never changes what the run did nor its retry.
    try:
        notify_missing_days(organization=organization)
    except Exception:
        logger.exception("missing-days check of organisation %s failed", organization.pk)
    if trigger == ExportRun.Trigger.SCHEDULE and not result.message:
        # The nightly reconciliation with what is in Visma (reconcile.py): never sends.
        # Not after a run that could not reach Visma: it would meet the same.
        reconcile.after_run(organization=organization, run=run)
    if result.retry_soon and self.request.retries < self.max_retries:
        # Settlements that failed for a passing reason (5xx, timeout, lost answer) get
        # another try soon instead of waiting for the next scheduled run; not before a
        # POST that timed out has had its time to land (selectors.waiting_for_answer).
        countdown = max(_countdown(self.request.retries), math.ceil(result.seconds_until_retry()))
        self.retry(countdown=countdown, args=(organization_id, trigger))
    return result.summary()


@shared_task(bind=True, max_retries=len(RETRY_COUNTDOWNS))
def export_settlement_task(self, settlement_id: int, run_id=None):
    """ "Overfør nå" / "Prøv igjen" on one settlement."""
    settlement = Settlement.objects.select_related("organization").filter(pk=settlement_id).first()
    if settlement is None:
        return None
    try:
        run = _run_of(settlement.organization_id, run_id)
    except _ForeignRun:
        return None
    if run is not None and run.settlement_id not in (None, settlement_id):
        logger.error(
            "transfer task for settlement %s names run %s of another", settlement_id, run_id
        )
        return None
    if _finished(run):
        return None
    try:
        result = transfer.export_organization(
            organization=settlement.organization,
            trigger=ExportRun.Trigger.MANUAL,
            settlement_ids=[settlement_id],
            run=run,
        )
    except transfer.TransientRunError as exc:
        if self.request.retries >= self.max_retries:
            _abort(run, exc)
            raise
        raise self.retry(countdown=_countdown(self.request.retries), exc=exc) from exc
    return result.summary()


def _abort(run: ExportRun | None, exc: Exception) -> None:
    if run is not None:
        ExportRun.objects.filter(pk=run.pk).update(
            status=ExportRun.Status.ABORTED,
            finished_at=timezone.now(),
            summary={"message": f"Visma svarte ikke; prøves igjen ved neste kjøring ({exc})"},
        )


def enqueue_organization_run(organization: Organization, *, user=None) -> ExportRun:
    """ "Overfør nå" for the organisation: a queued run the page can follow."""
    run = ExportRun.objects.create(
        organization=organization,
        trigger=ExportRun.Trigger.MANUAL,
        requested_by=user,
        enqueued_at=timezone.now(),
    )
    transaction.on_commit(lambda: _send(run))
    return run


def enqueue_settlement(settlement: Settlement, *, user=None) -> ExportRun:
    run = ExportRun.objects.create(
        organization=settlement.organization,
        trigger=ExportRun.Trigger.MANUAL,
        requested_by=user,
        settlement=settlement,
        enqueued_at=timezone.now(),
    )
    transaction.on_commit(lambda: _send(run))
    return run
