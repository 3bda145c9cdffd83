"""/dagsoppgjor/<id>/: the Z-report as a Norwegian shop owner reads it."""

import copy
import re

import pytest

from settlements import views
from settlements.parsing import parse_settlement
from settlements.services import ingest_settlement


def plain(html: str) -> str:
    """Page text without tags, with the money filter's NBSP and minus sign made plain."""
    text = re.sub(r"<[^>]+>", " ", html).replace("\u00a0", " ").replace("\u2212", "-")
    return re.sub(r"\s+", " ", text)


def add(location, body: dict):
    return ingest_settlement(location=location, data=parse_settlement(body)).settlement


@pytest.fixture
def body(worked_example) -> dict:
    return copy.deepcopy(worked_example["settlement"])


@pytest.fixture
def settlement(location, body):
    return add(location, body)


def page(client, settlement, **headers) -> str:
    response = client.get(f"/dagsoppgjor/{settlement.pk}/", **headers)
    assert response.status_code == 200
    return plain(response.content.decode())


def test_it_shows_the_worked_example_as_a_z_report(client, alice, settlement):
    client.force_login(alice)

    text = page(client, settlement)

    # Header facts.
    assert "Z-rapport 1042 · KASSE-1" in text
    assert "Fjordkafé Sentrum · fredag 27. november 2026" in text
    assert "Åpnet 27.11.2026 09:58" in text
    assert "Stengt 27.11.2026 21:04" in text
    # Sales per product group and rate: gross, VAT, net, count.
    assert "Klær 25 % 12 6 000,00 1 200,00 4 800,00" in text
    assert "Mat 15 % 57 4 000,00 521,74 3 478,26" in text
    assert "Sum salg 69 10 000,00 1 721,74 8 278,26" in text
    # VAT per rate.
    assert "25 % 4 800,00 1 200,00 6 000,00" in text
    assert "15 % 3 478,26 521,74 4 000,00" in text
    # Payments with friendly names.
    assert "Kontant 2 450,00 Kort 6 099,60 Vipps 1 800,00 Gavekort 300,00" in text
    assert "Sum betalinger 10 649,60" in text
    # Tips, gift cards sold, rounding.
    assert "Tips 150,00 Gavekort solgt 500,00 Øreavrunding -0,40" in text
    # The balance check.
    assert "= Skal være betalt 10 649,60 Betalinger 10 649,60 Differanse 0,00" in text
    assert "Går i balanse" in text
    # The cash count.
    assert "Vekselkasse (inngående) 2 000,00" in text
    assert "+ Kontantbetalinger 2 450,00" in text
    assert "= Forventet i kassen 4 450,00 Opptalt 4 430,00" in text
    assert "Kassedifferanse (mangler) -20,00" in text
    # Counters.
    assert "Antall kvitteringer 212" in text
    assert "Returer, beløp 350,00" in text
    assert "Skuffeåpninger uten salg 3" in text
    assert "venter" in text


def test_it_prints_money_the_norwegian_way(client, alice, settlement):
    client.force_login(alice)

    html = client.get(f"/dagsoppgjor/{settlement.pk}/").content.decode()

    assert "1\u00a0200,00" in html
    assert "\u221220,00" in html


def test_it_shows_why_an_unbalanced_settlement_waits(client, alice, location, body):
    body["payments"][1]["amount"] = "6109.60"
    settlement = add(location, body)
    client.force_login(alice)

    text = page(client, settlement)

    assert "trenger handling" in text
    assert "Oppgjøret går ikke i balanse: betalingene er 10,00 kr mer enn salg" in text
    assert "Differanse 10,00" in text
    assert "Går ikke i balanse" in text


def test_it_shows_the_tills_own_name_for_other_payment_methods(client, alice, location, body):
    body["payments"][1]["method"] = "Bankterminal 2"
    body["pay_outs"] = [{"reason": "Blomster", "amount": "100.00"}]
    body["cash_count"]["counted"] = "4330.00"
    settlement = add(location, body)
    client.force_login(alice)

    text = page(client, settlement)

    assert "Bankterminal 2 6 099,60" in text
    assert "Uttak: Blomster -100,00" in text
    assert "- Uttak 100,00" in text
    assert "Kassedifferanse (mangler) -20,00" in text


def test_it_says_so_when_the_till_sent_no_cash_count(client, alice, location, body):
    del body["cash_count"]
    settlement = add(location, body)
    client.force_login(alice)

    assert "Kassen sendte ingen opptelling." in page(client, settlement)


def test_it_includes_the_voucher_preview(client, alice, settlement, monkeypatch):
    seen = []

    def preview(*, settlement):
        seen.append(settlement.pk)
        return {"missing": ["sentinel"]}

    monkeypatch.setattr(views, "voucher_preview", preview)
    client.force_login(alice)

    response = client.get(f"/dagsoppgjor/{settlement.pk}/")

    assert seen == [settlement.pk]
    assert response.context["preview"] == {"missing": ["sentinel"]}
    assert "accounting/_voucher_preview.html" in [t.name for t in response.templates]


def test_it_is_in_english_for_an_english_reader(client, alice, settlement):
    client.force_login(alice)

    text = page(client, settlement, HTTP_ACCEPT_LANGUAGE="en")

    assert "Sales per product group" in text
    assert "Cash 2,450.00 Card 6,099.60" in text
    assert "1,200.00" in text


def test_it_lets_staff_look(client, bob, settlement):
    client.force_login(bob)

    assert "Z-rapport 1042" in page(client, settlement)


def test_it_is_not_found_for_another_organisation(client, charlie, settlement):
    client.force_login(charlie)

    assert client.get(f"/dagsoppgjor/{settlement.pk}/").status_code == 404


def test_it_sends_a_visitor_to_sign_in(client, settlement):
    response = client.get(f"/dagsoppgjor/{settlement.pk}/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_it_is_not_found_for_a_settlement_that_does_not_exist(client, alice, db):
    client.force_login(alice)

    assert client.get("/dagsoppgjor/999999/").status_code == 404
