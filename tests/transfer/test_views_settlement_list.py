"""/dagsoppgjor/ with the transfer's states: a posted settlement shows its Visma voucher
number, one that needs action its short reason; the query count does not grow with rows."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations.visma.models import SettlementExport
from settlements.models import Settlement
from settlements.parsing import parse_settlement
from settlements.services import ingest_settlement
from tests.conftest import set_transfer

pytestmark = pytest.mark.django_db

URL = "/dagsoppgjor/"
State = SettlementExport.State
START = dt.date(2026, 8, 1)


def add(location, worked_example, *, z: int) -> Settlement:
    body = copy.deepcopy(worked_example["settlement"])
    body.update(z_number=z, business_date=(START + dt.timedelta(days=z)).isoformat())
    return ingest_settlement(location=location, data=parse_settlement(body)).settlement


def post(settlement: Settlement, number: str) -> None:
    set_transfer(
        settlement,
        State.POSTED,
        visma_voucher_id=f"id-{number}",
        voucher_number=number,
        posted_at=timezone.now(),
        payload={"VoucherDate": "2026-08-01", "VoucherText": "x", "Rows": []},
    )


def test_it_shows_the_voucher_number_of_a_posted_settlement(client, bob, location, worked_example):
    posted = add(location, worked_example, z=1)
    post(posted, "A17")
    add(location, worked_example, z=2)  # waiting: no number
    client.force_login(bob)

    page = client.get(URL).content.decode()

    assert (
        '<span class="badge badge-posted">overført</span>\n'
        '        <span class="voucher-number">Bilag A17</span>'
    ) in page
    assert page.count('class="voucher-number"') == 1


def test_it_shows_why_a_settlement_needs_action(client, alice, location, worked_example):
    settlement = add(location, worked_example, z=1)
    set_transfer(
        settlement,
        State.NEEDS_ACTION,
        problem_code="period_locked",
        reason="Perioden er låst i Visma til 31.10.2026. Åpne perioden i Visma.",
    )
    client.force_login(alice)

    page = client.get(URL, {"state": "needs_action"}).content.decode()

    assert '<span class="badge badge-needs_action">trenger handling</span>' in page
    assert "Perioden er låst i Visma til 31.10.2026." in page


def test_it_asks_the_database_as_often_for_30_posted_settlements_as_for_3(
    client, alice, location, worked_example
):
    client.force_login(alice)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(URL)
        assert response.status_code == 200
        return len(captured)

    for z in range(1, 4):
        post(add(location, worked_example, z=z), f"A{z}")
    few = queries()
    for z in range(4, 31):
        post(add(location, worked_example, z=z), f"A{z}")
    many = queries()

    assert few == many
    assert "Bilag A30" in client.get(URL).content.decode()


def test_the_list_filters_avvik_and_drafts(client, alice, location, worked_example):
    deleted, draft, posted = (add(location, worked_example, z=z) for z in (1, 2, 3))
    post(deleted, "A1")
    set_transfer(deleted, State.AVVIK, "deleted_in_visma", "Bilaget er slettet i Visma (bilag A1).")
    set_transfer(draft, State.DRAFT, visma_draft_id="x")
    post(posted, "A3")
    client.force_login(alice)

    avvik_page = client.get(URL, {"state": "avvik"}).content.decode()
    draft_page = client.get(URL, {"state": "draft"}).content.decode()

    assert f"/dagsoppgjor/{deleted.pk}/" in avvik_page
    assert "Bilaget er slettet i Visma" in avvik_page
    assert f"/dagsoppgjor/{draft.pk}/" not in avvik_page
    assert f"/dagsoppgjor/{draft.pk}/" in draft_page and "kladd i Visma" in draft_page
    assert f"/dagsoppgjor/{deleted.pk}/" not in draft_page
    assert f"/dagsoppgjor/{posted.pk}/" not in avvik_page + draft_page
