"""A settlement that does not balance is never posted until fixed (../shared/DESIGN.md 4.1): the till
fixes it by sending the corrected one under the same register and Z-number. A settlement
that balances may be in Visma and is never overwritten (409)."""

import copy
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from integrations.visma.models import SettlementExport
from integrations.visma.selectors import due_settlements
from settlements.models import Payment, SaleLine, Settlement, SettlementRevision
from settlements.parsing import parse_settlement
from settlements.services import ingest_settlement
from tests.conftest import status_of
from tests.test_ingest_economy import race
from tests.test_settlement_api import post


@pytest.fixture
def body(worked_example) -> dict:
    return copy.deepcopy(worked_example["settlement"])


@pytest.fixture
def unbalanced(body) -> dict:
    wrong = copy.deepcopy(body)
    wrong["payments"][1]["amount"] = "6109.60"  # card 10.00 too much
    return wrong


def test_it_replaces_an_unbalanced_settlement_with_the_corrected_one(
    client, api_key, body, unbalanced
):
    first = post(client, unbalanced, api_key).json()
    assert first["state"] == "needs_action"

    response = post(client, body, api_key)

    assert response.status_code == 200
    answer = response.json()
    assert answer["id"] == first["id"]
    assert answer["corrected"] is True
    assert answer["state"] == "pending"
    assert answer["balance_difference"] == "0.00"
    settlement = Settlement.objects.get()
    assert status_of(settlement).state == SettlementExport.State.PENDING
    assert (status_of(settlement).problem, status_of(settlement).reason) == ("", "")
    assert settlement.total_payments == Decimal("10649.60")
    assert sorted(Payment.objects.values_list("amount", flat=True)) == [
        Decimal("300.00"),
        Decimal("1800.00"),
        Decimal("2450.00"),
        Decimal("6099.60"),
    ]
    assert SaleLine.objects.count() == 2
    revision = SettlementRevision.objects.get()
    assert revision.balance_difference == Decimal("10.00")
    assert revision.payload["payments"][1]["amount"] == "6109.60"


def test_it_answers_the_corrected_one_again_as_unchanged(client, api_key, body, unbalanced):
    post(client, unbalanced, api_key)
    post(client, body, api_key)

    response = post(client, body, api_key)

    assert response.status_code == 200
    assert response.json()["corrected"] is False
    assert SettlementRevision.objects.count() == 1


def test_it_refuses_the_first_version_once_the_corrected_one_balances(
    client, api_key, body, unbalanced
):
    post(client, unbalanced, api_key)
    post(client, body, api_key)

    response = post(client, unbalanced, api_key)

    assert response.status_code == 409
    assert Settlement.objects.get().total_payments == Decimal("10649.60")


def test_it_takes_a_correction_that_still_does_not_balance(client, api_key, body, unbalanced):
    post(client, unbalanced, api_key)
    still_wrong = copy.deepcopy(body)
    still_wrong["payments"][2]["amount"] = "1799.50"  # vipps 0.50 missing

    answer = post(client, still_wrong, api_key).json()

    assert answer["corrected"] is True
    assert (answer["state"], answer["balance_difference"]) == ("needs_action", "-0.50")
    assert "0,50 kr mindre" in status_of(Settlement.objects.get()).reason
    assert post(client, body, api_key).json()["state"] == "pending"
    assert SettlementRevision.objects.count() == 2


def test_it_never_overwrites_a_balanced_settlement_with_an_unbalanced_one(
    client, api_key, body, unbalanced
):
    post(client, body, api_key)

    assert post(client, unbalanced, api_key).status_code == 409
    assert not SettlementRevision.objects.exists()
    assert status_of(Settlement.objects.get()).state == SettlementExport.State.PENDING


def test_the_corrected_settlement_is_due_for_the_transfer(client, api_key, org, body, unbalanced):
    body["business_date"] = unbalanced["business_date"] = "2026-11-20"
    post(client, unbalanced, api_key)
    today = Settlement.objects.get().business_date.replace(day=25)
    assert not due_settlements(org, today=today).exists()

    post(client, body, api_key)

    assert list(due_settlements(org, today=today)) == [Settlement.objects.get()]


def test_the_page_shows_that_the_till_corrected_it(client, api_key, alice, body, unbalanced):
    post(client, unbalanced, api_key)
    post(client, body, api_key)
    client.force_login(alice)

    page = client.get(f"/dagsoppgjor/{Settlement.objects.get().pk}/").content.decode()

    assert "Rettet av kassen" in page
    assert "gikk ikke i balanse (differanse 10,00" in page


def test_import_settlements_reports_a_correction(tmp_path, location, body, unbalanced):
    wrong, right = tmp_path / "wrong.json", tmp_path / "right.json"
    wrong.write_text(json.dumps(unbalanced), encoding="utf-8")
    right.write_text(json.dumps(body), encoding="utf-8")
    call_command("import_settlements", "--org", "fjordkafe", "--location", "sentrum", str(wrong))
    out = StringIO()

    call_command(
        "import_settlements", "--org", "fjordkafe", "--location", "sentrum", str(right), stdout=out
    )

    lines = out.getvalue().splitlines()
    assert "corrected KASSE-1 Z1042" in lines[0]
    assert "did not balance" in lines[0]
    assert lines[-1] == "0 created, 0 unchanged, 1 corrected, 0 conflict, 0 invalid"
    assert status_of(Settlement.objects.get()).state == SettlementExport.State.PENDING


@pytest.mark.django_db(transaction=True)
def test_two_corrections_at_once_replace_it_once(location, body, unbalanced, monkeypatch):
    ingest_settlement(location=location, data=parse_settlement(unbalanced))
    other = copy.deepcopy(body)
    other["payments"][0]["amount"] = "2440.00"
    other["payments"][1]["amount"] = "6109.60"  # cash 10 less, card 10 more: balances too

    assert race(location, [body, other], monkeypatch) == ["conflict", "corrected"]

    settlement = Settlement.objects.get()
    assert status_of(settlement).state == SettlementExport.State.PENDING
    assert settlement.payments.count() == 4
    assert SettlementRevision.objects.count() == 1


# ------------------------------------------------- corrections of a settlement that balances
# A settlement that balances may already be in Visma: the till corrects it explicitly
# ("correction": true), and the correction is stored as its next version; the one it
# corrects stays exactly as it was (tests/transfer/test_corrections.py: what Visma gets).


@pytest.fixture
def correction(body) -> dict:
    fixed = copy.deepcopy(body)
    fixed["payments"][0]["amount"] = "2460.00"  # cash 10 more, card 10 less: balances
    fixed["payments"][1]["amount"] = "6089.60"
    fixed["correction"] = True
    return fixed


def test_it_takes_the_correction_of_a_balanced_settlement_as_its_next_version(
    client, api_key, body, correction
):
    first = post(client, body, api_key).json()

    response = post(client, correction, api_key)

    assert response.status_code == 201
    answer = response.json()
    assert answer["id"] != first["id"]
    assert (answer["corrected"], answer["corrects"], answer["state"]) == (
        True,
        first["id"],
        "pending",
    )
    assert response["Location"] == answer["url"]
    assert answer["url"].endswith(f"/dagsoppgjor/{answer['id']}/")
    original, new = Settlement.objects.order_by("version")
    assert (original.version, new.version, new.corrects_id) == (1, 2, original.pk)
    assert (new.register_id, new.z_number) == (original.register_id, original.z_number)
    # The version it corrects keeps what the till said first (what the books got).
    assert original.payments.get(method="cash").amount == Decimal("2450.00")
    assert new.payments.get(method="cash").amount == Decimal("2460.00")
    assert original.is_superseded and not new.is_superseded
    assert list(Settlement.objects.current()) == [new]
    # The flag is not content (never in the stored canonical form).
    assert "correction" not in new.payload


def test_other_content_without_the_flag_is_still_409(client, api_key, body, correction):
    post(client, body, api_key)
    del correction["correction"]

    response = post(client, correction, api_key)

    assert response.status_code == 409
    [error] = response.json()["errors"]
    assert error["path"] == "z_number"
    assert (
        "Send det rettede oppgjøret med «correction»: true for å korrigere det." in error["message"]
    )
    assert Settlement.objects.count() == 1


def test_correction_false_is_no_correction(client, api_key, body, correction):
    post(client, body, api_key)
    correction["correction"] = False

    assert post(client, correction, api_key).status_code == 409
    assert Settlement.objects.count() == 1


def test_the_correction_must_be_a_boolean(client, api_key, body, correction):
    correction["correction"] = "yes"

    response = post(client, correction, api_key)

    assert response.status_code == 400
    assert [e["path"] for e in response.json()["errors"]] == ["correction"]


def test_the_same_correction_again_is_unchanged(client, api_key, body, correction):
    post(client, body, api_key)
    first = post(client, correction, api_key).json()

    again = post(client, correction, api_key)
    without_flag = post(client, {k: v for k, v in correction.items() if k != "correction"}, api_key)

    assert again.status_code == without_flag.status_code == 200
    assert again.json()["id"] == without_flag.json()["id"] == first["id"]
    assert again.json()["corrected"] is False
    assert Settlement.objects.count() == 2


def test_the_first_version_again_is_409_once_corrected(client, api_key, body, correction):
    post(client, body, api_key)
    post(client, correction, api_key)

    assert post(client, body, api_key).status_code == 409
    assert Settlement.objects.count() == 2


def test_a_correction_of_one_that_does_not_balance_replaces_it_as_before(
    client, api_key, unbalanced, correction
):
    first = post(client, unbalanced, api_key).json()

    response = post(client, correction, api_key)

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["corrected"]) == (first["id"], True)
    assert Settlement.objects.get().version == 1
    assert SettlementRevision.objects.count() == 1


def test_a_correction_of_a_z_number_never_sent_is_stored_as_it_is(client, api_key, correction):
    response = post(client, correction, api_key)

    assert response.status_code == 201
    assert response.json()["corrected"] is False
    assert "corrects" not in response.json()
    assert Settlement.objects.get().version == 1


def test_a_correction_that_does_not_balance_waits_for_the_till(client, api_key, body, correction):
    post(client, body, api_key)
    correction["payments"][0]["amount"] = "2470.00"  # 10 kr too much

    answer = post(client, correction, api_key).json()

    assert (answer["state"], answer["balance_difference"]) == ("needs_action", "10.00")
    # ... and the till's next correction replaces that version, as for any unbalanced one.
    correction["payments"][0]["amount"] = "2460.00"
    fixed = post(client, correction, api_key)
    assert (fixed.status_code, fixed.json()["id"]) == (200, answer["id"])
    assert Settlement.objects.count() == 2


def test_import_settlements_stores_a_correction(tmp_path, location, body, correction):
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    first.write_text(json.dumps(body), encoding="utf-8")
    second.write_text(json.dumps(correction), encoding="utf-8")
    call_command("import_settlements", "--org", "fjordkafe", "--location", "sentrum", str(first))
    out = StringIO()

    call_command(
        "import_settlements", "--org", "fjordkafe", "--location", "sentrum", str(second), stdout=out
    )

    lines = out.getvalue().splitlines()
    assert "correction KASSE-1 Z1042" in lines[0]
    assert "corrects version 1" in lines[0]
    assert lines[-1] == "0 created, 0 unchanged, 1 correction, 0 conflict, 0 invalid"


@pytest.mark.django_db(transaction=True)
def test_two_corrections_at_once_become_two_versions(location, body, correction, monkeypatch):
    ingest_settlement(location=location, data=parse_settlement(body))
    other = copy.deepcopy(correction)
    other["payments"][2]["amount"] = "1790.00"  # vipps 10 less, card 10 more
    other["payments"][1]["amount"] = "6099.60"

    assert race(location, [correction, other], monkeypatch) == ["correction", "correction"]

    versions = list(Settlement.objects.order_by("version"))
    assert [v.version for v in versions] == [1, 2, 3]
    assert [v.corrects_id for v in versions] == [None, versions[0].pk, versions[1].pk]
