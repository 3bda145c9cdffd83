"""The JSON Schema of the settlement body (../shared/DESIGN.md 4.1), published for POS vendors at
/api/v1/schema/settlement.json.

Written by hand to say the same as `settlements.parsing`; the parser stays the authority
(it also checks what a schema cannot say well: a JSON number with at most 2 decimals, the
date not in the future, the sums fitting). tests/test_settlement_schema.py holds the two
together on the worked example and on bodies both must refuse.
"""

from .parsing import MONEY_RE, RATE_RE

AMOUNT = {
    "description": (
        'An amount in NOK with at most 2 decimals, as a string ("1200.00", preferred) or a '
        "JSON number. Never rounded by the server: more than 2 decimals is refused."
    ),
    "oneOf": [
        {"type": "string", "pattern": MONEY_RE.pattern},
        {"type": "number", "exclusiveMinimum": -1e12, "exclusiveMaximum": 1e12},
    ],
}
NON_NEGATIVE_AMOUNT = {
    "description": "An amount in NOK, zero or more, with at most 2 decimals.",
    "oneOf": [
        {"type": "string", "pattern": r"^\d{1,12}(\.\d{1,2})?$"},
        {"type": "number", "minimum": 0, "exclusiveMaximum": 1e12},
    ],
}
COUNT = {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
# A sales line's count is net of returns, like its gross amount: negative for returns only.
NET_COUNT = {"type": "integer", "minimum": -(2**31 - 1), "maximum": 2**31 - 1}
TEXT = {"type": "string", "minLength": 1, "maxLength": 100, "pattern": r"\S"}

SETTLEMENT_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Dagsoppgjør (Z-report) of one register",
    "description": (
        "POST /api/v1/settlements with 'Authorization: Bearer <location API key>'. "
        "Balance rule: sum(payments.amount) = sum(sales.gross_amount) + tips + "
        "gift_cards_sold + rounding; a settlement that does not balance is stored as "
        "'needs_action' and never posted; the till corrects it by sending the same "
        "register_id and z_number with corrected content (answer 200, corrected: true). "
        "Answers: 201 created, 200 the same content again, 409 the same register and "
        "z_number with other content when the stored one balances, 400 {errors: "
        "[{path, message}]}, "
        "401 missing or wrong key, 413 body over 1 MiB."
    ),
    "type": "object",
    "additionalProperties": False,
    "required": ["register_id", "z_number", "business_date", "sales", "payments"],
    "properties": {
        "register_id": {
            "description": "The till's own id; one z_number sequence per register.",
            "type": "string",
            "minLength": 1,
            "maxLength": 64,
            "pattern": r"\S",
        },
        "z_number": {
            "description": "The Z-report number.",
            "type": "integer",
            "minimum": 0,
            "maximum": 2**63 - 1,
        },
        "business_date": {
            "description": "The business day (Europe/Oslo), at most one day ahead of today.",
            "type": "string",
            "format": "date",
            "pattern": r"^\d{4}-\d{2}-\d{2}$",
        },
        "opened_at": {
            "description": "ISO 8601; without an offset it is Europe/Oslo local time.",
            "type": ["string", "null"],
            "format": "date-time",
        },
        "closed_at": {
            "description": "ISO 8601, not before opened_at.",
            "type": ["string", "null"],
            "format": "date-time",
        },
        "currency": {"description": "Only NOK.", "enum": ["NOK", None]},
        "sales": {
            "description": "One line per product group and VAT rate.",
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["product_group", "vat_rate", "gross_amount"],
                "properties": {
                    "product_group": {**TEXT, "description": "The till's own name."},
                    "vat_rate": {
                        "description": 'Percent, 0 to 100; "25", "25.00" and 25 are one rate.',
                        "oneOf": [
                            {"type": "string", "pattern": RATE_RE.pattern},
                            {"type": "number", "minimum": 0, "maximum": 100},
                        ],
                    },
                    "gross_amount": {
                        **AMOUNT,
                        "description": (
                            "Including VAT, after discounts, net of returns "
                            "(negative when returns exceed sales)."
                        ),
                    },
                    "vat_amount": {
                        "description": (
                            "Optional: when absent, gross x rate / (100 + rate), "
                            "rounded half-up to øre."
                        ),
                        "anyOf": [AMOUNT, {"type": "null"}],
                    },
                    "count": {"anyOf": [NET_COUNT, {"type": "null"}]},
                },
            },
        },
        "payments": {
            "description": "One line per payment method.",
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["method", "amount"],
                "properties": {
                    "method": {
                        **TEXT,
                        "description": (
                            "The till's own name; cash, card, vipps, gift_card and invoice "
                            "are known by name. Only 'cash' counts in the cash difference."
                        ),
                    },
                    "amount": AMOUNT,
                },
            },
        },
        "tips": {"anyOf": [NON_NEGATIVE_AMOUNT, {"type": "null"}]},
        "gift_cards_sold": {"anyOf": [NON_NEGATIVE_AMOUNT, {"type": "null"}]},
        "rounding": {"anyOf": [AMOUNT, {"type": "null"}]},
        "cash_count": {
            "description": (
                "Cash difference = counted - (opening_float + cash payments + pay_ins - pay_outs)."
            ),
            "type": ["object", "null"],
            "additionalProperties": False,
            "required": ["counted"],
            "properties": {
                "opening_float": {"anyOf": [NON_NEGATIVE_AMOUNT, {"type": "null"}]},
                "counted": NON_NEGATIVE_AMOUNT,
            },
        },
        "pay_ins": {"$ref": "#/$defs/cash_movements"},
        "pay_outs": {"$ref": "#/$defs/cash_movements"},
        "counters": {
            "type": ["object", "null"],
            "additionalProperties": False,
            "properties": {
                "receipts": COUNT,
                "returns_count": COUNT,
                "returns_amount": NON_NEGATIVE_AMOUNT,
                "discounts_count": COUNT,
                "discounts_amount": NON_NEGATIVE_AMOUNT,
                "no_sale_openings": COUNT,
            },
        },
    },
    "$defs": {
        "cash_movements": {
            "description": "Cash put into (pay_ins) or taken out of (pay_outs) the drawer.",
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["amount"],
                "properties": {
                    "reason": {"type": ["string", "null"], "maxLength": 200},
                    "amount": NON_NEGATIVE_AMOUNT,
                },
            },
        }
    },
}
