"""settlements.zreport_pdf: the settlement as the one-page Z-report PDF a shop owner and
an accountant read (issue 18, item 1). Read back with pypdf, as text."""

from __future__ import annotations

import copy
import dataclasses
import io
import re
from decimal import Decimal

import pypdf
import pytest

from settlements.domain import PaymentData, SaleLineData
from settlements.parsing import parse_settlement
from settlements.zreport_pdf import render_zreport_pdf, zreport_filename
from tests.clock import days_ago


def text_of(pdf: bytes) -> tuple[int, str]:
    """The number of pages and the first page's text, one space for any run of blanks
    (the money's no-break spaces included) and "-" for the minus sign."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = reader.pages[0].extract_text().replace("\u00a0", " ").replace("\u2212", "-")
    return len(reader.pages), re.sub(r"\s+", " ", text)


@pytest.fixture
def data(worked_example):
    body = copy.deepcopy(worked_example["settlement"])
    body["pay_outs"] = [{"reason": "Blomster til disken", "amount": "120.00"}]
    body["cash_count"]["counted"] = "4310.00"
    return dataclasses.replace(
        parse_settlement(body), location_name="Fjordkafé Sentrum", reference="BO-17"
    )


def test_it_renders_the_worked_example_on_one_page(data):
    pages, text = text_of(render_zreport_pdf(data, organization_name="Fjordkafé AS"))

    assert pages == 1
    # Store, register, Z-number, business day, the till's times in Oslo time.
    assert "Z-rapport 1042" in text
    assert "Fjordkafé Sentrum · Fjordkafé AS · KASSE-1" in text
    assert "Butikk Fjordkafé Sentrum" in text
    assert "Kasse KASSE-1" in text and "Z-nummer 1042" in text
    assert "Forretningsdato fredag 27.11.2026" in text
    assert "Åpnet 27.11.2026 09:58" in text and "Stengt 27.11.2026 21:04" in text
    assert "Referanse BO-17" in text
    # Sales per product group and rate, with VAT and net; the total.
    assert "Klær 25 % 12 6 000,00 1 200,00 4 800,00" in text
    assert "Mat 15 % 57 4 000,00 521,74 3 478,26" in text
    assert "Sum salg 69 10 000,00 1 721,74 8 278,26" in text
    # VAT per rate.
    assert "25 % 4 800,00 1 200,00 6 000,00" in text
    assert "15 % 3 478,26 521,74 4 000,00" in text
    # Payments.
    assert "Kontant 2 450,00 Kort 6 099,60 Vipps 1 800,00 Gavekort 300,00" in text
    assert "Sum betalinger 10 649,60" in text
    # The balance check.
    assert "= Skal være betalt 10 649,60 Betalinger 10 649,60 Differanse 0,00" in text
    assert "Går i balanse" in text
    # The cash count, with the pay-out and its reason.
    assert "Vekselkasse (inngående) 2 000,00 + Kontantbetalinger 2 450,00" in text
    assert "- Uttak 120,00 = Forventet i kassen 4 330,00 Opptalt 4 310,00" in text
    assert "Kassedifferanse (mangler) -20,00" in text
    assert "Uttak: Blomster til disken -120,00" in text
    # Tips, gift cards, rounding and the counters.
    assert "Tips 150,00 Gavekort solgt 500,00 Øreavrunding -0,40" in text
    assert "Antall kvitteringer 212" in text and "Returer, beløp 350,00" in text
    assert "Skuffeåpninger uten salg 3" in text


def test_it_gives_the_same_bytes_for_the_same_settlement(data):
    # What goes to Visma is what the settlement's page offers: no creation time, no
    # random document id.
    assert render_zreport_pdf(data) == render_zreport_pdf(data)


def test_it_embeds_its_own_fonts(data):
    reader = pypdf.PdfReader(io.BytesIO(render_zreport_pdf(data)))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    descriptors = [font.get_object()["/FontDescriptor"].get_object() for font in fonts.values()]
    assert descriptors, "no font"
    # Every font is a TrueType file inside the PDF (nothing to fetch, æøå everywhere).
    assert all("/FontFile2" in descriptor for descriptor in descriptors)
    names = {str(font.get_object()["/BaseFont"]) for font in fonts.values()}
    assert not names & {"/Helvetica", "/Times-Roman", "/Courier"}


def test_it_fits_five_hundred_product_groups_on_one_page(data):
    sales = tuple(
        SaleLineData(f"Varegruppe {n} æøå", Decimal("25"), Decimal("125.00"), Decimal("25.00"), 1)
        for n in range(500)
    )
    many = dataclasses.replace(
        data, sales=sales, payments=(PaymentData("card", Decimal("62500.00")),)
    )

    pages, text = text_of(render_zreport_pdf(many))

    assert pages == 1
    assert "Varegruppe 499 æøå" in text
    assert "Sum salg 500 62 500,00 12 500,00 50 000,00" in text


def test_it_says_so_when_a_day_has_no_sales_and_no_count(data):
    empty = dataclasses.replace(data, sales=(), payments=(), cash_count=None, counters={})

    pages, text = text_of(render_zreport_pdf(empty))

    assert pages == 1
    assert "Ingen salg denne dagen." in text
    assert "Kassen sendte ingen opptelling." in text


def test_it_shows_a_difference_that_does_not_balance(data):
    short = dataclasses.replace(data, payments=data.payments[:-1])

    _pages, text = text_of(render_zreport_pdf(short))

    assert "Differanse -300,00" in text and "Går ikke i balanse" in text


def test_it_speaks_english_when_asked(data):
    _pages, text = text_of(render_zreport_pdf(data, language="en"))

    assert "Z-report 1042" in text
    assert "Sales per product group" in text and "Total sales" in text
    assert "Cash" in text and "Card" in text


def test_its_file_name_is_unique_per_settlement_and_what_visma_allows(data):
    assert zreport_filename(data) == "Z-rapport_BO-17_KASSE-1_Z1042_2026-11-27.pdf"
    odd = dataclasses.replace(data, register_id="Kasse 2 / bar", business_date=days_ago(2))
    assert zreport_filename(odd) == f"Z-rapport_BO-17_Kasse-2-bar_Z1042_{days_ago(2)}.pdf"
