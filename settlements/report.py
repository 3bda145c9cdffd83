"""A stored settlement laid out as the Z-report a Norwegian shop owner reads: sales per
product group and rate, VAT per rate, payments, the balance check, the cash count."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from .domain import ZERO, SettlementData
from .texts import payment_label

COUNTER_LABELS = (
    ("receipts", _("Antall kvitteringer")),
    ("returns_count", _("Antall returer")),
    ("returns_amount", _("Returer, beløp")),
    ("discounts_count", _("Antall rabatter")),
    ("discounts_amount", _("Rabatter, beløp")),
    ("no_sale_openings", _("Skuffeåpninger uten salg")),
)
COUNTER_AMOUNTS = {"returns_amount", "discounts_amount"}


@dataclass(frozen=True)
class VatRateRow:
    rate: Decimal
    net: Decimal
    vat: Decimal
    gross: Decimal


@dataclass(frozen=True)
class CounterRow:
    label: str
    value: object
    is_amount: bool


def _sum(values) -> Decimal:
    return sum(values, ZERO)


def zreport(data: SettlementData) -> dict:
    """Everything the detail page shows, computed from the settlement's plain values."""
    rates: dict[Decimal, list] = {}
    for line in data.sales:
        rates.setdefault(line.vat_rate, []).append(line)
    vat_rows = [
        VatRateRow(
            rate=rate,
            net=_sum(line.net_amount for line in lines),
            vat=_sum(line.vat_amount for line in lines),
            gross=_sum(line.gross_amount for line in lines),
        )
        for rate, lines in sorted(rates.items(), key=lambda item: -item[0])
    ]
    counts = [line.count for line in data.sales if line.count is not None]

    cash = None
    pay_ins_total = _sum(m.amount for m in data.pay_ins)
    pay_outs_total = _sum(m.amount for m in data.pay_outs)
    if data.cash_count is not None:
        expected = (
            data.cash_count.opening_float + data.cash_payments + pay_ins_total - pay_outs_total
        )
        cash = {
            "opening_float": data.cash_count.opening_float,
            "cash_payments": data.cash_payments,
            "pay_ins_total": pay_ins_total,
            "pay_outs_total": pay_outs_total,
            "expected": expected,
            "counted": data.cash_count.counted,
            "difference": data.cash_difference,
        }

    counters = [
        CounterRow(str(label), data.counters[name], name in COUNTER_AMOUNTS)
        for name, label in COUNTER_LABELS
        if name in data.counters
    ]

    return {
        "sales": data.sales,
        "sales_total": {
            "gross": data.total_sales,
            "vat": data.total_vat,
            "net": data.total_sales - data.total_vat,
            "count": sum(counts) if counts else None,
        },
        "vat_rows": vat_rows,
        "payments": [
            {"label": payment_label(p.method), "method": p.method, "amount": p.amount}
            for p in data.payments
        ],
        "payments_total": data.total_payments,
        "tips": data.tips,
        "gift_cards_sold": data.gift_cards_sold,
        "rounding": data.rounding,
        "balance": {
            "sales": data.total_sales,
            "tips": data.tips,
            "gift_cards_sold": data.gift_cards_sold,
            "rounding": data.rounding,
            "expected": data.total_sales + data.tips + data.gift_cards_sold + data.rounding,
            "payments": data.total_payments,
            "difference": data.balance_difference,
        },
        "pay_ins": data.pay_ins,
        "pay_outs": data.pay_outs,
        "cash": cash,
        "counters": counters,
    }
