"""Fjordkafé with books worth stealing (a settlement, a kontooppsett, a Visma connection, a
transfer run), each carrying a marker text that must never show up in a page of anyone
who may not see it; clients for every kind of visitor; and a fingerprint of the database
to prove that a refused request changed nothing."""

from __future__ import annotations

import json
import logging
from collections import Counter

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session
from django.test import Client

from accounting.services import import_mapping
from backoffice.models import ApiKey
from integrations.visma.models import ExportRun, TransferSettings, VismaConnection
from saft.models import SaftImport
from settlements.missing import close_register
from settlements.parsing import parse_settlement
from settlements.services import ingest_settlement

from .routes import TRIED, all_routes

# Texts that exist only in Fjordkafé's data.
MARKERS = ("Fjordkafé", "FJORD-KASSE-7", "Fjordlaks", "912345678", "fjordkort", "Fjordrun")


@pytest.fixture
def fjord(org, location, alice, worked_example) -> dict[str, str]:
    """Fjordkafé's objects; the values SAMPLE_KWARGS names ("settlement" -> its pk)."""
    body = json.loads(json.dumps(worked_example["settlement"]).replace("Klær", "Fjordlaks"))
    body["register_id"] = "FJORD-KASSE-7"
    body["business_date"] = "2026-11-20"
    settlement = ingest_settlement(location=location, data=parse_settlement(body)).settlement
    mapping = worked_example["mapping"]
    mapping = {**mapping, "payments": {**mapping["payments"], "fjordkort": 1987}}
    mapping["sales_by_product_group"] = {"Fjordlaks": {"account": 3000, "vat_code": "3"}}
    import_mapping(organization=org, data=mapping)
    connection = VismaConnection(
        organization=org,
        status=VismaConnection.Status.CONNECTED,
        company_name="Fjordkafé AS",
        company_org_number="912345678",
        connected_by=alice,
    )
    connection.set_tokens(
        access_token="fjord-access-token", refresh_token="fjord-refresh-token", expires_in=3600
    )
    connection.save()
    run = ExportRun.objects.create(
        organization=org,
        trigger=ExportRun.Trigger.MANUAL,
        summary={"posted": 1, "message": "Fjordrun ferdig"},
    )
    # Made on first sight by the pages; made here so that looking is not a change.
    TransferSettings.for_organization(org)
    key, _raw = ApiKey.issue(location)
    saft_import = SaftImport.objects.create(organization=org, location=location)
    register = location.registers.get()
    closure = close_register(register=register, day=settlement.business_date, user=alice)[0]
    return {
        "settlement": str(settlement.pk),
        "run": str(run.pk),
        "location": str(location.pk),
        "api_key": str(key.pk),
        "saft_import": str(saft_import.pk),
        "register": str(register.pk),
        "day": settlement.business_date.isoformat(),
        "closure": str(closure.pk),
    }


class Visitor(Client):
    """A test client that counts its requests under `role` (for the summary)."""

    def __init__(self, role: str, **kwargs):
        super().__init__(raise_request_exception=False, **kwargs)
        self.role = role

    def request(self, **request):
        TRIED[self.role] += 1
        return super().request(**request)


def signed_in(user, role: str = "signed in", **kwargs) -> Client:
    client = Visitor(role, **kwargs)
    client.force_login(user)
    return client


@pytest.fixture
def anonymous() -> Client:
    return Visitor("signed out")


@pytest.fixture
def alice_client(alice) -> Client:
    return signed_in(alice, "admin of Fjordkafé")


@pytest.fixture
def bob_client(bob) -> Client:
    return signed_in(bob, "staff of Fjordkafé")


@pytest.fixture
def charlie_client(charlie) -> Client:
    return signed_in(charlie, "admin of another organisation")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not TRIED:
        return
    kinds = Counter(route.kind for route in all_routes())
    terminalreporter.section("security")
    terminalreporter.write_line(
        "routes from the resolver: "
        + ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    )
    terminalreporter.write_line(
        "requests: " + ", ".join(f"{role}: {count}" for role, count in sorted(TRIED.items()))
    )


def fingerprint() -> dict[str, list]:
    """Every row of every table (sessions aside: a refused request may still store a
    message for the next page)."""
    return {
        model._meta.label: sorted(map(repr, model.objects.values_list()))
        for model in apps.get_models()
        if model is not Session and model._meta.managed
    }


def leaked(response) -> list[str]:
    body = response.content.decode("utf-8", "replace")
    return [marker for marker in MARKERS if marker in body]


@pytest.fixture(autouse=True)
def quiet_refusals():
    """Hundreds of 403/404/405 would each log a warning; a 500 still logs its traceback."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)
