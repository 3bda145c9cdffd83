"""The nightly reconciliation with what is in Visma (integrations/visma/reconcile.py),
end to end against the simulator: the scheduled run reads the posted vouchers back and a
voucher a Visma user deleted or changed makes the settlement "avvik", naming what differs;
nothing is ever sent again by itself."""

from __future__ import annotations

import copy

import pytest
from django.core import mail

from integrations.visma import reconcile, transfer
from integrations.visma.models import ExportRun, Problem, SettlementExport, TransferSettings
from integrations.visma.tasks import export_organization_task
from tests.clock import days_ago
from tests.conftest import status_of
from visma_sandbox import services as sandbox

from .conftest import vouchers_in

pytestmark = pytest.mark.django_db(transaction=True)

State = SettlementExport.State
NBSP = "\u00a0"


def scheduled_run(org) -> ExportRun:
    """The dispatcher's scheduled run of the organisation, as the worker runs it."""
    run = ExportRun.objects.create(organization=org, trigger=ExportRun.Trigger.SCHEDULE)
    export_organization_task.apply(args=(org.pk, ExportRun.Trigger.SCHEDULE, run.pk))
    run.refresh_from_db()
    return run


@pytest.fixture
def posted(org, alice, connect, mapped, ingest, worked_example):
    """The worked example, posted to Fjordkafé AS as A1."""
    connect(org)
    settlement = ingest(worked_example["settlement"])
    transfer.export_organization(organization=org)
    assert status_of(settlement).state == State.POSTED
    return settlement


def test_it_leaves_vouchers_that_visma_still_has_unchanged_posted(org, posted):
    run = scheduled_run(org)

    assert status_of(posted).state == State.POSTED
    assert run.summary["reconciled"] == 1
    assert run.summary["avvik"] == 0
    row = SettlementExport.objects.get(settlement=posted)
    assert row.reconciled_at is not None
    assert TransferSettings.objects.get(organization=org).reconciled_at is not None
    assert vouchers_in().count() == 1
    assert mail.outbox == []


def test_it_marks_a_voucher_deleted_in_visma_avvik_and_never_sends_it_again(org, posted):
    sandbox.delete_voucher(sandbox.with_reference(posted.reference))

    run = scheduled_run(org)

    status = status_of(posted)
    assert status.state == State.AVVIK
    assert status.label == "avvik"
    assert status.problem == Problem.DELETED_IN_VISMA
    assert "Bilaget er slettet i Visma (bilag A1)" in status.reason
    assert run.summary["avvik"] == 1
    # The admins are told once.
    assert len(mail.outbox) == 1
    assert "Bilaget er slettet i Visma" in mail.outbox[0].body

    # Night after night: still avvik, nothing posted, no second e-mail.
    for _ in range(2):
        run = scheduled_run(org)
        assert run.summary["avvik"] == 1
    assert vouchers_in().count() == 0
    assert status_of(posted).state == State.AVVIK
    assert len(mail.outbox) == 1
    # Nor does "Overfør nå" (the organisation's run) take it.
    result = transfer.export_organization(organization=org, trigger=ExportRun.Trigger.MANUAL)
    assert result.outcomes == []
    assert vouchers_in().count() == 0


def test_it_names_the_amounts_changed_in_visma(org, posted):
    voucher = sandbox.with_reference(posted.reference)
    sandbox.change_voucher(voucher, rows={3000: (0, "4700.00"), 1901: ("5999.60", 0)})

    scheduled_run(org)

    status = status_of(posted)
    assert status.state == State.AVVIK
    assert status.problem == Problem.CHANGED_IN_VISMA
    assert status.reason.startswith("Bilag A1 er endret i Visma: ")
    assert f"Konto 1901: sendt 6{NBSP}099,60, i Visma 5{NBSP}999,60" in status.reason
    assert f"Konto 3000: sendt 4{NBSP}800,00, i Visma 4{NBSP}700,00" in status.reason
    assert "Konto 3030" not in status.reason  # only what differs
    row = SettlementExport.objects.get(settlement=posted)
    assert {d["account"] for d in row.differences} == {1901, 3000}
    # Visma's figures are kept, exact.
    rows = {r["AccountNumber"]: r for r in row.visma_version["Rows"]}
    assert str(rows[3000]["CreditAmount"]) == "4700.00"
    assert vouchers_in().count() == 1  # nothing sent


def test_it_names_a_row_added_and_a_side_changed_in_visma(org, posted):
    voucher = sandbox.with_reference(posted.reference)
    # 1902 Vipps moved to the credit side and 1920 added: still balanced.
    sandbox.change_voucher(voucher, rows={1902: (0, "1800.00"), 1920: ("3600.00", 0)})

    scheduled_run(org)

    reason = status_of(posted).reason
    assert f"Konto 1902: sendt 1{NBSP}800,00 debet, i Visma 1{NBSP}800,00 kredit" in reason
    assert f"Konto 1920: sendt ingen føring, i Visma 3{NBSP}600,00" in reason


def test_it_finds_a_voucher_whose_date_was_moved_and_names_the_date(org, posted):
    voucher = sandbox.with_reference(posted.reference)
    sandbox.change_voucher(voucher, voucher_date=days_ago(6))

    scheduled_run(org)

    status = status_of(posted)
    assert status.state == State.AVVIK
    assert status.problem == Problem.CHANGED_IN_VISMA  # moved, not deleted
    moved = days_ago(6).strftime("%d.%m.%Y")
    assert f"Bilagsdato: sendt 27.11.2026, i Visma {moved}" in status.reason


def test_it_puts_an_avvik_right_when_visma_has_the_voucher_back_as_sent(org, posted):
    voucher = sandbox.with_reference(posted.reference)
    sandbox.change_voucher(voucher, rows={3000: (0, "4700.00"), 1901: ("5999.60", 0)})
    scheduled_run(org)
    assert status_of(posted).state == State.AVVIK

    sandbox.change_voucher(voucher, rows={3000: (0, "4800.00"), 1901: ("6099.60", 0)})
    run = scheduled_run(org)

    assert status_of(posted).state == State.POSTED
    assert run.summary["avvik"] == 0
    assert posted.visma_attempts.filter(message__contains="stemmer igjen").exists()


def test_it_changes_nothing_when_visma_cannot_be_read(org, posted):
    sandbox.delete_voucher(sandbox.with_reference(posted.reference))
    real = reconcile.client.list_vouchers
    calls = []

    def failing(token, **kwargs):
        calls.append(kwargs)
        sandbox.set_fault(fail_5xx=1)
        return real(token, **kwargs)

    reconcile.client.list_vouchers = failing
    try:
        result = reconcile.reconcile_organization(organization=org)
    finally:
        reconcile.client.list_vouchers = real

    assert calls
    assert "Avstemmingen mot Visma ble ikke gjort ferdig" in result.message
    assert status_of(posted).state == State.POSTED  # never "deleted" on a failed read


def test_it_only_checks_the_look_back_window(org, alice, connect, mapped, ingest, worked_example):
    connect(org)
    body = copy.deepcopy(worked_example["settlement"])
    body.update(business_date=days_ago(10).isoformat(), z_number=990)
    old = ingest(body)
    transfer.export_organization(organization=org)
    assert status_of(old).state == State.POSTED
    sandbox.delete_voucher(sandbox.with_reference(old.reference))
    TransferSettings.objects.filter(organization=org).update(lookback_days=7)

    run = scheduled_run(org)

    assert status_of(old).state == State.POSTED  # outside the window: not read back
    assert run.summary.get("reconciled", 0) == 0


def test_a_manual_run_does_not_reconcile(org, posted):
    sandbox.delete_voucher(sandbox.with_reference(posted.reference))

    export_organization_task.apply(args=(org.pk, ExportRun.Trigger.MANUAL))

    assert status_of(posted).state == State.POSTED


def test_it_compares_with_the_accepted_version_once_accepted(org, alice, posted):
    voucher = sandbox.with_reference(posted.reference)
    sandbox.change_voucher(voucher, rows={3000: (0, "4700.00"), 1901: ("5999.60", 0)})
    scheduled_run(org)
    reconcile.accept(posted, user=alice)

    run = scheduled_run(org)
    assert status_of(posted).state == State.POSTED  # no longer flagged
    assert run.summary["avvik"] == 0

    # A later change in Visma is flagged against the accepted version.
    sandbox.change_voucher(voucher, rows={3000: (0, "4600.00"), 1901: ("5899.60", 0)})
    scheduled_run(org)
    reason = status_of(posted).reason
    assert f"Konto 3000: sendt 4{NBSP}700,00, i Visma 4{NBSP}600,00" in reason


def test_it_describes_differences_in_the_readers_language():
    differences = reconcile.compare(
        {
            "VoucherDate": "2026-11-27",
            "Rows": [
                {"AccountNumber": 3000, "DebitAmount": 0, "CreditAmount": "4800.00"},
                {"AccountNumber": 1900, "DebitAmount": "4800.00", "CreditAmount": 0},
            ],
        },
        reconcile.version_of(
            {
                "VoucherDate": "2026-11-27T00:00:00",
                "Rows": [
                    {"AccountNumber": 3000, "DebitAmount": 0.0, "CreditAmount": 4700.0},
                    {"AccountNumber": 1900, "DebitAmount": 4700.0, "CreditAmount": 0.0},
                ],
            }
        ),
    )
    assert [d["account"] for d in differences] == [1900, 3000]
    assert differences[1]["sent"] == {"debit": "0.00", "credit": "4800.00"}
    assert reconcile.describe(differences) == (
        f"Konto 1900: sendt 4{NBSP}800,00, i Visma 4{NBSP}700,00; "
        f"Konto 3000: sendt 4{NBSP}800,00, i Visma 4{NBSP}700,00"
    )
    from django.utils import translation

    with translation.override("en"):
        assert reconcile.describe(differences[1:]) == (
            "Account 3000: sent 4,800.00, in Visma 4,700.00"
        )
