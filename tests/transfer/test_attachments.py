"""The Z-report travels with its voucher (issue 18, item 1), against the simulator over
real HTTP: the voucher goes first, then its PDF is uploaded (POST /attachments) and linked
(POST /attachmentlinks). An upload that fails never holds back or doubles the voucher; the
attachment is retried on the next run, and never uploaded or linked twice."""

from __future__ import annotations

import io
import re

import pypdf
import pytest
from django.utils import translation

from integrations.visma import attachments, client, transfer
from integrations.visma.models import (
    SettlementExport,
    TransferSettings,
    VismaConnection,
    VoucherAttachment,
)
from settlements.models import Settlement
from settlements.services import zreport_pdf
from tests.conftest import status_of
from visma_sandbox import services as sandbox
from visma_sandbox.models import SandboxAttachment

from .conftest import vouchers_in

pytestmark = pytest.mark.django_db(transaction=True)

State = SettlementExport.State
Attachment = VoucherAttachment.State


@pytest.fixture
def posted_day(org, connect, mapped, ingest, worked_example) -> Settlement:
    connect(org)
    return ingest(worked_example["settlement"])


def run(org):
    return transfer.export_organization(organization=org)


def row_of(settlement: Settlement) -> VoucherAttachment:
    return VoucherAttachment.objects.get(settlement=settlement)


def shown(settlement: Settlement, **kwargs) -> attachments.AttachmentStatus:
    """What the settlement's page says of its Z-report, read afresh, in bokmål."""
    with translation.override("nb"):
        return attachments.status(Settlement.objects.get(pk=settlement.pk), **kwargs)


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    return re.sub(r"\s+", " ", reader.pages[0].extract_text().replace("\u00a0", " "))


def test_it_posts_the_voucher_with_its_z_report_linked(org, posted_day):
    result = run(org)

    assert result.summary()["posted"] == 1
    [voucher] = vouchers_in()
    [attachment] = SandboxAttachment.objects.all()
    assert attachment.voucher == voucher  # linked to the voucher it documents
    assert attachment.content_type == "application/pdf"
    assert attachment.file_name == f"Z-rapport_BO-{posted_day.pk}_KASSE-1_Z1042_2026-11-27.pdf"
    text = pdf_text(bytes(attachment.data))
    assert "Z-rapport 1042" in text and "Fjordkafé Sentrum · Fjordkafé AS · KASSE-1" in text
    assert "Sum salg 69 10 000,00 1 721,74 8 278,26" in text
    # The very PDF the settlement's page offers for download.
    settlement = Settlement.objects.select_related("organization", "location").get(pk=posted_day.pk)
    assert bytes(attachment.data) == zreport_pdf(settlement=settlement)[1]
    assert attachment.comment == f"Z-rapport for bilag {voucher.series}{voucher.number}"
    row = row_of(posted_day)
    assert (row.state, row.attachment_id, row.attempts) == (
        Attachment.LINKED,
        str(attachment.uuid),
        1,
    )
    assert not row.upload_in_doubt and not row.link_in_doubt

    run(org)  # nothing due, nothing waiting: nothing more goes to Visma
    assert vouchers_in().count() == 1 and SandboxAttachment.objects.count() == 1


def test_a_failing_upload_never_holds_back_or_doubles_the_voucher(org, posted_day):
    sandbox.set_fault(fail_attachment_upload=1)

    result = run(org)

    assert result.summary()["posted"] == 1 and result.ok
    assert status_of(posted_day).state == State.POSTED
    assert vouchers_in().count() == 1
    assert not SandboxAttachment.objects.exists()
    row = row_of(posted_day)
    assert (row.state, row.attempts) == (Attachment.FAILED, 1)
    assert "sandbox fault switch" in row.last_error
    # A 500 may come after Visma stored the file: the next try looks before it uploads.
    assert row.upload_in_doubt
    waiting = shown(posted_day)
    assert waiting.label == "Vedlegg venter, prøves igjen"
    assert "Forsøk 1 feilet" in waiting.text and "Bilaget er overført" in waiting.text

    run(org)  # the next run: the voucher is not sent again, its PDF is

    assert vouchers_in().count() == 1
    [attachment] = SandboxAttachment.objects.all()
    assert attachment.voucher == vouchers_in().get()
    assert (row_of(posted_day).state, row_of(posted_day).attempts) == (Attachment.LINKED, 2)
    assert shown(posted_day).label == "Z-rapport vedlagt"


def test_a_lost_upload_answer_is_found_in_visma_not_uploaded_again(org, posted_day):
    sandbox.set_fault(lose_attachment_after_store=1)

    run(org)

    row = row_of(posted_day)
    assert row.state == Attachment.FAILED and row.upload_in_doubt and not row.attachment_id
    assert SandboxAttachment.objects.count() == 1  # Visma stored it; we could not know

    run(org)

    [attachment] = SandboxAttachment.objects.all()  # found in the inbox by its file name
    assert attachment.voucher == vouchers_in().get()
    row = row_of(posted_day)
    assert (row.state, row.attachment_id) == (Attachment.LINKED, str(attachment.uuid))
    assert vouchers_in().count() == 1


def test_a_lost_link_answer_is_checked_in_visma_not_linked_again(org, posted_day, monkeypatch):
    original = client.link_attachments
    links = []

    def lost_answer(token, **kwargs):
        links.append(kwargs)
        original(token, **kwargs)
        if len(links) == 1:
            raise client.TransportError("The connection to Visma broke", maybe_sent=True)

    monkeypatch.setattr(client, "link_attachments", lost_answer)

    run(org)
    row = row_of(posted_day)
    assert row.state == Attachment.FAILED and row.link_in_doubt and row.attachment_id

    run(org)

    assert len(links) == 1  # Visma said it is linked (GET /attachments/{id})
    assert row_of(posted_day).state == Attachment.LINKED
    assert SandboxAttachment.objects.get().voucher == vouchers_in().get()


def test_a_voucher_found_after_a_lost_answer_gets_its_z_report_too(org, posted_day):
    sandbox.set_fault(lose_after_store=1)
    run(org)
    assert not VoucherAttachment.objects.exists()  # no voucher known yet, nothing to attach

    run(org)  # found by the search, recorded, then documented

    assert SettlementExport.objects.get(settlement=posted_day).found_by_search
    assert SandboxAttachment.objects.get().voucher == vouchers_in().get()


def test_it_leaves_the_attachment_to_a_person_after_the_last_try(org, posted_day, monkeypatch):
    monkeypatch.setattr(attachments, "MAX_ATTEMPTS", 2)
    sandbox.set_fault(fail_attachment_upload=5)

    run(org)
    run(org)
    run(org)  # not tried a third time

    row = row_of(posted_day)
    assert (row.state, row.attempts) == (Attachment.FAILED, 2)
    assert sandbox.fault_switch(None).fail_attachment_upload == 3
    given_up = shown(posted_day, voucher_number="A1")
    assert given_up.state == "given_up"
    assert "etter 2 forsøk" in given_up.text
    assert "legg den ved bilag A1 i Visma for hånd" in given_up.text
    assert vouchers_in().count() == 1


def test_the_switch_off_posts_the_voucher_without_its_pdf(org, posted_day):
    TransferSettings.objects.filter(organization=org).update(attach_zreport=False)

    result = run(org)

    assert result.summary()["posted"] == 1
    assert vouchers_in().count() == 1
    assert not SandboxAttachment.objects.exists()
    assert not VoucherAttachment.objects.exists()


def test_a_dry_run_uploads_nothing(org, posted_day):
    transfer.export_organization(organization=org, dry_run=True)

    assert not SandboxAttachment.objects.exists() and not VoucherAttachment.objects.exists()


def test_it_waits_for_a_reconnect_without_counting_a_try(org, posted_day):
    sandbox.set_fault(fail_attachment_upload=1)
    run(org)
    VismaConnection.objects.filter(organization=org).update(
        status=VismaConnection.Status.RECONNECT_REQUIRED
    )

    run(org)

    assert row_of(posted_day).attempts == 1
    assert not SandboxAttachment.objects.exists()
