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
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _

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

TOP_LEVEL_FIELDS = (
    "register_id",
    "z_number",
    "business_date",
    "opened_at",
    "closed_at",
    "currency",
    "sales",
    "payments",
    "tips",
    "gift_cards_sold",
    "rounding",
    "cash_count",
    "pay_ins",
    "pay_outs",
    "counters",
)
REQUIRED_FIELDS = ("register_id", "z_number", "business_date", "sales", "payments")
SALE_FIELDS = ("product_group", "vat_rate", "gross_amount", "vat_amount", "count")
PAYMENT_FIELDS = ("method", "amount")
MOVEMENT_FIELDS = ("reason", "amount")
CASH_COUNT_FIELDS = ("opening_float", "counted")
COUNTER_COUNTS = ("receipts", "returns_count", "discounts_count", "no_sale_openings")
COUNTER_AMOUNTS = ("returns_amount", "discounts_amount")
COUNTER_FIELDS = (
    "receipts",
    "returns_count",
    "returns_amount",
    "discounts_count",
    "discounts_amount",
    "no_sale_openings",
)
CURRENCIES = ("NOK",)


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


# --------------------------------------------------------------------------- parsing


class _Collector:
    """Gathers errors while the parser goes on, so one answer names every bad field."""

    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.errors.append({"path": path, "message": message})

    def unknown_fields(self, obj: dict, known: tuple[str, ...], prefix: str) -> None:
        for key in obj:
            if key not in known:
                self.add(
                    f"{prefix}{key}",
                    _("Ukjent felt «{key}». Tillatte felt her: {known}.").format(
                        key=key, known=", ".join(known)
                    ),
                )

    def amount(self, value: Any, path: str, *, non_negative: bool = False) -> Decimal | None:
        """An amount in kroner: a string like "6000.00" or a JSON number, exact to the øre."""
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            self.add(path, _("Må være et beløp, som tekst («1200.00») eller tall."))
            return None
        if isinstance(value, str):
            if not MONEY_RE.fullmatch(value):
                self.add(
                    path,
                    _(
                        "«{value}» er ikke et beløp med høyst 2 desimaler (for eksempel «1200.00»)."
                    ).format(value=value[:40]),
                )
                return None
            amount = Decimal(value)
        else:
            amount = Decimal(value)
            if not amount.is_finite():
                self.add(path, _("Må være et endelig tall."))
                return None
            if abs(amount) >= MONEY_LIMIT:
                self.add(path, _("Beløpet er for stort."))
                return None
            if amount != amount.quantize(CENT):
                self.add(path, _("Beløpet kan ha høyst 2 desimaler."))
                return None
        if non_negative and amount < 0:
            self.add(path, _("Kan ikke være negativt."))
            return None
        return amount.quantize(CENT)

    def count(
        self, value: Any, path: str, *, maximum: int = COUNT_MAX, signed: bool = False
    ) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(path, _("Må være et heltall."))
            return None
        if value < 0 and not signed:
            self.add(path, _("Kan ikke være negativt."))
            return None
        if abs(value) > maximum:
            self.add(path, _("Tallet er for stort."))
            return None
        return value

    def text(self, value: Any, path: str, *, max_length: int, required: bool = True) -> str | None:
        if value is None and not required:
            return ""
        if not isinstance(value, str):
            self.add(path, _("Må være tekst."))
            return None
        value = _strip_invisible(value)
        if required and not value:
            self.add(path, _("Kan ikke være tom."))
            return None
        if len(value) > max_length:
            self.add(path, _("Kan ha høyst {n} tegn.").format(n=max_length))
            return None
        return value

    def rate(self, value: Any, path: str) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            self.add(path, _("Må være en mva-sats i prosent, som tekst («25») eller tall."))
            return None
        if isinstance(value, str):
            if not RATE_RE.fullmatch(value):
                self.add(
                    path,
                    _("«{value}» er ikke en mva-sats i prosent (for eksempel «25»).").format(
                        value=value[:40]
                    ),
                )
                return None
            rate = Decimal(value)
        else:
            rate = Decimal(value)
            if not rate.is_finite():
                self.add(path, _("Må være et endelig tall."))
                return None
        if not 0 <= rate <= 100:
            self.add(path, _("Mva-satsen må være mellom 0 og 100."))
            return None
        if rate != rate.quantize(CENT):
            self.add(path, _("Mva-satsen kan ha høyst 2 desimaler."))
            return None
        return normalize_rate(rate)

    def datetime(self, value: Any, path: str) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self.add(path, _("Må være et tidspunkt som tekst (ISO 8601)."))
            return None
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            self.add(
                path,
                _(
                    "«{value}» er ikke et tidspunkt (ISO 8601, for eksempel «2026-11-27T21:04:55+01:00»)."
                ).format(value=value[:40]),
            )
            return None
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
            self.add(path, _("Tidspunktet er utenfor gyldig område."))
            return None

    def items(self, value: Any, path: str) -> list:
        if not isinstance(value, list):
            self.add(path, _("Må være en liste."))
            return []
        return value

    def obj(self, value: Any, path: str) -> dict | None:
        if not isinstance(value, dict):
            self.add(path, _("Må være et objekt."))
            return None
        return value


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


def _today_in_oslo() -> dt.date:
    return timezone.now().astimezone(OSLO).date()


def _business_date(c: _Collector, value: Any) -> dt.date | None:
    if not isinstance(value, str) or not DATE_RE.fullmatch(value):
        c.add("business_date", _("Må være en dato som tekst, ÅÅÅÅ-MM-DD."))
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        c.add("business_date", _("«{value}» er ikke en gyldig dato.").format(value=value))
        return None
    # The till's clock may be a little ahead near midnight; a day further is a typo.
    latest = _today_in_oslo() + dt.timedelta(days=1)
    if day > latest:
        c.add(
            "business_date",
            _("Datoen {day} ligger fram i tid (senest {latest}).").format(
                day=day.isoformat(), latest=latest.isoformat()
            ),
        )
        return None
    if day < EARLIEST_DATE:
        c.add("business_date", _("Datoen {day} er for gammel.").format(day=day.isoformat()))
        return None
    return day


def _sale(c: _Collector, raw: Any, path: str) -> SaleLineData | None:
    line = c.obj(raw, path)
    if line is None:
        return None
    c.unknown_fields(line, SALE_FIELDS, f"{path}.")
    before = len(c.errors)
    for name in ("product_group", "vat_rate", "gross_amount"):
        if name not in line:
            c.add(f"{path}.{name}", _("Mangler."))
    group = (
        c.text(line.get("product_group"), f"{path}.product_group", max_length=TEXT_MAX)
        if "product_group" in line
        else None
    )
    rate = c.rate(line["vat_rate"], f"{path}.vat_rate") if "vat_rate" in line else None
    gross = (
        c.amount(line["gross_amount"], f"{path}.gross_amount") if "gross_amount" in line else None
    )
    vat = None
    if line.get("vat_amount") is not None:
        vat = c.amount(line["vat_amount"], f"{path}.vat_amount")
    count = None
    if line.get("count") is not None:
        # Net of returns, like gross_amount: a returns-only group has a negative count.
        count = c.count(line["count"], f"{path}.count", signed=True)
    if len(c.errors) > before:
        return None
    if vat is None:
        vat = vat_from_gross(gross, rate)
    elif rate == 0 and vat != 0:
        c.add(f"{path}.vat_amount", _("Mva må være 0 når satsen er 0 %."))
        return None
    elif abs(vat) > abs(gross) or (vat and gross and (vat < 0) != (gross < 0)):
        c.add(
            f"{path}.vat_amount",
            _("Mva kan ikke være større enn bruttobeløpet eller ha motsatt fortegn."),
        )
        return None
    return SaleLineData(
        product_group=group, vat_rate=rate, gross_amount=gross, vat_amount=vat, count=count
    )


def _payment(c: _Collector, raw: Any, path: str) -> PaymentData | None:
    payment = c.obj(raw, path)
    if payment is None:
        return None
    c.unknown_fields(payment, PAYMENT_FIELDS, f"{path}.")
    before = len(c.errors)
    for name in PAYMENT_FIELDS:
        if name not in payment:
            c.add(f"{path}.{name}", _("Mangler."))
    method = (
        c.text(payment["method"], f"{path}.method", max_length=TEXT_MAX)
        if "method" in payment
        else None
    )
    amount = c.amount(payment["amount"], f"{path}.amount") if "amount" in payment else None
    if len(c.errors) > before:
        return None
    return PaymentData(method=method, amount=amount)


def _movement(c: _Collector, raw: Any, path: str) -> CashMovementData | None:
    movement = c.obj(raw, path)
    if movement is None:
        return None
    c.unknown_fields(movement, MOVEMENT_FIELDS, f"{path}.")
    before = len(c.errors)
    reason = c.text(movement.get("reason"), f"{path}.reason", max_length=REASON_MAX, required=False)
    if "amount" not in movement:
        c.add(f"{path}.amount", _("Mangler."))
        amount = None
    else:
        amount = c.amount(movement["amount"], f"{path}.amount", non_negative=True)
    if len(c.errors) > before:
        return None
    return CashMovementData(reason=reason or "", amount=amount)


def _cash_count(c: _Collector, raw: Any) -> CashCount | None:
    count = c.obj(raw, "cash_count")
    if count is None:
        return None
    c.unknown_fields(count, CASH_COUNT_FIELDS, "cash_count.")
    opening = ZERO
    if count.get("opening_float") is not None:
        opening = c.amount(count["opening_float"], "cash_count.opening_float", non_negative=True)
    if count.get("counted") is None:
        c.add("cash_count.counted", _("Mangler: opptalt beløp i kassen."))
        return None
    counted = c.amount(count["counted"], "cash_count.counted", non_negative=True)
    if opening is None or counted is None:
        return None
    return CashCount(opening_float=opening, counted=counted)


def _counters(c: _Collector, raw: Any) -> dict:
    counters = c.obj(raw, "counters")
    if counters is None:
        return {}
    c.unknown_fields(counters, COUNTER_FIELDS, "counters.")
    result: dict = {}
    for name in COUNTER_FIELDS:
        value = counters.get(name)
        if value is None:
            continue
        if name in COUNTER_COUNTS:
            parsed = c.count(value, f"counters.{name}")
        else:
            parsed = c.amount(value, f"counters.{name}", non_negative=True)
            # Kept as text ("350.00") so the counters are plain JSON wherever they go.
            parsed = None if parsed is None else _money(parsed)
        if parsed is not None:
            result[name] = parsed
    return result


def _optional_amount(c: _Collector, body: dict, name: str, *, non_negative: bool) -> Decimal:
    if body.get(name) is None:
        return ZERO
    return c.amount(body[name], name, non_negative=non_negative) or ZERO


def parse_settlement(obj: Any) -> SettlementData:
    """A decoded JSON body → SettlementData, or SettlementInvalid naming every bad field."""
    c = _Collector()
    body = c.obj(obj, "")
    if body is None:
        raise SettlementInvalid(c.errors)

    c.unknown_fields(body, TOP_LEVEL_FIELDS, "")
    for name in REQUIRED_FIELDS:
        if body.get(name) is None:
            c.add(name, _("Mangler: feltet er påkrevd."))

    register_id = None
    if body.get("register_id") is not None:
        register_id = c.text(body["register_id"], "register_id", max_length=REGISTER_ID_MAX)
    z_number = None
    if body.get("z_number") is not None:
        z_number = c.count(body["z_number"], "z_number", maximum=Z_NUMBER_MAX)
    business_date = None
    if body.get("business_date") is not None:
        business_date = _business_date(c, body["business_date"])
    opened_at = c.datetime(body.get("opened_at"), "opened_at")
    closed_at = c.datetime(body.get("closed_at"), "closed_at")
    if opened_at and closed_at and closed_at < opened_at:
        c.add("closed_at", _("Kassen kan ikke være stengt før den ble åpnet (opened_at)."))

    currency = body.get("currency")
    if currency is None:
        currency = "NOK"
    elif currency not in CURRENCIES:
        c.add(
            "currency",
            _("Bare NOK er støttet (fikk «{value}»).").format(value=str(currency)[:20]),
        )

    sales = (
        [_sale(c, raw, f"sales[{i}]") for i, raw in enumerate(c.items(body["sales"], "sales"))]
        if body.get("sales") is not None
        else []
    )
    payments = (
        [
            _payment(c, raw, f"payments[{i}]")
            for i, raw in enumerate(c.items(body["payments"], "payments"))
        ]
        if body.get("payments") is not None
        else []
    )

    tips = _optional_amount(c, body, "tips", non_negative=True)
    gift_cards_sold = _optional_amount(c, body, "gift_cards_sold", non_negative=True)
    rounding = _optional_amount(c, body, "rounding", non_negative=False)
    cash_count = _cash_count(c, body["cash_count"]) if body.get("cash_count") is not None else None
    pay_ins = (
        [
            _movement(c, raw, f"pay_ins[{i}]")
            for i, raw in enumerate(c.items(body["pay_ins"], "pay_ins"))
        ]
        if body.get("pay_ins") is not None
        else []
    )
    pay_outs = (
        [
            _movement(c, raw, f"pay_outs[{i}]")
            for i, raw in enumerate(c.items(body["pay_outs"], "pay_outs"))
        ]
        if body.get("pay_outs") is not None
        else []
    )
    counters = _counters(c, body["counters"]) if body.get("counters") is not None else {}

    if c.errors:
        raise SettlementInvalid(c.errors)

    data = SettlementData(
        register_id=register_id,
        z_number=z_number,
        business_date=business_date,
        opened_at=opened_at,
        closed_at=closed_at,
        currency=currency,
        sales=tuple(sales),
        payments=tuple(payments),
        tips=tips,
        gift_cards_sold=gift_cards_sold,
        rounding=rounding,
        cash_count=cash_count,
        pay_ins=tuple(pay_ins),
        pay_outs=tuple(pay_outs),
        counters=counters,
    )
    # Each amount fits the database; their sums must too (many huge lines could overflow).
    for path, total in (
        ("sales", data.total_sales),
        ("sales", data.total_vat),
        ("payments", data.total_payments),
        ("payments", data.balance_difference),
        ("cash_count", data.cash_difference or ZERO),
    ):
        if abs(total) >= MONEY_LIMIT:
            c.add(path, _("Summen av beløpene er for stor."))
    if c.errors:
        raise SettlementInvalid(c.errors)
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
]
