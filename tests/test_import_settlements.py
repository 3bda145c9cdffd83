"""manage.py import_settlements: the same validation as the API, one line per settlement."""

import copy
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from settlements.models import SaleLine, Settlement


def run(*args) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("import_settlements", *args, stdout=out)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


@pytest.fixture
def settlement(worked_example) -> dict:
    return worked_example["settlement"]


def write(tmp_path, name: str, content) -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(json.dumps(content), encoding="utf-8")
    return str(path)


def test_it_imports_a_list_and_then_finds_it_unchanged(tmp_path, location, settlement):
    second = {**settlement, "z_number": 1043}
    path = write(tmp_path, "uke48.json", [settlement, second])

    code, out = run("--org", "fjordkafe", "--location", "sentrum", path)

    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"{path}[0]: created KASSE-1 Z1042 2026-11-27")
    assert lines[1].startswith(f"{path}[1]: created KASSE-1 Z1043 2026-11-27")
    assert lines[-1] == "2 created, 0 unchanged, 0 conflict, 0 invalid"
    assert Settlement.objects.filter(location=location).count() == 2

    code, out = run("--org", "fjordkafe", "--location", "sentrum", path)

    assert code == 0
    assert out.splitlines()[-1] == "0 created, 2 unchanged, 0 conflict, 0 invalid"
    assert Settlement.objects.count() == 2


def test_it_imports_a_file_with_one_settlement_and_several_files(tmp_path, location, settlement):
    one = write(tmp_path, "a.json", settlement)
    two = write(tmp_path, "b.json", {**settlement, "register_id": "KASSE-2"})

    code, out = run("--org", "fjordkafe", "--location", "sentrum", one, two)

    assert code == 0
    assert out.splitlines()[0].startswith(f"{one}: created")
    assert out.splitlines()[1].startswith(f"{two}: created")


def test_it_reports_a_conflict_and_exits_1(tmp_path, location, settlement):
    run("--org", "fjordkafe", "--location", "sentrum", write(tmp_path, "a.json", settlement))
    changed = copy.deepcopy(settlement)
    changed["tips"] = "200.00"

    code, out = run(
        "--org", "fjordkafe", "--location", "sentrum", write(tmp_path, "b.json", changed)
    )

    assert code == 1
    assert ": conflict KASSE-1 Z1042" in out
    assert Settlement.objects.get().tips == 150


def test_it_reports_every_error_of_an_invalid_file_and_writes_nothing(
    tmp_path, location, settlement
):
    bad = copy.deepcopy(settlement)
    bad["sales"][1]["gross_amount"] = "4000.005"
    bad["counters"]["receipts"] = -1
    path = write(tmp_path, "bad.json", bad)

    code, out = run("--org", "fjordkafe", "--location", "sentrum", path)

    assert code == 1
    assert f"{path}: invalid" in out
    assert "  sales[1].gross_amount: " in out
    assert "  counters.receipts: " in out
    assert not Settlement.objects.exists()
    assert not SaleLine.objects.exists()


def test_it_stores_the_valid_ones_of_a_list_and_names_the_invalid_one(
    tmp_path, location, settlement
):
    bad = {**settlement, "z_number": 1043, "currency": "SEK"}
    path = write(tmp_path, "mixed.json", [settlement, bad])

    code, out = run("--org", "fjordkafe", "--location", "sentrum", path)

    assert code == 1
    assert f"{path}[0]: created" in out
    assert f"{path}[1]: invalid" in out
    assert "  currency: " in out
    assert list(Settlement.objects.values_list("z_number", flat=True)) == [1042]


@pytest.mark.parametrize(
    "content, words",
    [(b"{not json", "JSON"), (b"\xff\xfe", "UTF-8"), (b"", "tomt")],
)
def test_it_reports_a_file_that_is_not_json(tmp_path, location, content, words):
    path = write(tmp_path, "broken.json", content)

    code, out = run("--org", "fjordkafe", "--location", "sentrum", path)

    assert code == 1
    assert f"{path}: invalid" in out
    assert words in out


def test_it_reports_a_missing_file(tmp_path, location):
    code, out = run("--org", "fjordkafe", "--location", "sentrum", str(tmp_path / "nope.json"))

    assert code == 1
    assert "nope.json: invalid" in out


def test_it_refuses_an_unknown_store(tmp_path, location, other_location, settlement):
    path = write(tmp_path, "a.json", settlement)

    with pytest.raises(CommandError, match="No store 'sentrum' in organisation 'bakeri-nord'"):
        call_command("import_settlements", "--org", "bakeri-nord", "--location", "sentrum", path)
    assert not Settlement.objects.exists()


def test_it_refuses_a_settlement_over_the_line_bound_like_the_api(tmp_path, location, settlement):
    many = {**settlement, "sales": [dict(settlement["sales"][0]) for _ in range(501)]}
    path = write(tmp_path, "many.json", many)

    code, out = run("--org", "fjordkafe", "--location", "sentrum", path)

    assert code == 1
    assert f"{path}: invalid" in out
    assert "  sales: Høyst 500 salgslinjer per oppgjør (fikk 501)." in out
    assert not Settlement.objects.exists()
