"""POST /attachments, POST /attachmentlinks and the Attachment shape, as Visma checks them.

POST /attachments (AttachmentUploadApi): the body against Visma's schema (2000: required
ContentType and FileName, no other properties, the lengths), ContentType one of
image/jpeg, image/png, image/tiff, application/pdf, FileName of letters, digits and - _ ( )
with an extension, Data present and valid base64 of a non-empty file whose bytes are of
that type (a PDF starts "%PDF-"); Url is not fetched by the simulator (2000). An Id that
is sent must be new. Answer: 201 with the Attachment, unmatched.

POST /attachmentlinks (AttachmentLinkApi): the schema (2000), DocumentType 3 (Voucher, the
only document simulated) with the DocumentId of one of the company's vouchers, every
attachment id one of the company's and not linked yet (2000 each). Answer: 200 with the
links.
"""

from __future__ import annotations

import base64
import binascii
import uuid

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from integrations.visma.attachment_schema import validate_link_payload, validate_upload_payload

from .models import SandboxAttachment, SandboxClient, SandboxCompany, SandboxVoucher
from .vouchers import VALIDATION, VismaError, _split, _utc

VOUCHER_DOCUMENT = 3
# Attachment.PhotoSource 105 = Integration; Type 2 = Document; AttachmentStatus 0/1.
PHOTO_SOURCE_INTEGRATION = 105
TYPE_DOCUMENT = 2
MATCHED, UNMATCHED = 0, 1

MAGIC = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/tiff": (b"II*\x00", b"MM\x00*"),
}


def _refused(problems: list[str], what: str) -> VismaError:
    errors = []
    for problem in problems:
        field, message = _split(problem)
        errors.append((None if field == "$" else field, message))  # the body as a whole
    return VismaError(VALIDATION, f"The {what} is not valid: " + "; ".join(problems), errors=errors)


def create_attachment(
    *, company: SandboxCompany, client: SandboxClient | None, payload: object
) -> SandboxAttachment:
    problems = validate_upload_payload(payload)
    if problems:
        raise _refused(problems, "attachment")
    assert isinstance(payload, dict)
    data_text = payload.get("Data")
    if not data_text:
        if payload.get("Url"):
            raise VismaError(
                VALIDATION,
                "The simulator does not fetch Url: send the file as Data (base64).",
                errors=[("Url", "Not supported by the simulator")],
            )
        raise VismaError(VALIDATION, "Data or Url is required.", errors=[("Data", "Required")])
    try:
        data = base64.b64decode(data_text, validate=True)
    except (binascii.Error, ValueError):
        raise VismaError(
            VALIDATION, "Data is not valid base64.", errors=[("Data", "Invalid base64")]
        ) from None
    if not data:
        raise VismaError(VALIDATION, "The file is empty.", errors=[("Data", "Empty file")])
    content_type = payload["ContentType"]
    if not data.startswith(MAGIC[content_type]):
        raise VismaError(
            VALIDATION,
            f"The file is not of the ContentType {content_type}.",
            errors=[("Data", f"Not {content_type}")],
        )
    fields = {}
    if payload.get("Id"):
        wanted = uuid.UUID(payload["Id"])
        if SandboxAttachment.objects.filter(uuid=wanted).exists():
            raise VismaError(
                VALIDATION,
                f"An attachment with Id {wanted} already exists.",
                errors=[("Id", "Already exists")],
            )
        fields["uuid"] = wanted
    return SandboxAttachment.objects.create(
        company=company,
        client=client,
        content_type=content_type,
        file_name=payload["FileName"],
        data=data,
        comment=payload.get("Comment"),
        **fields,
    )


def link_attachments(*, company: SandboxCompany, payload: object) -> dict:
    problems = validate_link_payload(payload)
    if problems:
        raise _refused(problems, "attachment link")
    assert isinstance(payload, dict)
    document_type = payload["DocumentType"]
    if document_type != VOUCHER_DOCUMENT:
        raise VismaError(
            VALIDATION,
            f"DocumentType {document_type} is not simulated: only 3 (Voucher).",
            errors=[("DocumentType", "Not supported by the simulator")],
        )
    voucher = None
    if payload.get("DocumentId"):
        voucher = SandboxVoucher.objects.filter(
            company=company, uuid=uuid.UUID(payload["DocumentId"])
        ).first()
    if voucher is None:
        raise VismaError(
            VALIDATION,
            f"The voucher {payload.get('DocumentId')} was not found.",
            errors=[("DocumentId", "Not found")],
        )
    ids = [uuid.UUID(value) for value in payload["AttachmentIds"]]
    if not ids:
        raise VismaError(
            VALIDATION, "AttachmentIds is empty.", errors=[("AttachmentIds", "Required")]
        )
    with transaction.atomic():
        found = {
            a.uuid: a
            for a in SandboxAttachment.objects.select_for_update().filter(
                company=company, uuid__in=ids
            )
        }
        errors = []
        for value in ids:
            attachment = found.get(value)
            if attachment is None:
                errors.append(("AttachmentIds", f"Attachment {value} was not found."))
            elif attachment.voucher_id is not None:
                errors.append(
                    ("AttachmentIds", f"Attachment {value} is already linked to a document.")
                )
        if errors:
            raise VismaError(VALIDATION, "; ".join(message for _, message in errors), errors=errors)
        SandboxAttachment.objects.filter(pk__in=[a.pk for a in found.values()]).update(
            voucher=voucher, linked_utc=timezone.now()
        )
    return {
        "DocumentId": str(voucher.uuid),
        "DocumentType": VOUCHER_DOCUMENT,
        "AttachmentIds": [str(value) for value in ids],
    }


def serialize_attachment(
    attachment: SandboxAttachment, *, request=None, with_url: bool = True
) -> dict:
    url = None
    if with_url and request is not None:
        url = request.build_absolute_uri(
            reverse("visma_sandbox:attachment_file", args=[attachment.uuid])
        )
    voucher = attachment.voucher
    return {
        "Id": str(attachment.uuid),
        "ContentType": attachment.content_type,
        "DocumentId": str(voucher.uuid) if voucher else None,
        "AttachedDocumentType": VOUCHER_DOCUMENT if voucher else 0,
        "MessageThreads": [],
        "Notes": [],
        "PhotoSource": PHOTO_SOURCE_INTEGRATION,
        "FileName": attachment.file_name,
        "TemporaryUrl": url,
        "Comment": attachment.comment,
        "SupplierName": None,
        "CurrencyCode": None,
        "AmountInvoiceCurrency": 0,
        "Type": TYPE_DOCUMENT,
        "AttachmentStatus": MATCHED if voucher else UNMATCHED,
        "UploadedBy": attachment.client.name if attachment.client else None,
        "ImageDate": _utc(attachment.created_utc),
        "TransactionDate": None,
        "Ocr": None,
        "InvoiceNumber": None,
        "Vat": None,
        "DueDate": None,
        "SupplierCorporateIdentityNumber": None,
        "PaymentDate": None,
    }
