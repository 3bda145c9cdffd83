"""manage.py import_saft: Skatteetaten's example and what can be wrong with such a file."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from integrations.visma.selectors import due_settlements
from saft.models import SaftCode
from settlements.models import Settlement
from tests.conftest import status_of

from .conftest import (
    REGISTER,
    example_text,
    other_payments,
    replace_once,
    with_z_reports,
    wrong_vat_base,
)

D = Decimal


def run(*files) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command(
            "import_saft",
            "--org",
            "fjordkafe",
            "--location",
            "sentrum",
            *map(str, files),
            stdout=out,
        )
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


def test_it_imports_the_example_as_design_4_6_states(location, saft_file):
    code, out = run(saft_file())

    assert code == 0, out
    assert f"{REGISTER} Z1 2020-01-01: stored" in out
    settlement = Settlement.objects.get()
    assert (settlement.register_id, settlement.z_number) == (REGISTER, 1)
    assert settlement.business_date.isoformat() == "2020-01-01"
    assert status_of(settlement).state == "pending"
    per_rate: dict = {}
    for line in settlement.sales.all():
        gross, vat = per_rate.get(line.vat_rate, (D(0), D(0)))
        per_rate[line.vat_rate] = (gross + line.gross_amount, vat + line.vat_amount)
    assert per_rate == {D("15"): (D("102.80"), D("13.42")), D("25"): (D("411.40"), D("82.28"))}
    # Split per article group (basicDesc) where the transactions add up to the Z's totals.
    assert sorted(
        (s.product_group, s.vat_rate, s.gross_amount, s.vat_amount) for s in settlement.sales.all()
    ) == [
        ("Beer", D("25"), D("179.40"), D("35.88")),
        ("Food", D("15"), D("102.80"), D("13.42")),
        ("Tobacco", D("25"), D("232.00"), D("46.40")),
    ]
    assert sorted((p.method, p.amount) for p in settlement.payments.all()) == [
        ("DEBCARD", D("218.80")),
        ("cash", D("295.00")),
    ]
    assert settlement.rounding == D("-0.40")
    assert settlement.balance_difference == 0
    assert settlement.counters["receipts"] == 3
    codes = {(c.kind, c.key): (c.description, c.standard_code) for c in SaftCode.objects.all()}
    assert codes[("payment", "DEBCARD")] == ("Debit card", "12002")
    assert codes[("payment", "cash")] == ("Cash", "12001")
    assert codes[("article_group", "Food")] == ("Food", "04006")


def test_it_changes_nothing_when_the_same_file_comes_again(location, saft_file):
    path = saft_file()
    run(path)
    before = Settlement.objects.get()

    code, out = run(path)

    assert code == 0, out
    assert "Z1 2020-01-01: already there" in out
    after = Settlement.objects.get()
    assert (after.pk, after.content_hash, after.received_at) == (
        before.pk,
        before.content_hash,
        before.received_at,
    )


def test_it_reports_a_conflict_and_overwrites_nothing(location, saft_file):
    run(saft_file())

    code, out = run(saft_file(other_payments(example_text()), name="other.xml"))

    assert code == 1
    assert "Z1 2020-01-01: conflict" in out
    assert sorted(Settlement.objects.get().payments.values_list("amount", flat=True)) == [
        D("218.80"),
        D("295.00"),
    ]


def test_it_stores_vat_on_the_wrong_base_as_needing_action_naming_the_vat(location, saft_file):
    code, out = run(saft_file(wrong_vat_base(example_text())))

    assert code == 1
    settlement = Settlement.objects.get()
    status = status_of(settlement)
    assert (status.state, status.problem) == ("needs_action", "vat_mismatch")
    assert settlement.hold_code == "vat_mismatch"
    assert "MVA 102,85 stemmer ikke med 25 % av 411,40" in status.reason
    assert "trenger handling" in out and "MVA 102,85 stemmer ikke med 25 % av 411,40" in out
    # Never posted: the transfer leaves it out, whatever the date.
    assert not due_settlements(
        location.organization, today=settlement.business_date.replace(day=2)
    ).exists()


def test_a_corrected_file_replaces_the_one_that_needed_action(location, saft_file):
    run(saft_file(wrong_vat_base(example_text()), name="wrong.xml"))

    code, out = run(saft_file(name="fixed.xml"))

    assert code == 0, out
    assert "Z1 2020-01-01: stored (replaces" in out
    settlement = Settlement.objects.get()
    assert status_of(settlement).state == "pending"
    assert settlement.hold_code == ""
    assert settlement.revisions.count() == 1
    assert due_settlements(
        location.organization, today=settlement.business_date.replace(day=2)
    ).exists()


def test_it_stores_z_totals_that_disagree_as_needing_action(location, saft_file):
    text = replace_once(
        example_text(),
        "<totalCashSaleAmnt>514.20</totalCashSaleAmnt>",
        "<totalCashSaleAmnt>520.00</totalCashSaleAmnt>",
    )

    code, out = run(saft_file(text))

    assert code == 1
    settlement = Settlement.objects.get()
    status = status_of(settlement)
    assert (status.state, status.problem) == ("needs_action", "source_mismatch")
    assert settlement.hold_code == "source_mismatch"
    assert "514,20 kr, stemmer ikke med totalCashSaleAmnt 520,00 kr" in status.reason


def test_the_same_z_report_from_a_corrected_file_is_released(location, saft_file):
    wrong = replace_once(
        example_text(),
        "<totalCashSaleAmnt>514.20</totalCashSaleAmnt>",
        "<totalCashSaleAmnt>520.00</totalCashSaleAmnt>",
    )
    run(saft_file(wrong, name="wrong.xml"))

    # Only the file's own total was wrong: the settlement's content is the same.
    code, out = run(saft_file(name="fixed.xml"))

    assert code == 0, out
    assert "Z1 2020-01-01: stored (replaces" in out
    settlement = Settlement.objects.get()
    assert (settlement.hold_code, settlement.hold_reason) == ("", "")
    assert status_of(settlement).state == "pending"
    assert due_settlements(
        location.organization, today=settlement.business_date.replace(day=2)
    ).exists()


def test_it_refuses_an_invalid_file_whole_naming_line_and_element(location, saft_file):
    text = with_z_reports(example_text(), [2])
    text = replace_once(text, "<vatAmnt>82.28</vatAmnt>", "<vatAmnt>82,28</vatAmnt>")
    path = saft_file(text)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "82,28" in row)

    code, out = run(path)

    assert code == 1
    assert "refused, nothing stored" in out
    assert f"line {line} <vatAmnt>: '82,28' is not a valid value" in out
    assert not Settlement.objects.exists()


def test_it_refuses_a_z_report_whose_number_is_not_whole(location, saft_file):
    text = with_z_reports(example_text(), [2])
    text = replace_once(text, "<reportID>2</reportID>", "<reportID>Z-2</reportID>")

    code, out = run(saft_file(text))

    assert code == 1
    assert "Z1 2020-01-01: stored" in out
    assert "ZZ-2 2020-01-02: refused" in out and "«Z-2» er ikke et helt tall" in out
    assert Settlement.objects.count() == 1


def test_it_names_the_z_numbers_missing_in_a_register(location, saft_file):
    code, out = run(saft_file(with_z_reports(example_text(), [3, 7])))

    assert f"{REGISTER}: Z 2 mangler mellom 1 og 3" in out
    assert f"{REGISTER}: Z 4–6 mangler mellom 3 og 7" in out
    assert Settlement.objects.count() == 3
    # Days without transactions keep one line per VAT rate, named as the till names the code.
    later = Settlement.objects.get(z_number=3)
    assert sorted(later.sales.values_list("product_group", "gross_amount")) == [
        ("VAT 15 %", D("102.80")),
        ("VAT 25 %", D("411.40")),
    ]
    # ... and without their transactions no rounding: 0.40 kr short, so trenger handling.
    assert status_of(later).problem == "unbalanced"
    assert code == 1


@pytest.mark.django_db
def test_it_says_which_store_is_missing(saft_file):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="No store 'sentrum'"):
        run(saft_file())
