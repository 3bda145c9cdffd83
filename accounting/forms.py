"""The kontooppsett page as rows of inputs, to and from the JSON form of the mapping.

The page posts plain named inputs (`sales-0-key`, `sales-0-account`, `sales-0-vat_code`,
`payment-3-key`, ..., `tips`); `parse_post` turns them into the JSON form, so the page,
the import command and "Bruk standard kontoplan" share one validation
(`accounting.services.validate_mapping_data`). Rows match on their key, never on position.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from settlements.domain import normalize_rate, rate_key
from settlements.texts import payment_voucher_text

from . import saft
from .catalog import Catalog
from .mapping import (
    STANDARD_METHODS,
    STANDARD_RATES,
    MappingError,
    account_warning,
    catalog_rate_percent,
    method_order,
    rate_label,
    rate_order,
)
from .services import SeenInSettlements

# kind of keyed row -> the section of the JSON form it belongs to
KINDS = {
    "sales": "sales_by_vat_rate",
    "group": "sales_by_product_group",
    "vat": "output_vat_by_rate",
    "payment": "payments",
}
WITH_VAT_CODE = ("sales", "group")
NEW_ROW_KINDS = ("group", "payment")

CASH_FIELDS = (
    ("cash", gettext_lazy("Kasse"), gettext_lazy("Kontantbeholdningen i kassen")),
    (
        "cash_difference",
        gettext_lazy("Kassedifferanse"),
        gettext_lazy("Differansen mellom opptalt og forventet kontantbeholdning"),
    ),
    (
        "pay_ins",
        gettext_lazy("Innskudd kasse"),
        gettext_lazy("Motkonto for kontanter lagt i kassen"),
    ),
    (
        "pay_outs",
        gettext_lazy("Uttak kasse"),
        gettext_lazy("Motkonto for kontanter tatt ut av kassen"),
    ),
    ("rounding", gettext_lazy("Øreavrunding"), gettext_lazy("Avrunding til hele kroner")),
)
OTHER_FIELDS = (
    ("tips", gettext_lazy("Tips"), gettext_lazy("Tips som skal betales videre til de ansatte")),
    (
        "gift_cards_sold",
        gettext_lazy("Gavekort solgt"),
        gettext_lazy("Gjeld for solgte, ikke innløste gavekort"),
    ),
)
SINGLE_NAMES = [name for name, _label, _help in CASH_FIELDS + OTHER_FIELDS]

_INDEXED = re.compile(r"^(sales|group|vat|payment)-(\d+)-key$")


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _rates(keys) -> set[str]:
    """The keys that are rates (a tampered form may post others; validation names them)."""
    rates = set()
    for key in keys:
        try:
            # "NaN" is a Decimal too, but one that cannot be sorted with the others.
            if normalize_rate(key).is_finite():
                rates.add(rate_key(key))
        except (ValueError, ArithmeticError):
            continue
    return rates


@dataclass
class ParsedPost:
    data: dict
    new_rows: dict[str, dict] = field(default_factory=dict)  # kind -> {"key", "account", ...}
    errors: list[MappingError] = field(default_factory=list)


def parse_post(post) -> ParsedPost:
    """The JSON form of what the admin entered. Empty rows are left out (unmapped); a row
    with only one of account and VAT code stays in, for the validation to name it."""
    data: dict = {section: {} for section in KINDS.values()}
    parsed = ParsedPost(data=data)
    for name in sorted(post.keys()):
        match = _INDEXED.match(name)
        if not match:
            continue
        kind, index = match.groups()
        # Keys are the tills' own names, matched exactly: not even whitespace is trimmed.
        key = post.get(name) or ""
        if not key.strip():
            continue
        account = _text(post.get(f"{kind}-{index}-account"))
        if kind in WITH_VAT_CODE:
            code = _text(post.get(f"{kind}-{index}-vat_code"))
            if account or code:
                data[KINDS[kind]][key] = {"account": account, "vat_code": code}
        elif account:
            data[KINDS[kind]][key] = account

    for kind in NEW_ROW_KINDS:
        key = _text(post.get(f"{kind}-new-key"))
        account = _text(post.get(f"{kind}-new-account"))
        code = _text(post.get(f"{kind}-new-vat_code")) if kind in WITH_VAT_CODE else ""
        if not (key or account or code):
            continue
        row = {"key": key, "account": account, "vat_code": code}
        section = KINDS[kind]
        what = _("varegruppen") if kind == "group" else _("betalingsmåten")
        if not key:
            parsed.new_rows[kind] = row
            parsed.errors.append(
                MappingError((f"new_{kind}",), _("Skriv navnet på %(what)s") % {"what": what})
            )
        elif key in data[section]:
            parsed.new_rows[kind] = row
            parsed.errors.append(
                MappingError(
                    (f"new_{kind}",),
                    _("%(name)s står allerede i listen ovenfor") % {"name": key},
                )
            )
        elif kind in WITH_VAT_CODE:
            data[section][key] = {"account": account, "vat_code": code}
        else:
            data[section][key] = account

    for name in SINGLE_NAMES:
        data[name] = _text(post.get(name)) or None
    return parsed


@dataclass
class Row:
    kind: str  # sales, group, vat, payment, single, or new_group / new_payment
    prefix: str  # the inputs are named f"{prefix}-account" etc. (singles: just `prefix`)
    key: str
    label: str
    path: tuple[str, ...]
    account: str = ""
    vat_code: str = ""
    has_vat_code: bool = False
    help: str = ""
    seen: bool = False
    unmapped: bool = False
    key_editable: bool = False
    vat_options: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    invalid: set[str] = field(default_factory=set)  # "account", "vat_code", "key"

    @property
    def account_name(self) -> str:
        return self.prefix if self.kind == "single" else f"{self.prefix}-account"


@dataclass
class Section:
    id: str
    title: str
    intro: str
    rows: list[Row]
    has_vat_code: bool = False


def vat_code_choices(catalog: Catalog | None) -> list[tuple[str, str]]:
    """The codes a sales row may carry: the company's own (sales codes only) when an
    accounting system is connected, else SAF-T's."""
    if catalog is None:
        return [
            (c.code, f"{c.code} ({rate_label(c.rate)}) – {c.description}")
            for c in saft.sales_codes()
        ]
    choices = []
    for code, known in sorted(catalog.vat_codes.items(), key=lambda item: _code_order(item[0])):
        standard = saft.tax_code(code)
        if standard is not None and not standard.sales:
            continue
        rate = catalog_rate_percent(known.rate)
        if rate is None and standard is not None:
            rate = standard.rate
        rate_text = f" ({rate_label(rate)})" if rate is not None else ""
        choices.append((code, f"{code}{rate_text} – {known.description}"))
    return choices


def _code_order(code: str) -> tuple:
    return (0, int(code), "") if code.isdigit() else (1, 0, code)


class MappingPage:
    """Every section and row of the kontooppsett page, with values, marks and errors."""

    def __init__(
        self,
        *,
        values: dict,
        seen: SeenInSettlements,
        catalog: Catalog | None,
        errors: Sequence[MappingError] = (),
        new_rows: dict[str, dict] | None = None,
        editable: bool = True,
    ):
        self.values = values
        self.seen = seen
        self.catalog = catalog
        self.editable = editable
        self.vat_choices = vat_code_choices(catalog)
        self.new_rows = new_rows or {}
        self.sections = [
            Section(
                "salg",
                _("Salg"),
                _("Salgskonto og MVA-kode for utgående mva per MVA-sats."),
                self._sales_rows(),
                True,
            ),
            Section(
                "varegrupper",
                _("Salg per varegruppe"),
                _(
                    "Valgfritt: en varegruppe med egen salgskonto. Uten egen konto følger varegruppen salgskontoen for sin MVA-sats."
                ),
                self._group_rows(),
                True,
            ),
            Section(
                "mva", _("Merverdiavgift"), _("Konto for utgående mva per sats."), self._vat_rows()
            ),
            Section(
                "betalingsmidler",
                _("Betalingsmidler"),
                _("Én konto per betalingsmåte kassene sender."),
                self._payment_rows(),
            ),
            Section("kasse", _("Kasse"), "", self._single_rows(CASH_FIELDS)),
            Section("annet", _("Annet"), "", self._single_rows(OTHER_FIELDS)),
        ]
        self.general_errors: list[str] = []
        self._attach(errors)
        self._warn()

    # -- rows ---------------------------------------------------------------------------

    def _section(self, name: str) -> dict:
        value = self.values.get(name)
        return value if isinstance(value, dict) else {}

    def _options(self, current: str) -> list[tuple[str, str]]:
        if current and current not in {code for code, _label in self.vat_choices}:
            return [(current, current), *self.vat_choices]
        return self.vat_choices

    def _sales_rows(self) -> list[Row]:
        entries = self._section("sales_by_vat_rate")
        rates = set(STANDARD_RATES) | self.seen.rates | _rates(entries)
        rows = []
        for index, rate in enumerate(sorted(rates, key=rate_order)):
            entry = entries.get(rate) or {}
            account, code = _text(entry.get("account")), _text(entry.get("vat_code"))
            seen = rate in self.seen.rates
            rows.append(
                Row(
                    kind="sales",
                    prefix=f"sales-{index}",
                    key=rate,
                    label=rate_label(rate),
                    path=("sales_by_vat_rate", rate),
                    account=account,
                    vat_code=code,
                    has_vat_code=True,
                    seen=seen,
                    unmapped=seen and not (account and code),
                    vat_options=self._options(code),
                )
            )
        return rows

    def _group_rows(self) -> list[Row]:
        entries = self._section("sales_by_product_group")
        rate_entries = self._section("sales_by_vat_rate")
        groups = set(self.seen.group_rates) | set(entries)
        rows = []
        for index, group in enumerate(sorted(groups, key=str.lower)):
            entry = entries.get(group) or {}
            account, code = _text(entry.get("account")), _text(entry.get("vat_code"))
            rates = sorted(self.seen.group_rates.get(group, ()), key=rate_order)
            follows = [r for r in rates if _text((rate_entries.get(r) or {}).get("account"))]
            overridden = bool(account and code)
            if overridden:
                help_text = ""
            elif rates and len(follows) == len(rates):
                help_text = _("Følger %(what)s") % {
                    "what": ", ".join(_("Salg %(rate)s") % {"rate": rate_label(r)} for r in rates)
                }
            else:
                help_text = ""
            label = group or _("(uten navn)")
            if rates:
                label = f"{label} · {', '.join(rate_label(r) for r in rates)}"
            rows.append(
                Row(
                    kind="group",
                    prefix=f"group-{index}",
                    key=group,
                    label=label,
                    path=("sales_by_product_group", group),
                    account=account,
                    vat_code=code,
                    has_vat_code=True,
                    help=help_text,
                    seen=bool(rates),
                    unmapped=bool(rates) and not overridden and len(follows) < len(rates),
                    vat_options=self._options(code),
                )
            )
        if self.editable:
            rows.append(self._new_row("group"))
        return rows

    def _vat_rows(self) -> list[Row]:
        entries = self._section("output_vat_by_rate")
        sales = self._section("sales_by_vat_rate")
        # No VAT at 0 %: that rate gets a row only when one was entered.
        rates = (set(STANDARD_RATES) | self.seen.rates | _rates(sales) | _rates(entries)) - {"0"}
        rates |= {r for r in _rates(entries) if r == "0"}
        rows = []
        for index, rate in enumerate(sorted(rates, key=rate_order)):
            account = _text(entries.get(rate))
            seen = rate in self.seen.rates
            rows.append(
                Row(
                    kind="vat",
                    prefix=f"vat-{index}",
                    key=rate,
                    label=_("Utgående mva %(rate)s") % {"rate": rate_label(rate)},
                    path=("output_vat_by_rate", rate),
                    account=account,
                    seen=seen,
                    unmapped=seen and not account,
                )
            )
        return rows

    def _payment_rows(self) -> list[Row]:
        entries = self._section("payments")
        methods = set(STANDARD_METHODS) | set(self.seen.methods) | set(entries)
        rows = []
        for index, method in enumerate(sorted(methods, key=method_order)):
            account = _text(entries.get(method))
            seen = method in self.seen.methods
            text = payment_voucher_text(method)
            rows.append(
                Row(
                    kind="payment",
                    prefix=f"payment-{index}",
                    key=method,
                    label=f"{method} ({text})" if text and text != method else method,
                    path=("payments", method),
                    account=account,
                    seen=seen,
                    unmapped=seen and not account,
                )
            )
        if self.editable:
            rows.append(self._new_row("payment"))
        return rows

    def _single_rows(self, fields) -> list[Row]:
        rows = []
        for name, label, help_text in fields:
            account = _text(self.values.get(name))
            rows.append(
                Row(
                    kind="single",
                    prefix=name,
                    key=name,
                    label=str(label),
                    path=(name,),
                    account=account,
                    help=str(help_text),
                    unmapped=not account,
                )
            )
        return rows

    def _new_row(self, kind: str) -> Row:
        values = self.new_rows.get(kind, {})
        return Row(
            kind=f"new_{kind}",
            prefix=f"{kind}-new",
            key=values.get("key", ""),
            label=_("Ny varegruppe") if kind == "group" else _("Ny betalingsmåte"),
            path=(f"new_{kind}",),
            account=values.get("account", ""),
            vat_code=values.get("vat_code", ""),
            has_vat_code=kind in WITH_VAT_CODE,
            key_editable=True,
            vat_options=self._options(values.get("vat_code", "")),
        )

    # -- errors -------------------------------------------------------------------------

    def _attach(self, errors) -> None:
        by_path = {row.path: row for section in self.sections for row in section.rows}
        for error in errors:
            path = tuple(error.path)
            row = by_path.get(path[:2]) or by_path.get(path[:1])
            if row is None:
                self.general_errors.append(str(error))
                continue
            row.errors.append(error.message)
            last = path[-1] if len(path) > len(row.path) else "account"
            row.invalid.add("key" if row.key_editable and not row.key else last)

    def _warn(self) -> None:
        """A chosen account the accounting system would refuse our vouchers on."""
        for section in self.sections:
            for row in section.rows:
                # Only what can be an account number: the field may hold anything posted.
                if row.account.isascii() and row.account.isdigit() and len(row.account) < 19:
                    warning = account_warning(int(row.account), self.catalog)
                    if warning:
                        row.warnings.append(warning)

    @property
    def has_errors(self) -> bool:
        return bool(self.general_errors) or any(
            row.errors for section in self.sections for row in section.rows
        )

    @property
    def unmapped_count(self) -> int:
        return sum(row.unmapped for section in self.sections for row in section.rows)

    @property
    def known_accounts(self) -> list:
        if self.catalog is None:
            return []
        return [a for _number, a in sorted(self.catalog.accounts.items()) if a.active]


def rates_and_methods(seen: SeenInSettlements, data: dict) -> tuple[set[str], set[str]]:
    """Which rates and methods "Bruk standard kontoplan" fills in on the page."""
    rates = set(STANDARD_RATES) | seen.rates | _rates(data.get("sales_by_vat_rate") or {})
    methods = set(STANDARD_METHODS) | set(seen.methods) | set(data.get("payments") or {})
    return rates, methods
