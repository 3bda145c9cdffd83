""" "Korriger" on a settlement's page (/dagsoppgjor/<id>/korriger/): an admin uploads the
corrected settlement as the till's JSON; it is validated exactly as the API validates a
body and stored as a correction (the next version), never as an edit."""

import copy
import json

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile

from backoffice.models import AuditEvent
from settlements.models import Settlement
from settlements.parsing import parse_settlement
from settlements.services import ingest_settlement

pytestmark = pytest.mark.django_db


@pytest.fixture
def settlement(location, worked_example) -> Settlement:
    return ingest_settlement(
        location=location, data=parse_settlement(worked_example["settlement"])
    ).settlement


@pytest.fixture
def corrected(worked_example) -> dict:
    body = copy.deepcopy(worked_example["settlement"])
    body["payments"][0]["amount"] = "2460.00"
    body["payments"][1]["amount"] = "6089.60"
    return body


def upload(client, settlement, content, name="oppgjor.json"):
    raw = content if isinstance(content, bytes) else json.dumps(content).encode()
    return client.post(
        f"/dagsoppgjor/{settlement.pk}/korriger/",
        {"file": SimpleUploadedFile(name, raw, content_type="application/json")},
    )


def texts(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def test_an_admin_corrects_a_settlement_with_the_tills_json(client, alice, settlement, corrected):
    client.force_login(alice)

    response = upload(client, settlement, corrected)

    new = Settlement.objects.get(version=2)
    assert response.status_code == 302
    assert response["Location"] == f"/dagsoppgjor/{new.pk}/"
    assert texts(response) == [
        (
            "success",
            "Korrigeringen er lagret som versjon 2. Neste overføring motposterer bilaget til "
            "versjon 1 og overfører denne.",
        )
    ]
    assert new.corrects_id == settlement.pk
    assert new.payments.get(method="cash").amount == 2460
    settlement.refresh_from_db()
    assert settlement.payments.get(method="cash").amount == 2450  # never edited
    event = AuditEvent.objects.get(action=AuditEvent.Action.SETTLEMENT_CORRECTED)
    assert event.actor == alice
    assert event.details == ["Fjordkafé Sentrum KASSE-1 Z1042 27.11.2026: versjon 2"]

    page = client.get(response["Location"]).content.decode()
    assert "Versjon 2: korrigerer versjon 1 av samme Z-rapport." in page
    old = client.get(f"/dagsoppgjor/{settlement.pk}/").content.decode()
    assert "Korrigert: erstattet av versjon 2" in old
    assert 'id="korriger"' not in old  # only the latest version is corrected


def test_a_file_of_another_z_number_is_refused(client, alice, settlement, corrected):
    client.force_login(alice)
    corrected["z_number"] = 1043

    response = upload(client, settlement, corrected)

    assert texts(response) == [
        (
            "error",
            "Korrigeringen ble ikke lagret: z_number: Filen gjelder kasse KASSE-1 Z-nummer 1043, "
            "ikke kasse KASSE-1 Z-nummer 1042. En korrigering har samme kasse og Z-nummer.",
        )
    ]
    assert Settlement.objects.count() == 1


def test_a_bad_file_names_what_is_wrong(client, alice, settlement, corrected):
    client.force_login(alice)
    corrected["payments"][0]["amount"] = "a lot"

    response = upload(client, settlement, corrected)
    [(level, text)] = texts(response)
    assert level == "error"
    assert text.startswith("Korrigeringen ble ikke lagret: payments[0].amount: ")
    assert Settlement.objects.count() == 1


def test_a_file_that_is_not_json_is_refused(client, alice, settlement):
    client.force_login(alice)

    [(level, text)] = texts(upload(client, settlement, b"{not json"))
    assert (level, text.split(":")[0]) == ("error", "Korrigeringen ble ikke lagret")
    assert "Ugyldig JSON" in text
    assert Settlement.objects.count() == 1


def test_the_same_content_changes_nothing(client, alice, settlement, worked_example):
    client.force_login(alice)

    response = upload(client, settlement, worked_example["settlement"])

    assert texts(response) == [
        ("info", "Filen har det samme innholdet som oppgjøret; ingenting er endret.")
    ]
    assert Settlement.objects.count() == 1
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.SETTLEMENT_CORRECTED).exists()


def test_without_a_file_it_asks_for_one(client, alice, settlement):
    client.force_login(alice)

    response = client.post(f"/dagsoppgjor/{settlement.pk}/korriger/")

    assert texts(response) == [("error", "Velg filen med det rettede oppgjøret (JSON).")]


def test_the_page_offers_korriger_to_admins_only(client, alice, bob, settlement, corrected):
    client.force_login(alice)
    assert (
        f'action="/dagsoppgjor/{settlement.pk}/korriger/"'
        in client.get(f"/dagsoppgjor/{settlement.pk}/").content.decode()
    )

    client.force_login(bob)
    assert "korriger/" not in client.get(f"/dagsoppgjor/{settlement.pk}/").content.decode()
    assert upload(client, settlement, corrected).status_code == 403
    assert Settlement.objects.count() == 1


def test_another_organisations_settlement_is_not_found(client, charlie, settlement, corrected):
    client.force_login(charlie)

    assert upload(client, settlement, corrected).status_code == 404
    assert Settlement.objects.count() == 1


def test_the_list_shows_each_z_report_once(client, alice, settlement, corrected):
    client.force_login(alice)
    upload(client, settlement, corrected)

    page = client.get("/dagsoppgjor/").content.decode()

    new = Settlement.objects.get(version=2)
    assert f'href="/dagsoppgjor/{new.pk}/"' in page
    assert f'href="/dagsoppgjor/{settlement.pk}/"' not in page
