"""/dagsoppgjor/: the organisation's settlements, filtered and paginated."""

import copy
import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backoffice.models import Location, Register
from integrations.visma.models import SettlementExport
from settlements.models import Settlement
from settlements.parsing import parse_settlement
from settlements.services import ingest_settlement
from tests.conftest import set_transfer

URL = "/dagsoppgjor/"


def plain(html: str) -> str:
    """Page text with the money filter's NBSP and minus sign made plain."""
    return html.replace("\u00a0", " ").replace("\u2212", "-")


def add(
    location, worked_example, *, z: int, day: str = "2026-11-27", register="KASSE-1", **changes
):
    body = copy.deepcopy(worked_example["settlement"])
    body.update(z_number=z, business_date=day, register_id=register, **changes)
    return ingest_settlement(location=location, data=parse_settlement(body)).settlement


def z_numbers(response) -> list[int]:
    return [
        int(z)
        for z in re.findall(
            r'<td class="num"><a href="/dagsoppgjor/\d+/">(\d+)</a>', response.content.decode()
        )
    ]


@pytest.fixture
def bryggen(org) -> Location:
    return Location.objects.create(organization=org, code="bryggen", name="Fjordkafé Bryggen")


def test_it_sends_a_visitor_to_sign_in(client, db):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/dagsoppgjor/"


def test_it_lists_the_organisations_settlements_with_figures_and_state(
    client, bob, location, worked_example
):
    settlement = add(location, worked_example, z=1042)
    unbalanced = copy.deepcopy(worked_example["settlement"]["payments"])
    unbalanced[1]["amount"] = "6109.60"
    add(location, worked_example, z=1043, payments=unbalanced)
    client.force_login(bob)

    response = client.get(URL)

    assert response.status_code == 200
    html = plain(response.content.decode())
    assert f'href="/dagsoppgjor/{settlement.pk}/"' in html
    assert "Fjordkafé Sentrum" in html
    assert "10 000,00" in html  # sales
    assert "1 721,74" in html  # VAT
    assert '<span class="badge badge-pending">venter</span>' in html
    assert '<span class="badge badge-needs_action">trenger handling</span>' in html
    assert "Går ikke i balanse: 10,00 kr" in html
    assert "2 dagsoppgjør" in html


def test_it_never_shows_another_organisations_settlements(
    client, alice, location, other_location, worked_example
):
    add(location, worked_example, z=1042)
    theirs = add(other_location, worked_example, z=777)
    client.force_login(alice)

    response = client.get(URL)

    assert z_numbers(response) == [1042]
    assert f"/dagsoppgjor/{theirs.pk}/" not in response.content.decode()
    assert "Bakeri Torget" not in response.content.decode()


def test_it_shows_nothing_of_ours_to_another_organisation(
    client, charlie, location, worked_example
):
    add(location, worked_example, z=1042)
    client.force_login(charlie)

    response = client.get(URL)

    assert z_numbers(response) == []
    assert "Ingen dagsoppgjør er mottatt ennå." in response.content.decode()


def test_it_filters_by_store_register_state_and_dates(
    client, alice, location, bryggen, worked_example
):
    add(location, worked_example, z=1, day="2026-11-20")
    add(location, worked_example, z=2, day="2026-11-21", register="KASSE-2")
    add(bryggen, worked_example, z=3, day="2026-11-22")
    set_transfer(Settlement.objects.filter(z_number=3), SettlementExport.State.POSTED)
    add(bryggen, worked_example, z=4, day="2026-11-23")
    client.force_login(alice)
    kasse2 = Register.objects.get(location=location, code="KASSE-2")

    assert z_numbers(client.get(URL)) == [4, 3, 2, 1]
    assert z_numbers(client.get(URL, {"location": bryggen.pk})) == [4, 3]
    assert z_numbers(client.get(URL, {"register": kasse2.pk})) == [2]
    assert z_numbers(client.get(URL, {"state": "posted"})) == [3]
    assert z_numbers(client.get(URL, {"date_from": "2026-11-21"})) == [4, 3, 2]
    assert z_numbers(client.get(URL, {"date_to": "2026-11-21"})) == [2, 1]
    assert z_numbers(
        client.get(
            URL, {"date_from": "2026-11-21", "date_to": "2026-11-22", "location": location.pk}
        )
    ) == [2]
    assert (
        "Ingen dagsoppgjør passer filtrene."
        in client.get(URL, {"state": "failed"}).content.decode()
    )


def test_it_offers_only_its_own_stores_and_registers(
    client, alice, location, other_location, worked_example
):
    add(location, worked_example, z=1)
    theirs = add(other_location, worked_example, z=2, register="BAKER-1")
    client.force_login(alice)

    response = client.get(URL, {"location": other_location.pk})

    html = response.content.decode()
    assert "Bakeri Torget" not in html
    assert "BAKER-1" not in html
    # Another organisation's store is not a choice: the filter is refused, not applied.
    assert 'class="error"' in html
    assert z_numbers(response) == [1]
    assert theirs.location_id == other_location.pk


def test_it_pages_by_50_and_keeps_the_filters_in_the_page_links(
    client, alice, location, worked_example
):
    start = dt.date(2026, 8, 1)
    for z in range(1, 121):
        add(location, worked_example, z=z, day=(start + dt.timedelta(days=z)).isoformat())
    client.force_login(alice)

    first = client.get(URL, {"location": location.pk})
    third = client.get(URL, {"location": location.pk, "page": 3})

    assert len(z_numbers(first)) == 50
    assert z_numbers(first)[0] == 120
    assert z_numbers(third) == list(range(20, 0, -1))
    html = first.content.decode()
    assert "Side 1 av 3" in html
    assert f'href="?location={location.pk}&amp;page=2"' in html
    assert "120 dagsoppgjør" in html


def test_it_asks_the_database_the_same_number_of_times_for_5_or_60_rows(
    client, alice, location, worked_example
):
    client.force_login(alice)
    start = dt.date(2026, 8, 1)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL).status_code == 200
        return len(captured)

    for z in range(1, 6):
        add(location, worked_example, z=z, day=(start + dt.timedelta(days=z)).isoformat())
    few = queries()
    for z in range(6, 61):
        add(location, worked_example, z=z, day=(start + dt.timedelta(days=z)).isoformat())
    many = queries()

    assert few == many
