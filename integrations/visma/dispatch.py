"""The dispatcher: which organisations' transfer is due now.

Celery beat ticks `dispatch_due_transfers` every TRANSFER_TICK_SECONDS. Each tick claims
the connected organisations whose `next_run_at` has passed by moving `next_run_at` on to
their next scheduled time (Daglig: every day at their time; Ukentlig: Mondays; Månedlig:
the 1st; Europe/Oslo) and enqueues one export task for each. A run missed while the
system was down has a `next_run_at` in the past and is simply claimed at the next tick.

The claim is a conditional UPDATE, so two ticks (two beats, or a tick racing a slow one)
never claim the same run: on PostgreSQL the due rows are locked with
SELECT … FOR UPDATE SKIP LOCKED and moved on with one UPDATE (a constant number of
queries however many are due); on SQLite, which has no row locks, each row is moved with
`UPDATE … WHERE next_run_at = <the value read>` and only the tick that changed it runs it.

Each claimed run is an `ExportRun` ("i kø") before its task goes to the broker, so a task
the broker loses (Redis restarted without persistence, or down at the tick) does not lose
the run: a run still queued and never started TRANSFER_REQUEUE_SECONDS after it was sent
is claimed by a later tick (`claim_stalled_runs`, the same compare-and-set) and sent
again. Without that, a lost task would silently delay a Månedlig organisation by a month.
A task that turns up twice after all is harmless: settlements are claimed one by one
(state.claim) and a finished run is not run again (tasks._finished).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import ExportRun, TransferSettings, VismaConnection
from .schedule import next_run_after


def _due(now: datetime):
    return (
        TransferSettings.objects.filter(
            next_run_at__lte=now,
            organization__visma_connection__status=VismaConnection.Status.CONNECTED,
        )
        .exclude(interval=TransferSettings.Interval.NEVER)
        .order_by("next_run_at")
    )


def claim_due_organizations(*, now: datetime | None = None) -> list[int]:
    """Claim every due organisation's run; returns their ids (each claimed exactly once)."""
    now = now or timezone.now()
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            rows = list(
                _due(now)
                .select_for_update(skip_locked=True, of=("self",))
                .only("id", "organization_id", "interval", "run_time", "next_run_at")
            )
            for row in rows:
                row.next_run_at = next_run_after(now, row.interval, row.run_time)
            TransferSettings.objects.bulk_update(rows, ["next_run_at"], batch_size=1000)
            return [row.organization_id for row in rows]
        claimed = []
        for row in _due(now).only("id", "organization_id", "interval", "run_time", "next_run_at"):
            moved = TransferSettings.objects.filter(pk=row.pk, next_run_at=row.next_run_at).update(
                next_run_at=next_run_after(now, row.interval, row.run_time)
            )
            if moved:
                claimed.append(row.organization_id)
        return claimed


def schedule_unscheduled(*, now: datetime | None = None) -> int:
    """Settings that have no next run yet (never saved) get one; returns how many."""
    now = now or timezone.now()
    rows = list(
        TransferSettings.objects.filter(next_run_at__isnull=True).exclude(
            interval=TransferSettings.Interval.NEVER
        )
    )
    for row in rows:
        row.next_run_at = next_run_after(now, row.interval, row.run_time)
    TransferSettings.objects.bulk_update(rows, ["next_run_at"], batch_size=1000)
    return len(rows)


def claim_stalled_runs(*, now: datetime | None = None) -> list[ExportRun]:
    """Runs whose task was sent TRANSFER_REQUEUE_SECONDS ago and never started: each is
    claimed for sending again by moving its `enqueued_at` (compare-and-set, so two ticks
    never send one run twice)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.TRANSFER_REQUEUE_SECONDS)
    stalled = ExportRun.objects.filter(
        status=ExportRun.Status.QUEUED, started_at__isnull=True, enqueued_at__lt=cutoff
    ).only("id", "organization_id", "trigger", "settlement_id", "enqueued_at")
    claimed = []
    for run in stalled:
        if ExportRun.objects.filter(pk=run.pk, enqueued_at=run.enqueued_at).update(enqueued_at=now):
            run.enqueued_at = now
            claimed.append(run)
    return claimed
