"""Oppsett > Integrasjoner > Visma eAccounting, the cost centres section and its save
(…/kostnadssteder/): only for a company that uses cost centres (companysettings
UsesCostCenter, read by the chart refresh with GET /costcenters); one item per store."""

import uuid

import pytest
from django.contrib.messages import get_messages

from backoffice.models import AuditEvent, Location
from integrations.visma import services
from integrations.visma.models import StoreCostCenter, VismaConnection, VismaCostCenterItem

from .conftest import API, COMPANY, add_chart, page

PAGE = "/oppsett/integrasjoner/visma-eaccounting/"
SAVE = "/oppsett/integrasjoner/visma-eaccounting/kostnadssteder/"
CENTRE = str(uuid.UUID(int=100))
TORGET, HAVNA, GAMLEBY = (str(uuid.UUID(int=n)) for n in (101, 102, 103))
COST_CENTERS = [
    {
        "Name": "Avdeling",
        "Number": 1,
        "IsActive": True,
        "Id": CENTRE,
        "Items": [
            {"CostCenterId": CENTRE, "Id": TORGET, "Name": "Torget", "ShortName": "TORGET", "IsActive": True},
            {"CostCenterId": CENTRE, "Id": HAVNA, "Name": "Havna", "ShortName": "HAVNA", "IsActive": True},
            {"CostCenterId": CENTRE, "Id": GAMLEBY, "Name": "Gamlebyen", "ShortName": "GAMLEBY", "IsActive": False},
        ],
    }
]  # fmt: skip

pytestmark = pytest.mark.django_db


def texts(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def stores(org, location) -> list[Location]:
    return [location, Location.objects.create(organization=org, code="havna", name="Kafé Havna")]


@pytest.fixture
def uses_cost_centres(org, connected, mocked, stores):
    """The chart refresh of a company that uses cost centres."""
    add_chart(mocked, company={**COMPANY, "UsesCostCenter": True})
    mocked.get(f"{API}/costcenters", json=page(COST_CENTERS))
    services.refresh_company_data(org)
    return org


def test_the_chart_refresh_caches_the_items_of_a_company_that_uses_them(uses_cost_centres, org):
    assert VismaConnection.objects.get(organization=org).uses_cost_center
    items = {i.name: i for i in VismaCostCenterItem.objects.filter(organization=org)}
    assert set(items) == {"Torget", "Havna", "Gamlebyen"}
    assert (items["Torget"].cost_center_name, items["Torget"].short_name) == ("Avdeling", "TORGET")
    assert items["Torget"].is_active and not items["Gamlebyen"].is_active


def test_it_offers_the_active_items_for_each_store(uses_cost_centres, alice_client):
    html = alice_client.get(PAGE).content.decode()

    section = html[html.index('id="kostnadssteder"') :]
    assert "Fjordkafé Sentrum" in section and "Kafé Havna" in section
    assert "Avdeling: Torget (TORGET)" in section
    assert "Avdeling: Havna (HAVNA)" in section
    assert "Gamlebyen" not in section
    assert "Ingen kostnadssted" in section


def test_it_saves_the_item_per_store_and_logs_it(uses_cost_centres, alice_client, stores):
    sentrum, havna = stores

    response = alice_client.post(SAVE, {f"store_{sentrum.pk}": TORGET, f"store_{havna.pk}": HAVNA})

    assert response.status_code == 302
    assert texts(response) == [("success", "Kostnadsstedene er lagret.")]
    chosen = dict(StoreCostCenter.objects.values_list("location_id", "item_visma_id"))
    assert {k: str(v) for k, v in chosen.items()} == {sentrum.pk: TORGET, havna.pk: HAVNA}
    event = AuditEvent.objects.get(action=AuditEvent.Action.COST_CENTRES)
    assert "Fjordkafé Sentrum: – → Avdeling: Torget (TORGET)" in event.details
    html = alice_client.get(PAGE).content.decode()
    assert f'value="{TORGET}" selected' in html

    # None for a store takes its choice away.
    alice_client.post(SAVE, {f"store_{sentrum.pk}": "", f"store_{havna.pk}": HAVNA})
    assert list(StoreCostCenter.objects.values_list("location_id", flat=True)) == [havna.pk]


def test_it_refuses_an_inactive_item(uses_cost_centres, alice_client, stores):
    sentrum, _havna = stores

    response = alice_client.post(SAVE, {f"store_{sentrum.pk}": GAMLEBY})

    [(level, text)] = texts(response)
    assert level == "error"
    assert "velg et annet for butikken Fjordkafé Sentrum" in text
    assert not StoreCostCenter.objects.exists()


def test_a_chosen_item_that_became_inactive_is_shown_as_such(
    uses_cost_centres, alice_client, stores
):
    StoreCostCenter.objects.create(location=stores[0], item_visma_id=GAMLEBY)

    html = alice_client.get(PAGE).content.decode()

    assert "Avdeling: Gamlebyen (GAMLEBY) (ikke aktivt i Visma)" in html


def test_staff_see_the_choices_but_cannot_save(uses_cost_centres, bob_client, stores):
    html = bob_client.get(PAGE).content.decode()
    assert 'id="kostnadssteder"' in html
    assert "Lagre kostnadssteder" not in html

    assert bob_client.post(SAVE, {f"store_{stores[0].pk}": TORGET}).status_code == 403
    assert not StoreCostCenter.objects.exists()


def test_a_company_without_cost_centres_has_no_section(
    org, connected, mocked, alice_client, stores
):
    add_chart(mocked)  # UsesCostCenter absent: not used, and /costcenters is never asked
    services.refresh_company_data(org)

    html = alice_client.get(PAGE).content.decode()

    assert 'id="kostnadssteder"' not in html
    assert not [call for call in mocked.calls if "/costcenters" in call.request.url]
    response = alice_client.post(SAVE, {f"store_{stores[0].pk}": TORGET})
    assert texts(response) == [("info", "Visma-selskapet bruker ikke kostnadssteder.")]
    assert not StoreCostCenter.objects.exists()
