"""integrations/visma/voucher_schema.py: Visma's VoucherApi schema, extracted verbatim, and
the check both the production client and the simulator run on a voucher body."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from integrations.visma.voucher_schema import (
    SCHEMA_PATH,
    extract_voucher_schema,
    referenced_schema_names,
    rewrite_refs,
    validate_voucher_payload,
    voucher_schema,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SWAGGER = REPO_ROOT.parent / "shared/visma/eaccounting-v2-swagger.json"

VALID = {
    "VoucherDate": "2026-11-27",
    "VoucherText": "Dagsoppgjør 2026-11-27 KASSE-1 Z1042",
    "Rows": [
        {
            "AccountNumber": 3000,
            "CreditAmount": Decimal("4800.00"),
            "VatCodeId": "0b7f3c1e-2a4d-4f7e-9d11-3c5a7e9b1d20",
            "TransactionText": "Salg Klær 25 %",
        },
        {"AccountNumber": 1900, "DebitAmount": 4800, "TransactionText": "Kontant"},
    ],
}


def test_it_keeps_the_extracted_schema_equal_to_the_published_one():
    document = voucher_schema()
    assert document["$ref"] == "#/$defs/VoucherApi"
    assert set(document["$defs"]) == {"VoucherApi", "VoucherRowApi", "AttachmentLinkApi"}
    refs = [
        line for line in SCHEMA_PATH.read_text(encoding="utf-8").splitlines() if '"$ref"' in line
    ]
    assert refs and all("#/$defs/" in line for line in refs)
    # shared/ lies beside the checkout (CI has it): without it nothing was compared.
    assert SWAGGER.exists(), f"{SWAGGER} is missing: the schema cannot be compared"
    swagger = json.loads(SWAGGER.read_text(encoding="utf-8"))
    published = swagger["components"]["schemas"]
    assert list(document["$defs"]) == referenced_schema_names(swagger)
    for name, schema in document["$defs"].items():
        assert schema == rewrite_refs(published[name]), name
    assert extract_voucher_schema(swagger) == document
    assert swagger["openapi"].startswith("3.1")


def test_it_accepts_a_valid_voucher_with_decimal_int_and_float_amounts():
    assert validate_voucher_payload(VALID) == []
    floats = json.loads(json.dumps(VALID, default=float))
    assert validate_voucher_payload(floats) == []


def test_it_names_every_problem_with_its_json_path():
    payload = {
        "VoucherDate": "27.11.2026",
        "Foo": 1,
        "Rows": [
            {"AccountNumber": 0, "DebitAmount": -1, "CreditAmount": 10.555},
            {"AccountNumber": True, "DebitAmount": "5", "TransactionText": "x" * 61},
            {"AccountNumber": 3000, "VatCodeId": "3"},
        ],
    }
    errors = validate_voucher_payload(payload)
    assert errors[0] == "$: 'VoucherText' is a required property"
    joined = "\n".join(errors)
    assert "$: Additional properties are not allowed ('Foo' was unexpected)" in joined
    assert "$.VoucherDate: '27.11.2026' is not a 'date-time'" in joined
    assert "$.Rows[0].AccountNumber: 0 is less than the minimum of 1" in joined
    assert "$.Rows[0].DebitAmount: -1 is less than the minimum of 0" in joined
    assert "$.Rows[0].CreditAmount: 10.555 has more than 2 decimal places" in joined
    assert "$.Rows[1].AccountNumber: True is not of type 'integer'" in joined
    assert "$.Rows[1].DebitAmount: '5' is not of type 'number'" in joined
    assert "$.Rows[1].TransactionText" in joined
    assert "$.Rows[2].VatCodeId: '3' is not a 'uuid'" in joined
    assert len(errors) == 10


@pytest.mark.parametrize(
    "value, ok",
    [
        ("2026-11-27", True),
        ("2026-11-27T00:00:00", True),
        ("2026-11-27T10:11:12.123Z", True),
        ("2026-11-27T10:11:12+01:00", True),
        ("2026-02-30", False),
        ("2026-11-27T25:00:00", False),
        ("27/11/2026", False),
        ("", False),
    ],
)
def test_it_reads_voucher_dates_as_visma_does(value, ok):
    errors = validate_voucher_payload({**VALID, "VoucherDate": value})
    assert (errors == []) is ok, errors


@pytest.mark.parametrize(
    "amount, ok",
    [
        (Decimal("0.01"), True),
        (Decimal("10.50"), True),
        (Decimal("1E+3"), True),
        (10.5, True),
        (Decimal("10.555"), False),
        (1e-7, False),
        (10000000001, False),
    ],
)
def test_it_allows_at_most_two_decimals_on_amounts(amount, ok):
    row = {"AccountNumber": 1900, "DebitAmount": amount}
    errors = validate_voucher_payload({**VALID, "Rows": [row]})
    assert (errors == []) is ok, errors


def test_it_checks_the_referenced_attachment_schema():
    errors = validate_voucher_payload({**VALID, "Attachments": {"AttachmentIds": ["nope"]}})
    assert errors == [
        "$.Attachments: 'DocumentType' is a required property",
        "$.Attachments.AttachmentIds[0]: 'nope' is not a 'uuid'",
    ]
