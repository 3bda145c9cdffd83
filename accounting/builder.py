"""The voucher builder: one settlement × the kontooppsett → one balanced voucher (../shared/DESIGN.md 4.2).

A pure function: no database, no HTTP, no Visma specifics, so any accounting integration
can post what it returns. Row texts and the voucher text are bookkeeping and stay Norwegian
whatever the user's language; the messages of the errors are UI text and are translated.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from settlements.domain import ZERO, SettlementData, q2, rate_key
from settlements.texts import payment_voucher_text

from .mapping import MappingData, SalesAccount, label, rate_label, vat_code_rate

ROW_TEXT_MAX = 60  # Visma: TransactionText
VOUCHER_TEXT_MAX = 1000  # Visma: VoucherText


@dataclass(frozen=True)
class VoucherRow:
    account: int
    debit: Decimal
    credit: Decimal
    vat_code: str | None
    text: str

    @property
    def amount(self) -> Decimal:
        """Debit − credit: positive for a debit row, negative for a credit row."""
        return self.debit - self.credit

    def as_json(self) -> dict:
        return {
            "account": self.account,
            "vat_code": self.vat_code,
            "debit": str(self.debit),
            "credit": str(self.credit),
            "text": self.text,
        }


@dataclass(frozen=True)
class Voucher:
    voucher_date: dt.date
    text: str
    reference: str
    rows: tuple[VoucherRow, ...]
    total_debit: Decimal
    total_credit: Decimal

    def as_json(self) -> dict:
        return {
            "voucher_date": self.voucher_date.isoformat(),
            "text": self.text,
            "reference": self.reference,
            "rows": [row.as_json() for row in self.rows],
            "total_debit": str(self.total_debit),
            "total_credit": str(self.total_credit),
        }


class VoucherError(Exception):
    """Base of everything the builder refuses."""


@dataclass(frozen=True)
class MissingMapping:
    category: str  # a key of the mapping JSON: "payments", "sales_by_vat_rate", "tips", ...
    key: str | None  # the method, rate key or product group; None for single accounts
    message: str  # Norwegian: "Betalingsmåten vipps mangler konto"


class MappingIncomplete(VoucherError):
    """The settlement cannot be mapped completely; `items` lists every missing mapping."""

    def __init__(self, items: list[MissingMapping]):
        self.items = items
        super().__init__(
            _("Kontooppsettet er ikke komplett: %(missing)s")
            % {"missing": "; ".join(item.message for item in items)}
        )

    @property
    def messages(self) -> list[str]:
        return [item.message for item in self.items]


class UnbalancedSettlement(VoucherError):
    def __init__(self, difference: Decimal):
        self.difference = difference
        super().__init__(
            _("Dagsoppgjøret går ikke i balanse (differanse %(difference)s)")
            % {"difference": difference}
        )


class UnbalancedVoucher(VoucherError):
    """Never expected: the rows of a balanced settlement balance by construction. Raised
    rather than ever returning a voucher whose debits and credits differ."""

    def __init__(self, total_debit: Decimal, total_credit: Decimal):
        self.total_debit = total_debit
        self.total_credit = total_credit
        super().__init__(f"Bilaget går ikke i balanse: debet {total_debit}, kredit {total_credit}")


def voucher_text(settlement: SettlementData) -> str:
    """ "Dagsoppgjør 27.11.2026 Fjordkafé Sentrum KASSE-1 Z1042 [BO-17]"; the reference
    survives any shortening, since the exporter searches Visma for it."""
    parts = [
        "Dagsoppgjør",
        settlement.business_date.strftime("%d.%m.%Y"),
        settlement.location_name,
        settlement.register_id,
        f"Z{settlement.z_number}",
    ]
    text = " ".join(part for part in parts if part)
    if not settlement.reference:
        return text[:VOUCHER_TEXT_MAX]
    suffix = f" [{settlement.reference}]"
    return text[: VOUCHER_TEXT_MAX - len(suffix)] + suffix


class _Builder:
    def __init__(self, mapping: MappingData):
        self.mapping = mapping
        self.rows: list[VoucherRow] = []
        self.missing: dict[tuple[str, str | None], MissingMapping] = {}

    def need(self, category: str, key: str | None = None) -> None:
        message = (
            _("%(what)s mangler konto og MVA-kode")
            if category == "sales_by_vat_rate"
            else _("%(what)s mangler konto")
        ) % {"what": label(category, key)}
        self.missing.setdefault((category, key), MissingMapping(category, key, message))

    def wrong_code(self, category: str, key: str, entry: SalesAccount, rate: str) -> bool:
        """A sales code whose (SAF-T) rate is not the rate of the sale is as bad as none."""
        code_rate = vat_code_rate(entry.vat_code)
        if code_rate is None or rate_key(code_rate) == rate:
            return False
        message = _(
            "%(what)s: MVA-kode %(code)s gjelder %(code_rate)s, men salget har %(rate)s"
        ) % {
            "what": label(category, key),
            "code": entry.vat_code,
            "code_rate": rate_label(code_rate),
            "rate": rate_label(rate),
        }
        self.missing.setdefault((category, key), MissingMapping(category, key, message))
        return True

    def add(self, account: int | None, amount: Decimal, text: str, vat_code: str | None = None):
        """`amount` > 0 is a debit, < 0 a credit (a negative amount moves to the other side);
        zero rows are left out."""
        amount = q2(amount)
        if amount == 0 or account is None:
            return
        self.rows.append(
            VoucherRow(
                account=account,
                debit=amount if amount > 0 else ZERO,
                credit=-amount if amount < 0 else ZERO,
                vat_code=vat_code,
                text=text[:ROW_TEXT_MAX],
            )
        )

    def account(self, category: str, amount: Decimal, key: str | None = None) -> int | None:
        """The mapped account for a non-zero amount (noting it as missing when there is none)."""
        if amount == 0:
            return None
        if key is not None:
            account = getattr(self.mapping, category).get(key)
        else:
            account = getattr(self.mapping, category)
        if account is None:
            self.need(category, key)
        return account

    def sales(self, settlement: SettlementData) -> None:
        # One row per product group that has an override, else one per VAT rate.
        buckets: dict[tuple, dict] = {}
        for line in settlement.sales:
            rate = rate_key(line.vat_rate)
            override = self.mapping.sales_by_product_group.get(line.product_group)
            if override is not None:
                target = ("sales_by_product_group", line.product_group, rate)
            else:
                target = ("sales_by_vat_rate", rate, rate)
            bucket = buckets.setdefault(
                target, {"net": ZERO, "groups": [], "entry": override, "rate": rate}
            )
            bucket["net"] += line.gross_amount - line.vat_amount
            if line.product_group and line.product_group not in bucket["groups"]:
                bucket["groups"].append(line.product_group)

        for (category, key, _rate), bucket in buckets.items():
            net, rate = bucket["net"], bucket["rate"]
            if net == 0:
                continue
            entry = bucket["entry"] or self.mapping.sales_by_vat_rate.get(rate)
            if entry is None:
                self.need(category, key)
                continue
            if self.wrong_code(category, key, entry, rate):
                continue
            groups = bucket["groups"]
            name = f"{groups[0]} " if len(groups) == 1 else ""
            self.add(entry.account, -net, f"Salg {name}{rate_label(rate)}", entry.vat_code)

    def vat(self, settlement: SettlementData) -> None:
        totals: dict[str, Decimal] = {}
        for line in settlement.sales:
            rate = rate_key(line.vat_rate)
            totals[rate] = totals.get(rate, ZERO) + line.vat_amount
        for rate, vat in totals.items():
            account = self.account("output_vat_by_rate", vat, rate)
            self.add(account, -vat, f"Utgående mva {rate_label(rate)}")

    def payments(self, settlement: SettlementData) -> None:
        totals: dict[str, Decimal] = {}
        for payment in settlement.payments:
            totals[payment.method] = totals.get(payment.method, ZERO) + payment.amount
        for method, amount in totals.items():
            account = self.account("payments", amount, method)
            self.add(account, amount, payment_voucher_text(method))

    def others(self, settlement: SettlementData) -> None:
        self.add(self.account("tips", settlement.tips), -settlement.tips, "Tips")
        self.add(
            self.account("gift_cards_sold", settlement.gift_cards_sold),
            -settlement.gift_cards_sold,
            "Gavekort solgt",
        )
        # Positive rounding is income (credit), negative a cost (debit).
        self.add(
            self.account("rounding", settlement.rounding), -settlement.rounding, "Øreavrunding"
        )

    def cash(self, settlement: SettlementData) -> None:
        # Shortage (< 0): debit cash difference, credit cash; surplus: the other way round.
        difference = settlement.cash_difference or ZERO
        if difference != 0:
            diff_account = self.account("cash_difference", difference)
            cash_account = self.account("cash", difference)
            self.add(diff_account, -difference, "Kassedifferanse")
            self.add(cash_account, difference, "Kassedifferanse")
        for movement in settlement.pay_ins:
            text = f"Innskudd kasse: {movement.reason}" if movement.reason else "Innskudd kasse"
            cash_account = self.account("cash", movement.amount)
            self.add(cash_account, movement.amount, text)
            self.add(self.account("pay_ins", movement.amount), -movement.amount, text)
        for movement in settlement.pay_outs:
            text = f"Uttak kasse: {movement.reason}" if movement.reason else "Uttak kasse"
            self.add(self.account("pay_outs", movement.amount), movement.amount, text)
            self.add(self.account("cash", movement.amount), -movement.amount, text)


def build_voucher(settlement: SettlementData, mapping: MappingData) -> Voucher:
    """The voucher one settlement becomes. Raises UnbalancedSettlement when the settlement
    does not balance, MappingIncomplete (listing every missing mapping) when it cannot be
    mapped completely. Debits equal credits to the øre, or UnbalancedVoucher is raised.
    A settlement whose every amount is zero gives a voucher without rows (nothing to post)."""
    difference = settlement.balance_difference
    if difference != 0:
        raise UnbalancedSettlement(q2(difference))

    builder = _Builder(mapping)
    builder.sales(settlement)
    builder.vat(settlement)
    builder.payments(settlement)
    builder.others(settlement)
    builder.cash(settlement)
    if builder.missing:
        raise MappingIncomplete(list(builder.missing.values()))

    total_debit = sum((row.debit for row in builder.rows), ZERO)
    total_credit = sum((row.credit for row in builder.rows), ZERO)
    if total_debit != total_credit:
        raise UnbalancedVoucher(total_debit, total_credit)
    return Voucher(
        voucher_date=settlement.business_date,
        text=voucher_text(settlement),
        reference=settlement.reference,
        rows=tuple(builder.rows),
        total_debit=q2(total_debit),
        total_credit=q2(total_credit),
    )
