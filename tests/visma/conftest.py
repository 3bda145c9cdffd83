"""Fixtures for the Visma integration: settings pointing at fake Visma hosts, outgoing HTTP
mocked with `responses`, a connected Fjordkafé, and Visma-shaped answers."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import responses
from cryptography.fernet import Fernet
from django.test import Client
from django.utils import timezone

from integrations.visma.models import VismaConnection

IDENTITY = "https://identity.visma.test"
API = "https://api.visma.test/v2"
TOKEN_URL = f"{IDENTITY}/connect/token"
AUTHORIZE_URL = f"{IDENTITY}/connect/authorize"
REVOCATION_URL = f"{IDENTITY}/connect/revocation"
TEST_KEY = Fernet.generate_key().decode()

FISCAL_2026 = str(uuid.UUID(int=2026))
FISCAL_2025 = str(uuid.UUID(int=2025))
VAT_3 = str(uuid.UUID(int=3))
VAT_31 = str(uuid.UUID(int=31))


@pytest.fixture(autouse=True)
def visma_settings(settings):
    settings.VISMA_CLIENT_ID = "backoffice-test"
    settings.VISMA_CLIENT_SECRET = "s3cret-client"
    settings.VISMA_REDIRECT_URI = ""
    settings.VISMA_IDENTITY_URL = IDENTITY
    settings.VISMA_API_URL = API
    settings.VISMA_TIMEOUT_SECONDS = 5
    settings.FIELD_ENCRYPTION_KEYS = [TEST_KEY]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ACCOUNTING_CATALOG_PROVIDER = "integrations.visma.catalog.company_catalog"
    return settings


@pytest.fixture
def mocked():
    """Every outgoing request must be registered; an unexpected call fails the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(alice) -> Client:
    return login(alice)


@pytest.fixture
def bob_client(bob) -> Client:
    return login(bob)


@pytest.fixture
def charlie_client(charlie) -> Client:
    return login(charlie)


def make_connection(org, user=None, *, access="access-1", refresh="refresh-1", expires_in=3600):
    connection = VismaConnection(
        organization=org,
        status=VismaConnection.Status.CONNECTED,
        company_name="Fjordkafé AS",
        company_org_number="912345678",
        connected_by=user,
        connected_at=timezone.now() - timedelta(days=3),
    )
    connection.set_tokens(
        access_token=access, refresh_token=refresh, expires_in=expires_in, scope="ea:api"
    )
    connection.save()
    return connection


@pytest.fixture
def connected(org, alice) -> VismaConnection:
    return make_connection(org, alice)


def token_answer(access="access-2", refresh="refresh-2", expires_in=3600) -> dict:
    return {
        "access_token": access,
        "refresh_token": refresh,
        "expires_in": expires_in,
        "token_type": "Bearer",
        "scope": "ea:api offline_access ea:accounting ea:sales_readonly",
    }


def page(data: list, current: int = 1, pages: int = 1) -> dict:
    return {
        "Meta": {
            "CurrentPage": current,
            "PageSize": 500,
            "TotalNumberOfPages": pages,
            "TotalNumberOfResults": len(data),
            "ServerTimeUtc": "2026-11-28T06:00:00Z",
        },
        "Data": data,
    }


def visma_error(code: int, message: str, errors: list | None = None) -> dict:
    return {
        "ErrorCode": code,
        "DeveloperErrorMessage": message,
        "ErrorId": "5c9b7a1e-0000-4000-8000-000000000001",
        "Errors": errors or [],
    }


COMPANY = {
    "Name": "Fjordkafé AS",
    "CorporateIdentityNumber": "912345678",
    "Address1": "Bryggen 4",
    "PostalCode": "5003",
    "City": "Bergen",
    "CountryCode": "NO",
    "AccountingLockedTo": "2025-12-31T00:00:00",
}


def account(number: int, name: str, active: bool = True, year: str = FISCAL_2026) -> dict:
    return {"Number": str(number), "Name": name, "IsActive": active, "FiscalYearId": year}


ACCOUNTS = [
    account(1900, "Kontanter i kasse"),
    account(1950, "Skattetrekkskonto", active=False),
    account(2700, "Utgående mva, høy sats"),
    account(3000, "Salg, høy sats"),
    account(3030, "Salg, middels sats"),
]
VAT_CODES = [
    {
        "Id": VAT_3,
        "Code": "3",
        "Description": "Utgående mva, høy sats",
        "VatRate": 0.25,
        "RelatedAccounts": {"AccountNumber1": 2700},
    },
    {"Id": VAT_31, "Code": "31", "Description": "Utgående mva, middels sats", "VatRate": 0.15},
]
FISCAL_YEARS = [
    {
        "Id": FISCAL_2025,
        "StartDate": "2025-01-01T00:00:00",
        "EndDate": "2025-12-31T00:00:00",
        "IsLockedForAccounting": True,
    },
    {
        "Id": FISCAL_2026,
        "StartDate": "2026-01-01T00:00:00",
        "EndDate": "2026-12-31T00:00:00",
        "IsLockedForAccounting": False,
    },
]


def add_chart(rsps, *, company=None, accounts=None, vat_codes=None, years=None) -> None:
    """Visma's answers for refresh_company_data: each fiscal year's chart at
    /accounts/{fiscalyearId} (the accounts with that FiscalYearId), and /accounts."""
    accounts = ACCOUNTS if accounts is None else accounts
    years = FISCAL_YEARS if years is None else years
    rsps.get(f"{API}/companysettings", json=company or COMPANY)
    rsps.get(f"{API}/accounts", json=page(accounts))
    for year in years:
        chart = [a for a in accounts if a.get("FiscalYearId") == year["Id"]]
        rsps.get(f"{API}/accounts/{year['Id']}", json=page(chart))
    rsps.get(f"{API}/vatcodes", json=page(VAT_CODES if vat_codes is None else vat_codes))
    rsps.get(f"{API}/fiscalyears", json=page(years))
    rsps.get(f"{API}/vouchers", json=page([]))  # the connect's harmless read
