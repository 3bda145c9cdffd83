"""Fixtures and helpers for the Visma sandbox simulator's tests: the demo companies, a
registered client, the browser flow through sign-in and consent, tokens and API calls."""

from __future__ import annotations

import base64
import hashlib
import json
from decimal import Decimal
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client

from tests.clock import iso_days_ago
from visma_sandbox import services
from visma_sandbox.models import SandboxCompany

AUTHORIZE = "/visma-sandbox/identity/connect/authorize"
TOKEN = "/visma-sandbox/identity/connect/token"
REVOCATION = "/visma-sandbox/identity/connect/revocation"
API = "/visma-sandbox/api/v2"

CLIENT_ID = "backoffice-test"
CLIENT_SECRET = "test-secret-123"
CALLBACK = "http://testserver/oppsett/integrasjoner/visma-eaccounting/callback/"
SCOPES = "ea:api offline_access ea:accounting ea:sales_readonly"

DEMO = "912345678"  # Fjordkafé AS
BAKERI = "923456783"  # Bakeri Nord AS
KIOSK = "934567897"  # Kiosk Vest AS

VERIFIER = "a-pkce-code-verifier-that-is-long-enough-0123456789"


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.fixture
def sandbox(db) -> dict[str, SandboxCompany]:
    return {company.org_number: company for company in services.setup_demo()}


@pytest.fixture
def oauth_client(sandbox):
    client, _ = services.register_client(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uris=[CALLBACK]
    )
    return client


def authorize_params(**overrides) -> dict:
    params = {
        "client_id": CLIENT_ID,
        "redirect_uri": CALLBACK,
        "response_type": "code",
        "scope": SCOPES,
        "state": "state-123",
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
        "prompt": "select_account",
        "acr_values": "forceselectcompany:true",
    }
    params.update(overrides)
    return {key: value for key, value in params.items() if value is not None}


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def sign_in_and_allow(
    browser: Client,
    *,
    company: str = DEMO,
    email: str = "demo@visma.example",
    decision: str = "allow",
    **overrides,
) -> dict[str, str]:
    """Walk the browser flow; the query the client's redirect URI receives."""
    answer = browser.get(AUTHORIZE, authorize_params(**overrides))
    assert answer.status_code == 302, answer.content
    location = answer["Location"]
    if "/account/login" in location:
        txn = query_of(location)["txn"]
        answer = browser.post(location, {"txn": txn, "email": email, "password": "demo"})
        assert answer.status_code == 302, answer.content
        location = answer["Location"]
    if "/account/company" in location:
        target = SandboxCompany.objects.get(org_number=company)
        answer = browser.post(location, {"txn": query_of(location)["txn"], "company": target.pk})
        assert answer.status_code == 302
        location = answer["Location"]
    assert "/consent" in location, location
    answer = browser.post(location, {"txn": query_of(location)["txn"], "decision": decision})
    assert answer.status_code == 302
    assert answer["Location"].startswith(CALLBACK)
    return query_of(answer["Location"])


def basic(client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def form_post(browser: Client, url: str, data: dict, headers: dict | None = None):
    """POST an application/x-www-form-urlencoded body (as OAuth clients do)."""
    return browser.post(
        url,
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
        headers=headers or {},
    )


def token_request(browser: Client, data: dict, *, auth: str = "basic"):
    """POST to /connect/token with client_secret_basic ("basic") or client_secret_post."""
    headers = {}
    if auth == "basic":
        headers["Authorization"] = basic()
    elif auth == "post":
        data = {**data, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    return form_post(browser, TOKEN, data, headers)


def get_tokens(browser: Client, *, company: str = DEMO, scope: str = SCOPES, **overrides) -> dict:
    redirect = sign_in_and_allow(browser, company=company, scope=scope, **overrides)
    answer = token_request(
        browser,
        {
            "grant_type": "authorization_code",
            "code": redirect["code"],
            "redirect_uri": CALLBACK,
            "code_verifier": VERIFIER,
        },
    )
    assert answer.status_code == 200, answer.content
    return answer.json()


@pytest.fixture
def tokens(oauth_client, client) -> dict:
    """Tokens of the demo company (Fjordkafé AS) with the scopes the Backoffice asks for."""
    return get_tokens(client)


def api(browser: Client, access_token: str, method: str, path: str, body=None, **query):
    headers = {"Authorization": f"Bearer {access_token}"}
    url = f"{API}{path}"
    if method == "GET":
        return browser.get(url, query, headers=headers)
    if query:
        url = f"{url}?{urlencode(query)}"
    return browser.generic(
        method,
        url,
        json.dumps(body, default=_json_number),
        content_type="application/json",
        headers=headers,
    )


def _json_number(value):
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(value)


def vat_ids(company: SandboxCompany) -> dict[str, str]:
    return {vat.code: str(vat.uuid) for vat in company.vat_codes.all()}


def worked_example_payload(example: dict, company: SandboxCompany) -> dict:
    """Visma's VoucherApi body for the worked example, built by hand: every row with its
    account, debit and credit, the VAT code id on the coded (sales) rows, and its text."""
    voucher = example["voucher"]
    ids = vat_ids(company)
    rows = []
    for row in voucher["rows"]:
        visma_row = {
            "AccountNumber": row["account"],
            "DebitAmount": Decimal(row["debit"]),
            "CreditAmount": Decimal(row["credit"]),
            "TransactionText": row["text"],
        }
        if row["vat_code"]:
            visma_row["VatCodeId"] = ids[row["vat_code"]]
        rows.append(visma_row)
    settlement = example["settlement"]
    return {
        "VoucherDate": voucher["voucher_date"],
        "VoucherText": (
            f"Dagsoppgjør {voucher['voucher_date']} Fjordkafé Sentrum "
            f"{settlement['register_id']} Z{settlement['z_number']} [ref:S-1]"
        ),
        "Rows": rows,
    }


# Visma's own query flags for our vouchers (../shared/DESIGN.md 3): keep our VAT codes and rows.
OUR_FLAGS = {"useAutomaticVatCalculation": "false", "useDefaultVatCodes": "false"}


def post_voucher(browser: Client, access_token: str, payload: dict, **query):
    return api(browser, access_token, "POST", "/vouchers", payload, **{**OUR_FLAGS, **query})


def simple_voucher(day: str = iso_days_ago(1), amount: str = "100.00", text: str = "Test") -> dict:
    return {
        "VoucherDate": day,
        "VoucherText": text,
        "Rows": [
            {"AccountNumber": 1900, "DebitAmount": Decimal(amount), "TransactionText": "Kontant"},
            {"AccountNumber": 3100, "CreditAmount": Decimal(amount), "TransactionText": "Salg"},
        ],
    }
