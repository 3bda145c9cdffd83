"""The kontooppsett after a SAF-T import: the till's payment types and article groups with
their description and standard code; "Bruk standard kontoplan" fills them from the code."""

from io import StringIO

from django.core.management import call_command

from accounting.services import load_mapping
from saft.models import SaftCode

URL = "/oppsett/kontooppsett/"


def imported(location, path) -> None:
    try:
        call_command(
            "import_saft",
            "--org",
            "fjordkafe",
            "--location",
            "sentrum",
            str(path),
            stdout=StringIO(),
        )
    except SystemExit:
        pass


def test_it_lists_the_files_payment_types_and_article_groups(client, alice, location, saft_file):
    imported(location, saft_file())
    client.force_login(alice)

    html = client.get(URL).content.decode()

    assert "DEBCARD" in html and "Debit card · standardkode 12002" in html
    assert "CASH · Cash · standardkode 12001" in html  # the method is "cash", the code CASH
    assert "Food" in html and "100 · standardkode 04006" in html


def test_bruk_standard_kontoplan_fills_them_from_the_standard_code(
    client, alice, location, saft_file
):
    imported(location, saft_file())
    for key, code in (("VIPPS", "12011"), ("GAVEKORT", "12005"), ("PANT", "12008")):
        SaftCode.objects.create(
            organization=location.organization, kind="payment", key=key, standard_code=code
        )
    client.force_login(alice)

    response = client.post(URL, {"action": "standard"})

    assert response.status_code == 302
    payments = load_mapping(location.organization).payments
    assert payments["DEBCARD"] == 1901  # 12002: the card clearing account
    assert payments["cash"] == 1900  # 12001
    assert payments["VIPPS"] == 1902  # 12011: the Vipps/mobile clearing account
    assert payments["GAVEKORT"] == 2901  # 12005: gift cards
    assert "PANT" not in payments  # 12008 (bottle deposit) is left to the admin
