"""Validate attachment bodies against Visma's own schemas before they are sent, as
voucher_schema.py does for vouchers: `AttachmentUploadApi` (POST /attachments) and
`AttachmentLinkApi` (POST /attachmentlinks), verbatim from Visma's published OpenAPI 3.1
description (shared/visma/eaccounting-v2-swagger.json) in `schemas/attachment-api.json`.
The production client checks what it sends; the sandbox simulator checks what it receives
with the same functions.

Beyond the schema, what the schema's descriptions say and Visma's server enforces:
ContentType one of 'image/jpeg', 'image/png', 'image/tiff', 'application/pdf'; FileName
of letters, digits and - _ ( ) (with one extension, ".pdf").

Regenerate the schema file after Visma changes the description:
    python -m integrations.visma.attachment_schema ../shared/visma/eaccounting-v2-swagger.json
"""

from __future__ import annotations

import json
import re
import sys
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator

from .voucher_schema import (
    _DEFS_PREFIX,
    _format_checker,
    _VismaValidator,
    referenced_schema_names,
    rewrite_refs,
)

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "attachment-api.json"
UPLOAD = "AttachmentUploadApi"
LINK = "AttachmentLinkApi"
ROOTS = (UPLOAD, LINK)

CONTENT_TYPES = ("image/jpeg", "image/png", "image/tiff", "application/pdf")
# "Allowed characters are alphabetic letters, numbers and characters - _ ()", and the
# file's extension.
FILE_NAME = re.compile(r"^[\w()-]+(\.[A-Za-z0-9]{1,10})?$")


@cache
def attachment_schemas() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@cache
def _validator(root: str) -> Draft202012Validator:
    document = attachment_schemas()
    schema = {"$ref": _DEFS_PREFIX + root, "$defs": document["$defs"]}
    return _VismaValidator(schema, format_checker=_format_checker)


def _errors(root: str, payload: object) -> list[str]:
    found = sorted(_validator(root).iter_errors(payload), key=lambda e: e.json_path)
    return [f"{error.json_path}: {error.message}" for error in found]


def validate_upload_payload(payload: object) -> list[str]:
    """Every way `payload` breaks AttachmentUploadApi (and its descriptions' rules)."""
    problems = _errors(UPLOAD, payload)
    if isinstance(payload, dict):
        content_type = payload.get("ContentType")
        if isinstance(content_type, str) and content_type not in CONTENT_TYPES:
            problems.append(
                f"$.ContentType: {content_type!r} is not one of {', '.join(CONTENT_TYPES)}"
            )
        name = payload.get("FileName")
        if isinstance(name, str) and not FILE_NAME.match(name):
            problems.append(
                f"$.FileName: {name!r} may hold only letters, digits and - _ ( ) and an extension"
            )
    return problems


def validate_link_payload(payload: object) -> list[str]:
    """Every way `payload` breaks AttachmentLinkApi."""
    return _errors(LINK, payload)


# --- extraction from Visma's OpenAPI description (used to build and to check the file) ---


def extract_attachment_schemas(openapi: dict) -> dict:
    schemas = openapi["components"]["schemas"]
    names: list[str] = []
    for root in ROOTS:
        names += [name for name in referenced_schema_names(openapi, root) if name not in names]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:backoffice:visma:eaccounting-v2:attachments",
        "$comment": (
            "The AttachmentUploadApi and AttachmentLinkApi schemas of Visma's eAccounting API "
            "v2 OpenAPI 3.1 description (shared/visma/eaccounting-v2-swagger.json, see its "
            "SOURCE.md) with every schema they reference, kept verbatim under $defs; only "
            "'#/components/schemas/X' refs are rewritten to '#/$defs/X'. Regenerate, do not "
            "edit by hand."
        ),
        "$defs": {name: rewrite_refs(schemas[name]) for name in names},
    }


if __name__ == "__main__":  # pragma: no cover - a maintenance tool
    source = Path(sys.argv[1])
    document = extract_attachment_schemas(json.loads(source.read_text(encoding="utf-8")))
    SCHEMA_PATH.write_text(
        json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(f"wrote {SCHEMA_PATH} ({', '.join(document['$defs'])})")
