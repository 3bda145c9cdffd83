"""Draft mode (integrations/visma/drafts.py) end to end against the simulator: with the
switch on, the settlement goes to POST /voucherdrafts and shows "kladd i Visma" until the
reconciliation sees the draft approved (→ "overført" with the voucher's number) or deleted
(→ "venter" with a note, sent again by the next run); a lost answer makes no second draft."""

from __future__ import annotations

import pytest

from integrations.visma import client, transfer
from integrations.visma.models import (
    ExportAttempt,
    ExportRun,
    Problem,
    SettlementExport,
    TransferSettings,
)
from integrations.visma.tasks import export_organization_task
from integrations.visma.voucher_schema import validate_voucher_draft_payload
from tests.conftest import status_of
from visma_sandbox import services as sandbox
from visma_sandbox.models import SandboxVoucherDraft

from .conftest import vouchers_in

pytestmark = pytest.mark.django_db(transaction=True)

State = SettlementExport.State


def scheduled_run(org) -> ExportRun:
    run = ExportRun.objects.create(organization=org, trigger=ExportRun.Trigger.SCHEDULE)
    export_organization_task.apply(args=(org.pk, ExportRun.Trigger.SCHEDULE, run.pk))
    run.refresh_from_db()
    return run


def drafts_in(company_name: str = "Fjordkafé AS"):
    return SandboxVoucherDraft.objects.filter(company=sandbox.get_company(company_name))


@pytest.fixture
def draft_mode(org, alice, connect, mapped):
    connect(org)
    TransferSettings.objects.filter(organization=org).update(send_as_draft=True)
    return org


def test_it_sends_the_voucher_as_a_draft_for_the_accountant(
    draft_mode, org, ingest, worked_example
):
    settlement = ingest(worked_example["settlement"])

    run = scheduled_run(org)

    status = status_of(settlement)
    assert status.state == State.DRAFT
    assert status.label == "kladd i Visma"
    assert "venter på at regnskapsfører godkjenner" in status.reason
    assert vouchers_in().count() == 0
    [draft] = drafts_in()
    assert f"[{settlement.reference}]" in draft.voucher_text
    assert draft.debit_total == draft.credit_total == 10670
    row = SettlementExport.objects.get(settlement=settlement)
    assert row.visma_draft_id == str(draft.uuid)
    assert row.voucher_number == ""
    # What was sent is Visma's VoucherDraftApi, exact.
    assert validate_voucher_draft_payload(row.payload) == []
    assert "4800.00" in {str(r["CreditAmount"]) for r in row.payload["Rows"]}
    assert run.summary["draft"] == 1
    assert run.summary["drafts_waiting"] == 1  # the reconciliation sees it waiting

    # Waiting for the accountant: the next runs send nothing more.
    scheduled_run(org)
    assert drafts_in().count() == 1
    assert status_of(settlement).state == State.DRAFT


def test_it_shows_the_voucher_number_once_the_accountant_approves_the_draft(
    draft_mode, org, ingest, worked_example
):
    settlement = ingest(worked_example["settlement"])
    scheduled_run(org)
    voucher = sandbox.approve_draft(sandbox.draft_with_reference(settlement.reference))

    run = scheduled_run(org)

    status = status_of(settlement)
    assert status.state == State.POSTED
    assert status.voucher_number == f"{voucher.series}{voucher.number}"
    row = SettlementExport.objects.get(settlement=settlement)
    assert row.visma_voucher_id == str(voucher.uuid)
    assert run.summary["drafts_approved"] == 1
    assert run.summary["avvik"] == 0
    assert drafts_in().count() == 0
    assert vouchers_in().count() == 1
    assert settlement.visma_attempts.filter(
        message=f"Kladden er godkjent i Visma: bilag {voucher.series}{voucher.number}"
    ).exists()


def test_an_approved_draft_the_accountant_changed_is_avvik(draft_mode, org, ingest, worked_example):
    settlement = ingest(worked_example["settlement"])
    scheduled_run(org)
    voucher = sandbox.approve_draft(sandbox.draft_with_reference(settlement.reference))
    sandbox.change_voucher(voucher, rows={3000: (0, "4700.00"), 1901: ("5999.60", 0)})

    scheduled_run(org)

    status = status_of(settlement)
    assert status.state == State.AVVIK
    assert "Konto 3000: sendt 4\u00a0800,00, i Visma 4\u00a0700,00" in status.reason


def test_a_draft_deleted_in_visma_waits_again_with_a_note_and_goes_with_the_next_run(
    draft_mode, org, ingest, worked_example
):
    settlement = ingest(worked_example["settlement"])
    scheduled_run(org)
    sandbox.delete_draft(sandbox.draft_with_reference(settlement.reference))

    # The run that finds it deleted (its reconciliation comes after its transfer).
    run = scheduled_run(org)

    status = status_of(settlement)
    assert status.state == State.PENDING
    assert status.problem == Problem.DRAFT_DELETED
    assert status.reason.startswith("Kladden ble slettet i Visma.")
    assert run.summary["drafts_deleted"] == 1
    assert drafts_in().count() == 0 and vouchers_in().count() == 0

    # The next run sends it again: as a draft while the switch is on.
    scheduled_run(org)
    assert status_of(settlement).state == State.DRAFT
    assert drafts_in().count() == 1
    assert vouchers_in().count() == 0


def test_a_lost_answer_never_makes_a_second_draft(draft_mode, org, ingest, worked_example):
    settlement = ingest(worked_example["settlement"])
    sandbox.set_fault(lose_after_store=1)

    result = transfer.export_organization(organization=org)

    assert result.outcomes[0].result == "uncertain"
    assert status_of(settlement).state == State.UNCERTAIN
    assert drafts_in().count() == 1  # Visma stored it; we could not know

    result = transfer.export_organization(organization=org)

    assert result.outcomes[0].result == "draft"
    assert drafts_in().count() == 1
    row = SettlementExport.objects.get(settlement=settlement)
    assert row.state == State.DRAFT
    assert row.found_by_search
    assert row.visma_draft_id == str(drafts_in().get().uuid)
    assert settlement.visma_attempts.filter(
        result=ExportAttempt.Result.DRAFT, message__contains="funnet i Visma etter tapt svar"
    ).exists()


def test_a_lost_answer_then_the_accountants_approval_is_found_as_the_voucher(
    draft_mode, org, ingest, worked_example
):
    """The draft was approved before the search: no draft any more, and its voucher is
    found and recorded instead of a second draft."""
    settlement = ingest(worked_example["settlement"])
    sandbox.set_fault(lose_after_store=1)
    transfer.export_organization(organization=org)
    voucher = sandbox.approve_draft(sandbox.draft_with_reference(settlement.reference))

    transfer.export_organization(organization=org)

    status = status_of(settlement)
    assert status.state == State.POSTED
    assert status.voucher_number == f"{voucher.series}{voucher.number}"
    assert drafts_in().count() == 0 and vouchers_in().count() == 1


def test_a_draft_in_doubt_is_searched_for_among_drafts_after_the_switch_is_off(
    draft_mode, org, ingest, worked_example
):
    settlement = ingest(worked_example["settlement"])
    sandbox.set_fault(lose_after_store=1)
    transfer.export_organization(organization=org)
    TransferSettings.objects.filter(organization=org).update(send_as_draft=False)

    transfer.export_organization(organization=org)

    assert status_of(settlement).state == State.DRAFT  # found, not posted as a voucher
    assert drafts_in().count() == 1 and vouchers_in().count() == 0


def test_without_the_switch_it_posts_vouchers(org, alice, connect, mapped, ingest, worked_example):
    connect(org)
    settlement = ingest(worked_example["settlement"])

    transfer.export_organization(organization=org)

    assert status_of(settlement).state == State.POSTED
    assert drafts_in().count() == 0 and vouchers_in().count() == 1


def test_the_draft_body_is_what_visma_documents_for_drafts(worked_example):
    body = {
        "VoucherDate": "2026-11-27",
        "VoucherText": "Dagsoppgjør [BO-1]",
        "Rows": [
            {
                "AccountNumber": 3000,
                "DebitAmount": 0,
                "CreditAmount": 100,
                "TransactionText": "x" * 60,
                "VatCodeId": "11111111-1111-1111-1111-111111111111",
            },
            {"AccountNumber": 1900, "DebitAmount": 100, "CreditAmount": 0},
        ],
        "Attachments": {"AttachmentIds": []},
    }

    draft = client.voucher_draft_body(body)

    assert validate_voucher_draft_payload(draft) == []
    assert "Attachments" not in draft
    assert draft["Rows"][0]["TransactionText"] == "x" * 50
    assert draft["Rows"][0]["VatCodeId"] == body["Rows"][0]["VatCodeId"]
    assert validate_voucher_draft_payload(body) != []  # a voucher body is not a draft's
