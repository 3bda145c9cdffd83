"""Cost centre per store, against the simulator over real HTTP: Bakeri Nord AS uses cost
centres, so every row of a store's voucher carries the item chosen for the store; an
inactive item is refused before anything is sent; Fjordkafé AS uses none, so no row
carries the field at all."""

from __future__ import annotations

import copy

import pytest

from integrations.visma import transfer
from integrations.visma.models import Problem, SettlementExport, StoreCostCenter, TransferSettings
from settlements.parsing import parse_settlement
from settlements.services import ingest_settlement
from tests.conftest import status_of
from visma_sandbox import services as sandbox
from visma_sandbox.models import SandboxCostCenterItem, SandboxVoucherDraft

from .conftest import vouchers_in

pytestmark = pytest.mark.django_db(transaction=True)

State = SettlementExport.State
BAKERI = "Bakeri Nord AS"


def item_id(name: str) -> str:
    return str(SandboxCostCenterItem.objects.get(cost_center__company__name=BAKERI, name=name).uuid)


def choose(location, name: str) -> None:
    StoreCostCenter.objects.update_or_create(
        location=location, defaults={"item_visma_id": item_id(name)}
    )


def test_every_row_of_the_stores_voucher_carries_its_cost_centre(
    org, location, connect, mapped, ingest, worked_example
):
    connect(org, BAKERI)
    choose(location, "Torget")
    settlement = ingest(worked_example["settlement"])

    transfer.export_organization(organization=org)

    assert status_of(settlement).state == State.POSTED
    [voucher] = vouchers_in(BAKERI)
    rows = list(voucher.rows.select_related("cost_center_item1"))
    assert len(rows) == 13
    assert {row.cost_center_item1.name for row in rows} == {"Torget"}
    payload = SettlementExport.objects.get(settlement=settlement).payload
    assert {row["CostCenterItemId1"] for row in payload["Rows"]} == {item_id("Torget")}


def test_an_inactive_cost_centre_is_refused_before_anything_is_sent(
    org, location, connect, mapped, ingest, worked_example
):
    connect(org, BAKERI)
    choose(location, "Torget")
    # The accountant deactivates the item in Visma; the run's chart refresh reads it.
    sandbox.set_cost_center_item_active(BAKERI, "Torget", False)
    settlement = ingest(worked_example["settlement"])

    result = transfer.export_organization(organization=org)

    assert [(o.result, o.problem) for o in result.outcomes] == [
        ("needs_action", Problem.COST_CENTER)
    ]
    assert vouchers_in(BAKERI).count() == 0
    assert status_of(settlement).reason.startswith(
        "Kostnadssted «Torget» er ikke aktivt i Visma; velg et annet for butikken Fjordkafé Sentrum"
    )

    # Another item is chosen: the next run posts it (nothing to click on the settlement).
    choose(location, "Havna")
    transfer.export_organization(organization=org)
    assert status_of(settlement).state == State.POSTED
    [voucher] = vouchers_in(BAKERI)
    assert {row.cost_center_item1.name for row in voucher.rows.all()} == {"Havna"}


def test_a_store_without_a_chosen_cost_centre_sends_none(
    org, location, connect, mapped, ingest, worked_example
):
    connect(org, BAKERI)
    settlement = ingest(worked_example["settlement"])

    transfer.export_organization(organization=org)

    assert status_of(settlement).state == State.POSTED
    payload = SettlementExport.objects.get(settlement=settlement).payload
    assert not any("CostCenterItemId1" in row for row in payload["Rows"])


def test_a_company_without_cost_centres_gets_no_field(
    org, location, connect, mapped, ingest, worked_example, alice, client
):
    connect(org)  # Fjordkafé AS: UsesCostCenter false
    # A choice left over from another company is never sent to this one.
    StoreCostCenter.objects.create(
        location=location, item_visma_id="6f1c0b8e-1111-4222-8333-944455556666"
    )
    settlement = ingest(worked_example["settlement"])

    transfer.export_organization(organization=org)

    assert status_of(settlement).state == State.POSTED
    payload = SettlementExport.objects.get(settlement=settlement).payload
    assert not any("CostCenterItemId1" in row for row in payload["Rows"])
    client.force_login(alice)
    page = client.get("/oppsett/integrasjoner/visma-eaccounting/").content.decode()
    assert "Kostnadssteder" not in page


def test_the_reversal_carries_the_cost_centre_of_what_was_posted(
    org, location, connect, mapped, ingest, worked_example
):
    connect(org, BAKERI)
    choose(location, "Torget")
    ingest(worked_example["settlement"])
    transfer.export_organization(organization=org)
    # The store moves to another item before the correction: the reversal still cancels
    # exactly what was posted (on Torget), the corrected voucher goes on Havna.
    choose(location, "Havna")
    body = copy.deepcopy(worked_example["settlement"])
    body["tips"], body["payments"][1]["amount"] = "160.00", "6109.60"
    body["correction"] = True
    ingest_settlement(location=location, data=parse_settlement(body))

    transfer.export_organization(organization=org)

    reversal, corrected = vouchers_in(BAKERI).get(number=2), vouchers_in(BAKERI).get(number=3)
    assert reversal.voucher_text.startswith("Korrigering av bilag A1")
    assert {row.cost_center_item1.name for row in reversal.rows.all()} == {"Torget"}
    assert {row.cost_center_item1.name for row in corrected.rows.all()} == {"Havna"}


def test_a_draft_carries_the_cost_centre_and_the_approved_voucher_keeps_it(
    org, location, connect, mapped, ingest, worked_example
):
    connect(org, BAKERI)
    choose(location, "Torget")
    TransferSettings.objects.filter(organization=org).update(send_as_draft=True)
    settlement = ingest(worked_example["settlement"])

    transfer.export_organization(organization=org)

    assert status_of(settlement).state == State.DRAFT
    draft = SandboxVoucherDraft.objects.get(company__name=BAKERI)
    rows = list(draft.rows.select_related("cost_center_item1"))
    assert {row.cost_center_item1.name for row in rows} == {"Torget"}
    # The accountant approves it in Visma: the voucher has the store's cost centre too.
    voucher = sandbox.approve_draft(draft)
    assert {row.cost_center_item1.name for row in voucher.rows.all()} == {"Torget"}
