"""What a till or a visitor sends comes back harmless (issue 8, part 3): the tills' own
names are escaped on every page, redirects stay on this site, and one organisation's
tills can neither see nor touch another's settlements through the API."""

from __future__ import annotations

import copy
import json

import pytest
from django.test import Client

from accounting.services import import_mapping
from backoffice.models import ApiKey
from saft.models import SaftImport
from settlements.missing import close_register
from settlements.models import Settlement
from settlements.parsing import parse_settlement
from settlements.services import ingest_settlement

from .routes import routes

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def hostile(org, location, worked_example) -> Settlement:
    """A settlement and a kontooppsett whose till-given names are HTML."""
    body = copy.deepcopy(worked_example["settlement"])
    body["register_id"] = f"K{SCRIPT}"
    body["sales"][0]["product_group"] = f"Klær{SCRIPT}"
    body["payments"][2]["method"] = f'vipps"><img src=x onerror=alert(1)>{SCRIPT}'
    body["pay_outs"] = [{"reason": f"Blomster{SCRIPT}", "amount": "0.00"}]
    body["cash_count"]["counted"] = "4430.00"
    settlement = ingest_settlement(location=location, data=parse_settlement(body)).settlement
    mapping = copy.deepcopy(worked_example["mapping"])
    mapping["sales_by_product_group"] = {f"Klær{SCRIPT}": {"account": 3000, "vat_code": "3"}}
    mapping["payments"][body["payments"][2]["method"]] = 1902
    import_mapping(organization=org, data=mapping)
    return settlement


def test_the_tills_names_are_escaped_on_every_page(alice, hostile, location):
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    key, _raw = ApiKey.issue(location)
    # A SAF-T file brings the till's names too (file name, register, reasons).
    saft_import = SaftImport.objects.create(
        organization=hostile.organization,
        location=hostile.location,
        status=SaftImport.Status.DONE,
        files=[{"name": f"kasse{SCRIPT}.xml", "path": "", "size": 1}],
        report={
            "files": [
                {
                    "name": f"kasse{SCRIPT}.xml",
                    "errors": [],
                    "lines": [
                        {
                            "register_id": f"K{SCRIPT}",
                            "z_number": "1",
                            "business_date": "",
                            "outcome": "refused",
                            "reason": SCRIPT,
                            "settlement_id": None,
                        }
                    ],
                    "gaps": [f"K{SCRIPT}: Z 2 mangler mellom 1 og 3"],
                }
            ]
        },
    )
    # An admin's note on a closed register (the calendar) is shown to every member.
    register = location.registers.get()
    closure = close_register(register=register, day=hostile.business_date, note=SCRIPT)[0]
    values = {
        "settlement": str(hostile.pk),
        "location": str(location.pk),
        "api_key": str(key.pk),
        "saft_import": str(saft_import.pk),
        "register": str(register.pk),
        "day": hostile.business_date.isoformat(),
        "closure": str(closure.pk),
    }
    shown = 0
    for route in routes("page"):
        response = client.get(route.url(values))
        assert response.status_code < 500, route.name
        if response["Content-Type"] == "application/pdf":
            continue  # the Z-report as a PDF: text drawn on a page, never read as markup
        body = response.content.decode()
        assert SCRIPT not in body, route.name
        assert "<img src=x" not in body, route.name
        shown += "&lt;script&gt;" in body
    assert shown >= 3  # the names were on the list, the Z-report and the kontooppsett


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "https:evil.example", "/\\evil.example"]
)
def test_sign_in_never_leads_off_site(client, alice, target):
    response = client.post(
        f"/accounts/login/?next={target}", {"username": "alice", "password": "pw-alice"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/dagsoppgjor/"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/"])
def test_choosing_a_language_never_leads_off_site(client, target):
    response = client.post("/i18n/setlang/", {"language": "en", "next": target})

    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def test_another_organisations_till_neither_sees_nor_touches_fjordkafes(
    client, location, other_location, worked_example
):
    """Idempotency is per store: Bakeri Nord's till sending Fjordkafé's register and Z-number
    gets its own settlement (201), not a 409 that would tell Fjordkafé's exists."""
    _key, fjord_key = ApiKey.issue(location)
    _key, bakeri_key = ApiKey.issue(other_location)
    body = json.dumps(worked_example["settlement"]).encode()

    def post(key, data=body):
        return client.post(
            "/api/v1/settlements",
            data=data,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )

    assert post(fjord_key).status_code == 201
    other = json.loads(body)
    other["tips"] = "1.00"
    answer = post(bakeri_key, json.dumps(other).encode())

    assert answer.status_code == 201
    fjord, bakeri = Settlement.objects.order_by("pk")
    assert answer.json()["id"] == bakeri.pk != fjord.pk
    assert bakeri.location == other_location and fjord.tips == 150
