"""From a till's JSON body to a `SettlementData` (../shared/DESIGN.md 4.1), or every reason it is not one.

The API and the import command both go through `decode_body` and `parse_settlement`, so a
body is accepted or refused the same way wherever it comes from. Every bad field is
reported with its path ("sales[0].vat_rate") so a POS vendor can fix them all in one go.

Never a float: JSON numbers are decoded as `Decimal` (`parse_float=Decimal`), NaN and
Infinity are refused, and an amount must be exact to the øre.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import unicodedata
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    Strict,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from backoffice.validation import problems

from .domain import (
    CENT,
    ZERO,
    CashCount,
    CashMovementData,
    PaymentData,
    SaleLineData,
    SettlementData,
    normalize_rate,
    rate_key,
    vat_from_gross,
)

OSLO = ZoneInfo("Europe/Oslo")

# Decimal(14, 2) holds 12 digits before the decimal point.
MONEY_LIMIT = Decimal(10) ** 12
# ASCII digits only and the whole text (fullmatch), as the published schema's patterns
# mean them: Python's \d would take "١٢٣" and "$" would let "100.00\n" through.
MONEY_RE = re.compile(r"^-?\d{1,12}(\.\d{1,2})?$", re.ASCII)
RATE_RE = re.compile(r"^\d{1,3}(\.\d{1,2})?$", re.ASCII)
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
Z_NUMBER_MAX = 2**63 - 1  # PositiveBigIntegerField
COUNT_MAX = 2**31 - 1  # IntegerField
EARLIEST_DATE = dt.date(2000, 1, 1)
# Field lengths of the models the settlement is stored in.
REGISTER_ID_MAX = 64
TEXT_MAX = 100
REASON_MAX = 200


class SettlementInvalid(Exception):
    """A body that is not a well-formed settlement; `errors` names every bad field."""

    def __init__(self, errors: list[dict[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{e['path'] or '(body)'}: {e['message']}" for e in errors))


# --------------------------------------------------------------------------- decoding


def _refuse_constant(name: str):
    raise ValueError(_("{name} er ikke et gyldig tall i JSON").format(name=name))


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    # Python's json keeps the last of two equal keys without a word; a till that sends
    # "tips" twice has a bug we want to show, not guess around.
    result: dict = {}
    for key, value in pairs:
        if key in result:
            # The key is echoed in the answer: an unstorable one (a lone surrogate cannot be
            # encoded) is shown escaped.
            shown = _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", key)
            raise ValueError(_("feltet «{key}» står to ganger").format(key=shown))
        result[key] = value
    return result


def decode_body(raw: bytes) -> Any:
    """Bytes → JSON value, with every number that has a fraction as a Decimal."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SettlementInvalid(
            [
                {
                    "path": "",
                    "message": _("Innholdet er ikke gyldig UTF-8 (byte {pos}).").format(
                        pos=exc.start
                    ),
                }
            ]
        ) from None
    if not text.strip():
        raise SettlementInvalid([{"path": "", "message": _("Innholdet er tomt.")}])
    try:
        value = json.loads(
            text,
            parse_float=Decimal,
            parse_constant=_refuse_constant,
            object_pairs_hook=_no_duplicate_keys,
        )
    except json.JSONDecodeError as exc:
        message = _("Ugyldig JSON: {msg} (linje {line}, kolonne {col}).").format(
            msg=exc.msg, line=exc.lineno, col=exc.colno
        )
        raise SettlementInvalid([{"path": "", "message": message}]) from None
    except (ValueError, RecursionError) as exc:
        raise SettlementInvalid(
            [{"path": "", "message": _("Ugyldig JSON: {msg}.").format(msg=exc)}]
        ) from None
    unstorable = _unstorable_text_path(value)
    if unstorable is not None:
        raise SettlementInvalid(
            [
                {
                    "path": unstorable,
                    "message": _(
                        "Inneholder et tegn som ikke kan lagres (NUL eller ensomt surrogat)."
                    ),
                }
            ]
        )
    return value


# NUL ("\u0000") and lone UTF-16 surrogates ("\ud800") are valid JSON escapes, but
# PostgreSQL text cannot hold NUL and no UTF-8 text can hold a lone surrogate: such a
# string could neither be stored nor echoed back in an error message.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable_text_path(value: Any) -> str | None:
    """The path of the first string holding an unstorable character (a key holding one is
    reported at its object, and so is anything under an empty key, which a path cannot
    name). Iterative: the nesting may be as deep as json allows."""
    stack: list[tuple[str, Any, bool]] = [("", value, False)]
    while stack:
        path, item, fixed = stack.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return path
        elif isinstance(item, dict):
            for key, child in item.items():
                if _UNSTORABLE.search(key):
                    return path
                if fixed or not key:
                    stack.append((path, child, True))
                else:
                    stack.append((f"{path}.{key}" if path else key, child, False))
        elif isinstance(item, list):
            stack.extend(
                (path if fixed else f"{path}[{i}]", child, fixed) for i, child in enumerate(item)
            )
    return None


# --------------------------------------------------------------------------- the model
# Pydantic validates the shape (unknown and missing fields, types, lengths, ranges) and
# names every bad field; the scalar types below say what JSON Schema alone cannot (an
# amount exact to the øre, a date not ahead). Messages: backoffice.validation.MESSAGES.


def _strip_invisible(value: str) -> str:
    """Strip whitespace and format characters (BOM, zero-width space, direction marks) at
    both ends: a register id or product group of only "\\ufeff" looks empty to a person
    and would be a second, invisible register or group in the books."""
    start, end = 0, len(value)
    while start < end and (value[start].isspace() or unicodedata.category(value[start]) == "Cf"):
        start += 1
    while end > start and (
        value[end - 1].isspace() or unicodedata.category(value[end - 1]) == "Cf"
    ):
        end -= 1
    return value[start:end]


def _stripped(value: Any) -> Any:
    return _strip_invisible(value) if isinstance(value, str) else value


def _error(kind: str, **context: Any) -> PydanticCustomError:
    return PydanticCustomError(kind, kind, context)


def _number(value: Any, kind: str, pattern: re.Pattern[str]) -> Decimal:
    """A string matching `pattern` or a JSON number (int or Decimal, never a float)."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise _error(f"{kind}_type")
    if isinstance(value, str):
        if not pattern.fullmatch(value):
            raise _error(f"{kind}_format", value=value[:40])
        return Decimal(value)
    number = Decimal(value)
    if not number.is_finite():
        raise _error("not_finite")
    return number


def _amount(value: Any) -> Decimal:
    """An amount in kroner: a string like "6000.00" or a JSON number, exact to the øre."""
    amount = _number(value, "amount", MONEY_RE)
    if abs(amount) >= MONEY_LIMIT:
        raise _error("amount_too_large")
    if amount != amount.quantize(CENT):
        raise _error("amount_places")
    return amount.quantize(CENT)


def _non_negative_amount(value: Any) -> Decimal:
    amount = _amount(value)
    if amount < 0:
        raise _error("negative")
    return amount


def _rate(value: Any) -> Decimal:
    rate = _number(value, "rate", RATE_RE)
    if not 0 <= rate <= 100:
        raise _error("rate_range")
    if rate != rate.quantize(CENT):
        raise _error("rate_places")
    return normalize_rate(rate)


def _business_date(value: Any) -> dt.date:
    if not isinstance(value, str) or not DATE_RE.fullmatch(value):
        raise _error("date_type")
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise _error("date_invalid", value=value) from None
    # The till's clock may be a little ahead near midnight; a day further is a typo.
    latest = timezone.localdate() + dt.timedelta(days=1)
    if day > latest:
        raise _error("date_ahead", day=day.isoformat(), latest=latest.isoformat())
    if day < EARLIEST_DATE:
        raise _error("date_too_old", day=day.isoformat())
    return day


def _instant(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise _error("datetime_type")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _error("datetime_format", value=value[:40]) from None
    if timezone.is_naive(moment):
        # A till without an offset speaks local time.
        moment = moment.replace(tzinfo=OSLO)
    try:
        # Stored and compared in UTC: year 1 east of Greenwich or year 9999 west of it
        # has no UTC instant. Handed on in UTC too: Python takes offsets up to ±23:59:59
        # with seconds, which PostgreSQL refuses to read ("time zone displacement out of
        # range"), so the offset must not reach the database.
        return moment.astimezone(dt.UTC)
    except OverflowError:
        raise _error("datetime_range") from None


_AMOUNT_SCHEMA = {
    "description": (
        'An amount in NOK with at most 2 decimals, as a string ("1200.00", preferred) or a '
        "JSON number. Never rounded by the server: more than 2 decimals is refused."
    ),
    "oneOf": [
        {"type": "string", "pattern": MONEY_RE.pattern},
        {"type": "number", "exclusiveMinimum": -1e12, "exclusiveMaximum": 1e12},
    ],
}
_NON_NEGATIVE_AMOUNT_SCHEMA = {
    "description": "An amount in NOK, zero or more, with at most 2 decimals.",
    "oneOf": [
        {"type": "string", "pattern": r"^\d{1,12}(\.\d{1,2})?$"},
        {"type": "number", "minimum": 0, "exclusiveMaximum": 1e12},
    ],
}

Amount = Annotated[Decimal, PlainValidator(_amount), WithJsonSchema(_AMOUNT_SCHEMA)]
NonNegativeAmount = Annotated[
    Decimal, PlainValidator(_non_negative_amount), WithJsonSchema(_NON_NEGATIVE_AMOUNT_SCHEMA)
]
Rate = Annotated[
    Decimal,
    PlainValidator(_rate),
    WithJsonSchema(
        {
            "description": 'Percent, 0 to 100; "25", "25.00" and 25 are one rate.',
            "oneOf": [
                {"type": "string", "pattern": RATE_RE.pattern},
                {"type": "number", "minimum": 0, "maximum": 100},
            ],
        }
    ),
]
BusinessDate = Annotated[
    dt.date,
    PlainValidator(_business_date),
    WithJsonSchema(
        {
            "description": "The business day (Europe/Oslo), at most one day ahead of today.",
            "type": "string",
            "format": "date",
            "pattern": DATE_RE.pattern,
        }
    ),
]
Moment = Annotated[
    dt.datetime,
    PlainValidator(_instant),
    WithJsonSchema(
        {
            "description": "ISO 8601; without an offset it is Europe/Oslo local time.",
            "type": "string",
            "format": "date-time",
        }
    ),
]


def _text(max_length: int, *, min_length: int = 1) -> tuple[Any, ...]:
    """The metadata of text: invisible characters stripped at both ends, then measured.
    Unpacked into `Annotated[str, ...]` below, so type checkers see the aliases as str."""
    schema: dict[str, Any] = {"type": "string", "maxLength": max_length}
    if min_length:
        schema.update(minLength=min_length, pattern=r"\S")
    return (
        BeforeValidator(_stripped),
        StringConstraints(strict=True, min_length=min_length, max_length=max_length),
        WithJsonSchema(schema),
    )


Text = Annotated[str, *_text(TEXT_MAX)]
RegisterId = Annotated[str, *_text(REGISTER_ID_MAX)]
Reason = Annotated[str, *_text(REASON_MAX, min_length=0)]
Count = Annotated[int, Strict(), Field(ge=0, le=COUNT_MAX)]
# Net of returns, like gross_amount: a returns-only group has a negative count.
NetCount = Annotated[int, Strict(), Field(ge=-COUNT_MAX, le=COUNT_MAX)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class SaleIn(_Strict):
    """One line per product group and VAT rate."""

    product_group: Text = Field(description="The till's own name.")
    vat_rate: Rate
    gross_amount: Amount = Field(
        description=(
            "Including VAT, after discounts, net of returns (negative when returns exceed sales)."
        )
    )
    vat_amount: Amount | None = Field(
        None,
        description="Optional: when absent, gross x rate / (100 + rate), rounded half-up to øre.",
    )
    count: NetCount | None = None

    @field_validator("vat_amount")
    @classmethod
    def _vat_fits_the_rate(cls, vat: Decimal | None, info: ValidationInfo) -> Decimal | None:
        rate, gross = info.data.get("vat_rate"), info.data.get("gross_amount")
        if vat is None or rate is None or gross is None:
            return vat
        if rate == 0 and vat != 0:
            raise _error("vat_with_zero_rate")
        if abs(vat) > abs(gross) or (vat and gross and (vat < 0) != (gross < 0)):
            raise _error("vat_exceeds_gross")
        return vat


class PaymentIn(_Strict):
    method: Text = Field(
        description=(
            "The till's own name; cash, card, vipps, gift_card and invoice are known by name. "
            "Only 'cash' counts in the cash difference."
        )
    )
    amount: Amount


class CashMovementIn(_Strict):
    """Cash put into (pay_ins) or taken out of (pay_outs) the drawer."""

    reason: Reason | None = None
    amount: NonNegativeAmount


class CashCountIn(_Strict):
    """Cash difference = counted - (opening_float + cash payments + pay_ins - pay_outs)."""

    opening_float: NonNegativeAmount | None = None
    counted: NonNegativeAmount


class CountersIn(_Strict):
    receipts: Count | None = None
    returns_count: Count | None = None
    returns_amount: NonNegativeAmount | None = None
    discounts_count: Count | None = None
    discounts_amount: NonNegativeAmount | None = None
    no_sale_openings: Count | None = None


class SettlementIn(_Strict):
    """POST /api/v1/settlements with 'Authorization: Bearer <location API key>'. Balance
    rule: sum(payments.amount) = sum(sales.gross_amount) + tips + gift_cards_sold +
    rounding; a settlement that does not balance is stored as 'needs_action' and never
    posted; the till corrects it by sending the same register_id and z_number with
    corrected content (answer 200, corrected: true). Answers: 201 created, 200 the same
    content again, 409 the same register and z_number with other content when the stored
    one balances, 400 {errors: [{path, message}]}, 401 missing or wrong key, 413 body over
    1 MiB. A settlement that balances (and may be in the books) is corrected by sending
    the corrected one with correction: true: it is stored as a new version (answer 201,
    corrected: true, corrects: the id of the version it corrects), and the accounting
    integration reverses the voucher of that one and posts the corrected one."""

    model_config = ConfigDict(title="Dagsoppgjør (Z-report) of one register")

    register_id: RegisterId = Field(
        description="The till's own id; one z_number sequence per register."
    )
    z_number: Annotated[int, Strict(), Field(ge=0, le=Z_NUMBER_MAX)] = Field(
        description="The Z-report number."
    )
    business_date: BusinessDate
    opened_at: Moment | None = None
    closed_at: Moment | None = Field(None, description="ISO 8601, not before opened_at.")
    currency: Literal["NOK"] | None = Field(None, description="Only NOK.")
    sales: list[SaleIn]
    payments: list[PaymentIn]
    tips: NonNegativeAmount | None = None
    gift_cards_sold: NonNegativeAmount | None = None
    rounding: Amount | None = None
    cash_count: CashCountIn | None = None
    pay_ins: list[CashMovementIn] | None = None
    pay_outs: list[CashMovementIn] | None = None
    counters: CountersIn | None = None
    correction: bool | None = Field(
        None,
        description=(
            "true: this corrects the settlement sent before under the same register_id and "
            "z_number, also one that is already in the books (it is reversed and this one "
            "posted). Without it, other content for a balanced settlement is refused (409)."
        ),
    )

    @field_validator("closed_at")
    @classmethod
    def _not_before_opening(
        cls, closed: dt.datetime | None, info: ValidationInfo
    ) -> dt.datetime | None:
        opened = info.data.get("opened_at")
        if opened and closed and closed < opened:
            raise _error("closed_before_opened")
        return closed


def settlement_json_schema() -> dict[str, Any]:
    """The JSON Schema published at /api/v1/schema/settlement.json, made from SettlementIn."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **SettlementIn.model_json_schema(),
    }


def _data(body: SettlementIn) -> SettlementData:
    counters = body.counters.model_dump(exclude_none=True) if body.counters else {}
    for name in ("returns_amount", "discounts_amount"):
        if name in counters:
            # Kept as text ("350.00") so the counters are plain JSON wherever they go.
            counters[name] = _money(counters[name])
    return SettlementData(
        register_id=body.register_id,
        z_number=body.z_number,
        business_date=body.business_date,
        opened_at=body.opened_at,
        closed_at=body.closed_at,
        currency=body.currency or "NOK",
        sales=tuple(
            SaleLineData(
                product_group=line.product_group,
                vat_rate=line.vat_rate,
                gross_amount=line.gross_amount,
                vat_amount=(
                    vat_from_gross(line.gross_amount, line.vat_rate)
                    if line.vat_amount is None
                    else line.vat_amount
                ),
                count=line.count,
            )
            for line in body.sales
        ),
        payments=tuple(PaymentData(method=p.method, amount=p.amount) for p in body.payments),
        tips=body.tips if body.tips is not None else ZERO,
        gift_cards_sold=body.gift_cards_sold if body.gift_cards_sold is not None else ZERO,
        rounding=body.rounding if body.rounding is not None else ZERO,
        cash_count=(
            CashCount(
                opening_float=(
                    body.cash_count.opening_float
                    if body.cash_count.opening_float is not None
                    else ZERO
                ),
                counted=body.cash_count.counted,
            )
            if body.cash_count
            else None
        ),
        pay_ins=tuple(
            CashMovementData(reason=m.reason or "", amount=m.amount) for m in body.pay_ins or ()
        ),
        pay_outs=tuple(
            CashMovementData(reason=m.reason or "", amount=m.amount) for m in body.pay_outs or ()
        ),
        counters=counters,
        correction=bool(body.correction),
    )


def parse_settlement(obj: Any) -> SettlementData:
    """A decoded JSON body → SettlementData, or SettlementInvalid naming every bad field."""
    try:
        body = SettlementIn.model_validate(obj)
    except ValidationError as exc:
        raise SettlementInvalid(problems(exc, SettlementIn)) from None
    data = _data(body)
    # Each amount fits the database; their sums must too (many huge lines could overflow).
    errors = [
        {"path": path, "message": _("Summen av beløpene er for stor.")}
        for path, total in (
            ("sales", data.total_sales),
            ("sales", data.total_vat),
            ("payments", data.total_payments),
            ("payments", data.balance_difference),
            ("cash_count", data.cash_difference or ZERO),
        )
        if abs(total) >= MONEY_LIMIT
    ]
    if errors:
        raise SettlementInvalid(errors)
    return data


# --------------------------------------------------------------------------- canonical form


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT))


def _moment(value: dt.datetime | None) -> str | None:
    # One instant, one text: "+01:00" and the same time in UTC are the same content.
    return value.astimezone(dt.UTC).isoformat() if value else None


def canonical(data: SettlementData) -> dict:
    """The settlement as plain JSON after parsing: amounts as "6000.00", rates as "25",
    VAT filled in, instants in UTC, optional fields present with their defaults. Two bodies
    with the same content have the same canonical form (and so the same content hash)."""
    return {
        "register_id": data.register_id,
        "z_number": data.z_number,
        "business_date": data.business_date.isoformat(),
        "opened_at": _moment(data.opened_at),
        "closed_at": _moment(data.closed_at),
        "currency": data.currency,
        "sales": [
            {
                "product_group": line.product_group,
                "vat_rate": rate_key(line.vat_rate),
                "gross_amount": _money(line.gross_amount),
                "vat_amount": _money(line.vat_amount),
                "count": line.count,
            }
            for line in data.sales
        ],
        "payments": [{"method": p.method, "amount": _money(p.amount)} for p in data.payments],
        "tips": _money(data.tips),
        "gift_cards_sold": _money(data.gift_cards_sold),
        "rounding": _money(data.rounding),
        "cash_count": (
            {
                "opening_float": _money(data.cash_count.opening_float),
                "counted": _money(data.cash_count.counted),
            }
            if data.cash_count
            else None
        ),
        "pay_ins": [{"reason": m.reason, "amount": _money(m.amount)} for m in data.pay_ins],
        "pay_outs": [{"reason": m.reason, "amount": _money(m.amount)} for m in data.pay_outs],
        "counters": dict(sorted(data.counters.items())),
    }


def content_hash(payload: dict) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_body(raw: bytes) -> SettlementData:
    """decode_body + parse_settlement: what the API does with a request body."""
    return parse_settlement(decode_body(raw))


__all__ = [
    "SettlementInvalid",
    "canonical",
    "content_hash",
    "decode_body",
    "parse_body",
    "parse_settlement",
    "settlement_json_schema",
]
