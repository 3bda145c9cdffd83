"""The kontooppsett page /oppsett/kontooppsett/: admins edit, staff look; every product group
and payment method the tills sent is listed, unmapped ones marked; validation in Norwegian;
"Bruk standard kontoplan"; the company's catalog; the change log; releasing blocked
settlements."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from accounting.catalog import Catalog, KnownAccount, KnownVatCode
from accounting.mapping import MappingData, SalesAccount, mapping_from_json
from accounting.models import MappingChange
from accounting.services import (
    export_mapping,
    import_mapping,
    load_mapping,
    save_mapping,
)
from integrations.visma.models import Problem, SettlementExport
from integrations.visma.state import release_blocked
from tests.conftest import status_of
from tests.test_voucher_builder import settlement_from_json
from tests.test_voucher_preview import make_settlement

URL = "/oppsett/kontooppsett/"
D = Decimal


# -- a company catalog as an accounting integration would provide it ------------------------

CATALOG_ACCOUNTS = {
    n: KnownAccount(n, f"Konto {n}") for n in [*range(1000, 1490), 1500, 1900, 1901, 1909, 1911]
}
CATALOG_ACCOUNTS[1902] = KnownAccount(1902, "Vipps (sperret)", active=False)
for n in (2700, 2701, 2703, 2901, 2910, 3000, 3030, 3050, 3100, 7740):
    CATALOG_ACCOUNTS[n] = KnownAccount(n, f"Konto {n}")
CATALOG = Catalog(
    accounts=CATALOG_ACCOUNTS,
    vat_codes={
        "3": KnownVatCode("3", "Utgående mva, høy sats", D("25"), "id-3"),
        "31": KnownVatCode("31", "Utgående mva, middels sats", D("0.15"), "id-31"),
        "5": KnownVatCode("5", "Fritatt", D("0"), "id-5"),
        "1": KnownVatCode("1", "Inngående mva", D("25"), "id-1"),
        "U9": KnownVatCode("U9", "Egen kode, lav sats", D("12"), "id-u9"),
    },
    source="Visma eAccounting: Fjordkafé AS",
)


def fake_catalog(organization):
    return CATALOG


@pytest.fixture
def with_catalog(settings):
    settings.ACCOUNTING_CATALOG_PROVIDER = "tests.test_mapping_page.fake_catalog"


@pytest.fixture(autouse=True)
def norwegian():
    with translation.override("nb"):
        yield


@pytest.fixture
def admin_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def staff_client(client, bob):
    client.force_login(bob)
    return client


@pytest.fixture
def sold(location, worked_example):
    """The worked example's settlement, plus one more with a product group and a payment
    method of the till's own ("Gaver", "kupong")."""
    first = make_settlement(location, settlement_from_json(worked_example["settlement"]))
    body = {
        "register_id": "KASSE-2",
        "z_number": 7,
        "business_date": "2026-11-27",
        "sales": [{"product_group": "Gaver", "vat_rate": "25.00", "gross_amount": "250.00"}],
        "payments": [{"method": "kupong", "amount": "250.00"}],
    }
    second = make_settlement(location, settlement_from_json(body))
    return first, second


def full_post(**changes) -> dict:
    """A complete, valid form as the page posts it (worked example mapping + kupong)."""
    post = {
        "sales-0-key": "25",
        "sales-0-account": "3000",
        "sales-0-vat_code": "3",
        "sales-1-key": "15",
        "sales-1-account": "3030",
        "sales-1-vat_code": "31",
        "sales-2-key": "12",
        "sales-2-account": "3050",
        "sales-2-vat_code": "33",
        "sales-3-key": "0",
        "sales-3-account": "3100",
        "sales-3-vat_code": "5",
        "group-0-key": "Klær",
        "group-0-account": "3000",
        "group-0-vat_code": "3",
        "vat-0-key": "25",
        "vat-0-account": "2700",
        "vat-1-key": "15",
        "vat-1-account": "2701",
        "vat-2-key": "12",
        "vat-2-account": "2703",
        "payment-0-key": "cash",
        "payment-0-account": "1900",
        "payment-1-key": "card",
        "payment-1-account": "1901",
        "payment-2-key": "vipps",
        "payment-2-account": "1902",
        "payment-3-key": "gift_card",
        "payment-3-account": "2901",
        "payment-4-key": "kupong",
        "payment-4-account": "2960",
        "tips": "2910",
        "gift_cards_sold": "2901",
        "rounding": "7740",
        "cash": "1900",
        "cash_difference": "1909",
        "pay_ins": "1911",
        "pay_outs": "1911",
        "action": "save",
    }
    post.update(changes)
    return post


def row_html(html: str, key: str) -> str:
    """The <tr> of the row with data-key=`key` (the first one)."""
    match = re.search(rf'<tr class="([^"]*)" data-key="{re.escape(key)}">(.*?)</tr>', html, re.S)
    assert match, f"no row {key}"
    return match.group(1) + "|" + match.group(2)


def test_the_url_is_named_accounting_mapping():
    assert reverse("accounting:mapping") == URL


def test_it_needs_a_signed_in_member(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_it_shows_the_sections_and_the_standard_rates_on_an_empty_kontooppsett(admin_client):
    response = admin_client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    for title in ("Salg", "Merverdiavgift", "Betalingsmidler", "Kasse", "Annet"):
        assert f"<h2>{title}</h2>" in html
    for rate in ("25 %", "15 %", "12 %", "0 %"):
        assert rate in html
    assert "Bruk standard kontoplan" in html
    assert "Ingen endringer ennå." in html
    # The SAF-T sales codes are offered, the input-VAT codes are not.
    assert '<option value="31">31 (15 %) – Utgående merverdiavgift</option>' in html
    assert '<option value="1">' not in html


def test_it_lists_every_product_group_and_method_from_the_settlements_and_marks_the_unmapped(
    admin_client, org, sold, worked_example
):
    mapping = dict(worked_example["mapping"])
    mapping["payments"] = {k: v for k, v in mapping["payments"].items() if k != "vipps"}
    import_mapping(organization=org, data=mapping)

    html = admin_client.get(URL).content.decode()

    assert "unmapped" in row_html(html, "kupong")
    assert "Mangler konto" in row_html(html, "kupong")
    assert "unmapped" in row_html(html, "vipps")
    assert "unmapped" not in row_html(html, "card")
    assert "Mangler konto" not in row_html(html, "card")
    # Product groups: Klær has its own account, Mat and Gaver follow their rate's account.
    assert "Klær" in html and "Mat" in html and "Gaver" in html
    assert "unmapped" not in row_html(html, "Gaver")
    assert "Følger Salg 25 %" in row_html(html, "Gaver")


def test_it_marks_a_product_group_whose_rate_has_no_account(admin_client, org, sold):
    html = admin_client.get(URL).content.decode()
    assert "unmapped" in row_html(html, "Mat")
    assert "Mangler konto" in row_html(html, "Mat")
    assert "unmapped" in row_html(html, "15")  # the rate Mat is sold at


def test_it_does_not_list_another_organisations_product_groups(
    client, charlie, sold, other_location
):
    client.force_login(charlie)
    html = client.get(URL).content.decode()
    assert "kupong" not in html
    assert "Gaver" not in html


def test_an_admin_saves_the_kontooppsett_and_the_change_is_recorded(admin_client, org, alice, sold):
    response = admin_client.post(URL, full_post())
    assert response.status_code == 302

    mapping = load_mapping(org)
    assert mapping.payments["kupong"] == 2960
    assert mapping.sales_by_vat_rate["15"] == SalesAccount(3030, "31")
    assert mapping.sales_by_product_group == {"Klær": SalesAccount(3000, "3")}
    assert mapping.pay_outs == 1911

    change = MappingChange.objects.get(organization=org)
    assert change.user == alice
    assert change.action == "edit"
    assert {"path": ["payments", "kupong"], "old": None, "new": 2960} in change.changes

    html = admin_client.get(URL).content.decode()
    assert "Kontooppsettet er lagret." in html
    assert "Siste endringer" in html
    assert "Betalingsmåten kupong: – → 2960" in html
    assert "alice" in html


def test_clearing_a_field_unmaps_it_and_is_logged(admin_client, org, sold):
    admin_client.post(URL, full_post())
    admin_client.post(URL, full_post(**{"payment-2-account": ""}))
    assert "vipps" not in load_mapping(org).payments
    last = MappingChange.objects.filter(organization=org).first()
    assert last.changes == [{"path": ["payments", "vipps"], "old": 1902, "new": None}]


def test_a_new_product_group_override_and_payment_method_can_be_added(admin_client, org):
    response = admin_client.post(
        URL,
        full_post(
            **{
                "group-new-key": "Vin",
                "group-new-account": "3020",
                "group-new-vat_code": "3",
                "payment-new-key": "Kupong",
                "payment-new-account": "2960",
            }
        ),
    )
    assert response.status_code == 302
    mapping = load_mapping(org)
    assert mapping.sales_by_product_group["Vin"] == SalesAccount(3020, "3")
    assert mapping.payments["Kupong"] == 2960


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tips": "291"}, "Kontonummer må være et heltall på minst 4 sifre"),
        ({"payment-0-account": "19o0"}, "Kontonummer må være et heltall på minst 4 sifre"),
        ({"cash": "-1900"}, "Kontonummer må være et heltall på minst 4 sifre"),
        ({"cash": "1900.5"}, "Kontonummer må være et heltall på minst 4 sifre"),
        ({"rounding": "1234567890"}, "Kontonummeret er for langt (høyst 9 sifre)"),
        ({"sales-1-vat_code": ""}, "Salg må ha en MVA-kode for utgående mva"),
        ({"sales-1-account": ""}, "MVA-koden er valgt, men kontoen mangler"),
        ({"sales-1-vat_code": "3"}, "MVA-kode 3 gjelder 25 %, ikke 15 %"),
        ({"sales-3-vat_code": "3"}, "MVA-kode 3 gjelder 25 %, ikke 0 %"),
        ({"sales-0-vat_code": "33"}, "MVA-kode 33 gjelder 12 %, ikke 25 %"),
        (
            {"sales-0-vat_code": "1"},
            "MVA-kode 1 er ikke en kode for salg (Fradragsberettiget innenlands inngående merverdiavgift)",
        ),
        (
            {"sales-0-vat_code": "99"},
            "MVA-kode 99 er ikke en SAF-T-kode for salg (bruk 3, 31, 33, 5 eller 6)",
        ),
        (
            {"group-0-vat_code": "31"},
            "Varegruppen Klær selges med 25 %, men MVA-kode 31 gjelder 15 %",
        ),
        ({"group-new-account": "3020"}, "Skriv navnet på varegruppen"),
        (
            {"payment-new-key": "card", "payment-new-account": "1920"},
            "card står allerede i listen ovenfor",
        ),
    ],
)
def test_it_refuses_invalid_entries_with_a_clear_message_and_saves_nothing(
    admin_client, org, sold, changes, message
):
    save_mapping(organization=org, mapping=MappingData(tips=2910))
    response = admin_client.post(URL, full_post(**changes))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Kontooppsettet er ikke lagret." in html
    assert f"<li>{message}</li>" in html.replace("&#x27;", "'")
    assert 'aria-invalid="true"' in html
    # All or nothing: not even the valid entries of the same form were written.
    assert load_mapping(org) == MappingData(tips=2910)
    assert MappingChange.objects.filter(organization=org).count() == 1  # the setup's own


def posted_back(html: str, **changes) -> dict:
    """What the browser posts from the page as it is shown (its formsets' management forms
    included), with `changes` typed in."""
    form = html[html.index('<form method="post" class="mapping-form"') :]
    form = form[: form.index("</form>")]
    data = dict(re.findall(r'<input (?:type="hidden" )?name="([^"]+)" value="([^"]*)"', form))
    for name, select in re.findall(r'<select name="([^"]+)"(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', select)
        data[name] = chosen[1] if chosen else ""
    data.pop("csrfmiddlewaretoken", None)
    return {**data, "action": "save", **changes}


def test_the_page_posts_its_rows_as_formsets(admin_client, org, sold, worked_example):
    import_mapping(organization=org, data=worked_example["mapping"])
    html = admin_client.get(URL).content.decode()
    assert 'name="payment-TOTAL_FORMS" value="6"' in html  # 5 standard methods and kupong

    unchanged = admin_client.post(URL, posted_back(html), follow=True)
    assert "Ingen endringer å lagre." in unchanged.content.decode()

    kupong = re.search(r'name="(payment-\d+)-key" value="kupong"', html)[1]
    response = admin_client.post(URL, posted_back(html, **{f"{kupong}-account": "2960"}))
    assert response.status_code == 302
    assert load_mapping(org).payments["kupong"] == 2960
    sales = export_mapping(organization=org)["sales_by_vat_rate"]
    assert sales == worked_example["mapping"]["sales_by_vat_rate"]


def test_a_tampered_row_count_is_refused(admin_client, org, sold):
    html = admin_client.get(URL).content.decode()
    response = admin_client.post(
        URL, posted_back(html, **{"payment-TOTAL_FORMS": "x", "tips": "2910"})
    )
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert load_mapping(org) == MappingData()


def test_the_form_keeps_what_was_typed_when_it_is_refused(admin_client, org, sold):
    html = admin_client.post(URL, full_post(tips="29", cash="1920")).content.decode()
    assert 'name="cash" value="1920"' in html
    assert 'name="tips" value="29"' in html


def test_the_staff_sees_the_kontooppsett_read_only(staff_client, org, worked_example):
    import_mapping(organization=org, data=worked_example["mapping"])
    response = staff_client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="1902"' in html
    assert "bare administratorer kan endre det" in html
    assert "Bruk standard kontoplan</button>" not in html
    assert ">Lagre</button>" not in html
    inputs = re.findall(r"<input name=\"(?:tips|cash)\"[^>]*>", html)
    assert inputs and all(" disabled" in tag for tag in inputs)


def test_the_staff_cannot_change_the_kontooppsett(staff_client, org, worked_example):
    import_mapping(organization=org, data=worked_example["mapping"])
    before = export_mapping(organization=org)

    assert staff_client.post(URL, full_post(tips="2911")).status_code == 403
    assert staff_client.post(URL, {"action": "standard"}).status_code == 403
    assert export_mapping(organization=org) == before


def test_standard_chart_fills_the_empty_fields_and_keeps_what_the_admin_typed(
    admin_client, org, sold
):
    save_mapping(
        organization=org,
        mapping=MappingData(
            payments={"card": 1920}, sales_by_vat_rate={"25": SalesAccount(3001, "3")}
        ),
    )
    # On the page, "Bruk standard kontoplan" posts the form, typed (unsaved) values included.
    post = {
        "sales-0-key": "25",
        "sales-0-account": "3001",
        "sales-0-vat_code": "3",
        "sales-1-key": "15",
        "sales-1-account": "3031",  # typed, no code yet: the standard code is added
        "sales-1-vat_code": "",
        "payment-0-key": "card",
        "payment-0-account": "1920",
        "tips": "2911",
        "action": "standard",
    }
    response = admin_client.post(URL, post)
    assert response.status_code == 302

    mapping = load_mapping(org)
    assert mapping.payments["card"] == 1920
    assert mapping.sales_by_vat_rate["25"] == SalesAccount(3001, "3")
    assert mapping.sales_by_vat_rate["15"] == SalesAccount(3031, "31")
    assert mapping.tips == 2911
    # ...and the empty ones got NS 4102 / SAF-T defaults.
    assert mapping.payments["cash"] == 1900
    assert mapping.payments["vipps"] == 1902
    assert mapping.payments["invoice"] == 1500
    assert "kupong" not in mapping.payments  # the till's own method is left to the admin
    assert mapping.sales_by_vat_rate["12"] == SalesAccount(3050, "33")
    assert mapping.sales_by_vat_rate["0"] == SalesAccount(3100, "5")
    assert mapping.output_vat_by_rate == {"25": 2700, "15": 2701, "12": 2703}
    assert (mapping.rounding, mapping.cash, mapping.cash_difference) == (7740, 1900, 1909)
    assert MappingChange.objects.filter(organization=org).first().action == "standard"


def test_standard_chart_offers_only_what_the_company_has(admin_client, org, with_catalog):
    response = admin_client.post(URL, {"action": "standard"})
    assert response.status_code == 302

    mapping = load_mapping(org)
    assert "vipps" not in mapping.payments  # 1902 is inactive in the company
    assert mapping.payments["card"] == 1901
    assert "12" not in mapping.sales_by_vat_rate  # the company has no code 33
    assert mapping.sales_by_vat_rate["15"] == SalesAccount(3030, "31")


def test_it_offers_the_companys_accounts_and_codes_when_connected(admin_client, with_catalog):
    html = admin_client.get(URL).content.decode()
    assert "kontrolleres mot Visma eAccounting: Fjordkafé AS" in html
    assert '<datalist id="known-accounts">' in html
    assert '<option value="1901">Konto 1901</option>' in html
    assert '<option value="1902">' not in html  # inactive
    assert 'list="known-accounts"' in html
    assert '<option value="U9">U9 (12 %) – Egen kode, lav sats</option>' in html
    assert '<option value="31">31 (15 %) – Utgående mva, middels sats</option>' in html
    assert '<option value="1">' not in html  # input VAT is no sales code


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"payment-4-account": "2960"}, "Konto 2960 finnes ikke i Visma eAccounting"),
        ({"payment-2-account": "1902"}, "Konto 1902 er inaktiv i Visma eAccounting"),
        ({"sales-2-vat_code": "33"}, "MVA-kode 33 finnes ikke i Visma eAccounting"),
        ({"sales-1-vat_code": "U9"}, "MVA-kode U9 gjelder 12 %, ikke 15 %"),
    ],
)
def test_it_validates_against_the_companys_catalog(
    admin_client, org, with_catalog, changes, message
):
    post = full_post(
        **{"sales-2-vat_code": "U9", "payment-2-account": "1901", "payment-4-account": ""}
    )
    post.update(changes)
    response = admin_client.post(URL, post)
    assert response.status_code == 200
    assert f"<li>{message}</li>" in response.content.decode()
    assert load_mapping(org) == MappingData()


def test_a_form_valid_against_the_catalog_is_saved(admin_client, org, with_catalog):
    post = full_post(
        **{"sales-2-vat_code": "U9", "payment-2-account": "1901", "payment-4-account": ""}
    )
    assert admin_client.post(URL, post).status_code == 302
    assert load_mapping(org).sales_by_vat_rate["12"] == SalesAccount(3050, "U9")


def test_the_page_stays_fast_with_a_large_catalog_and_many_settlements(
    admin_client, org, location, with_catalog, worked_example, django_assert_max_num_queries
):
    save_mapping(organization=org, mapping=mapping_from_json(worked_example["mapping"]))
    for z in range(1, 4):
        make_settlement(
            location, settlement_from_json({**worked_example["settlement"], "z_number": z})
        )
    with django_assert_max_num_queries(15) as few:
        assert admin_client.get(URL).status_code == 200
    for z in range(4, 30):
        body = {
            **worked_example["settlement"],
            "z_number": z,
            "sales": [
                {"product_group": f"Gruppe {z}", "vat_rate": "25", "gross_amount": "10670.00"}
            ],
        }
        make_settlement(location, settlement_from_json(body))
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = admin_client.get(URL).content.decode()
    assert "Gruppe 29" in html
    assert html.count("<option value=") > 500


# -- releasing settlements that waited for the kontooppsett ---------------------------------


@pytest.fixture
def blocked(location, worked_example):
    data = settlement_from_json(worked_example["settlement"])
    waiting = make_settlement(
        location,
        data,
        state=SettlementExport.State.NEEDS_ACTION,
        problem_code=Problem.MAPPING_MISSING,
        reason="Betalingsmåten vipps mangler konto",
    )
    unbalanced = make_settlement(
        location,
        settlement_from_json({**worked_example["settlement"], "z_number": 1043, "tips": "1.00"}),
        state=SettlementExport.State.NEEDS_ACTION,
        problem_code="unbalanced",
    )
    return waiting, unbalanced


def test_saving_the_missing_mapping_makes_a_blocked_settlement_postable(admin_client, org, blocked):
    waiting, unbalanced = blocked
    # Everything but vipps: still blocked.
    admin_client.post(URL, full_post(**{"payment-2-account": ""}))
    waiting.refresh_from_db()
    assert status_of(waiting).state == SettlementExport.State.NEEDS_ACTION

    admin_client.post(URL, full_post())

    waiting.refresh_from_db()
    unbalanced.refresh_from_db()
    assert status_of(waiting).state == SettlementExport.State.PENDING
    assert (status_of(waiting).problem, status_of(waiting).reason) == ("", "")
    assert status_of(unbalanced).state == SettlementExport.State.NEEDS_ACTION
    assert status_of(unbalanced).problem == "unbalanced"


def test_release_blocked_releases_only_completely_mapped_settlements(org, blocked, worked_example):
    waiting, _ = blocked
    assert release_blocked(organization=org) == 0
    # save_mapping calls release_blocked itself.
    save_mapping(organization=org, mapping=mapping_from_json(worked_example["mapping"]))
    waiting.refresh_from_db()
    assert status_of(waiting).state == SettlementExport.State.PENDING
    assert release_blocked(organization=org) == 0


def test_release_blocked_leaves_other_organisations_alone(org, other_org, blocked, worked_example):
    waiting, _ = blocked
    import_mapping(organization=other_org, data=worked_example["mapping"])
    assert release_blocked(organization=other_org) == 0
    waiting.refresh_from_db()
    assert status_of(waiting).state == SettlementExport.State.NEEDS_ACTION


def test_it_shows_where_a_saved_kontooppsett_no_longer_fits_the_company(
    admin_client, org, worked_example, with_catalog
):
    # Saved before the company was connected: vipps' 1902 is inactive there, 33 unknown.
    save_mapping(organization=org, mapping=mapping_from_json(worked_example["mapping"]))
    html = admin_client.get(URL).content.decode()
    assert "Kontooppsettet har feil." in html
    assert "<li>Konto 1902 er inaktiv i Visma eAccounting</li>" in html
    assert "<li>MVA-kode 33 finnes ikke i Visma eAccounting</li>" in html


def test_it_speaks_english_to_an_english_browser(admin_client, org):
    response = admin_client.post(URL, full_post(tips="12"), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert "<h1>Account mapping</h1>" in html
    assert "An account number must be a whole number of at least 4 digits" in html
    assert "Use the standard chart of accounts" in html
