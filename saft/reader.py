"""A streaming reader of SAF-T Cash Register files (Skatteetaten's XML, DESIGN.md 4.6).

`read_saft(path, schema=...)` reads the file once with lxml's iterparse, validating it
against the XSD while it streams, and frees every element once it is handled, so a year of
transactions never sits in memory: what is kept is one small dict per Z report and, per
register and business date, the sums of its cash transactions (rounding, and sales per VAT
code and article group). Each Z report becomes the settlement JSON of DESIGN.md 4.1
(amounts as strings), for `settlements.parsing.parse_settlement` and
`settlements.services.ingest_settlement`, the entry the API and import_settlements use.

An invalid file raises SaftInvalid with its first errors; nothing of it is handed on (the
Z reports are handed on only after the whole file has been read and validated).

Format: https://www.skatteetaten.no/saf-t (XSD v1.00; the example file and code lists in
../shared/saft/). No Django here, except the Norwegian sentences (gettext).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from lxml import etree

from backoffice.templatetags.money import format_money

NS = "urn:StandardAuditFile-Taxation-CashRegister:NO"
ZERO = Decimal("0.00")
OSLO = ZoneInfo("Europe/Oslo")
MAX_ERRORS = 5
# Predefined codes (../shared/saft/code-lists/): 12001 cash, 13009 Z report.
CASH_CODE = "12001"
Z_REPORT_CODE = "13009"
# basicType of payment codes, article groups, events.
PAYMENT_TYPE, ARTICLE_GROUP_TYPE, EVENT_TYPE = "12", "04", "13"
PROGRESS_EVERY = 2000  # elements between two progress calls


def q(name: str) -> str:
    return f"{{{NS}}}{name}"


T = {
    name: q(name)
    for name in (
        "basic",
        "vatCodeDetail",
        "registerID",
        "event",
        "eventReport",
        "cashtransaction",
        "cashregister",
        "ctLine",
        "vat",
        "location",
    )
}


class SaftError(Exception):
    """The file cannot be read at all (missing XSD, unreadable file)."""


class SaftInvalid(Exception):
    """The file is not a valid SAF-T Cash Register file: refused whole."""

    def __init__(self, errors: list[dict]):
        self.errors = errors
        super().__init__("; ".join(e["message"] for e in errors))


@dataclass
class ZReport:
    register_id: str
    report_id: str
    business_date: str
    line: int
    body: dict | None = None  # the settlement JSON (DESIGN.md 4.1), or None when refused
    refused: str = ""
    checks: list[str] = field(default_factory=list)  # failed cross-checks, worded


@dataclass
class Code:
    kind: str  # "payment" | "article_group"
    key: str  # what the settlement carries: the method ("cash", "DEBCARD") or group name
    till_code: str  # basicID in the file
    description: str
    standard_code: str  # predefinedBasicID


@dataclass
class FileResult:
    reports: list[ZReport] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    codes: list[Code] = field(default_factory=list)


@cache
def _schema(path: str, mtime: float) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(path))


def load_schema(path: Path) -> etree.XMLSchema:
    """Skatteetaten's XSD from SAFT_XSD_PATH (never copied into the repository)."""
    path = Path(path)
    if not path.is_file():
        raise SaftError(
            _(
                "Skatteetatens XSD for SAF-T Kasse finnes ikke på {path}. Sett SAFT_XSD_PATH til "
                "Norwegian_SAF-T_Cash_Register_Schema_v_1.00.xsd."
            ).format(path=path)
        )
    return _schema(str(path.resolve()), path.stat().st_mtime)


def _text(el, name: str, default: str = "") -> str:
    child = el.find(q(name))
    if child is None or child.text is None:
        return default
    return child.text.strip()


def _amount(el, name: str) -> Decimal | None:
    text = _text(el, name)
    return Decimal(text) if text else None


def _signed(value: Decimal, tp: str) -> Decimal:
    """Amounts marked D (debit: returns) count against the sales, whichever sign the till
    wrote them with (Skatteetaten's example writes them negative)."""
    return -abs(value) if tp == "D" else value


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _free(el) -> None:
    """Drop a handled element and what came before it, so the tree stays empty."""
    el.clear()
    parent = el.getparent()
    if parent is not None:
        while el.getprevious() is not None:
            del parent[0]


@dataclass
class _Day:
    """One register's cash transactions of one date."""

    rounding: Decimal = ZERO
    # vatCode -> artGroupID -> [gross, vat, quantity]
    sales: dict[str, dict[str, list]] = field(default_factory=dict)
    ungrouped: set[str] = field(default_factory=set)  # vatCodes with lines lacking a group


@dataclass
class _Z:
    report: ZReport
    date: str
    sales: list[dict]  # per vatCode: {code, rate, gross, vat, name}
    rest: dict  # payments, tips, ... already in settlement form
    total_cash_sale: Decimal | None
    art_group_total: Decimal | None


class _Reader:
    def __init__(self) -> None:
        self.basics: dict[tuple[str, str], tuple[str, str]] = {}  # (type, id) -> (predef, desc)
        self.vat_desc: dict[str, str] = {}
        self.register = ""
        self.zs: list[_Z] = []
        self.days: dict[str, _Day] = {}
        self.result = FileResult()

    # ---------------------------------------------------------------- company data

    def basic(self, el) -> None:
        key = (_text(el, "basicType"), _text(el, "basicID"))
        self.basics[key] = (_text(el, "predefinedBasicID"), _text(el, "basicDesc"))

    def predefined(self, kind: str, code: str) -> str:
        return self.basics.get((kind, code), ("", ""))[0]

    def group_name(self, group_id: str) -> str:
        desc = self.basics.get((ARTICLE_GROUP_TYPE, group_id), ("", ""))[1]
        return desc or group_id

    def method(self, payment_type: str) -> str:
        return "cash" if self.predefined(PAYMENT_TYPE, payment_type) == CASH_CODE else payment_type

    # ---------------------------------------------------------------- events

    def event(self, el) -> None:
        report = el.find(T["eventReport"])
        if report is None:
            return
        event_type = _text(el, "eventType")
        predefined = self.predefined(EVENT_TYPE, event_type)
        report_type = _text(report, "reportType")
        if predefined:
            if predefined != Z_REPORT_CODE:
                return
        elif not report_type.lower().startswith("z"):
            return
        self.z_report(report)

    def z_report(self, el) -> None:
        register = _text(el, "registerID") or self.register
        report_id = _text(el, "reportID")
        day = _text(el, "reportDate")
        z = ZReport(
            register_id=register, report_id=report_id, business_date=day, line=el.sourceline
        )
        if not re.fullmatch(r"\d{1,9}", report_id):
            z.refused = _(
                "reportID «{id}» er ikke et helt tall, og Z-nummeret må være det."
            ).format(id=report_id)
            self.result.reports.append(z)
            return
        sales = []
        for line in el.iterfind(f"{q('reportCashSalesVat')}/{q('reportCashSaleVat')}"):
            net = _amount(line, "cashSaleAmnt") or ZERO
            vat = _amount(line, "vatAmnt") or ZERO
            if net == 0 and vat == 0:
                continue
            code = _text(line, "vatCode")
            rate = _text(line, "vatPerc") or "0"
            sales.append(
                {
                    "code": code,
                    "rate": rate,
                    "gross": net + vat,  # cashSaleAmnt is without VAT (DESIGN.md 4.6)
                    "vat": vat,
                    "name": self.vat_desc.get(code)
                    or _("MVA {rate} %").format(rate=format(Decimal(rate).normalize(), "f")),
                }
            )
        payments: dict[str, Decimal] = {}
        for p in el.iterfind(f"{q('reportPayments')}/{q('reportPayment')}"):
            method = self.method(_text(p, "paymentType"))
            payments[method] = payments.get(method, ZERO) + (_amount(p, "paymentAmnt") or ZERO)
        rest: dict = {
            "payments": [
                {"method": m, "amount": _money(a)} for m, a in sorted(payments.items()) if a != 0
            ]
        }
        tip = el.find(q("reportTip"))
        tip_amount = _amount(tip, "tipAmnt") if tip is not None else None
        if tip_amount:  # neither absent nor zero
            rest["tips"] = _money(tip_amount)
        for body_name, block, entry, kind, amount in (
            ("pay_ins", "reportPayIns", "reportPayIn", "payInType", "payInAmnt"),
            ("pay_outs", "reportPayOuts", "reportPayOut", "payOutType", "payOutAmnt"),
        ):
            movements = [
                {"reason": _text(m, kind), "amount": _money(moved)}
                for m in el.iterfind(f"{q(block)}/{q(entry)}")
                if (moved := _amount(m, amount))  # neither absent nor zero
            ]
            if movements:
                rest[body_name] = movements
        counters = {}
        for name, counter, money in (
            ("reportReceiptNum", "receipts", False),
            ("reportReturnNum", "returns_count", False),
            ("reportReturnAmnt", "returns_amount", True),
            ("reportDiscountNum", "discounts_count", False),
            ("reportDiscountAmnt", "discounts_amount", True),
            ("reportOpenCashBoxNum", "no_sale_openings", False),
        ):
            value = _text(el, name)
            if value:
                counters[counter] = _money(abs(Decimal(value))) if money else int(value)
        rest["counters"] = counters
        # reportOpeningChangeFloat is not carried: the settlement's cash_count needs the
        # counted amount too, and a Z report has no count (DESIGN.md 4.1 cash difference).
        time = _text(el, "reportTime")
        if day and time:
            try:
                closed = dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=OSLO)
                rest["closed_at"] = closed.isoformat()
            except ValueError:
                pass
        total = el.find(f"{q('reportTotalCashSales')}/{q('totalCashSaleAmnt')}")
        groups = list(el.iterfind(f"{q('reportArtGroups')}/{q('reportArtGroup')}"))
        self.zs.append(
            _Z(
                report=z,
                date=day,
                sales=sales,
                rest=rest,
                total_cash_sale=Decimal(total.text) if total is not None and total.text else None,
                art_group_total=(
                    sum((_amount(g, "artGroupAmnt") or ZERO for g in groups), ZERO)
                    if groups
                    else None
                ),
            )
        )

    # ---------------------------------------------------------------- transactions

    def transaction(self, el) -> None:
        if _text(el, "voidTransaction").lower() in ("true", "1"):
            return
        if _text(el, "trainingID").lower() in ("true", "1"):
            return
        key = f"{self.register}\x00{_text(el, 'transDate')}"
        day = self.days.get(key)
        if day is None:
            day = self.days[key] = _Day()
        rounding = el.find(f"{q('rounding')}/{q('roundingAmnt')}")
        if rounding is not None and rounding.text:
            day.rounding += Decimal(rounding.text)
        for line in el.iterfind(T["ctLine"]):
            vat = line.find(T["vat"])
            if vat is None:
                continue
            code = _text(vat, "vatCode")
            group = _text(line, "artGroupID")
            if not group:
                day.ungrouped.add(code)
                continue
            amount_tp = _text(line, "amntTp")
            gross = _signed(_amount(line, "lineAmntIn") or ZERO, amount_tp)
            vat_amount = _signed(_amount(vat, "vatAmnt") or ZERO, _text(vat, "vatAmntTp"))
            quantity = Decimal(_text(line, "qnt") or "0")
            sums = day.sales.setdefault(code, {}).setdefault(group, [ZERO, ZERO, Decimal(0)])
            sums[0] += gross
            sums[1] += vat_amount
            sums[2] += quantity

    # ---------------------------------------------------------------- a register is done

    def register_done(self) -> None:
        per_date: dict[str, int] = {}
        for z in self.zs:
            per_date[z.date] = per_date.get(z.date, 0) + 1
        numbers = []
        for z in self.zs:
            day = self.days.get(f"{z.report.register_id}\x00{z.date}") or self.days.get(
                f"{self.register}\x00{z.date}"
            )
            alone = per_date[z.date] == 1
            z.report.body = self.settlement(z, day if alone else None)
            if not alone and day is not None and day.rounding:
                z.report.checks.append(
                    _(
                        "Flere Z-rapporter for {register} samme dag ({day}): øreavrundingen i "
                        "kassetransaksjonene kan ikke fordeles på dem"
                    ).format(register=z.report.register_id, day=z.date)
                )
            self.cross_checks(z)
            self.result.reports.append(z.report)
            numbers.append(int(z.report.report_id))
        self.result.gaps.extend(gaps(self.register, numbers))
        self.zs = []
        self.days = {}

    def settlement(self, z: _Z, day: _Day | None) -> dict:
        lines = []
        for sale in z.sales:
            split = self.split(sale, day)
            if split is None:
                lines.append(
                    {
                        "product_group": sale["name"],
                        "vat_rate": sale["rate"],
                        "gross_amount": _money(sale["gross"]),
                        "vat_amount": _money(sale["vat"]),
                    }
                )
            else:
                lines.extend(split)
        body = {
            "register_id": z.report.register_id,
            "z_number": int(z.report.report_id),
            "business_date": z.date,
            "currency": "NOK",
            "sales": lines,
            "payments": z.rest["payments"],
            "rounding": _money(day.rounding if day else ZERO),
            "counters": z.rest["counters"],
        }
        for name in ("tips", "pay_ins", "pay_outs", "closed_at"):
            if name in z.rest:
                body[name] = z.rest[name]
        return body

    def split(self, sale: dict, day: _Day | None) -> list[dict] | None:
        """The Z's sales of one VAT code per article group, where the day's transactions
        add up to exactly the Z's gross and VAT of that code; else None (one line)."""
        if day is None or sale["code"] in day.ungrouped:
            return None
        groups = day.sales.get(sale["code"])
        if not groups:
            return None
        gross = sum((g[0] for g in groups.values()), ZERO)
        vat = sum((g[1] for g in groups.values()), ZERO)
        if gross != sale["gross"] or vat != sale["vat"]:
            return None
        lines = []
        for group_id in sorted(groups, key=lambda g: self.group_name(g).lower()):
            g_gross, g_vat, quantity = groups[group_id]
            if g_gross == 0 and g_vat == 0:
                continue
            lines.append(
                {
                    "product_group": self.group_name(group_id),
                    "vat_rate": sale["rate"],
                    "gross_amount": _money(g_gross),
                    "vat_amount": _money(g_vat),
                    "count": int(quantity.to_integral_value()),
                }
            )
        return lines

    def cross_checks(self, z: _Z) -> None:
        by_rate = sum((s["gross"] for s in z.sales), ZERO)
        if z.total_cash_sale is not None and z.total_cash_sale != by_rate:
            z.report.checks.append(
                _(
                    "Salget per MVA-sats i Z-rapporten, {sum} kr, stemmer ikke med "
                    "totalCashSaleAmnt {total} kr"
                ).format(sum=format_money(by_rate), total=format_money(z.total_cash_sale))
            )
        if z.art_group_total is not None and z.art_group_total != by_rate:
            z.report.checks.append(
                _(
                    "Varegruppene i Z-rapporten, {sum} kr til sammen, stemmer ikke med salget "
                    "per MVA-sats, {total} kr"
                ).format(sum=format_money(z.art_group_total), total=format_money(by_rate))
            )

    def codes(self) -> list[Code]:
        found = []
        for (kind, code), (predefined, desc) in sorted(self.basics.items()):
            if kind == PAYMENT_TYPE:
                found.append(Code("payment", self.method(code), code, desc, predefined))
            elif kind == ARTICLE_GROUP_TYPE:
                found.append(Code("article_group", desc or code, code, desc, predefined))
        return found


def gaps(register: str, numbers: list[int]) -> list[str]:
    """ "KASSE-1: Z 1043 mangler mellom 1042 og 1044" for each hole in a register's Z-numbers."""
    found = []
    ordered = sorted(set(numbers))
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after - before < 2:
            continue
        missing = f"{before + 1}" if after - before == 2 else f"{before + 1}–{after - 1}"
        found.append(
            _("{register}: Z {missing} mangler mellom {before} og {after}").format(
                register=register, missing=missing, before=before, after=after
            )
        )
    return found


def read_saft(
    path: Path,
    *,
    schema: etree.XMLSchema,
    progress: Callable[[int], None] | None = None,
) -> FileResult:
    """Every Z report of the file as settlement JSON, the register gaps and the file's
    payment types and article groups. Raises SaftInvalid (nothing handed on) for a file
    that is not well-formed or not valid against the XSD."""
    reader = _Reader()
    handlers = {
        T["basic"]: reader.basic,
        T["event"]: reader.event,
        T["cashtransaction"]: reader.transaction,
    }
    tags = [*handlers, T["vatCodeDetail"], T["registerID"], T["cashregister"], T["location"]]
    count = 0
    broken: dict | None = None
    with open(path, "rb") as handle:
        try:
            for _event, el in etree.iterparse(
                handle, events=("end",), tag=tags, schema=schema, huge_tree=True
            ):
                tag = el.tag
                handler = handlers.get(tag)
                if broken is not None:
                    pass  # the validator names what is wrong when the file ends
                elif handler is not None:
                    try:
                        handler(el)
                    except (ArithmeticError, ValueError) as exc:
                        broken = {
                            "line": el.sourceline,
                            "element": _local(tag),
                            "message": str(exc),
                        }
                elif tag == T["registerID"]:
                    if el.getparent().tag == T["cashregister"]:
                        reader.register = (el.text or "").strip()
                    continue  # the register's events need it no more once read
                elif tag == T["vatCodeDetail"]:
                    reader.vat_desc[_text(el, "vatCode")] = _text(el, "vatDesc")
                elif tag == T["cashregister"] and broken is None:
                    reader.register_done()
                _free(el)
                count += 1
                if progress is not None and count % PROGRESS_EVERY == 0:
                    progress(handle.tell())
        except etree.XMLSyntaxError as exc:
            raise SaftInvalid(_errors(exc, path)) from None
    if broken is not None:
        raise SaftInvalid([broken])
    if progress is not None:
        progress(Path(path).stat().st_size)
    reader.result.codes = reader.codes()
    reader.result.reports.sort(key=lambda z: z.line)
    return reader.result


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


_ELEMENT = re.compile(r"Element '(?:\{[^}]*\})?([^']+)'")
_VALUE = re.compile(r"^Element '[^']+': '([^']*)' is not a valid value")


def _errors(exc: etree.XMLSyntaxError, path: Path) -> list[dict]:
    """The first errors, each with its line, element and what is wrong. libxml2's streaming
    validator reports no line numbers, so those are found by a second streaming pass."""
    entries = [e for e in exc.error_log if e.level_name in ("ERROR", "FATAL")] or []
    errors = []
    for entry in entries[:MAX_ERRORS]:
        match = _ELEMENT.search(entry.message)
        element = match.group(1) if match else ""
        message = re.sub(r"^Element '[^']*': ", "", entry.message.strip())
        message = re.sub(r"\{[^}]*\}", "", message)
        value = _VALUE.match(entry.message)
        errors.append(
            {
                "line": entry.line or None,
                "element": element,
                "value": value.group(1) if value else None,
                "message": message,
            }
        )
    if not errors:
        errors.append(
            {"line": exc.lineno or None, "element": "", "value": None, "message": str(exc)}
        )
    _find_lines(path, [e for e in errors if not e["line"] and e["element"]])
    for e in errors:
        e.pop("value", None)
    return errors


def _find_lines(path: Path, errors: list[dict]) -> None:
    """The line of each error's element: the element with the value the error names (a
    datatype error), else the first element of that name not yet given to an error."""
    if not errors:
        return
    wanted = {q(e["element"]) for e in errors}
    taken: set[int] = set()
    try:
        with open(path, "rb") as handle:
            for _event, el in etree.iterparse(
                handle, events=("end",), recover=True, huge_tree=True
            ):
                if el.tag in wanted:
                    text = (el.text or "").strip()
                    for e in errors:
                        if e["line"] or q(e["element"]) != el.tag or el.sourceline in taken:
                            continue
                        if e["value"] is None or e["value"] == text:
                            e["line"] = el.sourceline
                            taken.add(el.sourceline)
                            break
                    if all(e["line"] for e in errors):
                        return
                if len(el) == 0:
                    continue
                _free(el)
    except etree.XMLSyntaxError:
        return
