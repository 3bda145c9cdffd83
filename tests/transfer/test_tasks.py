"""The Celery tasks stay thin: they call the service and handle retries."""

import pytest

from integrations.visma import export, tasks
from integrations.visma.models import ExportRun


@pytest.mark.django_db
def test_it_marks_a_run_aborted_when_visma_stays_away(org, monkeypatch):
    def down(**kwargs):
        raise export.TransientRunError("503 Service Unavailable")

    monkeypatch.setattr(export, "export_organization", down)
    run = ExportRun.objects.create(organization=org, trigger=ExportRun.Trigger.MANUAL)

    result = tasks.export_organization_task.apply(
        args=(org.pk, "manual", run.pk), retries=tasks.export_organization_task.max_retries
    )

    assert result.failed()
    run.refresh_from_db()
    assert run.status == ExportRun.Status.ABORTED
    assert "503" in run.summary["message"]
