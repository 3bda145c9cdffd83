"""`?run=` is a number in ASCII digits or nothing: "²", "٣" and 30-digit numbers pass
str.isdigit() but are no run id, and must not become a server error (issue 17, item 5)."""

import pytest

from integrations.visma.models import ExportRun
from settlements.parsing import parse_settlement
from settlements.services import ingest_settlement

STATUS = "/oppsett/integrasjoner/visma-eaccounting/status/"
NOT_IDS = ["²", "٣", "1²", "９", "9" * 30, "-1", " 1", "1.0"]

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", NOT_IDS)
def test_it_answers_404_on_the_status_endpoint_for_a_run_that_is_no_number(client, alice, value):
    client.force_login(alice)

    response = client.get(STATUS, {"run": value})

    assert response.status_code == 404


def test_it_still_answers_the_status_of_a_run_by_its_id(client, alice, org):
    run = ExportRun.objects.create(organization=org, trigger=ExportRun.Trigger.MANUAL)
    client.force_login(alice)

    response = client.get(STATUS, {"run": str(run.pk)})

    assert response.status_code == 200
    assert response.json()["status"] == "queued"


@pytest.mark.parametrize("value", NOT_IDS)
def test_it_shows_the_settlement_page_whatever_run_says(
    client, alice, location, worked_example, value
):
    settlement = ingest_settlement(
        location=location, data=parse_settlement(worked_example["settlement"])
    )
    client.force_login(alice)

    response = client.get(f"/dagsoppgjor/{settlement.settlement.pk}/", {"run": value})

    assert response.status_code == 200
