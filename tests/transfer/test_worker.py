"""The scheduled path end to end: Celery beat ticks the dispatcher in a real worker process
(Redis as the broker where REDIS_URL is set, as in CI), the worker runs the export task,
and the worked example arrives in the simulator exactly once."""

import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from integrations.visma.models import SettlementExport, TransferSettings
from integrations.visma.tasks import export_organization_task
from settlements.models import Settlement
from tests.browser.worker import celery_worker
from tests.conftest import status_of

from .conftest import vouchers_in

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(predicate, timeout: float = 90.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return False


def test_it_posts_through_the_task_in_a_real_worker(
    org, simulator, connect, mapped, ingest, worked_example
):
    connect(org)
    settlement = ingest(worked_example["settlement"])

    with celery_worker(simulator):
        result = export_organization_task.delay(org.pk, "manual")
        summary = result.get(timeout=90)

    assert summary["posted"] == 1
    settlement.refresh_from_db()
    assert status_of(settlement).state == SettlementExport.State.POSTED
    assert vouchers_in().count() == 1


def test_beat_runs_a_due_organisation_by_itself(
    org, simulator, connect, mapped, ingest, worked_example
):
    connect(org)
    settlement = ingest(worked_example["settlement"])
    TransferSettings.objects.filter(organization=org).update(
        next_run_at=timezone.now() - timedelta(minutes=1)
    )

    with tempfile.TemporaryDirectory() as beat_dir:
        env = dict(simulator, TRANSFER_TICK_SECONDS="2")
        with celery_worker(env, beat=True, beat_dir=Path(beat_dir)):
            posted = wait_for(
                lambda: Settlement.objects.filter(
                    pk=settlement.pk, visma_export__state=SettlementExport.State.POSTED
                ).exists()
            )
            # Further ticks find nothing due: still exactly one voucher.
            time.sleep(5)

    assert posted
    assert vouchers_in().count() == 1
    assert TransferSettings.objects.get(organization=org).next_run_at > timezone.now()
