"""GET /costcenters and CostCenterItemId1 on POST /vouchers, as Visma has them: only a
company that uses cost centres (Bakeri Nord AS) has items, and a voucher row may name
only one of its own items that is active."""

import pytest

from visma_sandbox import services
from visma_sandbox.models import SandboxCostCenterItem, SandboxVoucher

from .conftest import BAKERI, DEMO, api, get_tokens, post_voucher, simple_voucher

pytestmark = pytest.mark.django_db


@pytest.fixture
def bakeri_token(oauth_client, client) -> str:
    return get_tokens(client, company=BAKERI)["access_token"]


def item(name: str) -> SandboxCostCenterItem:
    return SandboxCostCenterItem.objects.get(cost_center__company__org_number=BAKERI, name=name)


def _refused(answer) -> dict:
    assert answer.status_code == 400, answer.content
    body = answer.json()
    assert set(body) == {"ErrorCode", "DeveloperErrorMessage", "ErrorId", "Errors"}
    assert body["ErrorCode"] == 2000
    return body


def test_it_lists_the_cost_centres_with_their_items(bakeri_token, client):
    settings = api(client, bakeri_token, "GET", "/companysettings").json()
    assert settings["UsesCostCenter"] is True

    answer = api(client, bakeri_token, "GET", "/costcenters")

    assert answer.status_code == 200
    body = answer.json()
    assert body["Meta"]["TotalNumberOfResults"] == 1
    [centre] = body["Data"]
    assert (centre["Name"], centre["Number"], centre["IsActive"]) == ("Avdeling", 1, True)
    items = {entry["Name"]: entry for entry in centre["Items"]}
    assert set(items) == {"Torget", "Havna", "Gamlebyen"}
    assert items["Torget"]["ShortName"] == "TORGET"
    assert items["Torget"]["CostCenterId"] == centre["Id"]
    assert items["Gamlebyen"]["IsActive"] is False
    assert set(items["Torget"]) == {
        "CostCenterId",
        "Id",
        "Name",
        "ShortName",
        "IsActive",
        "CreatedUtc",
    }


def test_a_company_without_cost_centres_has_none(tokens, client):
    assert (
        api(client, tokens["access_token"], "GET", "/companysettings").json()["UsesCostCenter"]
        is False
    )
    assert api(client, tokens["access_token"], "GET", "/costcenters").json()["Data"] == []


def test_it_keeps_an_active_item_on_each_row(bakeri_token, client):
    payload = simple_voucher()
    torget = str(item("Torget").uuid)
    for row in payload["Rows"]:
        row["CostCenterItemId1"] = torget

    answer = post_voucher(client, bakeri_token, payload)

    assert answer.status_code == 201, answer.content
    assert [row["CostCenterItemId1"] for row in answer.json()["Rows"]] == [torget, torget]
    stored = SandboxVoucher.objects.get()
    assert {row.cost_center_item1.name for row in stored.rows.all()} == {"Torget"}


def test_it_refuses_an_inactive_item(bakeri_token, client):
    payload = simple_voucher()
    payload["Rows"][1]["CostCenterItemId1"] = str(item("Gamlebyen").uuid)

    body = _refused(post_voucher(client, bakeri_token, payload))

    assert body["Errors"] == [
        {
            "Field": "Rows[1].CostCenterItemId1",
            "ErrorCode": "2000",
            "Message": "The cost center item Gamlebyen (GAMLEBY) is not active.",
            "Key": None,
        }
    ]
    assert not SandboxVoucher.objects.exists()


def test_it_refuses_an_item_of_another_company(oauth_client, client, tokens):
    payload = simple_voucher()
    payload["Rows"][0]["CostCenterItemId1"] = str(item("Torget").uuid)  # Bakeri Nord's

    body = _refused(post_voucher(client, tokens["access_token"], payload))

    assert body["Errors"][0]["Field"] == "Rows[0].CostCenterItemId1"
    assert "was not found" in body["Errors"][0]["Message"]
    assert not SandboxVoucher.objects.exists()


def test_setup_brings_a_deactivated_item_back(bakeri_token):
    services.set_cost_center_item_active(BAKERI, "Torget", False)
    assert not item("Torget").is_active

    services.setup_demo()

    assert item("Torget").is_active
    assert SandboxCostCenterItem.objects.filter(cost_center__company__org_number=DEMO).count() == 0
