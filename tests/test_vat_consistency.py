"""DESIGN.md 4.1: a VAT amount that disagrees with its rate by more than rounding can
explain is not booked. The settlement is stored as "trenger handling" naming the
disagreement, never posted, and the till's corrected version replaces it (the same path as
an unbalanced settlement; SAF-T files take it too, tests/saft/)."""

import pytest

from integrations.visma.selectors import due_settlements
from settlements.models import Settlement
from tests.clock import TODAY, iso_days_ago
from tests.conftest import status_of
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
    assert settlement.hold_code == "vat_mismatch"
    assert settlement.hold_reason.startswith("MVA 17,88 stemmer ikke med 15 % av 119,20")
    status = status_of(settlement)
    assert (status.state, status.problem) == ("needs_action", "vat_mismatch")
    assert response.json()["reason"] == status.reason == settlement.hold_reason
    assert not due_settlements(location.organization, today=TODAY).exists()


def test_it_accepts_what_rounding_explains(client, api_key, location):
    post(client, body("15.56"), api_key)  # 119.20 × 15/115 = 15.548 → 15.55; one øre off

    assert status_of(Settlement.objects.get()).state == "pending"


def test_the_corrected_settlement_replaces_it(client, api_key, location):
    post(client, body("17.88"), api_key)

    response = post(client, body("15.55"), api_key)

    assert response.status_code == 200
    assert response.json()["corrected"] is True
    settlement = Settlement.objects.get()
    assert settlement.hold_code == settlement.hold_reason == ""
    assert (status_of(settlement).state, status_of(settlement).problem) == ("pending", "")
    assert due_settlements(location.organization, today=TODAY).exists()


@pytest.mark.parametrize(
    "transfers", ["integrations.visma.pages.transfers", ""], ids=["visma", "no-integration"]
)
def test_the_list_files_it_under_trenger_handling(
    client, api_key, location, alice, settings, transfers
):
    settings.SETTLEMENT_TRANSFER_PROVIDER = transfers
    link = f'href="/dagsoppgjor/{post(client, body("17.88"), api_key).json()["id"]}/"'
    client.force_login(alice)

    waiting = client.get("/dagsoppgjor/", {"state": "needs_action"}).content.decode()
    pending = client.get("/dagsoppgjor/", {"state": "pending"}).content.decode()

    assert link in waiting and "MVA 17,88 stemmer ikke med 15 % av 119,20" in waiting
    assert link not in pending


def test_its_page_names_the_disagreement_and_offers_no_transfer(client, api_key, location, alice):
    settlement_id = post(client, body("17.88"), api_key).json()["id"]
    client.force_login(alice)

    html = client.get(f"/dagsoppgjor/{settlement_id}/").content.decode()

    assert "MVA 17,88 stemmer ikke med 15 % av 119,20" in html
    assert "Overfør nå</button>" not in html.split("</h1>", 1)[1]
    refused = client.post(f"/dagsoppgjor/{settlement_id}/overfor/", follow=True)
    assert "før kassen har sendt et rettet oppgjør" in refused.content.decode()
    assert status_of(settlement_id).state == "needs_action"
