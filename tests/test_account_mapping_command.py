"""manage.py account_mapping export|import --org SLUG FILE.json: the kontooppsett as the
worked example's `mapping`; import validates everything and writes all or nothing."""

import io
import json

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.utils import translation

from accounting.mapping import MappingData, SalesAccount
from accounting.models import MappingChange
from accounting.services import export_mapping, load_mapping, save_mapping
from integrations.visma.models import Problem, SettlementExport
from tests.conftest import status_of
from tests.test_voucher_builder import settlement_from_json
from tests.test_voucher_preview import make_settlement


@pytest.fixture(autouse=True)
def norwegian():
    with translation.override("nb"):
        yield


def write(tmp_path, data, name="mapping.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("account_mapping", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_imports_the_worked_example_mapping_and_exports_it_back_unchanged(
    tmp_path, org, worked_example
):
    path = write(tmp_path, worked_example["mapping"])
    out, _ = run("import", "--org", "fjordkafe", path)
    assert "importert" in out

    mapping = load_mapping(org)
    assert mapping.payments["vipps"] == 1902
    assert mapping.sales_by_product_group["Klær"] == SalesAccount(3000, "3")

    exported = tmp_path / "out.json"
    run("export", "--org", "fjordkafe", str(exported))
    assert json.loads(exported.read_text(encoding="utf-8")) == worked_example["mapping"]

    change = MappingChange.objects.get(organization=org)
    assert change.action == "import"
    assert change.user is None
    assert "mapping.json" in change.note


def test_it_accepts_the_whole_worked_example_file(tmp_path, org, worked_example):
    run("import", "--org", "fjordkafe", write(tmp_path, worked_example))
    assert export_mapping(organization=org) == worked_example["mapping"]


def test_it_exports_an_empty_kontooppsett_in_the_same_shape(org):
    out, _ = run("export", "--org", "fjordkafe", "-")
    assert json.loads(out) == {
        "sales_by_vat_rate": {},
        "sales_by_product_group": {},
        "output_vat_by_rate": {},
        "payments": {},
        "tips": None,
        "gift_cards_sold": None,
        "rounding": None,
        "cash": None,
        "cash_difference": None,
        "pay_ins": None,
        "pay_outs": None,
    }


def test_it_normalises_rate_keys_and_accepts_account_numbers_as_text(tmp_path, org):
    data = {
        "sales_by_vat_rate": {"25.00": {"account": "3000", "vat_code": 3}},
        "output_vat_by_rate": {"25.0": 2700},
        "payments": {"card": "1901"},
    }
    run("import", "--org", "fjordkafe", write(tmp_path, data))
    mapping = load_mapping(org)
    assert mapping.sales_by_vat_rate == {"25": SalesAccount(3000, "3")}
    assert mapping.output_vat_by_rate == {"25": 2700}
    assert mapping.payments == {"card": 1901}


def test_it_prints_every_error_with_its_path_and_changes_nothing(tmp_path, org, worked_example):
    save_mapping(organization=org, mapping=MappingData(tips=2910, payments={"cash": 1900}))
    before = export_mapping(organization=org)
    bad = {
        "sales_by_vat_rate": {
            "25": {"account": 3000, "vat_code": "3"},  # fine, and still not written
            "15": {"account": 3030, "vat_code": "3"},
            "12": {"account": 305},
            "abc": {"account": 3100, "vat_code": "5"},
        },
        "output_vat_by_rate": {"25": {"account": 2700, "vat_code": "3"}},
        "payments": {"cash": {"account": 1900, "vat_code": "3"}, "vipps": 19.02},
        "tips": "to ni en null",
        "pay_out": 1911,
    }
    err = io.StringIO()
    with pytest.raises(CommandError, match="Kontooppsettet ble ikke importert: 9 feil"):
        call_command(
            "account_mapping", "import", "--org", "fjordkafe", write(tmp_path, bad), stderr=err
        )
    lines = err.getvalue().splitlines()
    assert "pay_out: Ukjent felt" in lines
    assert "sales_by_vat_rate.15.vat_code: MVA-kode 3 gjelder 25 %, ikke 15 %" in lines
    assert "sales_by_vat_rate.12.account: Kontonummer må være et heltall på minst 4 sifre" in lines
    assert "sales_by_vat_rate.12.vat_code: Salg må ha en MVA-kode for utgående mva" in lines
    assert "sales_by_vat_rate.abc: «abc» er ikke en MVA-sats (et tall fra 0 til 100)" in lines
    assert (
        "output_vat_by_rate.25.vat_code: Betalingsmidler, mva- og gjeldskontoer føres uten MVA-kode"
        in lines
    )
    assert (
        "payments.cash.vat_code: Betalingsmidler, mva- og gjeldskontoer føres uten MVA-kode"
        in lines
    )
    assert "payments.vipps: Kontonummer må være et heltall på minst 4 sifre" in lines
    assert "tips: Kontonummer må være et heltall på minst 4 sifre" in lines
    assert export_mapping(organization=org) == before
    assert MappingChange.objects.filter(organization=org).count() == 1


def test_it_exits_with_1_on_an_invalid_file(tmp_path, org, capsys):
    path = write(tmp_path, {"tips": 12})
    with pytest.raises(SystemExit) as caught:
        ManagementUtility(
            ["manage.py", "account_mapping", "import", "--org", "fjordkafe", path]
        ).execute()
    assert caught.value.code == 1
    captured = capsys.readouterr()
    assert "tips: Kontonummer må være et heltall på minst 4 sifre" in captured.err
    assert "Ingenting er endret" in captured.err


def test_it_refuses_a_file_that_is_not_json(tmp_path, org):
    path = tmp_path / "bad.json"
    path.write_text('{"tips": 2910,\n  oops}', encoding="utf-8")
    with pytest.raises(CommandError, match="ugyldig JSON \\(linje 2"):
        run("import", "--org", "fjordkafe", str(path))


def test_it_refuses_an_unknown_organisation(tmp_path, db):
    with pytest.raises(CommandError, match="Fant ingen organisasjon"):
        run("export", "--org", "finnes-ikke", str(tmp_path / "x.json"))


def test_it_refuses_a_product_group_override_that_does_not_fit_what_it_is_sold_at(
    tmp_path, org, location, worked_example
):
    make_settlement(location, settlement_from_json(worked_example["settlement"]))
    data = dict(
        worked_example["mapping"],
        sales_by_product_group={"Mat": {"account": 3000, "vat_code": "3"}},
    )
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "account_mapping", "import", "--org", "fjordkafe", write(tmp_path, data), stderr=err
        )
    assert (
        "sales_by_product_group.Mat.vat_code: Varegruppen Mat selges med 15 %, men MVA-kode 3 gjelder 25 %"
        in err.getvalue()
    )


def test_importing_the_missing_mapping_releases_blocked_settlements(
    tmp_path, org, location, worked_example
):
    waiting = make_settlement(
        location,
        settlement_from_json(worked_example["settlement"]),
        state=SettlementExport.State.NEEDS_ACTION,
        problem_code=Problem.MAPPING_MISSING,
    )
    run("import", "--org", "fjordkafe", write(tmp_path, worked_example["mapping"]))
    waiting.refresh_from_db()
    assert status_of(waiting).state == SettlementExport.State.PENDING
