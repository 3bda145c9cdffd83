"""(6) Dispatcher: wall time and queries of one tick over 10 000 organisations with 1 % due
(target: a constant number of queries, i.e. the same as for 1 000 organisations with 1 %
due).

10 000 organisations, each with TransferSettings and a connected VismaConnection, all
bulk-created; 1 % have next_run_at an hour in the past, the rest tomorrow.
`integrations.visma.dispatch.claim_due_organizations()` (what the beat's tick calls before
enqueueing one export task per id) runs in-process under CaptureQueriesContext. The same
is done first with 1 000 organisations (10 due). A second tick right after claims 0 (the
claim moved next_run_at on).
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backoffice.models import Organization
from integrations.visma.dispatch import claim_due_organizations
from integrations.visma.models import TransferSettings, VismaConnection

from .common import figure, result


def _populate(count: int, *, due_every: int = 100, prefix: str) -> int:
    """`count` connected organisations with settings; every `due_every`-th is due."""
    now = timezone.now()
    orgs = Organization.objects.bulk_create(
        [Organization(name=f"{prefix} {i:05d}", slug=f"{prefix}-{i:05d}") for i in range(count)],
        batch_size=2000,
    )
    VismaConnection.objects.bulk_create(
        [
            VismaConnection(
                organization=o, status=VismaConnection.Status.CONNECTED, connected_at=now
            )
            for o in orgs
        ],
        batch_size=2000,
    )
    TransferSettings.objects.bulk_create(
        [
            TransferSettings(
                organization=o,
                next_run_at=now - timedelta(hours=1)
                if i % due_every == 0
                else now + timedelta(days=1),
            )
            for i, o in enumerate(orgs)
        ],
        batch_size=2000,
    )
    return sum(1 for i in range(count) if i % due_every == 0)


def _tick() -> tuple[int, int, float, list[str]]:
    # A full query log (9 000 entries, left by an earlier benchmark) would count 0.
    reset_queries()
    with CaptureQueriesContext(connection) as ctx:
        start = time.perf_counter()
        claimed = claim_due_organizations()
        seconds = time.perf_counter() - start
    return len(claimed), len(ctx.captured_queries), seconds, [q["sql"] for q in ctx]


def _clear() -> None:
    TransferSettings.objects.all().delete()
    VismaConnection.objects.all().delete()
    Organization.objects.all().delete()


def run() -> dict:
    due_small = _populate(1000, prefix="disp-s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    small_claimed, small_queries, small_s, _sql = _tick()
    _clear()

    due_big = _populate(10_000, prefix="disp-b")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    big_claimed, big_queries, big_s, big_sql = _tick()
    again_claimed, again_queries, again_s, _sql2 = _tick()
    _clear()

    figures = [
        figure(
            "queries per tick, 10 000 orgs (1 % due) vs 1 000 orgs (1 % due)",
            f"{big_queries} vs {small_queries}",
            "equal (constant)",
            big_queries == small_queries,
        ),
        figure(
            "organisations claimed by the tick (10 000 orgs)",
            big_claimed,
            f"= {due_big}",
            big_claimed == due_big,
        ),
        figure("organisations claimed by a second tick", again_claimed, "= 0", again_claimed == 0),
        figure(
            "tick wall time, 10 000 orgs / 1 000 orgs",
            f"{big_s * 1000:.0f} / {small_s * 1000:.0f} ms",
        ),
    ]
    return result(
        6,
        "Dispatcher tick",
        figures,
        notes=[
            f"1 000 orgs: {small_claimed} of {due_small} claimed with {small_queries} queries; "
            f"second tick at 10 000: {again_queries} queries, {again_s * 1000:.0f} ms"
        ],
        context={"sql_10000": big_sql},
    )
