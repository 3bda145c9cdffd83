"""The kontooppsett page: a Django formset per keyed section (sales by VAT rate, product
groups, output VAT, payments; rows `sales-0-key`, `sales-0-account`, ...), a form per new
row (`group-new-key`, ...) and one for the single accounts (`tips`, `cash`, ...).

The forms carry what was typed, as text; `read_post` turns it into the JSON form, so the
page, the import command and "Bruk standard kontoplan" share one validation
(`accounting.services.validate_mapping_data`), whose errors `MappingPage` shows at their
rows. Rows match on their key (a hidden input), never on position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django import forms
from django.forms.formsets import INITIAL_FORM_COUNT, TOTAL_FORM_COUNT
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

# kind of keyed row (the formset's prefix) -> the section of the JSON form it belongs to
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


# ---------------------------------------------------------------------------------- forms


class TextField(forms.CharField):
    """What was typed, as text (the template draws the inputs). Django's own checks (a NUL
    character) are left to the kontooppsett's validation, which names every problem."""

    def __init__(self, *, strip: bool = True):
        super().__init__(required=False, strip=strip)
        self.validators = []


class AccountRowForm(forms.Form):
    """A row of output VAT or payments, or the new row below the payments: its key (a rate,
    or the till's name, matched exactly: not even whitespace is trimmed) and its account."""

    key = TextField(strip=False)
    account = TextField()


class SalesRowForm(AccountRowForm):
    """A row of sales by VAT rate or by product group: the account and the output VAT code
    (offered as a list; a code from outside it is named by the validation)."""

    vat_code = TextField()


class SingleAccountsForm(forms.Form):
    cash = TextField()
    cash_difference = TextField()
    pay_ins = TextField()
    pay_outs = TextField()
    rounding = TextField()
    tips = TextField()
    gift_cards_sold = TextField()


SalesFormSet = forms.formset_factory(SalesRowForm, extra=0)
AccountFormSet = forms.formset_factory(AccountRowForm, extra=0)
FORMSETS: dict[str, type[forms.BaseFormSet]] = {
    "sales": SalesFormSet,
    "group": SalesFormSet,
    "vat": AccountFormSet,
    "payment": AccountFormSet,
}
NEW_ROW_FORMS = {"group": SalesRowForm, "payment": AccountRowForm}


def _with_row_counts(post):
    """The post with each formset's row count. The page posts its management forms; a post
    without them (a script's, or a test's) names its rows by number only, and they are read
    all the same, up to the formset's absolute_max, instead of the whole post being refused."""
    missing = [kind for kind in KINDS if f"{kind}-{TOTAL_FORM_COUNT}" not in post]
    if not missing:
        return post
    post = post.copy()
    for kind in missing:
        numbers = (
            name[len(kind) + 1 :].partition("-")[0]
            for name in list(post)
            if name.startswith(f"{kind}-")
        )
        post[f"{kind}-{TOTAL_FORM_COUNT}"] = str(
            max((int(n) + 1 for n in numbers if n.isascii() and n.isdigit()), default=0)
        )
        post[f"{kind}-{INITIAL_FORM_COUNT}"] = "0"
    return post


@dataclass
class ParsedPost:
    data: dict
    new_rows: dict[str, dict] = field(default_factory=dict)  # kind -> {"key", "account", ...}
    errors: list[MappingError] = field(default_factory=list)


def read_post(post) -> ParsedPost:
    """The JSON form of what the admin entered. Empty rows are left out (unmapped); a row
    with only one of account and VAT code stays in, for the validation to name it."""
    post = _with_row_counts(post)
    data: dict = {section: {} for section in KINDS.values()}
    parsed = ParsedPost(data=data)
    for kind, section in KINDS.items():
        formset = FORMSETS[kind](post, prefix=kind)
        if not formset.is_valid():  # only a tampered management form or too many rows
            parsed.errors.extend(MappingError((), str(e)) for e in formset.non_form_errors())
        for form in formset.forms:
            # An extra row nothing was posted for is not cleaned: its cleaned_data is {}.
            key, account, code = (
                form.cleaned_data.get(n, "") for n in ("key", "account", "vat_code")
            )
            if not key.strip():
                continue
            if kind in WITH_VAT_CODE:
                if account or code:
                    data[section][key] = {"account": account, "vat_code": code}
            elif account:
                data[section][key] = account

    for kind in NEW_ROW_KINDS:
        form = NEW_ROW_FORMS[kind](post, prefix=f"{kind}-new")
        form.is_valid()
        row = {"vat_code": "", **form.cleaned_data}
        row["key"] = key = row["key"].strip()  # a name typed in, unlike the tills' own
        account, code = row["account"], row["vat_code"]
        if not (key or account or code):
            continue
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

    singles = SingleAccountsForm(post)
    singles.is_valid()
    for name in SINGLE_NAMES:
        data[name] = singles.cleaned_data[name] or None
    return parsed


# ---------------------------------------------------------------------------------- the page


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
class Row:
    kind: str  # sales, group, vat, payment, single, or new_group / new_payment
    key: str
    label: str
    path: tuple[str, ...]
    form: forms.Form  # the row's own form (single rows: the form of all single accounts)
    account_field: str = "account"  # the form's field for the account (single rows: their name)
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
    def key_input(self) -> forms.BoundField | None:
        return self.form["key"] if "key" in self.form.fields else None

    @property
    def account_input(self) -> forms.BoundField:
        return self.form[self.account_field]

    @property
    def vat_code_input(self) -> forms.BoundField | None:
        return self.form["vat_code"] if "vat_code" in self.form.fields else None


@dataclass
class Section:
    id: str
    title: str
    intro: str
    rows: list[Row]
    formset: forms.BaseFormSet | None = None  # its management form goes with the rows
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
    """Every section and row of the kontooppsett page, with values, marks and errors. The
    forms are unbound, filled from `values` (the JSON form: what is saved, or what was
    posted with the standard chart filled in)."""

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
        self.singles = SingleAccountsForm(
            initial={name: _text(values.get(name)) for name in SINGLE_NAMES}
        )
        self.sections = [
            Section(
                "salg",
                _("Salg"),
                _("Salgskonto og MVA-kode for utgående mva per MVA-sats."),
                *self._sales_rows(),
                has_vat_code=True,
            ),
            Section(
                "varegrupper",
                _("Salg per varegruppe"),
                _(
                    "Valgfritt: en varegruppe med egen salgskonto. Uten egen konto følger varegruppen salgskontoen for sin MVA-sats."
                ),
                *self._group_rows(),
                has_vat_code=True,
            ),
            Section(
                "mva",
                _("Merverdiavgift"),
                _("Konto for utgående mva per sats."),
                *self._vat_rows(),
            ),
            Section(
                "betalingsmidler",
                _("Betalingsmidler"),
                _("Én konto per betalingsmåte kassene sender."),
                *self._payment_rows(),
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

    @staticmethod
    def _initial(key: str, entry) -> dict[str, str]:
        if isinstance(entry, dict):
            return {
                "key": key,
                "account": _text(entry.get("account")),
                "vat_code": _text(entry.get("vat_code")),
            }
        return {"key": key, "account": _text(entry), "vat_code": ""}

    def _forms(self, kind: str, keys: list[str], entries: dict):
        """The section's formset, one form per key, and each form with its values."""
        initial = [self._initial(key, entries.get(key)) for key in keys]
        formset = FORMSETS[kind](prefix=kind, initial=initial)
        return formset, zip(keys, formset.forms, initial, strict=True)

    def _sales_rows(self) -> tuple[list[Row], forms.BaseFormSet]:
        entries = self._section("sales_by_vat_rate")
        rates = sorted(set(STANDARD_RATES) | self.seen.rates | _rates(entries), key=rate_order)
        formset, forms_ = self._forms("sales", rates, entries)
        rows = []
        for rate, form, values in forms_:
            seen = rate in self.seen.rates
            rows.append(
                Row(
                    kind="sales",
                    key=rate,
                    label=rate_label(rate),
                    path=("sales_by_vat_rate", rate),
                    form=form,
                    has_vat_code=True,
                    seen=seen,
                    unmapped=seen and not (values["account"] and values["vat_code"]),
                    vat_options=self._options(values["vat_code"]),
                )
            )
        return rows, formset

    def _group_rows(self) -> tuple[list[Row], forms.BaseFormSet]:
        entries = self._section("sales_by_product_group")
        rate_entries = self._section("sales_by_vat_rate")
        groups = sorted(set(self.seen.group_rates) | set(entries), key=str.lower)
        formset, forms_ = self._forms("group", groups, entries)
        rows = []
        for group, form, values in forms_:
            rates = sorted(self.seen.group_rates.get(group, ()), key=rate_order)
            follows = [r for r in rates if _text((rate_entries.get(r) or {}).get("account"))]
            overridden = bool(values["account"] and values["vat_code"])
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
                    key=group,
                    label=label,
                    path=("sales_by_product_group", group),
                    form=form,
                    has_vat_code=True,
                    help=help_text,
                    seen=bool(rates),
                    unmapped=bool(rates) and not overridden and len(follows) < len(rates),
                    vat_options=self._options(values["vat_code"]),
                )
            )
        if self.editable:
            rows.append(self._new_row("group"))
        return rows, formset

    def _vat_rows(self) -> tuple[list[Row], forms.BaseFormSet]:
        entries = self._section("output_vat_by_rate")
        sales = self._section("sales_by_vat_rate")
        # No VAT at 0 %: that rate gets a row only when one was entered.
        rates = (set(STANDARD_RATES) | self.seen.rates | _rates(sales) | _rates(entries)) - {"0"}
        rates |= {r for r in _rates(entries) if r == "0"}
        formset, forms_ = self._forms("vat", sorted(rates, key=rate_order), entries)
        rows = []
        for rate, form, values in forms_:
            seen = rate in self.seen.rates
            rows.append(
                Row(
                    kind="vat",
                    key=rate,
                    label=_("Utgående mva %(rate)s") % {"rate": rate_label(rate)},
                    path=("output_vat_by_rate", rate),
                    form=form,
                    seen=seen,
                    unmapped=seen and not values["account"],
                )
            )
        return rows, formset

    def _payment_rows(self) -> tuple[list[Row], forms.BaseFormSet]:
        entries = self._section("payments")
        methods = sorted(
            set(STANDARD_METHODS) | set(self.seen.methods) | set(entries), key=method_order
        )
        formset, forms_ = self._forms("payment", methods, entries)
        rows = []
        for method, form, values in forms_:
            seen = method in self.seen.methods
            text = payment_voucher_text(method)
            rows.append(
                Row(
                    kind="payment",
                    key=method,
                    label=f"{method} ({text})" if text and text != method else method,
                    path=("payments", method),
                    form=form,
                    seen=seen,
                    unmapped=seen and not values["account"],
                )
            )
        if self.editable:
            rows.append(self._new_row("payment"))
        return rows, formset

    def _single_rows(self, fields) -> list[Row]:
        return [
            Row(
                kind="single",
                key=name,
                label=str(label),
                path=(name,),
                form=self.singles,
                account_field=name,
                help=str(help_text),
                unmapped=not self.singles.initial[name],
            )
            for name, label, help_text in fields
        ]

    def _new_row(self, kind: str) -> Row:
        values = self.new_rows.get(kind, {})
        return Row(
            kind=f"new_{kind}",
            key=values.get("key", ""),
            label=_("Ny varegruppe") if kind == "group" else _("Ny betalingsmåte"),
            path=(f"new_{kind}",),
            form=NEW_ROW_FORMS[kind](prefix=f"{kind}-new", initial=values),
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
                account = str(row.account_input.value() or "").strip()
                if account.isascii() and account.isdigit() and len(account) < 19:
                    warning = account_warning(int(account), self.catalog)
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
