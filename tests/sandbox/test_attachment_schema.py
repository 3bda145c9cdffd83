"""integrations/visma/attachment_schema.py: Visma's AttachmentUploadApi and AttachmentLinkApi
schemas, extracted verbatim, and the rules their descriptions add."""

import json
from pathlib import Path

import pytest

from integrations.visma.attachment_schema import (
    attachment_schemas,
    extract_attachment_schemas,
    validate_link_payload,
    validate_upload_payload,
)

SWAGGER = Path(__file__).resolve().parents[3] / "shared/visma/eaccounting-v2-swagger.json"


def test_it_keeps_the_extracted_schemas_equal_to_the_published_ones():
    swagger = json.loads(SWAGGER.read_text(encoding="utf-8"))

    assert extract_attachment_schemas(swagger) == attachment_schemas()
    assert set(attachment_schemas()["$defs"]) == {"AttachmentUploadApi", "AttachmentLinkApi"}


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("Z-rapport_BO-17_KASSE-1_Z1042_2026-11-27.pdf", True),
        ("Kasse(2)_Bjørvika.pdf", True),
        ("Z rapport.pdf", False),
        ("../etc/passwd", False),
        ("a.b.pdf", False),
    ],
)
def test_it_takes_the_file_names_visma_allows(name, ok):
    body = {"ContentType": "application/pdf", "FileName": name, "Data": "JVBERi0="}

    assert (validate_upload_payload(body) == []) is ok


def test_it_names_what_breaks_a_link():
    assert validate_link_payload({"DocumentId": "x", "AttachmentIds": []}) == [
        "$: 'DocumentType' is a required property",
        "$.DocumentId: 'x' is not a 'uuid'",
    ]
