"""DESIGN.md 4.1: a VAT amount that disagrees with its rate by more than rounding can
explain is not booked. The settlement is stored as "trenger handling" naming the
disagreement, never posted, and the till's corrected version replaces it (the same path as
an unbalanced settlement; SAF-T files take it too, tests/saft/)."""

from integrations.visma.export import due_settlements
from settlements.models import Settlement
from tests.clock import TODAY, iso_days_ago
from tests.test_settlement_api import post


def body(vat: str) -> dict:
    return {
        "register_id": "KASSE-1",
        "z_number": 7,
        "business_date": iso_days_ago(1),
        "sales": [
            {"product_group": "Mat", "vat_rate": "15", "gross_amount": "119.20", "vat_amount": vat}
        ],
        "payments": [{"method": "card", "amount": "119.20"}],
    }


def test_it_stores_vat_on_the_wrong_base_as_needing_action(client, api_key, location):
    response = post(client, body("17.88"), api_key)  # 15 % of 119.20, not of the net

    assert response.status_code == 201
    assert response.json()["state"] == "needs_action"
    settlement = Settlement.objects.get()
    assert settlement.problem_code == "vat_mismatch"
    assert settlement.state_reason.startswith("MVA 17,88 stemmer ikke med 15 % av 119,20")
    assert not due_settlements(location.organization, today=TODAY).exists()


def test_it_accepts_what_rounding_explains(client, api_key, location):
    post(client, body("15.56"), api_key)  # 119.20 × 15/115 = 15.548 → 15.55; one øre off

    assert Settlement.objects.get().state == Settlement.State.PENDING


def test_the_corrected_settlement_replaces_it(client, api_key, location):
    post(client, body("17.88"), api_key)

    response = post(client, body("15.55"), api_key)

    assert response.status_code == 200
    assert response.json()["corrected"] is True
    settlement = Settlement.objects.get()
    assert (settlement.state, settlement.problem_code) == (Settlement.State.PENDING, "")
    assert due_settlements(location.organization, today=TODAY).exists()
