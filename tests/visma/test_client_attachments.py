"""integrations.visma.client's attachment endpoints against Visma-shaped answers: POST
/attachments, GET /attachments (unmatched), GET /attachments/{id}, POST /attachmentlinks."""

import base64
import json

import pytest
import requests
from responses import matchers

from integrations.visma import client

from .conftest import API, page, visma_error

TOKEN = "at-123"
ATTACHMENT_ID = "3f1c8a52-6d0b-4c3e-9a41-0c6f2b7d9e10"
VOUCHER_ID = "8a2b1c3d-4e5f-4061-8790-a1b2c3d4e5f6"
PDF = b"%PDF-1.4 the Z-report"
FILE_NAME = "Z-rapport_BO-17_KASSE-1_Z1042_2026-11-27.pdf"


def attachment(**overrides) -> dict:
    body = {
        "Id": ATTACHMENT_ID,
        "ContentType": "application/pdf",
        "DocumentId": None,
        "AttachedDocumentType": 0,
        "FileName": FILE_NAME,
        "TemporaryUrl": None,
        "AttachmentStatus": 1,
        "ImageDate": "2026-11-28T06:00:01.000000Z",
    }
    body.update(overrides)
    return body


def test_it_uploads_the_pdf_as_base64(mocked):
    mocked.post(
        f"{API}/attachments",
        status=201,
        json=attachment(),
        match=[
            matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"}),
            matchers.json_params_matcher(
                {
                    "ContentType": "application/pdf",
                    "FileName": FILE_NAME,
                    "Data": base64.b64encode(PDF).decode(),
                    "Comment": "Z-rapport for bilag A12",
                }
            ),
        ],
    )

    uploaded = client.upload_attachment(
        TOKEN, file_name=FILE_NAME, data=PDF, comment="Z-rapport for bilag A12"
    )

    assert uploaded == client.Attachment(
        id=ATTACHMENT_ID, file_name=FILE_NAME, document_id=None, document_type=0
    )


def test_it_never_sends_a_file_name_visma_refuses(mocked):
    with pytest.raises(client.InvalidPayload, match="FileName"):
        client.upload_attachment(TOKEN, file_name="Z rapport 17.pdf", data=PDF)

    assert len(mocked.calls) == 0


def test_an_upload_answered_without_its_id_is_in_doubt(mocked):
    mocked.post(f"{API}/attachments", status=201, json={"FileName": FILE_NAME})

    with pytest.raises(client.UnexpectedResponse) as caught:
        client.upload_attachment(TOKEN, file_name=FILE_NAME, data=PDF)

    assert caught.value.outcome_unknown  # probably stored: look before uploading again


def test_an_upload_whose_connection_broke_is_in_doubt(mocked):
    mocked.post(f"{API}/attachments", body=requests.ConnectionError("reset by peer"))

    with pytest.raises(client.TransportError) as caught:
        client.upload_attachment(TOKEN, file_name=FILE_NAME, data=PDF)

    assert caught.value.outcome_unknown


def test_a_refused_upload_raises_vismas_error(mocked):
    mocked.post(
        f"{API}/attachments",
        status=400,
        json=visma_error(2000, "The file is not of the ContentType application/pdf."),
    )

    with pytest.raises(client.ValidationError) as caught:
        client.upload_attachment(TOKEN, file_name=FILE_NAME, data=PDF)

    assert caught.value.code == 2000 and not caught.value.outcome_unknown


def test_it_lists_the_unmatched_attachments_without_urls(mocked):
    mocked.get(
        f"{API}/attachments",
        json=page([attachment(), attachment(Id=VOUCHER_ID, FileName="other.pdf")]),
        match=[
            matchers.query_param_matcher(
                {
                    "includeMatched": "false",
                    "includeTemporaryUrl": "false",
                    "$page": "1",
                    "$pagesize": "500",
                }
            )
        ],
    )

    found = client.list_unmatched_attachments(TOKEN)

    assert [(a.id, a.file_name) for a in found] == [
        (ATTACHMENT_ID, FILE_NAME),
        (VOUCHER_ID, "other.pdf"),
    ]


def test_it_reads_what_an_attachment_is_linked_to(mocked):
    mocked.get(
        f"{API}/attachments/{ATTACHMENT_ID}",
        json=attachment(DocumentId=VOUCHER_ID, AttachedDocumentType=3, AttachmentStatus=0),
    )

    found = client.get_attachment(TOKEN, ATTACHMENT_ID)

    assert (found.document_id, found.document_type) == (VOUCHER_ID, 3)


def test_it_links_the_attachment_to_the_voucher(mocked):
    body = {"DocumentId": VOUCHER_ID, "DocumentType": 3, "AttachmentIds": [ATTACHMENT_ID]}
    mocked.post(f"{API}/attachmentlinks", json=body, match=[matchers.json_params_matcher(body)])

    client.link_attachments(TOKEN, document_id=VOUCHER_ID, attachment_ids=[ATTACHMENT_ID])

    assert json.loads(mocked.calls[0].request.body) == body


def test_a_link_answer_that_names_other_attachments_is_in_doubt(mocked):
    mocked.post(
        f"{API}/attachmentlinks",
        json={"DocumentId": VOUCHER_ID, "DocumentType": 3, "AttachmentIds": []},
    )

    with pytest.raises(client.UnexpectedResponse) as caught:
        client.link_attachments(TOKEN, document_id=VOUCHER_ID, attachment_ids=[ATTACHMENT_ID])

    assert caught.value.outcome_unknown
