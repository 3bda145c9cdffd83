"""A settlement as plain values, and the arithmetic of ../shared/DESIGN.md 4.1.

No Django, no I/O: the ingestion parser produces a `SettlementData`, the model stores it,
`Settlement.as_data()` gives it back, and the voucher builder consumes it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
CASH_METHOD = "cash"


def q2(value: Decimal) -> Decimal:
    """Round to øre, half away from zero (../shared/DESIGN.md 4.1)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def normalize_rate(value) -> Decimal:
    """VAT rates compare as numbers: "25", "25.00" and 25 are one rate -> Decimal("25")."""
    rate = Decimal(str(value))
    normalized = rate.normalize()
    # normalize() turns 10 into 1E+1; quantize back to a plain integer exponent.
    if normalized == normalized.to_integral_value():
        return normalized.quantize(Decimal(1))
    return normalized


def rate_key(value) -> str:
    """The canonical text of a rate for use as a mapping key: "25", "15", "11.11"."""
    return format(normalize_rate(value), "f")


def vat_from_gross(gross: Decimal, rate: Decimal) -> Decimal:
    """VAT contained in a gross amount: gross × rate / (100 + rate), half-up to øre."""
    if rate == 0:
        return ZERO
    return q2(gross * rate / (Decimal(100) + rate))


@dataclass(frozen=True)
class SaleLineData:
    product_group: str
    vat_rate: Decimal
    gross_amount: Decimal
    vat_amount: Decimal
    count: int | None = None

    @property
    def net_amount(self) -> Decimal:
        return self.gross_amount - self.vat_amount


@dataclass(frozen=True)
class PaymentData:
    method: str
    amount: Decimal


@dataclass(frozen=True)
class CashMovementData:
    reason: str
    amount: Decimal


@dataclass(frozen=True)
class CashCount:
    opening_float: Decimal
    counted: Decimal


@dataclass(frozen=True)
class SettlementData:
    register_id: str
    z_number: int
    business_date: dt.date
    sales: tuple[SaleLineData, ...]
    payments: tuple[PaymentData, ...]
    tips: Decimal = ZERO
    gift_cards_sold: Decimal = ZERO
    rounding: Decimal = ZERO
    cash_count: CashCount | None = None
    pay_ins: tuple[CashMovementData, ...] = ()
    pay_outs: tuple[CashMovementData, ...] = ()
    counters: dict = field(default_factory=dict)
    currency: str = "NOK"
    opened_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    # Filled in from the stored settlement; used in the voucher text.
    location_name: str = ""
    reference: str = ""
    # The till says this corrects the settlement it sent before under the same register
    # and Z-number ("correction": true): not content (never in the canonical form or its
    # hash), but what to do with it when that one may already be in the books.
    correction: bool = False

    @property
    def total_sales(self) -> Decimal:
        return sum((line.gross_amount for line in self.sales), ZERO)

    @property
    def total_vat(self) -> Decimal:
        return sum((line.vat_amount for line in self.sales), ZERO)

    @property
    def total_payments(self) -> Decimal:
        return sum((p.amount for p in self.payments), ZERO)

    @property
    def balance_difference(self) -> Decimal:
        """Σ payments − (Σ sales + tips + gift cards sold + rounding); 0 when it balances."""
        return self.total_payments - (
            self.total_sales + self.tips + self.gift_cards_sold + self.rounding
        )

    @property
    def cash_payments(self) -> Decimal:
        return sum((p.amount for p in self.payments if p.method == CASH_METHOD), ZERO)

    @property
    def cash_difference(self) -> Decimal | None:
        """counted − (opening float + cash payments + Σ pay-ins − Σ pay-outs)."""
        if self.cash_count is None:
            return None
        expected = (
            self.cash_count.opening_float
            + self.cash_payments
            + sum((m.amount for m in self.pay_ins), ZERO)
            - sum((m.amount for m in self.pay_outs), ZERO)
        )
        return self.cash_count.counted - expected

    def vat_by_rate(self) -> dict[Decimal, Decimal]:
        totals: dict[Decimal, Decimal] = {}
        for line in self.sales:
            totals[line.vat_rate] = totals.get(line.vat_rate, ZERO) + line.vat_amount
        return totals


@dataclass(frozen=True)
class VatDisagreement:
    """The VAT a till reported for one rate, against what the rate gives on its gross."""

    rate: Decimal
    vat: Decimal
    gross: Decimal
    expected: Decimal


def vat_disagreements(sales: tuple[SaleLineData, ...]) -> list[VatDisagreement]:
    """The rates whose reported VAT disagrees with gross × rate / (100 + rate) by more than
    rounding can explain (DESIGN.md 4.1): about one øre per sales line the till summed, taken
    here as one øre per line, or per item of its `count` where that is larger."""
    totals: dict[Decimal, list] = {}
    for line in sales:
        entry = totals.setdefault(line.vat_rate, [ZERO, ZERO, 0])
        entry[0] += line.gross_amount
        entry[1] += line.vat_amount
        entry[2] += max(1, abs(line.count or 0))
    found = []
    for rate in sorted(totals, reverse=True):
        gross, vat, lines = totals[rate]
        expected = vat_from_gross(gross, rate)
        if abs(vat - expected) > CENT * lines:
            found.append(VatDisagreement(rate=rate, vat=vat, gross=gross, expected=expected))
    return found
