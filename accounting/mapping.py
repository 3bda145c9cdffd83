"""The kontooppsett as plain values, its JSON form and its validation. No database.

The JSON form is `mapping` of the worked example (../shared/DESIGN.md 4.4 `account_mapping`):

    {"sales_by_vat_rate": {"25": {"account": 3000, "vat_code": "3"}, ...},
     "sales_by_product_group": {"Klær": {"account": 3000, "vat_code": "3"}},
     "output_vat_by_rate": {"25": 2700, ...},
     "payments": {"cash": 1900, "card": 1901, ...},
     "tips": 2910, "gift_cards_sold": 2901, "rounding": 7740, "cash": 1900,
     "cash_difference": 1909, "pay_ins": 1911, "pay_outs": 1911}

Rates are keyed by `settlements.domain.rate_key` ("25.00" and 25 are the key "25").
`MappingData` holds complete entries only: an unmapped category is simply absent (or None).
`MappingIn` (pydantic) validates the JSON form; its messages are in backoffice.validation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from django.utils.translation import gettext as _
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from backoffice.templatetags.money import format_rate
from backoffice.validation import error, message, render
from settlements.domain import normalize_rate, rate_key

from . import saft
from .catalog import Catalog

SINGLE_FIELDS = (
    "tips",
    "gift_cards_sold",
    "rounding",
    "cash",
    "cash_difference",
    "pay_ins",
    "pay_outs",
)
TOP_LEVEL_KEYS = (
    "sales_by_vat_rate",
    "sales_by_product_group",
    "output_vat_by_rate",
    "payments",
    *SINGLE_FIELDS,
)
# Account numbers: integers of 4 digits or more; 9 digits at most so they fit everywhere.
MIN_ACCOUNT = 1000
MAX_ACCOUNT = 999_999_999
MAX_KEY_LENGTH = 100  # product group and payment method names, as the settlement stores them

# "Bruk standard kontoplan": NS 4102 accounts and SAF-T codes every Norwegian bookkeeper
# uses for a till (the worked example's mapping is one such default).
STANDARD_RATES = ("25", "15", "12", "0")
STANDARD_METHODS = ("cash", "card", "vipps", "gift_card", "invoice")
STANDARD_SALES = {"25": (3000, "3"), "15": (3030, "31"), "12": (3050, "33"), "0": (3100, "5")}
STANDARD_OUTPUT_VAT = {"25": 2700, "15": 2701, "12": 2703}
STANDARD_PAYMENTS = {"cash": 1900, "card": 1901, "vipps": 1902, "gift_card": 2901, "invoice": 1500}
STANDARD_SINGLES = {
    "tips": 2910,
    "gift_cards_sold": 2901,
    "rounding": 7740,
    "cash": 1900,
    "cash_difference": 1909,
    "pay_ins": 1911,
    "pay_outs": 1911,
}


@dataclass(frozen=True)
class SalesAccount:
    account: int
    vat_code: str


@dataclass(frozen=True)
class MappingData:
    sales_by_vat_rate: dict[str, SalesAccount] = field(default_factory=dict)
    sales_by_product_group: dict[str, SalesAccount] = field(default_factory=dict)
    output_vat_by_rate: dict[str, int] = field(default_factory=dict)
    payments: dict[str, int] = field(default_factory=dict)
    tips: int | None = None
    gift_cards_sold: int | None = None
    rounding: int | None = None
    cash: int | None = None
    cash_difference: int | None = None
    pay_ins: int | None = None
    pay_outs: int | None = None


@dataclass(frozen=True)
class MappingError:
    path: tuple[str, ...]
    message: str

    @property
    def path_text(self) -> str:
        return ".".join(self.path)

    def __str__(self) -> str:
        return f"{self.path_text}: {self.message}" if self.path else self.message


class MappingValidationError(ValueError):
    def __init__(self, errors: list[MappingError]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


# ---------------------------------------------------------------------------------- labels


def rate_label(key) -> str:
    """A rate as Norwegian texts write it: "25 %", "11,11 %" (voucher rows, messages)."""
    return format_rate(key)


def label(category: str, key: str | None = None) -> str:
    """What the admin calls an entry of the kontooppsett ("Salg 15 %", "Betalingsmåten vipps")."""
    if category == "sales_by_vat_rate":
        return _("Salg %(rate)s") % {"rate": rate_label(key)}
    if category == "sales_by_product_group":
        return _("Varegruppe %(name)s") % {"name": key}
    if category == "output_vat_by_rate":
        return _("Utgående mva %(rate)s") % {"rate": rate_label(key)}
    if category == "payments":
        return _("Betalingsmåten %(method)s") % {"method": key}
    return {
        "tips": _("Tips"),
        "gift_cards_sold": _("Gavekort solgt"),
        "rounding": _("Øreavrunding"),
        "cash": _("Kasse"),
        "cash_difference": _("Kassedifferanse"),
        "pay_ins": _("Innskudd kasse"),
        "pay_outs": _("Uttak kasse"),
    }.get(category, category)


def system_name(catalog: Catalog) -> str:
    """ "Visma eAccounting" out of a catalog source like "Visma eAccounting: Fjordkafé AS"."""
    return catalog.source.split(":")[0].strip() or _("regnskapssystemet")


# ---------------------------------------------------------------------------------- VAT codes


def catalog_rate_percent(rate) -> Decimal | None:
    """A catalog's VAT rate in percent. Accounting systems give either 25 or 0.25; no
    Norwegian rate lies strictly between 0 and 1 %, so a value there is a fraction."""
    if rate is None:
        return None
    value = Decimal(str(rate))
    if 0 < value < 1:
        value *= 100
    return normalize_rate(value)


def vat_code_rate(code: str, catalog: Catalog | None = None) -> Decimal | None:
    """The rate a VAT code stands for: the company's own answer where known, else SAF-T's."""
    if catalog is not None:
        known = catalog.vat_codes.get(code)
        if known is not None and known.rate is not None:
            return catalog_rate_percent(known.rate)
    standard = saft.tax_code(code)
    return standard.rate if standard is not None else None


def _sales_code_error(code: str, rate, catalog: Catalog | None) -> PydanticCustomError | None:
    standard = saft.tax_code(code)
    if standard is not None and not standard.sales:
        return error("vat_code_not_sales", code=code, description=standard.description)
    if catalog is not None:
        if code not in catalog.vat_codes:
            return error("vat_code_unknown", code=code, system=system_name(catalog))
    elif standard is None:
        return error("vat_code_not_saft", code=code)
    code_rate = vat_code_rate(code, catalog)
    if rate is not None and code_rate is not None and code_rate != normalize_rate(rate):
        return error(
            "vat_code_rate", code=code, code_rate=rate_label(code_rate), rate=rate_label(rate)
        )
    return None


def _account_error(account: int, catalog: Catalog | None) -> PydanticCustomError | None:
    if catalog is None:
        return None
    known = catalog.accounts.get(account)
    if known is None:
        return error("account_unknown", account=account, system=system_name(catalog))
    if not known.active:
        return error("account_inactive", account=account, system=system_name(catalog))
    return None


def account_warning(account: int, catalog: Catalog | None) -> str | None:
    """Why the accounting system would refuse a transfer's row on `account` although the
    account exists and is active (a warning: the admin may be about to change it there)."""
    if catalog is None:
        return None
    known = catalog.accounts.get(account)
    if known is None or not known.active:
        return None
    if known.blocked_for_manual_booking:
        return _(
            "Konto %(account)s er sperret for manuell bokføring i %(system)s, så "
            "dagsoppgjør som føres på den, blir ikke overført. Velg en annen konto, eller "
            "fjern sperren i %(system)s."
        ) % {"account": account, "system": system_name(catalog)}
    if known.first_cost_center_mandatory:
        return _(
            "Konto %(account)s krever kostnadssted i %(system)s, så dagsoppgjør som føres "
            "på den, blir bare overført fra butikker med kostnadssted valgt under Oppsett > "
            "Integrasjoner. Velg en annen konto, eller slå av kravet i %(system)s."
        ) % {"account": account, "system": system_name(catalog)}
    return None


def _text_of(problem: PydanticCustomError | None) -> str | None:
    return None if problem is None else render(problem.type, problem.context)


def sales_code_problem(code: str, rate: str | None, catalog: Catalog | None) -> str | None:
    """Why `code` may not stand on a sales row of `rate` (None when it may)."""
    return _text_of(_sales_code_error(code, rate, catalog))


def account_problem(account: int, catalog: Catalog | None) -> str | None:
    """Why the company cannot take `account` (None when it can, or nothing is known)."""
    return _text_of(_account_error(account, catalog))


# ---------------------------------------------------------------------------------- validation
# `MappingIn` validates the JSON form with pydantic. The validators below say what pydantic's
# own types cannot (an account is digits or an integer, never 3000.0 or true; a rate key is a
# number with at most 2 decimals; a sales code must fit its rate) and raise the error types
# of backoffice.validation.MESSAGES, so every problem keeps its path and its Norwegian text.
# The validation context carries the company's catalog and the rates each product group is
# sold at (`mapping_from_json`); a stored kontooppsett is read without them
# (`mapping_from_stored`): its codes were checked when it was saved, and the page shows
# where they no longer fit the company.
# https://docs.pydantic.dev/latest/concepts/validators/#validation-context

_DIGITS = re.compile(r"[0-9]+")
# NUL and lone UTF-16 surrogates: no database text (nor UTF-8) holds them.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _context(info: ValidationInfo) -> dict:
    return info.context or {}


def _detail(loc: tuple, problem: PydanticCustomError, value: Any = None) -> InitErrorDetails:
    return InitErrorDetails(type=problem, loc=loc, input=value)


def _details(exc: ValidationError, *prefix: str) -> list[InitErrorDetails]:
    """The errors of a nested validation, to be raised again (under `prefix`) with others."""
    return [
        _detail(
            (*prefix, *e["loc"]),
            PydanticCustomError(e["type"], e["type"], e.get("ctx")),
            e["input"],
        )
        for e in exc.errors(include_url=False)
    ]


def _refuse(problems: list[InitErrorDetails]) -> None:
    if problems:
        raise ValidationError.from_exception_data("MappingIn", problems)


def _account(value: Any, info: ValidationInfo) -> int | None:
    """An account number, or None (unmapped) for nothing or an empty text."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        digits = value.strip().lstrip("0") or "0"
        # int() refuses texts of over 4300 digits; anything past 18 is too long anyway.
        number = int(digits) if len(digits) <= 18 else MAX_ACCOUNT + 1
    else:
        raise error("account_format")
    if number < MIN_ACCOUNT:
        raise error("account_format")
    if number > MAX_ACCOUNT:
        raise error("account_too_long")
    problem = _account_error(number, _context(info).get("catalog"))
    if problem:
        raise problem
    return number


def _vat_code(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value.strip()) > 20:
        raise error("vat_code_format")
    return value.strip() or None


def _no_vat_code(value: Any) -> None:
    if value not in (None, ""):
        raise error("vat_code_not_here")


def _rate_key(key: Any) -> str:
    try:
        rate = normalize_rate(str(key).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        rate = None
    if rate is None or not rate.is_finite() or rate < 0 or rate >= 100:
        raise error("rate_key", value=str(key))
    if rate != rate.quantize(Decimal("0.01")):
        raise error("rate_key_places")
    return rate_key(rate)


def _name(unnamed: str) -> Callable[[Any], str]:
    def name(key: Any) -> str:
        # The tills' own names, matched exactly (whitespace included).
        text = str(key)
        if not text.strip():
            raise error(unnamed)
        if len(text) > MAX_KEY_LENGTH:
            raise error("name_too_long")
        if _UNSTORABLE.search(text):
            # No till can send such a name (the settlement API refuses it) and the
            # database could not store it.
            raise error("name_unstorable")
        return text

    return name


def _group_rate_error(
    name: str, code: str, group_rates: dict[str, set], catalog: Catalog | None
) -> PydanticCustomError | None:
    """An override whose VAT code does not fit a rate the product group is sold at."""
    code_rate = vat_code_rate(code, catalog)
    if code_rate is None:
        return None
    wrong = sorted({rate_key(r) for r in group_rates.get(name, ())} - {rate_key(code_rate)})
    if not wrong:
        return None
    return error(
        "group_rate",
        name=name,
        rates=", ".join(rate_label(r) for r in wrong),
        code=code,
        code_rate=rate_label(code_rate),
    )


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _AccountIn(_In):
    """{"account": 2700}: an account written like a sales entry, where no VAT code belongs."""

    account: Any = None  # checked by _plain_account, and named at the entry itself
    vat_code: Annotated[None, PlainValidator(_no_vat_code)] = None


def _plain_account(value: Any, info: ValidationInfo) -> int | None:
    """An account without a VAT code (payments, output VAT, cash, liabilities)."""
    if not isinstance(value, dict):
        return _account(value, info)
    problems = []
    try:
        _AccountIn.model_validate(value)
    except ValidationError as exc:
        problems = _details(exc)
    try:
        account = _account(value.get("account"), info)
    except PydanticCustomError as exc:
        problems.append(_detail((), exc, value.get("account")))
    _refuse(problems)
    return account


class SalesIn(_In):
    """A sales account and its output VAT code: a rate's, or a product group's own. The
    context names the rate (sales_by_vat_rate) or the product group."""

    account: Annotated[int | None, PlainValidator(_account)] = None
    vat_code: Annotated[str | None, PlainValidator(_vat_code)] = None

    @model_validator(mode="wrap")
    @classmethod
    def _complete(cls, data: Any, handler, info: ValidationInfo) -> SalesIn:
        # A wrap validator: these checks are named together with the fields' own problems.
        if not isinstance(data, dict):
            raise error("mapping_sales_type")
        problems = []
        try:
            entry = handler(data)
        except ValidationError as exc:
            entry, problems = None, _details(exc)
        try:
            code = _vat_code(data.get("vat_code"))
        except PydanticCustomError:
            code = None  # named by the field
        account_given = data.get("account") not in (None, "")
        if code is None and account_given:
            problems.append(_detail(("vat_code",), error("vat_code_missing")))
        if code is not None and not account_given:
            problems.append(_detail(("account",), error("vat_code_without_account")))
        context = _context(info)
        if code is not None and not context.get("stored"):
            catalog = context.get("catalog")
            problem = _sales_code_error(code, context.get("rate"), catalog)
            if problem is None and "group" in context:
                problem = _group_rate_error(
                    context["group"], code, context.get("group_rates") or {}, catalog
                )
            if problem:
                problems.append(_detail(("vat_code",), problem, code))
        _refuse(problems)
        return entry


def _sales_entry(kind: str):
    def entry(value: Any, key: str, info: ValidationInfo) -> SalesAccount | None:
        if value is None:
            return None
        valid = SalesIn.model_validate(value, context={**_context(info), kind: key})
        if valid.account is None or valid.vat_code is None:
            return None
        return SalesAccount(valid.account, valid.vat_code)

    return entry


def _plain_entry(value: Any, key: str, info: ValidationInfo) -> int | None:
    return _plain_account(value, info)


def _keyed(key_of, entry_of, twice=None) -> PlainValidator:
    """One section of keyed entries ({"25": {...}}, {"cash": 1900}), None or {} when empty.
    Walked here rather than by pydantic's dict: an entry's checks need its key (the rate
    its VAT code must have), and two keys may be one rate ("25" and "25.00")."""

    def validate(value: Any, info: ValidationInfo) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise error("mapping_section_type")
        entries: dict = {}
        problems: list[InitErrorDetails] = []
        for raw_key, raw in value.items():
            loc = (str(raw_key),)
            try:
                key = key_of(raw_key)
                if twice is not None and key in entries:
                    raise twice(key)
                entry = entry_of(raw, key, info)
            except PydanticCustomError as exc:
                problems.append(_detail(loc, exc, raw))
            except ValidationError as exc:
                problems.extend(_details(exc, *loc))
            else:
                if entry is not None:
                    entries[key] = entry
        _refuse(problems)
        return entries

    return PlainValidator(validate)


def _rate_twice(key: str) -> PydanticCustomError:
    return error("rate_twice", rate=rate_label(key))


def _group_twice(name: str) -> PydanticCustomError:
    return error("group_twice", name=name)


PlainAccount = Annotated[int | None, PlainValidator(_plain_account)]


class MappingIn(_In):
    """The JSON form of a kontooppsett (DESIGN.md 4.4). Unmapped entries (null, empty) are
    left out; every problem is named with its path."""

    sales_by_vat_rate: Annotated[
        dict[str, SalesAccount], _keyed(_rate_key, _sales_entry("rate"), _rate_twice)
    ] = Field(default_factory=dict)
    sales_by_product_group: Annotated[
        dict[str, SalesAccount],
        _keyed(_name("group_unnamed"), _sales_entry("group"), _group_twice),
    ] = Field(default_factory=dict)
    output_vat_by_rate: Annotated[dict[str, int], _keyed(_rate_key, _plain_entry, _rate_twice)] = (
        Field(default_factory=dict)
    )
    payments: Annotated[dict[str, int], _keyed(_name("method_unnamed"), _plain_entry)] = Field(
        default_factory=dict
    )
    tips: PlainAccount = None
    gift_cards_sold: PlainAccount = None
    rounding: PlainAccount = None
    cash: PlainAccount = None
    cash_difference: PlainAccount = None
    pay_ins: PlainAccount = None
    pay_outs: PlainAccount = None


def _unknown_first(error_details) -> tuple:
    """Unknown top-level fields first, by name, as the kontooppsett has always listed them."""
    loc = error_details["loc"]
    if len(loc) == 1 and error_details["type"] == "extra_forbidden":
        return (0, str(loc[0]))
    return (1, "")


def _validated(data: Any, context: dict) -> MappingData:
    try:
        valid = MappingIn.model_validate(data, context=context)
    except ValidationError as exc:
        raise MappingValidationError(
            [
                MappingError(tuple(str(part) for part in e["loc"]), message(e, MappingIn))
                for e in sorted(exc.errors(include_url=False), key=_unknown_first)
            ]
        ) from None
    return MappingData(**dict(valid))


def mapping_from_json(
    data, *, catalog: Catalog | None = None, group_rates: dict[str, set] | None = None
) -> MappingData:
    """Parse and validate the JSON form; raises MappingValidationError listing every problem
    (path and Norwegian message). With a catalog, accounts and VAT codes must exist there;
    with `group_rates` (product group -> the rates it is sold at), a product group's own
    VAT code must be that of every rate it is sold at."""
    return _validated(data, {"catalog": catalog, "group_rates": group_rates or {}})


def mapping_from_stored(data) -> MappingData:
    """The kontooppsett as `AccountMapping.mapping` holds it (the JSON form): its shape is
    checked again, its codes are not (see above)."""
    return _validated(data, {"stored": True})


def mapping_to_json(mapping: MappingData) -> dict:
    """The JSON form (rates from high to low, names sorted; unmapped singles as null)."""
    return {
        "sales_by_vat_rate": {
            key: {"account": entry.account, "vat_code": entry.vat_code}
            for key, entry in sorted(
                mapping.sales_by_vat_rate.items(), key=lambda i: rate_order(i[0])
            )
        },
        "sales_by_product_group": {
            name: {"account": entry.account, "vat_code": entry.vat_code}
            for name, entry in sorted(mapping.sales_by_product_group.items())
        },
        "output_vat_by_rate": {
            key: account
            for key, account in sorted(
                mapping.output_vat_by_rate.items(), key=lambda i: rate_order(i[0])
            )
        },
        "payments": dict(sorted(mapping.payments.items(), key=lambda i: method_order(i[0]))),
        **{name: getattr(mapping, name) for name in SINGLE_FIELDS},
    }


def method_order(method: str) -> tuple:
    """The standard methods first, in the till's usual order, then the others by name."""
    if method in STANDARD_METHODS:
        return (0, STANDARD_METHODS.index(method), "")
    return (1, 0, method.lower())


def rate_order(key) -> Decimal:
    return -normalize_rate(key)


# ---------------------------------------------------------------------------------- standard chart


def _empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _usable_account(account: int, catalog: Catalog | None) -> bool:
    return account_problem(account, catalog) is None


def _usable_code(code: str, rate: str, catalog: Catalog | None) -> bool:
    return sales_code_problem(code, rate, catalog) is None


def _normalized_keys(section: dict) -> dict[str, str]:
    """rate_key -> the key as written, for the keys that are rates."""
    keys = {}
    for key in section:
        try:
            keys[rate_key(str(key).strip().replace(",", "."))] = key
        except (InvalidOperation, ValueError):
            continue
    return keys


def fill_standard_chart(
    data: dict,
    *,
    rates=STANDARD_RATES,
    methods=STANDARD_METHODS,
    catalog: Catalog | None = None,
) -> dict:
    """The JSON form with the standard accounts and codes filled into the EMPTY fields only:
    whatever the admin already entered stays. With a catalog, only accounts and codes the
    company has (and that are active) are offered."""
    data = {key: (dict(value) if isinstance(value, dict) else value) for key, value in data.items()}

    wanted_rates = {rate_key(r) for r in rates}
    sales = data.setdefault("sales_by_vat_rate", {})
    written = _normalized_keys(sales)
    for rate, (account, code) in STANDARD_SALES.items():
        if rate not in wanted_rates:
            continue
        key = written.get(rate, rate)
        entry = dict(sales.get(key) or {})
        account_ok = _usable_account(account, catalog)
        code_ok = _usable_code(code, rate, catalog)
        if (
            _empty(entry.get("account"))
            and _empty(entry.get("vat_code"))
            and not (account_ok and code_ok)
        ):
            continue  # half a default would only be an error to fix
        if _empty(entry.get("account")) and account_ok:
            entry["account"] = account
        if _empty(entry.get("vat_code")) and code_ok:
            entry["vat_code"] = code
        sales[key] = entry

    output = data.setdefault("output_vat_by_rate", {})
    written = _normalized_keys(output)
    for rate, account in STANDARD_OUTPUT_VAT.items():
        key = written.get(rate, rate)
        if rate in wanted_rates and _empty(output.get(key)) and _usable_account(account, catalog):
            output[key] = account

    # Methods without a standard account (the till's own names) stay for the admin.
    payments = data.setdefault("payments", {})
    for method in methods:
        standard = STANDARD_PAYMENTS.get(method)
        if (
            standard is not None
            and _empty(payments.get(method))
            and _usable_account(standard, catalog)
        ):
            payments[method] = standard

    for name, account in STANDARD_SINGLES.items():
        if _empty(data.get(name)) and _usable_account(account, catalog):
            data[name] = account
    return data


# ---------------------------------------------------------------------------------- change log


def flatten(mapping: MappingData) -> dict[tuple[str, ...], object]:
    """Every entry as path -> JSON value, to compare two versions of a kontooppsett."""
    data = mapping_to_json(mapping)
    flat: dict[tuple[str, ...], object] = {}
    for section in (
        "sales_by_vat_rate",
        "sales_by_product_group",
        "output_vat_by_rate",
        "payments",
    ):
        for key, value in data[section].items():
            flat[(section, key)] = value
    for name in SINGLE_FIELDS:
        if data[name] is not None:
            flat[(name,)] = data[name]
    return flat


def diff(old: MappingData, new: MappingData) -> list[dict]:
    """[{"path": [...], "old": value or None, "new": value or None}] for every changed entry."""
    before, after = flatten(old), flatten(new)
    changes = []
    # In the order of the page: sales, product groups, VAT, payments, then the single accounts.
    for path in sorted(set(before) | set(after), key=lambda p: (TOP_LEVEL_KEYS.index(p[0]), p)):
        if before.get(path) != after.get(path):
            changes.append({"path": list(path), "old": before.get(path), "new": after.get(path)})
    return changes


def describe_value(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, dict):
        return _("%(account)s med MVA-kode %(code)s") % {
            "account": value.get("account"),
            "code": value.get("vat_code"),
        }
    return str(value)


def describe_change(change: dict) -> str:
    path = change.get("path") or []
    what = label(path[0], path[1] if len(path) > 1 else None) if path else ""
    return f"{what}: {describe_value(change.get('old'))} → {describe_value(change.get('new'))}"
