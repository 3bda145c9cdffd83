"""Properties of the voucher builder over generated settlements (hypothesis, no database):
any balanced settlement gives a balanced voucher whose sales net + VAT equals the gross,
and any unbalanced one is refused."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounting.builder import UnbalancedSettlement, build_voucher
from accounting.mapping import mapping_from_json
from settlements.domain import (
    ZERO,
    CashCount,
    CashMovementData,
    PaymentData,
    SaleLineData,
    SettlementData,
    rate_key,
    vat_from_gross,
)

MAPPING = mapping_from_json(
    {
        "sales_by_vat_rate": {
            "25": {"account": 3000, "vat_code": "3"},
            "15": {"account": 3030, "vat_code": "31"},
            "12": {"account": 3050, "vat_code": "33"},
            "11.11": {"account": 3040, "vat_code": "32"},
            "0": {"account": 3100, "vat_code": "5"},
        },
        # "Vin" is only ever sold at 25 % below, as its code says.
        "sales_by_product_group": {"Vin": {"account": 3020, "vat_code": "3"}},
        "output_vat_by_rate": {"25": 2700, "15": 2701, "11.11": 2702, "12": 2703},
        "payments": {
            "cash": 1900,
            "card": 1901,
            "vipps": 1902,
            "gift_card": 2901,
            "invoice": 1500,
            "Kupong": 2960,
        },
        "tips": 2910,
        "gift_cards_sold": 2902,
        "rounding": 7740,
        "cash": 1900,
        "cash_difference": 1909,
        "pay_ins": 1911,
        "pay_outs": 1920,
    }
)
VAT_ACCOUNTS = {2700, 2701, 2702, 2703}
RATES = [Decimal("25"), Decimal("15"), Decimal("12"), Decimal("11.11"), Decimal("0")]
METHODS = ["cash", "card", "vipps", "gift_card", "invoice", "Kupong"]

money = st.integers(min_value=-2_000_000, max_value=2_000_000).map(lambda c: Decimal(c).scaleb(-2))
small = st.integers(min_value=-50_000, max_value=50_000).map(lambda c: Decimal(c).scaleb(-2))


@st.composite
def sale_lines(draw):
    if draw(st.booleans()):
        group, rate = "Vin", Decimal("25")
    else:
        group = draw(st.sampled_from(["Mat", "Drikke", "Klær", "Diverse"]))
        rate = draw(st.sampled_from(RATES))
    gross = draw(money)
    return SaleLineData(group, rate, gross, vat_from_gross(gross, rate))


@st.composite
def settlements(draw, balanced=True):
    sales = tuple(draw(st.lists(sale_lines(), min_size=0, max_size=8)))
    tips, gift_cards_sold, rounding = (
        draw(small),
        draw(small),
        draw(
            st.sampled_from(
                [
                    Decimal("0.00"),
                    Decimal("0.40"),
                    Decimal("-0.40"),
                    Decimal("0.49"),
                    Decimal("-0.01"),
                ]
            )
        ),
    )
    payments = [
        PaymentData(draw(st.sampled_from(METHODS)), draw(money))
        for _ in range(draw(st.integers(0, 5)))
    ]
    owed = sum((s.gross_amount for s in sales), ZERO) + tips + gift_cards_sold + rounding
    rest = owed - sum((p.amount for p in payments), ZERO)
    payments.append(PaymentData(draw(st.sampled_from(METHODS)), rest))
    if not balanced:
        offset = draw(money.filter(lambda amount: amount != 0))
        payments.append(PaymentData("card", offset))
    cash_count = None
    if draw(st.booleans()):
        cash_count = CashCount(draw(money), draw(money))
    movements = st.lists(
        st.builds(CashMovementData, st.sampled_from(["Veksel", "Melk", ""]), small), max_size=3
    )
    return SettlementData(
        register_id="KASSE-1",
        z_number=draw(st.integers(1, 10**6)),
        business_date=dt.date(2026, 11, 27),
        sales=sales,
        payments=tuple(payments),
        tips=tips,
        gift_cards_sold=gift_cards_sold,
        rounding=rounding,
        cash_count=cash_count,
        pay_ins=tuple(draw(movements)),
        pay_outs=tuple(draw(movements)),
        location_name="Fjordkafé Sentrum",
        reference="BO-1",
    )


FAST = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


@FAST
@given(settlements())
def test_it_turns_any_balanced_settlement_into_a_balanced_voucher(settlement):
    voucher = build_voucher(settlement, MAPPING)

    assert voucher.total_debit == voucher.total_credit
    assert voucher.total_debit == sum((row.debit for row in voucher.rows), ZERO)
    assert voucher.total_credit == sum((row.credit for row in voucher.rows), ZERO)
    for row in voucher.rows:
        # One side per row, never negative, øre precision, a Visma-sized text.
        assert (row.debit == 0) != (row.credit == 0)
        assert row.debit >= 0 and row.credit >= 0
        assert row.debit.as_tuple().exponent == -2 and row.credit.as_tuple().exponent == -2
        assert len(row.text) <= 60

    # Sales rows (they carry a VAT code) and the VAT rows together are the gross sales.
    sales_net = sum((r.credit - r.debit for r in voucher.rows if r.vat_code is not None), ZERO)
    vat = sum((r.credit - r.debit for r in voucher.rows if r.account in VAT_ACCOUNTS), ZERO)
    assert sales_net + vat == settlement.total_sales
    assert vat == settlement.total_vat

    # And per rate: what each output VAT account receives is that rate's VAT.
    by_rate = defaultdict(Decimal)
    for line in settlement.sales:
        by_rate[rate_key(line.vat_rate)] += line.vat_amount
    for key, account in MAPPING.output_vat_by_rate.items():
        posted = sum((r.credit - r.debit for r in voucher.rows if r.account == account), ZERO)
        assert posted == by_rate.get(key, ZERO)


@FAST
@given(settlements(balanced=False))
def test_it_refuses_any_unbalanced_settlement(settlement):
    with pytest.raises(UnbalancedSettlement) as caught:
        build_voucher(settlement, MAPPING)
    assert caught.value.difference == settlement.balance_difference
    assert caught.value.difference != 0
