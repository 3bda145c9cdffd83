"""The voucher builder (../shared/DESIGN.md 4.2): the worked example to the øre, every category on its
own, sides, zero rows, and refusing what it cannot map or balance. Pure: no database."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from django.utils import translation

from accounting.builder import (
    MappingIncomplete,
    UnbalancedSettlement,
    UnbalancedVoucher,
    build_voucher,
)
from accounting.mapping import MappingData, mapping_from_json
from settlements.domain import (
    CashCount,
    CashMovementData,
    PaymentData,
    SaleLineData,
    SettlementData,
    normalize_rate,
    vat_from_gross,
)

D = Decimal


def settlement_from_json(body: dict, **extra) -> SettlementData:
    """A settlement body (../shared/DESIGN.md 4.1) as SettlementData, for tests (no ingestion needed)."""

    def sale(line):
        rate = normalize_rate(line["vat_rate"])
        gross = D(str(line["gross_amount"]))
        vat = D(str(line["vat_amount"])) if "vat_amount" in line else vat_from_gross(gross, rate)
        return SaleLineData(line["product_group"], rate, gross, vat, line.get("count"))

    count = body.get("cash_count")
    return SettlementData(
        register_id=body["register_id"],
        z_number=body["z_number"],
        business_date=dt.date.fromisoformat(body["business_date"]),
        sales=tuple(sale(line) for line in body["sales"]),
        payments=tuple(PaymentData(p["method"], D(str(p["amount"]))) for p in body["payments"]),
        tips=D(str(body.get("tips", "0.00"))),
        gift_cards_sold=D(str(body.get("gift_cards_sold", "0.00"))),
        rounding=D(str(body.get("rounding", "0.00"))),
        cash_count=CashCount(D(count["opening_float"]), D(count["counted"])) if count else None,
        pay_ins=tuple(
            CashMovementData(m["reason"], D(m["amount"])) for m in body.get("pay_ins", [])
        ),
        pay_outs=tuple(
            CashMovementData(m["reason"], D(m["amount"])) for m in body.get("pay_outs", [])
        ),
        counters=body.get("counters", {}),
        **extra,
    )


FULL_MAPPING = {
    "sales_by_vat_rate": {
        "25": {"account": 3000, "vat_code": "3"},
        "15": {"account": 3030, "vat_code": "31"},
        "12": {"account": 3050, "vat_code": "33"},
        "0": {"account": 3100, "vat_code": "5"},
    },
    "sales_by_product_group": {},
    "output_vat_by_rate": {"25": 2700, "15": 2701, "12": 2703},
    "payments": {"cash": 1900, "card": 1901, "vipps": 1902, "gift_card": 2901, "invoice": 1500},
    "tips": 2910,
    "gift_cards_sold": 2901,
    "rounding": 7740,
    "cash": 1900,
    "cash_difference": 1909,
    "pay_ins": 1911,
    "pay_outs": 1920,
}


@pytest.fixture(autouse=True)
def norwegian():
    with translation.override("nb"):
        yield


def full(**changes) -> MappingData:
    data = {**FULL_MAPPING, **changes}
    return mapping_from_json(data)


def day(sales=(), payments=(), **kwargs) -> SettlementData:
    """A settlement of plain tuples: sales (group, rate, gross), payments (method, amount)."""
    return SettlementData(
        register_id="KASSE-1",
        z_number=7,
        business_date=dt.date(2026, 11, 27),
        sales=tuple(
            SaleLineData(group, D(rate), D(gross), vat_from_gross(D(gross), D(rate)))
            for group, rate, gross in sales
        ),
        payments=tuple(PaymentData(method, D(amount)) for method, amount in payments),
        location_name="Fjordkafé Sentrum",
        reference="BO-9",
        **kwargs,
    )


def net(voucher) -> dict:
    """Net amount (debit − credit) per (account, VAT code), as the worked example compares."""
    totals = defaultdict(Decimal)
    for row in voucher.rows:
        totals[(row.account, row.vat_code)] += row.debit - row.credit
    return {key: value for key, value in totals.items() if value != 0}


def rows_by_text(voucher) -> dict:
    return {row.text: row for row in voucher.rows}


def test_it_reproduces_the_worked_example(worked_example):
    settlement = settlement_from_json(
        worked_example["settlement"], location_name="Fjordkafé Sentrum", reference="BO-17"
    )
    voucher = build_voucher(settlement, mapping_from_json(worked_example["mapping"]))

    expected = defaultdict(Decimal)
    for row in worked_example["voucher"]["rows"]:
        expected[(row["account"], row["vat_code"])] += D(row["debit"]) - D(row["credit"])
    assert net(voucher) == {k: v for k, v in expected.items() if v != 0}
    assert voucher.total_debit == voucher.total_credit == D("10670.00")
    assert str(voucher.total_debit) == worked_example["voucher"]["total_debit"]
    assert voucher.voucher_date == dt.date(2026, 11, 27)
    # Even the texts and their order come out as the worked example writes them.
    assert [r.as_json() for r in voucher.rows] == worked_example["voucher"]["rows"]


def test_it_names_date_location_register_z_number_and_reference_in_the_voucher_text():
    voucher = build_voucher(day([("Mat", "15", "115.00")], [("card", "115.00")]), full())
    assert voucher.text == "Dagsoppgjør 27.11.2026 Fjordkafé Sentrum KASSE-1 Z7 [BO-9]"
    assert voucher.reference == "BO-9"


def test_it_keeps_the_reference_when_the_voucher_text_is_shortened():
    settlement = day([("Mat", "15", "115.00")], [("card", "115.00")])
    settlement = SettlementData(**{**settlement.__dict__, "location_name": "L" * 2000})
    voucher = build_voucher(settlement, full())
    assert len(voucher.text) == 1000
    assert voucher.text.endswith(" [BO-9]")


def test_it_aggregates_sales_per_vat_rate_and_credits_the_net_with_the_output_code():
    voucher = build_voucher(
        day(
            [("Mat", "15", "115.00"), ("Drikke", "15", "230.00"), ("Klær", "25", "125.00")],
            [("card", "470.00")],
        ),
        full(),
    )
    rows = rows_by_text(voucher)
    assert rows["Salg 15 %"].account == 3030
    assert rows["Salg 15 %"].vat_code == "31"
    assert rows["Salg 15 %"].credit == D("300.00")
    assert rows["Salg Klær 25 %"].credit == D("100.00")  # one group alone is named
    assert rows["Salg Klær 25 %"].vat_code == "3"


def test_it_gives_a_product_group_with_an_override_its_own_row():
    mapping = full(sales_by_product_group={"Vin": {"account": 3020, "vat_code": "3"}})
    voucher = build_voucher(
        day([("Vin", "25", "250.00"), ("Klær", "25", "125.00")], [("card", "375.00")]), mapping
    )
    assert net(voucher)[(3020, "3")] == D("-200.00")
    assert net(voucher)[(3000, "3")] == D("-100.00")
    assert rows_by_text(voucher)["Salg Vin 25 %"].account == 3020
    # The VAT of both stays one row per rate.
    assert rows_by_text(voucher)["Utgående mva 25 %"].credit == D("75.00")


def test_it_credits_the_vat_per_rate_to_the_output_vat_account_without_a_code():
    voucher = build_voucher(
        day(
            [("Klær", "25", "1250.00"), ("Mat", "15", "1150.00"), ("Bok", "12", "112.00")],
            [("card", "2512.00")],
        ),
        full(),
    )
    rows = rows_by_text(voucher)
    assert (rows["Utgående mva 25 %"].account, rows["Utgående mva 25 %"].credit) == (
        2700,
        D("250.00"),
    )
    assert (rows["Utgående mva 15 %"].account, rows["Utgående mva 15 %"].credit) == (
        2701,
        D("150.00"),
    )
    assert (rows["Utgående mva 12 %"].account, rows["Utgående mva 12 %"].credit) == (
        2703,
        D("12.00"),
    )
    assert all(rows[t].vat_code is None for t in rows if t.startswith("Utgående"))


def test_it_posts_zero_rated_sales_without_a_vat_row_or_output_vat_account():
    voucher = build_voucher(day([("Aviser", "0", "80.00")], [("cash", "80.00")]), full())
    assert net(voucher) == {(3100, "5"): D("-80.00"), (1900, None): D("80.00")}


def test_it_debits_each_payment_method_to_its_account_and_names_unknown_methods_as_the_till_does():
    mapping = full(payments={**FULL_MAPPING["payments"], "Kupong": 2960})
    voucher = build_voucher(
        day(
            [("Mat", "15", "1000.00")],
            [
                ("cash", "100.00"),
                ("card", "300.00"),
                ("vipps", "200.00"),
                ("gift_card", "100.00"),
                ("invoice", "150.00"),
                ("Kupong", "50.00"),
                ("card", "100.00"),
            ],
        ),
        mapping,
    )
    rows = rows_by_text(voucher)
    assert (rows["Kontant"].account, rows["Kontant"].debit) == (1900, D("100.00"))
    assert (rows["Kort"].account, rows["Kort"].debit) == (1901, D("400.00"))  # summed per method
    assert (rows["Vipps"].account, rows["Vipps"].debit) == (1902, D("200.00"))
    assert (rows["Gavekort innløst"].account, rows["Gavekort innløst"].debit) == (2901, D("100.00"))
    assert (rows["Faktura"].account, rows["Faktura"].debit) == (1500, D("150.00"))
    assert (rows["Kupong"].account, rows["Kupong"].debit) == (2960, D("50.00"))
    assert all(row.vat_code is None for row in voucher.rows if row.debit)


def test_it_credits_tips_and_gift_cards_sold_to_their_accounts():
    voucher = build_voucher(
        day(
            [("Mat", "15", "115.00")],
            [("card", "365.00")],
            tips=D("50.00"),
            gift_cards_sold=D("200.00"),
        ),
        full(),
    )
    rows = rows_by_text(voucher)
    assert (rows["Tips"].account, rows["Tips"].credit, rows["Tips"].vat_code) == (
        2910,
        D("50.00"),
        None,
    )
    assert (rows["Gavekort solgt"].account, rows["Gavekort solgt"].credit) == (2901, D("200.00"))


def test_it_credits_positive_rounding_and_debits_negative_rounding():
    up = build_voucher(
        day([("Mat", "15", "99.60")], [("cash", "100.00")], rounding=D("0.40")), full()
    )
    down = build_voucher(
        day([("Mat", "15", "100.40")], [("cash", "100.00")], rounding=D("-0.40")), full()
    )
    assert (rows_by_text(up)["Øreavrunding"].credit, rows_by_text(up)["Øreavrunding"].debit) == (
        D("0.40"),
        D("0.00"),
    )
    assert (
        rows_by_text(down)["Øreavrunding"].debit,
        rows_by_text(down)["Øreavrunding"].credit,
    ) == (D("0.40"), D("0.00"))
    assert rows_by_text(down)["Øreavrunding"].account == 7740


def test_it_moves_a_cash_shortage_from_cash_to_the_cash_difference_account():
    voucher = build_voucher(
        day(
            [("Mat", "15", "500.00")],
            [("cash", "500.00")],
            cash_count=CashCount(D("1000.00"), D("1480.00")),
        ),
        full(),
    )
    assert net(voucher)[(1909, None)] == D("20.00")
    assert net(voucher)[(1900, None)] == D("480.00")  # 500 cash in, 20 short


def test_it_moves_a_cash_surplus_from_the_cash_difference_account_to_cash():
    voucher = build_voucher(
        day(
            [("Mat", "15", "500.00")],
            [("cash", "500.00")],
            cash_count=CashCount(D("1000.00"), D("1505.50")),
        ),
        full(),
    )
    assert net(voucher)[(1909, None)] == D("-5.50")
    assert net(voucher)[(1900, None)] == D("505.50")


def test_it_posts_pay_ins_and_pay_outs_between_cash_and_their_accounts():
    voucher = build_voucher(
        day(
            [("Mat", "15", "115.00")],
            [("card", "115.00")],
            pay_ins=(CashMovementData("Vekslepenger", D("500.00")),),
            pay_outs=(CashMovementData("Melk", D("49.90")),),
        ),
        full(),
    )
    pay_in = [r for r in voucher.rows if r.text == "Innskudd kasse: Vekslepenger"]
    pay_out = [r for r in voucher.rows if r.text == "Uttak kasse: Melk"]
    assert {(r.account, r.debit, r.credit) for r in pay_in} == {
        (1900, D("500.00"), D("0.00")),
        (1911, D("0.00"), D("500.00")),
    }
    assert {(r.account, r.debit, r.credit) for r in pay_out} == {
        (1920, D("49.90"), D("0.00")),
        (1900, D("0.00"), D("49.90")),
    }


def test_it_moves_negative_sales_to_the_debit_side():
    """Returns beyond sales: the sales account and the output VAT are debited."""
    voucher = build_voucher(day([("Klær", "25", "-250.00")], [("card", "-250.00")]), full())
    rows = rows_by_text(voucher)
    assert (rows["Salg Klær 25 %"].debit, rows["Salg Klær 25 %"].credit) == (D("200.00"), D("0.00"))
    assert (rows["Utgående mva 25 %"].debit, rows["Utgående mva 25 %"].credit) == (
        D("50.00"),
        D("0.00"),
    )
    assert (rows["Kort"].debit, rows["Kort"].credit) == (D("0.00"), D("250.00"))


def test_it_moves_negative_payments_and_tips_to_the_other_side():
    voucher = build_voucher(
        day([("Mat", "15", "230.00")], [("card", "300.00"), ("cash", "-80.00")], tips=D("-10.00")),
        full(),
    )
    rows = rows_by_text(voucher)
    assert (rows["Kontant"].debit, rows["Kontant"].credit) == (D("0.00"), D("80.00"))
    assert (rows["Tips"].debit, rows["Tips"].credit) == (D("10.00"), D("0.00"))


def test_it_leaves_out_zero_rows_and_needs_no_mapping_for_them():
    mapping = full(tips=None, rounding=None, payments={"card": 1901})
    settlement = SettlementData(
        register_id="KASSE-1",
        z_number=1,
        business_date=dt.date(2026, 11, 27),
        sales=(
            SaleLineData("Mat", D("15"), D("115.00"), D("15.00")),
            SaleLineData("Aviser", D("0"), D("0.00"), D("0.00")),
            SaleLineData("Tobakk", D("12"), D("0.00"), D("0.00")),
        ),
        payments=(PaymentData("card", D("115.00")), PaymentData("vipps", D("0.00"))),
        tips=D("0.00"),
        rounding=D("0.00"),
        cash_count=CashCount(D("500.00"), D("500.00")),
    )
    voucher = build_voucher(settlement, mapping)
    assert all(row.debit or row.credit for row in voucher.rows)
    assert len(voucher.rows) == 3
    assert not any(row.debit and row.credit for row in voucher.rows)


def test_it_lists_every_missing_mapping_in_one_error(worked_example):
    settlement = settlement_from_json(worked_example["settlement"])
    with pytest.raises(MappingIncomplete) as caught:
        build_voucher(settlement, MappingData())
    messages = caught.value.messages
    assert messages == [
        "Salg 25 % mangler konto og MVA-kode",
        "Salg 15 % mangler konto og MVA-kode",
        "Utgående mva 25 % mangler konto",
        "Utgående mva 15 % mangler konto",
        "Betalingsmåten cash mangler konto",
        "Betalingsmåten card mangler konto",
        "Betalingsmåten vipps mangler konto",
        "Betalingsmåten gift_card mangler konto",
        "Tips mangler konto",
        "Gavekort solgt mangler konto",
        "Øreavrunding mangler konto",
        "Kassedifferanse mangler konto",
        "Kasse mangler konto",
    ]
    items = {(item.category, item.key) for item in caught.value.items}
    assert ("payments", "vipps") in items and ("sales_by_vat_rate", "15") in items
    assert ("tips", None) in items
    assert "Betalingsmåten vipps mangler konto" in str(caught.value)


def test_it_refuses_a_settlement_missing_only_the_vipps_mapping(worked_example):
    mapping = dict(worked_example["mapping"])
    mapping["payments"] = {k: v for k, v in mapping["payments"].items() if k != "vipps"}
    with pytest.raises(MappingIncomplete) as caught:
        build_voucher(
            settlement_from_json(worked_example["settlement"]), mapping_from_json(mapping)
        )
    assert caught.value.messages == ["Betalingsmåten vipps mangler konto"]
    assert caught.value.items[0].category == "payments"
    assert caught.value.items[0].key == "vipps"


def test_it_resolves_a_product_group_override_before_the_rate_default():
    mapping = full(
        sales_by_vat_rate={}, sales_by_product_group={"Mat": {"account": 3031, "vat_code": "31"}}
    )
    voucher = build_voucher(day([("Mat", "15", "115.00")], [("card", "115.00")]), mapping)
    assert net(voucher)[(3031, "31")] == D("-100.00")
    with pytest.raises(MappingIncomplete) as caught:
        build_voucher(day([("Drikke", "15", "115.00")], [("card", "115.00")]), mapping)
    assert caught.value.messages == ["Salg 15 % mangler konto og MVA-kode"]


def test_it_refuses_an_override_whose_vat_code_does_not_fit_the_rate_sold_at():
    mapping = full(sales_by_product_group={"Mat": {"account": 3000, "vat_code": "3"}})
    with pytest.raises(MappingIncomplete) as caught:
        build_voucher(day([("Mat", "15", "115.00")], [("card", "115.00")]), mapping)
    assert caught.value.messages == ["Varegruppe Mat: MVA-kode 3 gjelder 25 %, men salget har 15 %"]


def test_it_refuses_an_unbalanced_settlement_with_the_difference():
    with pytest.raises(UnbalancedSettlement) as caught:
        build_voucher(day([("Mat", "15", "115.00")], [("card", "100.00")]), full())
    assert caught.value.difference == D("-15.00")


def test_it_never_returns_an_unbalanced_voucher():
    # Amounts finer than øre balance in the settlement but not once each row is rounded.
    settlement = SettlementData(
        register_id="K",
        z_number=1,
        business_date=dt.date(2026, 1, 2),
        sales=(SaleLineData("Aviser", D("0"), D("0.01"), D("0")),),
        payments=(PaymentData("cash", D("0.005")), PaymentData("card", D("0.005"))),
    )
    with pytest.raises(UnbalancedVoucher):
        build_voucher(settlement, full())


def test_it_keeps_row_texts_within_60_characters_and_amounts_to_two_places():
    group = "Varegruppe med et veldig langt navn som kassen har funnet på selv"
    mapping = full(sales_by_product_group={group: {"account": 3000, "vat_code": "3"}})
    voucher = build_voucher(
        day(
            [(group, "25", "125")],
            [("card", "125")],
            pay_outs=(CashMovementData("x" * 100, D("10.00")),),
            cash_count=CashCount(D("0"), D("-10.00")),
        ),
        mapping,
    )
    assert all(len(row.text) <= 60 for row in voucher.rows)
    assert rows_by_text(voucher)[f"Salg {group} 25 %"[:60]].credit == D("100.00")
    for row in voucher.rows:
        assert row.debit.as_tuple().exponent == -2 and row.credit.as_tuple().exponent == -2
        assert isinstance(row.account, int)


def test_it_returns_a_voucher_without_rows_for_a_settlement_of_zeros():
    voucher = build_voucher(day([("Mat", "15", "0.00")], [("cash", "0.00")]), MappingData())
    assert voucher.rows == ()
    assert voucher.total_debit == voucher.total_credit == D("0.00")
