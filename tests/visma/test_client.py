"""integrations.visma.client against Visma-shaped answers: each endpoint, paging, every
error code mapped to its named exception, timeouts and malformed answers."""

import json
from decimal import Decimal

import pytest
import requests
import responses
from responses import matchers
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from integrations.visma import client

from .conftest import (
    ACCOUNTS,
    API,
    COMPANY,
    FISCAL_2025,
    FISCAL_2026,
    FISCAL_YEARS,
    VAT_3,
    VAT_CODES,
    page,
    visma_error,
)

TOKEN = "at-123"

VOUCHER = {
    "VoucherDate": "2026-11-27",
    "VoucherText": "Dagsoppgjør 2026-11-27 Sentrum KASSE-1 Z1042",
    "Rows": [
        {"AccountNumber": 1900, "DebitAmount": Decimal("1250.00"), "CreditAmount": 0},
        {
            "AccountNumber": 3000,
            "DebitAmount": 0,
            "CreditAmount": Decimal("1000.00"),
            "VatCodeId": VAT_3,
        },
        {"AccountNumber": 2700, "DebitAmount": 0, "CreditAmount": Decimal("250.00")},
    ],
}


def test_it_reads_the_company_settings(mocked):
    mocked.get(
        f"{API}/companysettings",
        json=COMPANY,
        match=[matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})],
    )
    company = client.get_company_settings(TOKEN)
    assert company.name == "Fjordkafé AS"
    assert company.org_number == "912345678"
    assert str(company.accounting_locked_to) == "2025-12-31"


def test_it_lists_accounts_with_numbers_as_integers(mocked):
    mocked.get(f"{API}/accounts", json=page(ACCOUNTS))
    accounts = client.list_accounts(TOKEN)
    assert [a.number for a in accounts] == [1900, 1950, 2700, 3000, 3030]
    assert [a.number for a in accounts if not a.is_active] == [1950]
    assert accounts[0].fiscal_year_id == FISCAL_2026


def test_it_lists_one_fiscal_years_chart_with_the_accounts_rules(mocked):
    rules = {"IsBlockedForManualBooking": True, "AllowTransactionText": False}
    blocked = {**ACCOUNTS[0], **rules, "IsFirstCostCenterMandatory": True}
    mocked.get(f"{API}/accounts/{FISCAL_2025}", json=page([blocked, ACCOUNTS[3]]))
    first, plain = client.list_accounts(TOKEN, fiscal_year_id=FISCAL_2025)
    assert (first.blocked_for_manual_booking, first.first_cost_center_mandatory) == (True, True)
    assert first.allows_transaction_text is False
    # Absent rules are what Visma assumes: not blocked, no cost centre, texts allowed.
    assert (plain.blocked_for_manual_booking, plain.allows_transaction_text) == (False, True)


def test_it_lists_vat_codes_with_exact_rates(mocked):
    mocked.get(
        f"{API}/vatcodes",
        json=page(VAT_CODES + [{"Id": VAT_3.replace("3", "9"), "Code": None, "VatRate": 0}]),
    )
    codes = client.list_vat_codes(TOKEN)
    assert [(c.code, c.rate) for c in codes] == [("3", Decimal("0.25")), ("31", Decimal("0.15"))]
    assert codes[0].related_accounts == (2700,)
    assert codes[0].id == VAT_3


def test_it_lists_fiscal_years(mocked):
    mocked.get(f"{API}/fiscalyears", json=page(FISCAL_YEARS))
    years = client.list_fiscal_years(TOKEN)
    assert [(str(y.start_date), str(y.end_date), y.is_locked) for y in years] == [
        ("2025-01-01", "2025-12-31", True),
        ("2026-01-01", "2026-12-31", False),
    ]


def test_it_follows_the_pages_to_the_end(mocked):
    for number in (1, 2, 3):
        mocked.get(
            f"{API}/vouchers",
            json=page([{"Id": f"v{number}", "VoucherText": f"page {number}"}], number, 3),
            match=[
                matchers.query_param_matcher(
                    {
                        "$filter": "VoucherDate eq 2026-11-27",
                        "$page": str(number),
                        "$pagesize": "500",
                    }
                )
            ],
        )
    vouchers = client.list_vouchers(TOKEN, filter="VoucherDate eq 2026-11-27")
    assert [v["Id"] for v in vouchers] == ["v1", "v2", "v3"]
    assert len(mocked.calls) == 3


def test_an_empty_list_is_one_request(mocked):
    mocked.get(f"{API}/vouchers", json=page([], 1, 0))
    assert client.list_vouchers(TOKEN) == []
    assert len(mocked.calls) == 1


def test_it_creates_a_voucher_keeping_our_vat_codes_and_amounts(mocked):
    created = {
        **VOUCHER,
        "Id": "0b7f3c2e-1d1a-4a5e-9a1c-2d7f0e3b5a11",
        "NumberAndNumberSeries": "A17",
    }
    mocked.post(
        f"{API}/vouchers",
        status=201,
        body=json.dumps(created, default=float),
        content_type="application/json",
        match=[
            matchers.query_param_matcher(
                {"useDefaultVatCodes": "false", "useAutomaticVatCalculation": "false"}
            )
        ],
    )
    answer = client.create_voucher(TOKEN, VOUCHER)
    assert answer["NumberAndNumberSeries"] == "A17"
    sent = mocked.calls[0].request.body.decode()
    # Decimal amounts go out as JSON numbers with their exact digits.
    assert '"CreditAmount": 1000.0' in sent and '"DebitAmount": 1250.0' in sent
    assert mocked.calls[0].request.headers["Content-Type"] == "application/json"


def test_a_voucher_that_breaks_visma_schema_is_not_sent(mocked):
    bad = {**VOUCHER, "Rows": [{"AccountNumber": 1900, "DebitAmount": Decimal("1.005")}]}
    with pytest.raises(client.InvalidPayload) as caught:
        client.create_voucher(TOKEN, bad)
    assert "2 decimal" in caught.value.message
    assert len(mocked.calls) == 0


@pytest.mark.parametrize(
    ("status", "code", "exception"),
    [
        (400, 2000, client.ValidationError),
        (400, 3001, client.FiscalYearMissing),
        (400, 3002, client.AccountNotFound),
        (400, 4026, client.PeriodLocked),
        (403, 4006, client.MissingScope),
        (500, 5000, client.ServerError),
    ],
)
def test_each_error_code_raises_its_exception(mocked, status, code, exception):
    mocked.post(
        f"{API}/vouchers",
        status=status,
        json=visma_error(
            code, f"Visma says {code}", [{"Field": "Rows[0]", "Message": "Feil på raden"}]
        ),
    )
    with pytest.raises(exception) as caught:
        client.create_voucher(TOKEN, VOUCHER)
    error = caught.value
    assert (error.code, error.status) == (code, status)
    assert error.message == f"Visma says {code}"
    assert error.error_id == "5c9b7a1e-0000-4000-8000-000000000001"
    assert "Rows[0]: Feil på raden" in error.detail
    assert error.outcome_unknown == (status >= 500)
    assert TOKEN not in str(error)


def test_it_reads_locks_only_from_the_documented_4026(mocked):
    # Visma documents 4026 for a locked period (its fiscal year included) and no 4038:
    # an undocumented code is Visma's message, not our guess at what it means.
    mocked.post(f"{API}/vouchers", status=400, json=visma_error(4038, "Something else"))
    with pytest.raises(client.VismaError) as caught:
        client.create_voucher(TOKEN, VOUCHER)
    assert type(caught.value) is client.VismaError
    assert caught.value.code == 4038


def test_rate_limit_carries_the_seconds_to_wait(mocked):
    mocked.get(
        f"{API}/accounts",
        status=429,
        json=visma_error(4010, "Too many requests. Try again in 17 seconds."),
    )
    with pytest.raises(client.RateLimited) as caught:
        client.list_accounts(TOKEN)
    assert (caught.value.code, caught.value.retry_after) == (4010, 17)


def test_rate_limit_falls_back_to_the_retry_after_header(mocked):
    mocked.get(f"{API}/accounts", status=429, body="slow down", headers={"Retry-After": "42"})
    with pytest.raises(client.RateLimited) as caught:
        client.list_accounts(TOKEN)
    assert caught.value.retry_after == 42


def test_401_is_an_auth_error(mocked):
    mocked.get(
        f"{API}/companysettings",
        status=401,
        json={"ErrorCode": 4005, "DeveloperErrorMessage": "AuthorizationException - denied"},
    )
    with pytest.raises(client.AuthError) as caught:
        client.get_company_settings(TOKEN)
    assert caught.value.status == 401


def test_a_5xx_without_a_body_is_a_server_error_whose_outcome_is_unknown(mocked):
    mocked.post(f"{API}/vouchers", status=502, body="<html>Bad gateway</html>")
    with pytest.raises(client.ServerError) as caught:
        client.create_voucher(TOKEN, VOUCHER)
    assert caught.value.status == 502 and caught.value.outcome_unknown


def test_other_4xx_is_a_plain_visma_error(mocked):
    mocked.get(f"{API}/fiscalyears", status=404, json=visma_error(1000, "Not found"))
    with pytest.raises(client.VismaError) as caught:
        client.list_fiscal_years(TOKEN)
    assert type(caught.value) is client.VismaError and caught.value.code == 1000


@pytest.mark.parametrize(
    ("raised", "maybe_sent"),
    [
        (requests.ReadTimeout("read timed out"), True),
        (
            requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError())),
            True,
        ),
        (requests.ConnectTimeout("connect timed out"), False),
        (
            requests.ConnectionError(
                MaxRetryError(None, "/v2/vouchers", NewConnectionError(None, "refused"))
            ),
            False,
        ),
    ],
)
def test_transport_errors_say_whether_the_request_may_have_been_sent(mocked, raised, maybe_sent):
    mocked.post(f"{API}/vouchers", body=raised)
    with pytest.raises(client.TransportError) as caught:
        client.create_voucher(TOKEN, VOUCHER)
    assert caught.value.maybe_sent is maybe_sent
    assert caught.value.outcome_unknown is maybe_sent


def test_every_request_has_timeouts_and_passes_the_rate_limit_hook(mocked, monkeypatch):
    seen = []
    monkeypatch.setattr(client, "before_request", seen.append)
    mocked.get(f"{API}/companysettings", json=COMPANY)
    mocked.get(f"{API}/accounts", json=page(ACCOUNTS))
    real_request = client.session.request
    timeouts = []

    def spy(*args, **kwargs):
        timeouts.append(kwargs["timeout"])
        return real_request(*args, **kwargs)

    monkeypatch.setattr(client.session, "request", spy)
    client.get_company_settings(TOKEN)
    client.list_accounts(TOKEN)
    assert seen == ["companysettings", "accounts"]
    assert timeouts == [(5.0, 5.0), (5.0, 5.0)]


@pytest.mark.parametrize(
    ("path", "call", "body"),
    [
        ("companysettings", client.get_company_settings, "{not json"),
        ("companysettings", client.get_company_settings, {"CorporateIdentityNumber": "1"}),
        ("accounts", client.list_accounts, {"Data": []}),
        ("accounts", client.list_accounts, page([{"Number": "x", "Name": "A", "IsActive": True}])),
        ("accounts", client.list_accounts, page([{"Number": "1900", "Name": "A"}])),
        (
            "vatcodes",
            client.list_vat_codes,
            page([{"Id": "not-a-guid", "Code": "3", "VatRate": 0.25}]),
        ),
        (
            "fiscalyears",
            client.list_fiscal_years,
            page([{"Id": FISCAL_2026, "StartDate": "2026-01-01", "IsLockedForAccounting": False}]),
        ),
        ("vouchers", client.list_vouchers, []),
        ("vouchers", client.list_vouchers, page(["not an object"])),
    ],
)
def test_malformed_answers_raise_unexpected_response(mocked, path, call, body):
    text = body if isinstance(body, str) else json.dumps(body)
    mocked.get(f"{API}/{path}", body=text, content_type="application/json")
    with pytest.raises(client.UnexpectedResponse) as caught:
        call(TOKEN)
    assert not caught.value.outcome_unknown


def test_a_created_voucher_without_its_id_may_exist(mocked):
    mocked.post(f"{API}/vouchers", status=201, json={"VoucherText": "x"})
    with pytest.raises(client.UnexpectedResponse) as caught:
        client.create_voucher(TOKEN, VOUCHER)
    assert caught.value.outcome_unknown


def test_a_server_that_ignores_the_page_parameter_does_not_loop(mocked):
    mocked.get(f"{API}/accounts", json=page(ACCOUNTS, 1, 2))
    with pytest.raises(client.UnexpectedResponse):
        client.list_accounts(TOKEN)
    assert len(mocked.calls) == 2


@responses.activate
def test_the_token_is_never_logged(caplog):
    responses.get(f"{API}/accounts", status=500, json=visma_error(5000, "boom"))
    with pytest.raises(client.ServerError):
        client.list_accounts(TOKEN)
    assert "boom" in caplog.text and TOKEN not in caplog.text


@pytest.mark.parametrize("code", [4002, 4003, 4004, 4005, 4011, 4019])
def test_a_403_is_named_with_what_the_admin_must_do(mocked, code):
    from integrations.visma import access

    mocked.get(
        f"{API}/companysettings",
        status=403,
        json={"ErrorCode": code, "DeveloperErrorMessage": "No access to module: api_standard"},
    )
    with pytest.raises(client.AccessDenied) as caught:
        client.get_company_settings(TOKEN)
    assert caught.value.code == code
    assert caught.value.advice == access.advice(code)
    assert "Visma" in caught.value.advice
