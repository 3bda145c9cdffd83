"""/dagsoppgjor/<id>/z-rapport.pdf: the settlement's Z-report as the PDF that goes to Visma
with its voucher, for the organisation's members only."""

import io
import re

import pypdf
import pytest

from settlements.parsing import parse_settlement
from settlements.services import ingest_settlement


def url(settlement) -> str:
    return f"/dagsoppgjor/{settlement.pk}/z-rapport.pdf"


@pytest.fixture
def settlement(location, worked_example):
    return ingest_settlement(
        location=location, data=parse_settlement(worked_example["settlement"])
    ).settlement


def test_it_downloads_the_z_report_as_a_one_page_pdf(client, alice, settlement):
    client.force_login(alice)

    response = client.get(url(settlement))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="Z-rapport_BO-{settlement.pk}_KASSE-1_Z1042_2026-11-27.pdf"'
    )
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    text = re.sub(r"\s+", " ", reader.pages[0].extract_text().replace("\u00a0", " "))
    assert "Z-rapport 1042" in text
    assert "Fjordkafé Sentrum · Fjordkafé AS · KASSE-1" in text
    assert "Sum salg 69 10 000,00 1 721,74 8 278,26" in text


def test_staff_may_download_it_too(client, bob, settlement):
    client.force_login(bob)

    assert client.get(url(settlement)).status_code == 200


def test_it_is_offered_on_the_settlement_page(client, alice, settlement):
    client.force_login(alice)

    page = client.get(f"/dagsoppgjor/{settlement.pk}/").content.decode()

    assert f'href="{url(settlement)}"' in page
    assert "Last ned Z-rapport (PDF)" in page


def test_another_organisations_settlement_is_not_found(client, charlie, settlement):
    client.force_login(charlie)

    assert client.get(url(settlement)).status_code == 404


def test_it_needs_a_login(client, settlement):
    response = client.get(url(settlement))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_takes_no_post(client, alice, settlement):
    client.force_login(alice)

    assert client.post(url(settlement)).status_code == 405
