"""Skatteetaten's example file, imported and posted through the production export to the
Visma simulator over real HTTP: the voucher rows that arrive (DESIGN.md 4.2, 4.6)."""

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from integrations.visma.transfer import export_organization
from settlements.models import Settlement
from tests.conftest import status_of
from tests.transfer.conftest import connect, simulator, vouchers_in  # noqa: F401
from visma_sandbox import services as sandbox

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


def open_books_for_2020(company_name: str = "Fjordkafé AS") -> None:
    """The simulated company keeps its books open back to 2020 (the example's year)."""
    company = sandbox.get_company(company_name)
    company.accounting_locked_to = date(2019, 12, 31)
    company.save()
    sandbox.add_fiscal_year(company, 2020)


def test_the_example_posts_its_voucher_to_the_simulator(org, location, alice, connect, saft_file):  # noqa: F811
    connect(org)
    open_books_for_2020()
    call_command(
        "import_saft",
        "--org",
        org.slug,
        "--location",
        location.code,
        str(saft_file()),
        stdout=StringIO(),
    )
    # "Bruk standard kontoplan" on the kontooppsett: DEBCARD by its standard code 12002.
    admin = Client()
    admin.force_login(alice)
    assert admin.post("/oppsett/kontooppsett/", {"action": "standard"}).status_code == 302

    result = export_organization(organization=org, today=date(2020, 1, 2))

    assert [o.result for o in result.outcomes] == ["posted"]
    assert status_of(Settlement.objects.get()).state == "posted"
    [voucher] = vouchers_in()
    assert voucher.voucher_date == date(2020, 1, 1)
    assert "Z1" in voucher.voucher_text and "11.222-33.44.567" in voucher.voucher_text
    rows = sorted(
        (r.account_number, r.vat_code.code if r.vat_code else None, r.debit, r.credit)
        for r in voucher.rows.select_related("vat_code")
    )
    assert rows == [
        (1900, None, D("295.00"), D("0.00")),  # cash (12001)
        (1901, None, D("218.80"), D("0.00")),  # DEBCARD (12002): card clearing
        (2700, None, D("0.00"), D("82.28")),  # output VAT 25 %
        (2701, None, D("0.00"), D("13.42")),  # output VAT 15 %
        (3000, "3", D("0.00"), D("329.12")),  # Beer and Tobacco: 411.40 − 82.28, one account
        (3030, "31", D("0.00"), D("89.38")),  # Food 102.80 − 13.42
        (7740, None, D("0.40"), D("0.00")),  # rounding −0.40
    ]
    assert voucher.debit_total == D("514.20")
