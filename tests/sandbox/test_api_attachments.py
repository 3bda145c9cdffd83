"""POST/GET /attachments and POST /attachmentlinks: what the simulator accepts and refuses
as Visma does (AttachmentUploadApi, AttachmentLinkApi in the swagger), the fault switches
for uploads, and the attachment shown on the voucher."""

import base64
import json
from pathlib import Path

import pytest

from visma_sandbox import services
from visma_sandbox.models import SandboxAttachment

from .conftest import BAKERI, api, get_tokens, post_voucher, simple_voucher

SWAGGER = Path(__file__).resolve().parents[3] / "shared/visma/eaccounting-v2-swagger.json"
PDF = b"%PDF-1.4\n% a tiny file for the simulator\n%%EOF\n"


def upload_body(**overrides) -> dict:
    body = {
        "ContentType": "application/pdf",
        "FileName": "Z-rapport_BO-17_KASSE-1_Z1042_2026-11-27.pdf",
        "Data": base64.b64encode(PDF).decode(),
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def upload(client, token, body=None):
    return api(client, token, "POST", "/attachments", body or upload_body())


def link(client, token, voucher_id, attachment_ids, document_type=3):
    body = {
        "DocumentId": voucher_id,
        "DocumentType": document_type,
        "AttachmentIds": attachment_ids,
    }
    return api(client, token, "POST", "/attachmentlinks", body)


def error_of(answer, status=400) -> dict:
    assert answer.status_code == status, answer.content
    body = answer.json()
    assert set(body) == {"ErrorCode", "DeveloperErrorMessage", "ErrorId", "Errors"}
    return body


@pytest.fixture
def token(tokens) -> str:
    return tokens["access_token"]


@pytest.fixture
def voucher_id(client, token) -> str:
    answer = post_voucher(client, token, simple_voucher())
    assert answer.status_code == 201
    return answer.json()["Id"]


def test_it_stores_an_uploaded_pdf_and_answers_the_attachment(client, token):
    answer = upload(client, token)

    assert answer.status_code == 201, answer.content
    body = answer.json()
    swagger = json.loads(SWAGGER.read_text(encoding="utf-8"))
    # Exactly the properties of Visma's Attachment (additionalProperties: false).
    assert set(body) == set(swagger["components"]["schemas"]["Attachment"]["properties"])
    assert body["FileName"] == "Z-rapport_BO-17_KASSE-1_Z1042_2026-11-27.pdf"
    assert body["ContentType"] == "application/pdf"
    assert (body["DocumentId"], body["AttachedDocumentType"], body["AttachmentStatus"]) == (
        None,
        0,
        1,  # unmatched
    )
    stored = SandboxAttachment.objects.get(uuid=body["Id"])
    assert bytes(stored.data) == PDF
    assert client.get(body["TemporaryUrl"]).content == PDF


@pytest.mark.parametrize(
    ("overrides", "field", "says"),
    [
        ({"ContentType": "text/plain"}, "ContentType", "is not one of"),
        ({"ContentType": None}, None, "'ContentType' is a required property"),
        ({"FileName": None}, None, "'FileName' is a required property"),
        ({"FileName": "Z rapport.pdf"}, "FileName", "only letters, digits"),
        ({"FileName": "x" * 201 + ".pdf"}, "FileName", "is too long"),
        ({"AttachedDocumentType": 3}, None, "Additional properties are not allowed"),
        ({"Data": "not base64!"}, "Data", "Data is not valid base64."),
        (
            {"Data": base64.b64encode(b"PK\x03\x04 a zip").decode()},
            "Data",
            "not of the ContentType",
        ),
        ({"Data": None}, "Data", "Data or Url is required."),
        ({"Id": "not-a-guid"}, "Id", "is not a 'uuid'"),
    ],
)
def test_it_refuses_what_visma_refuses(client, token, overrides, field, says):
    body = error_of(upload(client, token, upload_body(**overrides)))

    assert body["ErrorCode"] == 2000
    assert says in body["DeveloperErrorMessage"]
    assert body["Errors"][0]["Field"] == field
    assert not SandboxAttachment.objects.exists()


def test_it_links_an_attachment_to_a_voucher_once(client, token, voucher_id):
    attachment_id = upload(client, token).json()["Id"]

    answer = link(client, token, voucher_id, [attachment_id])

    assert answer.status_code == 200, answer.content
    assert answer.json() == {
        "DocumentId": voucher_id,
        "DocumentType": 3,
        "AttachmentIds": [attachment_id],
    }
    shown = api(client, token, "GET", f"/attachments/{attachment_id}").json()
    assert (shown["DocumentId"], shown["AttachedDocumentType"], shown["AttachmentStatus"]) == (
        voucher_id,
        3,
        0,
    )
    [voucher] = api(client, token, "GET", "/vouchers").json()["Data"]
    assert voucher["Attachments"]["AttachmentIds"] == [attachment_id]
    # Linked already: Visma refuses a second link.
    again = error_of(link(client, token, voucher_id, [attachment_id]))
    assert "already linked" in again["DeveloperErrorMessage"]


def test_it_refuses_a_link_to_what_does_not_exist(client, token, voucher_id):
    attachment_id = upload(client, token).json()["Id"]
    unknown = "00000000-0000-0000-0000-000000000001"

    assert (
        "voucher"
        in error_of(link(client, token, unknown, [attachment_id]))["DeveloperErrorMessage"]
    )
    assert (
        "was not found"
        in error_of(link(client, token, voucher_id, [unknown]))["DeveloperErrorMessage"]
    )
    assert (
        "DocumentType"
        in error_of(link(client, token, voucher_id, [attachment_id], 1))["DeveloperErrorMessage"]
    )
    bad = api(client, token, "POST", "/attachmentlinks", {"AttachmentIds": [attachment_id]})
    assert "'DocumentType' is a required property" in error_of(bad)["DeveloperErrorMessage"]
    assert SandboxAttachment.objects.get().voucher is None


def test_it_keeps_each_companys_attachments_to_itself(oauth_client, client, token, voucher_id):
    other = get_tokens(client, company=BAKERI)["access_token"]
    attachment_id = upload(client, token).json()["Id"]

    assert api(client, other, "GET", f"/attachments/{attachment_id}").status_code == 404
    assert api(client, other, "GET", "/attachments").json()["Data"] == []
    assert (
        "was not found"
        in error_of(link(client, other, voucher_id, [attachment_id]))["DeveloperErrorMessage"]
    )


def test_it_lists_only_the_unmatched_when_asked(client, token, voucher_id):
    linked = upload(client, token, upload_body(FileName="linked.pdf")).json()["Id"]
    link(client, token, voucher_id, [linked])
    loose = upload(client, token, upload_body(FileName="loose.pdf")).json()["Id"]

    every = api(client, token, "GET", "/attachments").json()
    unmatched = api(
        client, token, "GET", "/attachments", includeMatched="false", includeTemporaryUrl="false"
    ).json()

    assert [a["Id"] for a in every["Data"]] == [linked, loose]
    assert every["Meta"]["TotalNumberOfResults"] == 2
    assert [(a["Id"], a["TemporaryUrl"]) for a in unmatched["Data"]] == [(loose, None)]


def test_a_voucher_may_carry_an_uploaded_attachment_in_its_body(client, token):
    attachment_id = upload(client, token).json()["Id"]
    body = {
        **simple_voucher(),
        "Attachments": {"DocumentType": 3, "AttachmentIds": [attachment_id]},
    }

    answer = post_voucher(client, token, body)

    assert answer.status_code == 201, answer.content
    assert answer.json()["Attachments"]["AttachmentIds"] == [attachment_id]
    # Not one of the company's free attachments (now linked): refused like Visma.
    refused = error_of(post_voucher(client, token, body))
    assert "already linked" in refused["DeveloperErrorMessage"]


def test_the_upload_fault_answers_500_and_stores_nothing(client, token):
    services.set_fault(fail_attachment_upload=1)

    failed = upload(client, token)

    assert failed.status_code == 500 and failed.json()["ErrorCode"] == 5000
    assert not SandboxAttachment.objects.exists()
    assert upload(client, token).status_code == 201


def test_the_lost_answer_fault_stores_the_attachment_and_loses_the_answer(client, token):
    services.set_fault(lose_attachment_after_store=1, lose_mode="504")

    lost = upload(client, token)

    assert lost.status_code == 504
    assert SandboxAttachment.objects.count() == 1
    assert services.fault_switch(None).is_quiet


def test_the_page_shows_a_vouchers_attachment_and_the_inbox(client, token, voucher_id):
    linked = upload(client, token, upload_body(FileName="Z-rapport_BO-1.pdf")).json()["Id"]
    link(client, token, voucher_id, [linked])
    upload(client, token, upload_body(FileName="spare_copy.pdf"))

    page = client.get("/visma-sandbox/").content.decode()

    voucher = page.split('aria-label="Voucher A1"', 1)[1].split("</article>", 1)[0]
    assert "attachment" in voucher and "Z-rapport_BO-1.pdf" in voucher
    inbox = page.split('id="attachments"', 1)[1]
    assert "spare_copy.pdf" in inbox and "Z-rapport_BO-1.pdf" not in inbox


def test_the_page_arms_the_attachment_switches(sandbox, client):
    client.post(
        "/visma-sandbox/control",
        {"action": "faults", "fail_attachment_upload": "2", "lose_attachment_after_store": "1"},
    )

    switch = services.fault_switch(None)
    assert (switch.fail_attachment_upload, switch.lose_attachment_after_store) == (2, 1)
    assert not switch.is_quiet
    services.clear_faults()
    assert services.fault_switch(None).is_quiet
