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
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

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
    """A rate as Norwegian texts write it: "25 %", "11,11 %"."""
    return f"{rate_key(key).replace('.', ',')} %"


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


def sales_code_problem(code: str, rate: str | None, catalog: Catalog | None) -> str | None:
    """Why `code` may not stand on a sales row of `rate` (None when it may)."""
    standard = saft.tax_code(code)
    if standard is not None and not standard.sales:
        return _("MVA-kode %(code)s er ikke en kode for salg (%(description)s)") % {
            "code": code,
            "description": standard.description,
        }
    if catalog is not None:
        if code not in catalog.vat_codes:
            return _("MVA-kode %(code)s finnes ikke i %(system)s") % {
                "code": code,
                "system": system_name(catalog),
            }
    elif standard is None:
        return _("MVA-kode %(code)s er ikke en SAF-T-kode for salg (bruk 3, 31, 33, 5 eller 6)") % {
            "code": code
        }
    code_rate = vat_code_rate(code, catalog)
    if rate is not None and code_rate is not None and code_rate != normalize_rate(rate):
        return _("MVA-kode %(code)s gjelder %(code_rate)s, ikke %(rate)s") % {
            "code": code,
            "code_rate": rate_label(code_rate),
            "rate": rate_label(rate),
        }
    return None


def account_problem(account: int, catalog: Catalog | None) -> str | None:
    if catalog is None:
        return None
    known = catalog.accounts.get(account)
    if known is None:
        return _("Konto %(account)s finnes ikke i %(system)s") % {
            "account": account,
            "system": system_name(catalog),
        }
    if not known.active:
        return _("Konto %(account)s er inaktiv i %(system)s") % {
            "account": account,
            "system": system_name(catalog),
        }
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


# ---------------------------------------------------------------------------------- parsing

_DIGITS = re.compile(r"[0-9]+")
# NUL and lone UTF-16 surrogates: no database text (nor UTF-8) holds them.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class _Parser:
    def __init__(self, catalog: Catalog | None):
        self.catalog = catalog
        self.errors: list[MappingError] = []

    def error(self, path: tuple[str, ...], message: str) -> None:
        self.errors.append(MappingError(path, message))

    def account(self, value, path: tuple[str, ...]) -> int | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        number = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
            digits = value.strip().lstrip("0") or "0"
            # int() refuses texts of over 4300 digits; anything past 18 is too long anyway.
            number = int(digits) if len(digits) <= 18 else MAX_ACCOUNT + 1
        if number is None or number < MIN_ACCOUNT:
            self.error(path, _("Kontonummer må være et heltall på minst 4 sifre"))
            return None
        if number > MAX_ACCOUNT:
            self.error(path, _("Kontonummeret er for langt (høyst 9 sifre)"))
            return None
        problem = account_problem(number, self.catalog)
        if problem:
            self.error(path, problem)
            return None
        return number

    def vat_code(self, value, path: tuple[str, ...]) -> str | None:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or len(value.strip()) > 20:
            self.error(path, _('MVA-koden må være en kort tekst, f.eks. "3"'))
            return None
        return value.strip() or None

    def rate(self, key, path: tuple[str, ...]) -> str | None:
        try:
            rate = normalize_rate(str(key).strip().replace(",", "."))
        except (InvalidOperation, ValueError):
            rate = None
        if rate is None or not rate.is_finite() or rate < 0 or rate >= 100:
            self.error(
                path, _("«%(key)s» er ikke en MVA-sats (et tall fra 0 til 100)") % {"key": key}
            )
            return None
        if rate != rate.quantize(Decimal("0.01")):
            self.error(path, _("En MVA-sats har høyst 2 desimaler"))
            return None
        return rate_key(rate)

    def name(self, key, path: tuple[str, ...], what: str) -> str | None:
        # The tills' own names, matched exactly (whitespace included).
        text = str(key)
        if not text.strip():
            self.error(path, _("%(what)s må ha et navn") % {"what": what})
            return None
        if len(text) > MAX_KEY_LENGTH:
            self.error(path, _("Navnet er for langt (høyst 100 tegn)"))
            return None
        if _UNSTORABLE.search(text):
            # No till can send such a name (the settlement API refuses it) and the
            # database could not store it.
            self.error(path, _("Navnet inneholder et tegn som ikke kan lagres"))
            return None
        return text

    def sales_entry(self, value, path: tuple[str, ...], rate: str | None) -> SalesAccount | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            self.error(path, _("Må være et objekt med konto og MVA-kode"))
            return None
        for extra in sorted(set(value) - {"account", "vat_code"}):
            self.error((*path, str(extra)), _("Ukjent felt"))
        account = self.account(value.get("account"), (*path, "account"))
        code = self.vat_code(value.get("vat_code"), (*path, "vat_code"))
        account_given = value.get("account") not in (None, "")
        if code is None and account_given:
            self.error((*path, "vat_code"), _("Salg må ha en MVA-kode for utgående mva"))
        if code is not None and not account_given:
            self.error((*path, "account"), _("MVA-koden er valgt, men kontoen mangler"))
        if code is not None:
            problem = sales_code_problem(code, rate, self.catalog)
            if problem:
                self.error((*path, "vat_code"), problem)
                return None
        if account is None or code is None:
            return None
        return SalesAccount(account, code)

    def plain_account(self, value, path: tuple[str, ...]) -> int | None:
        """An account without a VAT code (payments, output VAT, cash, liabilities)."""
        if isinstance(value, dict):
            for extra in sorted(set(value) - {"account", "vat_code"}):
                self.error((*path, str(extra)), _("Ukjent felt"))
            if value.get("vat_code") not in (None, ""):
                self.error(
                    (*path, "vat_code"),
                    _("Betalingsmidler, mva- og gjeldskontoer føres uten MVA-kode"),
                )
            return self.account(value.get("account"), path)
        return self.account(value, path)

    def section(self, data: dict, key: str) -> dict:
        value = data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error((key,), _("Må være et objekt"))
            return {}
        return value


def mapping_from_json(data, *, catalog: Catalog | None = None) -> MappingData:
    """Parse and validate the JSON form; raises MappingValidationError listing every problem
    (path and Norwegian message). With a catalog, accounts and VAT codes must exist there."""
    parser = _Parser(catalog)
    if not isinstance(data, dict):
        raise MappingValidationError([MappingError((), _("Kontooppsettet må være et JSON-objekt"))])
    for extra in sorted(set(data) - set(TOP_LEVEL_KEYS)):
        parser.error((str(extra),), _("Ukjent felt"))

    sales_by_rate: dict[str, SalesAccount] = {}
    for raw_key, value in parser.section(data, "sales_by_vat_rate").items():
        path = ("sales_by_vat_rate", str(raw_key))
        key = parser.rate(raw_key, path)
        if key is None:
            continue
        if key in sales_by_rate:
            parser.error(
                path, _("MVA-satsen %(rate)s er oppgitt to ganger") % {"rate": rate_label(key)}
            )
            continue
        entry = parser.sales_entry(value, path, key)
        if entry is not None:
            sales_by_rate[key] = entry

    sales_by_group: dict[str, SalesAccount] = {}
    for raw_key, value in parser.section(data, "sales_by_product_group").items():
        path = ("sales_by_product_group", str(raw_key))
        name = parser.name(raw_key, path, _("Varegruppen"))
        if name is None:
            continue
        if name in sales_by_group:
            parser.error(path, _("Varegruppen %(name)s er oppgitt to ganger") % {"name": name})
            continue
        # A product group may be sold at any rate: its code is checked against the rates it
        # is actually sold at (group_rate_problems, and the voucher builder).
        entry = parser.sales_entry(value, path, None)
        if entry is not None:
            sales_by_group[name] = entry

    output_vat: dict[str, int] = {}
    for raw_key, value in parser.section(data, "output_vat_by_rate").items():
        path = ("output_vat_by_rate", str(raw_key))
        key = parser.rate(raw_key, path)
        if key is None:
            continue
        if key in output_vat:
            parser.error(
                path, _("MVA-satsen %(rate)s er oppgitt to ganger") % {"rate": rate_label(key)}
            )
            continue
        account = parser.plain_account(value, path)
        if account is not None:
            output_vat[key] = account

    payments: dict[str, int] = {}
    for raw_key, value in parser.section(data, "payments").items():
        path = ("payments", str(raw_key))
        name = parser.name(raw_key, path, _("Betalingsmåten"))
        if name is None:
            continue
        account = parser.plain_account(value, path)
        if account is not None:
            payments[name] = account

    singles = {name: parser.plain_account(data.get(name), (name,)) for name in SINGLE_FIELDS}

    if parser.errors:
        raise MappingValidationError(parser.errors)
    return MappingData(
        sales_by_vat_rate=sales_by_rate,
        sales_by_product_group=sales_by_group,
        output_vat_by_rate=output_vat,
        payments=payments,
        **singles,
    )


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


# ---------------------------------------------------------------------------------- checks


def group_rate_problems(
    mapping: MappingData, group_rates: dict[str, set], catalog: Catalog | None = None
) -> list[MappingError]:
    """Overrides whose VAT code does not fit a rate the product group is sold at."""
    errors = []
    for name, entry in mapping.sales_by_product_group.items():
        code_rate = vat_code_rate(entry.vat_code, catalog)
        if code_rate is None:
            continue
        wrong = sorted({rate_key(r) for r in group_rates.get(name, ())} - {rate_key(code_rate)})
        if wrong:
            errors.append(
                MappingError(
                    ("sales_by_product_group", name, "vat_code"),
                    _(
                        "Varegruppen %(name)s selges med %(rates)s, men MVA-kode %(code)s gjelder %(code_rate)s"
                    )
                    % {
                        "name": name,
                        "rates": ", ".join(rate_label(r) for r in wrong),
                        "code": entry.vat_code,
                        "code_rate": rate_label(code_rate),
                    },
                )
            )
    return errors


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
