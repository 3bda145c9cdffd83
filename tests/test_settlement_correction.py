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
