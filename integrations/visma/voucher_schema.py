"""Validate a voucher body against Visma's own `VoucherApi` schema before it is sent.

`schemas/voucher-api.json` is the `VoucherApi` schema of Visma's published OpenAPI 3.1
description (shared/visma/eaccounting-v2-swagger.json) with every schema it references,
verbatim under `$defs` (OpenAPI 3.1 schemas are JSON Schema 2020-12). The production client
checks what it sends with `validate_voucher_payload`; the sandbox simulator checks what it
receives with the same function, so both sides agree on one contract.

Beyond plain JSON Schema, two things are enforced the way Visma's .NET server does:

- `format`: "uuid" must be a GUID (8-4-4-4-12 hex) and "date-time" a date or date-time that
  .NET parses ("2026-11-27", "2026-11-27T00:00:00", with or without "Z"/offset). Visma
  documents `VoucherDate` as "yyyy-mm-dd" while typing it date-time, so a bare date is valid.
- `pattern` on a *number* (the amounts carry `[-]?\\d+(\\.\\d{1,2})?`, "Maximum 2 decimal
  places"): JSON Schema ignores `pattern` for numbers, so here it is matched, anchored, against
  the number's decimal text. 10.5 and Decimal("10.50") pass; 10.555 does not.

Amounts may be `int`, `float` or `Decimal` (parse JSON with `parse_float=Decimal` to keep øre
exact); `bool` is never a number.

Regenerate the schema file after Visma changes the description:
    python -m integrations.visma.voucher_schema ../shared/visma/eaccounting-v2-swagger.json
"""

from __future__ import annotations

import json
import re
import sys
from datetime import date, time
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "voucher-api.json"
ROOT_SCHEMA = "VoucherApi"
# POST /voucherdrafts (draft mode, drafts.py) takes VoucherDraftApi: the same kind of file.
DRAFT_SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "voucher-draft-api.json"
DRAFT_ROOT_SCHEMA = "VoucherDraftApi"
_OPENAPI_PREFIX = "#/components/schemas/"
_DEFS_PREFIX = "#/$defs/"

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATE_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2})?)?$"
)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def decimal_text(value: int | float | Decimal) -> str:
    """The plain decimal text of a JSON number ("1e-07" becomes "0.0000001")."""
    if isinstance(value, float):
        value = Decimal(repr(value))
    return format(Decimal(value), "f")


_format_checker = FormatChecker(formats=())


@_format_checker.checks("uuid")
def _check_uuid(value: object) -> bool:
    return not isinstance(value, str) or bool(_UUID.match(value))


@_format_checker.checks("date-time")
def _check_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    match = _DATE_TIME.match(value)
    if not match:
        return False
    try:
        date(int(match[1]), int(match[2]), int(match[3]))
        if match[4] is not None:
            time(int(match[4]), int(match[5]), int(match[6] or 0))
    except ValueError:
        return False
    return True


def _pattern(validator, pattern_value, instance, schema):
    """`pattern` as JSON Schema defines it for strings; for numbers, anchored on the text."""
    if _is_number(instance):
        try:
            text = decimal_text(instance)
        except (InvalidOperation, ValueError):
            text = str(instance)
        if not re.fullmatch(pattern_value, text):
            yield ValidationError(
                f"{text} has more than 2 decimal places (must match {pattern_value!r})"
            )
        return
    yield from _string_pattern(validator, pattern_value, instance, schema)


_string_pattern = Draft202012Validator.VALIDATORS["pattern"]
_VismaValidator = validators.extend(Draft202012Validator, {"pattern": _pattern})


@cache
def voucher_schema(path: Path = SCHEMA_PATH) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def _validator(path: Path = SCHEMA_PATH) -> Draft202012Validator:
    schema = voucher_schema(path)
    Draft202012Validator.check_schema(schema)
    return _VismaValidator(schema, format_checker=_format_checker)


def _path_key(part: str | int) -> tuple[int, str | int]:
    # Rows[2] before Rows[10]: indexes compare as numbers, names as text.
    return (0, part) if isinstance(part, int) else (1, part)


def validate_voucher_payload(payload: dict, *, path: Path = SCHEMA_PATH) -> list[str]:
    """Every way `payload` breaks Visma's VoucherApi schema, as "$.Rows[0].DebitAmount: …"
    lines sorted by path; an empty list when it is valid."""
    errors = _validator(path).iter_errors(payload)
    found = sorted(errors, key=lambda e: ([_path_key(p) for p in e.absolute_path], e.message))
    return [f"{error.json_path}: {error.message}" for error in found]


def validate_voucher_draft_payload(payload: dict) -> list[str]:
    """The same for Visma's VoucherDraftApi (POST /voucherdrafts): its rows' texts are
    shorter (50), and it has no Attachments."""
    return validate_voucher_payload(payload, path=DRAFT_SCHEMA_PATH)


# --- extraction from Visma's OpenAPI description (used to build and to check the file) ---


def _refs(node: object):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_OPENAPI_PREFIX):
                yield value[len(_OPENAPI_PREFIX) :]
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def rewrite_refs(node: object) -> object:
    """'#/components/schemas/X' becomes '#/$defs/X'; everything else stays as it is."""
    if isinstance(node, dict):
        return {
            key: (
                _DEFS_PREFIX + value[len(_OPENAPI_PREFIX) :]
                if key == "$ref" and isinstance(value, str) and value.startswith(_OPENAPI_PREFIX)
                else rewrite_refs(value)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [rewrite_refs(value) for value in node]
    return node


def referenced_schema_names(openapi: dict, root: str = ROOT_SCHEMA) -> list[str]:
    """`root` and every component schema it references, transitively, in discovery order."""
    schemas = openapi["components"]["schemas"]
    names: list[str] = []
    todo = [root]
    while todo:
        name = todo.pop(0)
        if name not in names:
            names.append(name)
            todo.extend(_refs(schemas[name]))
    return names


def extract_voucher_schema(openapi: dict, root: str = ROOT_SCHEMA) -> dict:
    schemas = openapi["components"]["schemas"]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:backoffice:visma:eaccounting-v2:{root}",
        "$comment": (
            f"The {root} schema of Visma's eAccounting API v2 OpenAPI 3.1 description "
            "(shared/visma/eaccounting-v2-swagger.json, see its SOURCE.md) with every schema it "
            "references, kept verbatim under $defs; only '#/components/schemas/X' refs are "
            "rewritten to '#/$defs/X'. Regenerate, do not edit by hand."
        ),
        "$ref": _DEFS_PREFIX + root,
        "$defs": {
            name: rewrite_refs(schemas[name]) for name in referenced_schema_names(openapi, root)
        },
    }


if __name__ == "__main__":  # pragma: no cover - a maintenance tool
    openapi = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    for target, root in ((SCHEMA_PATH, ROOT_SCHEMA), (DRAFT_SCHEMA_PATH, DRAFT_ROOT_SCHEMA)):
        document = extract_voucher_schema(openapi, root)
        target.write_text(
            json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        print(f"wrote {target} ({', '.join(document['$defs'])})")
