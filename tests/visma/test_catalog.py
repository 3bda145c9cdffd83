"""The company's chart cached from Visma and fed into the kontooppsett seam: pick-lists of
the company's own active accounts and VAT codes, and checks against them."""

import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from accounting.builder import Voucher, VoucherRow
from accounting.catalog import company_catalog as seam
from accounting.mapping import account_problem, sales_code_problem
from integrations.visma import client, services
from integrations.visma.catalog import company_catalog
from integrations.visma.models import VismaAccount, VismaConnection
from integrations.visma.preflight import preflight, read_company
from integrations.visma.schedule import OSLO

from . import conftest
from .conftest import API, VAT_3, account, add_chart


@pytest.mark.django_db
def test_nothing_is_known_without_a_connection(org):
    assert company_catalog(org) is None
    assert seam(org) is None


@pytest.mark.django_db
def test_nothing_is_known_before_the_chart_was_fetched(org, connected):
    assert company_catalog(org) is None


@pytest.mark.django_db
def test_the_company_chart_is_offered_through_the_seam(org, connected, mocked):
    add_chart(mocked)
    summary = services.refresh_company_data(org)
    assert (summary.accounts, summary.active_accounts, summary.vat_codes) == (5, 4, 2)

    catalog = seam(org)  # the setting's default is this provider
    assert catalog.source == "Visma eAccounting: Fjordkafé AS"
    assert sorted(catalog.accounts) == [1900, 1950, 2700, 3000, 3030]
    assert catalog.accounts[1900].name == "Kontanter i kasse"
    assert catalog.accounts[1950].active is False
    code = catalog.vat_codes["3"]
    assert (code.rate, code.external_id, code.description) == (
        Decimal("25"),
        VAT_3,
        "Utgående mva, høy sats",
    )
    assert catalog.vat_codes["31"].rate == Decimal("15")

    # what the kontooppsett checks with it
    assert "inaktiv i Visma eAccounting" in account_problem(1950, catalog)
    assert "finnes ikke i Visma eAccounting" in account_problem(4711, catalog)
    assert account_problem(3000, catalog) is None
    assert sales_code_problem("3", "25", catalog) is None
    assert sales_code_problem("31", "25", catalog) is not None
    assert "Visma eAccounting" in sales_code_problem("33", "12", catalog)  # not in the company


@pytest.mark.django_db
def test_the_kontooppsett_offers_the_companys_active_accounts(alice_client, org, connected, mocked):
    add_chart(mocked)
    services.refresh_company_data(org)
    page = alice_client.get("/oppsett/kontooppsett/").content.decode()
    assert "Visma eAccounting: Fjordkafé AS" in page
    assert '<option value="1900">Kontanter i kasse</option>' in page
    assert '<option value="1950">' not in page  # inactive


@pytest.mark.django_db
def test_a_chart_waiting_for_a_reconnect_is_still_offered(org, connected, mocked):
    add_chart(mocked)
    services.refresh_company_data(org)
    VismaConnection.objects.filter(pk=connected.pk).update(status="reconnect_required")
    assert company_catalog(org) is not None


@pytest.mark.django_db
def test_each_open_years_chart_is_kept_and_the_kontooppsett_gets_this_years(org, connected, mocked):
    this_year = timezone.now().astimezone(OSLO).year
    last, current = str(uuid.uuid4()), str(uuid.uuid4())
    years = [
        {
            "Id": year_id,
            "StartDate": f"{year}-01-01",
            "EndDate": f"{year}-12-31",
            "IsLockedForAccounting": False,
        }
        for year_id, year in ((last, this_year - 1), (current, this_year))
    ]
    add_chart(
        mocked,
        accounts=[
            account(3000, "Salg (i år)", year=current),
            account(3000, "Salg (i fjor)", active=False, year=last),
        ],
        years=years,
        company={**conftest.COMPANY, "AccountingLockedTo": f"{this_year - 1}-06-30"},
    )
    services.refresh_company_data(org)

    catalog = company_catalog(org)
    assert (catalog.accounts[3000].name, catalog.accounts[3000].active) == ("Salg (i år)", True)

    def problem(day):
        row = VoucherRow(3000, Decimal("1.00"), Decimal("0.00"), None, "")
        voucher = Voucher(day, "", "BO-1", (row,), Decimal("1.00"), Decimal("1.00"))
        found = preflight(day, voucher, read_company(org))
        return found[1] if found else None

    assert problem(date(this_year, 3, 1)) is None
    assert "Konto 3000 er inaktiv i Visma" in problem(date(this_year - 1, 12, 31))


@pytest.mark.django_db
def test_a_failed_refresh_keeps_the_old_chart(org, connected, mocked):
    add_chart(mocked)
    services.refresh_company_data(org)
    mocked.replace("GET", f"{API}/fiscalyears", status=503, body="")
    with pytest.raises(client.ServerError):
        services.refresh_company_data(org)
    assert VismaAccount.objects.filter(organization=org).count() == 5


@pytest.mark.django_db
def test_voucher_dates_are_checked_against_the_companys_books(org, connected, mocked):
    add_chart(mocked)  # 2025 locked, 2026 open, AccountingLockedTo 2025-12-31

    def problem(day):
        empty = Voucher(day, "", "BO-1", (), Decimal("0.00"), Decimal("0.00"))
        found = preflight(day, empty, read_company(org))
        return found[1] if found else None

    assert problem(date(2026, 11, 27)) is None
    assert problem(date(2025, 6, 1)) is None  # nothing known yet
    services.refresh_company_data(org)
    assert problem(date(2026, 11, 27)) is None
    assert "er låst i Visma" in problem(date(2025, 6, 1))
    assert "ikke noe regnskapsår" in problem(date(2024, 6, 1))
    VismaConnection.objects.filter(pk=connected.pk).update(accounting_locked_to=date(2026, 3, 31))
    assert "låst i Visma til 31.03.2026" in problem(date(2026, 3, 31))


@pytest.mark.django_db
@pytest.mark.parametrize("wire", [25, 0.25, 25.0])
def test_a_vat_rate_as_a_percentage_or_a_fraction_is_one_rate(org, connected, mocked, wire):
    """Visma documents VatRate as "the VAT rate as a percentage" and has been seen sending
    0.25: either way code 3 is 25 %, and the kontooppsett takes it for the 25 % sales."""
    vat_codes = [{**conftest.VAT_CODES[0], "VatRate": wire}, conftest.VAT_CODES[1]]
    add_chart(mocked, vat_codes=vat_codes)
    services.refresh_company_data(org)

    catalog = seam(org)

    assert catalog.vat_codes["3"].rate == Decimal("25")
    assert sales_code_problem("3", "25", catalog) is None
    assert sales_code_problem("3", "15", catalog) is not None
