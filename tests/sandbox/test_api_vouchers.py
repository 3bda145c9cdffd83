"""POST and GET /vouchers: what Visma accepts, what it refuses (and with which code), the
voucher numbers, the query flags, paging and $filter."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from integrations.visma.voucher_schema import validate_voucher_payload
from tests.clock import TODAY
from visma_sandbox import services
from visma_sandbox.models import SandboxVoucher

from .conftest import (
    BAKERI,
    api,
    get_tokens,
    post_voucher,
    simple_voucher,
    vat_ids,
    worked_example_payload,
)


def _error(answer, status=400) -> dict:
    assert answer.status_code == status, answer.content
    body = answer.json()
    assert set(body) == {"ErrorCode", "DeveloperErrorMessage", "ErrorId", "Errors"}
    return body


def test_it_accepts_the_worked_example_and_answers_the_stored_voucher(
    tokens, client, sandbox, worked_example
):
    company = sandbox["912345678"]
    payload = worked_example_payload(worked_example, company)
    assert validate_voucher_payload(payload) == []
    answer = post_voucher(client, tokens["access_token"], payload)
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["NumberAndNumberSeries"] == "A1"
    assert body["NumberSeries"] == "A"
    assert body["VoucherDate"] == "2026-11-27T00:00:00"
    assert body["VoucherText"] == payload["VoucherText"]
    assert validate_voucher_payload(body) == []  # Visma's own schema describes the answer
    rows = body["Rows"]
    assert len(rows) == 13
    assert sum(Decimal(str(row["DebitAmount"])) for row in rows) == Decimal("10670.00")
    assert sum(Decimal(str(row["CreditAmount"])) for row in rows) == Decimal("10670.00")
    ids = vat_ids(company)
    sales = [row for row in rows if row["AccountNumber"] in (3000, 3030)]
    assert [(row["VatCodeId"], row["VatCodeAndPercent"]) for row in sales] == [
        (ids["3"], "3 (25%)"),
        (ids["31"], "31 (15%)"),
    ]
    assert all(row["VatCodeId"] is None for row in rows if row not in sales)
    assert rows[0]["AccountDescription"] == "Salg, høy sats"
    assert rows[0]["TransactionText"] == "Salg Klær 25 %"
    stored = SandboxVoucher.objects.get(uuid=body["Id"])
    assert stored.company == company
    assert stored.flags == {
        "useAutomaticVatCalculation": False,
        "useDefaultVatCodes": False,
        "useDefaultVoucherSeries": True,
    }


def test_it_numbers_vouchers_per_company(oauth_client, client, sandbox):
    demo = get_tokens(client)["access_token"]
    bakeri = get_tokens(client, company=BAKERI)["access_token"]
    numbers = [
        post_voucher(client, demo, simple_voucher()).json()["NumberAndNumberSeries"],
        post_voucher(client, demo, simple_voucher()).json()["NumberAndNumberSeries"],
        post_voucher(client, bakeri, simple_voucher()).json()["NumberAndNumberSeries"],
    ]
    assert numbers == ["A1", "A2", "A1"]


def test_it_refuses_a_body_that_breaks_the_schema_with_2000(tokens, client):
    payload = simple_voucher()
    payload["Rows"][0]["DebitAmount"] = Decimal("100.005")
    payload["Rows"][1]["CreditAmount"] = Decimal("100.005")
    payload["Rows"][1]["TransactionText"] = "x" * 61
    payload["Reference"] = "S-1"
    body = _error(post_voucher(client, tokens["access_token"], payload))
    assert body["ErrorCode"] == 2000
    fields = {error["Field"] for error in body["Errors"]}
    assert fields == {"$", "Rows[0].DebitAmount", "Rows[1].CreditAmount", "Rows[1].TransactionText"}
    assert "more than 2 decimal places" in body["DeveloperErrorMessage"]
    assert not SandboxVoucher.objects.exists()


def test_it_refuses_an_unbalanced_voucher_with_2000(tokens, client):
    payload = simple_voucher()
    payload["Rows"][1]["CreditAmount"] = Decimal("99.99")
    body = _error(post_voucher(client, tokens["access_token"], payload))
    assert body["ErrorCode"] == 2000
    assert "not balanced" in body["DeveloperErrorMessage"]
    assert "0.01" in body["DeveloperErrorMessage"]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"VoucherDate": None}, "VoucherDate is required"),
        ({"Rows": []}, "needs rows"),
    ],
)
def test_it_refuses_a_voucher_without_date_or_rows_with_2000(tokens, client, change, message):
    payload = {**simple_voucher(), **change}
    payload = {key: value for key, value in payload.items() if value is not None}
    body = _error(post_voucher(client, tokens["access_token"], payload))
    assert body["ErrorCode"] == 2000
    assert message in body["DeveloperErrorMessage"]


def test_it_refuses_rows_with_both_or_no_amounts_with_2000(tokens, client):
    payload = simple_voucher()
    payload["Rows"].append({"AccountNumber": 1920, "DebitAmount": 5, "CreditAmount": 5})
    payload["Rows"].append({"AccountNumber": 1920})
    body = _error(post_voucher(client, tokens["access_token"], payload))
    assert [error["Field"] for error in body["Errors"]] == ["Rows[2]", "Rows[3]"]


def test_it_refuses_a_date_without_fiscal_year_with_3001(tokens, client):
    # The demo company's first fiscal year is two years back.
    day = date(TODAY.year - 3, 6, 30).isoformat()
    body = _error(post_voucher(client, tokens["access_token"], simple_voucher(day)))
    assert body["ErrorCode"] == 3001


def test_it_refuses_a_date_in_a_locked_fiscal_year_with_4026(tokens, client):
    day = date(TODAY.year - 2, 3, 1).isoformat()
    body = _error(post_voucher(client, tokens["access_token"], simple_voucher(day)))
    assert body["ErrorCode"] == 4026  # a locked period, as Visma documents it


def test_it_refuses_a_date_up_to_the_lock_date_with_4026(oauth_client, client):
    demo = get_tokens(client)["access_token"]
    # Fjordkafé is locked to the end of the month three months back (31 August on 28
    # November), Bakeri Nord to the end of last month and the whole of last year.
    locked_to = TODAY.replace(month=TODAY.month - 2, day=1) - timedelta(days=1)
    body = _error(post_voucher(client, demo, simple_voucher(locked_to.isoformat())))
    assert body["ErrorCode"] == 4026
    assert locked_to.isoformat() in body["DeveloperErrorMessage"]
    after = (locked_to + timedelta(days=1)).isoformat()
    assert post_voucher(client, demo, simple_voucher(after)).status_code == 201
    bakeri = get_tokens(client, company=BAKERI)["access_token"]
    last_month_end = TODAY.replace(day=1) - timedelta(days=1)
    last_year = TODAY.replace(year=TODAY.year - 1).isoformat()
    assert (
        _error(post_voucher(client, bakeri, simple_voucher(last_month_end.isoformat())))[
            "ErrorCode"
        ]
        == 4026
    )
    assert _error(post_voucher(client, bakeri, simple_voucher(last_year)))["ErrorCode"] == 4026
    first = TODAY.replace(day=1).isoformat()
    assert post_voucher(client, bakeri, simple_voucher(first)).status_code == 201


def test_it_refuses_unknown_and_inactive_accounts_with_3002(tokens, client):
    payload = simple_voucher()
    payload["Rows"][0]["AccountNumber"] = 1950  # inactive in Fjordkafé AS
    payload["Rows"][1]["AccountNumber"] = 3999
    body = _error(post_voucher(client, tokens["access_token"], payload))
    assert body["ErrorCode"] == 3002
    assert body["Errors"] == [
        {
            "Field": "Rows[0].AccountNumber",
            "ErrorCode": "3002",
            "Message": "Account 1950 is inactive.",
            "Key": None,
        },
        {
            "Field": "Rows[1].AccountNumber",
            "ErrorCode": "3002",
            "Message": "Account 3999 does not exist.",
            "Key": None,
        },
    ]


def test_it_refuses_another_companys_vat_code_id_with_2000(tokens, client, sandbox):
    payload = simple_voucher()
    payload["Rows"][1]["VatCodeId"] = vat_ids(sandbox[BAKERI])["5"]
    body = _error(post_voucher(client, tokens["access_token"], payload))
    assert body["ErrorCode"] == 2000
    assert body["Errors"][0]["Field"] == "Rows[1].VatCodeId"
    payload["Rows"][1]["VatCodeId"] = vat_ids(sandbox["912345678"])["5"]
    assert post_voucher(client, tokens["access_token"], payload).status_code == 201


def test_it_needs_the_accounting_scope_to_post(oauth_client, client):
    reader = get_tokens(client, scope="ea:api offline_access ea:accounting_readonly")
    answer = post_voucher(client, reader["access_token"], simple_voucher())
    assert _error(answer, 403)["ErrorCode"] == 4006
    assert api(client, reader["access_token"], "GET", "/vouchers").status_code == 200


def test_it_wants_json(tokens, client):
    answer = client.post(
        "/visma-sandbox/api/v2/vouchers",
        "VoucherText=x",
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert answer.status_code == 415
    broken = client.post(
        "/visma-sandbox/api/v2/vouchers",
        "{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert _error(broken)["ErrorCode"] == 2000


def test_it_gives_rows_their_accounts_vat_codes_unless_told_not_to(tokens, client, sandbox):
    ids = vat_ids(sandbox["912345678"])
    payload = simple_voucher()
    payload["Rows"][1] = {"AccountNumber": 3000, "CreditAmount": Decimal("100.00")}
    default = api(client, tokens["access_token"], "POST", "/vouchers", payload).json()
    assert default["Rows"][1]["VatCodeId"] == ids["3"]  # useDefaultVatCodes defaults to true
    kept = post_voucher(client, tokens["access_token"], payload).json()
    assert kept["Rows"][1]["VatCodeId"] is None


def test_it_adds_vat_rows_with_automatic_vat_calculation(tokens, client, sandbox):
    ids = vat_ids(sandbox["912345678"])
    payload = simple_voucher(amount="125.00")
    payload["Rows"][1] = {
        "AccountNumber": 3000,
        "CreditAmount": Decimal("125.00"),
        "VatCodeId": ids["3"],
    }
    answer = post_voucher(
        client, tokens["access_token"], payload, useAutomaticVatCalculation="true"
    )
    rows = [
        (r["AccountNumber"], r["DebitAmount"], r["CreditAmount"]) for r in answer.json()["Rows"]
    ]
    assert rows == [(1900, 125.0, 0.0), (3000, 0.0, 100.0), (2700, 0.0, 25.0)]


def test_it_takes_the_number_series_when_told_to(tokens, client):
    payload = {**simple_voucher(), "NumberSeries": "K"}
    answer = post_voucher(client, tokens["access_token"], payload, useDefaultVoucherSeries="false")
    assert answer.json()["NumberAndNumberSeries"] == "K1"
    no_series = post_voucher(
        client, tokens["access_token"], simple_voucher(), useDefaultVoucherSeries="false"
    )
    assert _error(no_series)["ErrorCode"] == 2000
    bad_flag = post_voucher(
        client, tokens["access_token"], simple_voucher(), useDefaultVatCodes="x"
    )
    assert _error(bad_flag)["ErrorCode"] == 2000


def test_it_lists_vouchers_in_pages_and_filters_by_date(tokens, client):
    token = tokens["access_token"]
    for day in ("2026-11-25", "2026-11-26", "2026-11-27", "2026-11-27", "2026-11-28"):
        assert post_voucher(client, token, simple_voucher(day, text=f"Z {day}")).status_code == 201

    page = api(client, token, "GET", "/vouchers", **{"$page": 2, "$pagesize": 2}).json()
    assert page["Meta"] == {
        **page["Meta"],
        "CurrentPage": 2,
        "PageSize": 2,
        "TotalNumberOfPages": 3,
        "TotalNumberOfResults": 5,
    }
    assert page["Meta"]["ServerTimeUtc"].endswith("Z")
    assert [v["VoucherDate"][:10] for v in page["Data"]] == ["2026-11-27", "2026-11-27"]

    same_day = api(
        client,
        token,
        "GET",
        "/vouchers",
        **{
            "$filter": "VoucherDate ge 2026-11-27T00:00:00.00Z and VoucherDate le 2026-11-27T23:59:59.00Z"
        },
    )
    assert [v["NumberAndNumberSeries"] for v in same_day.json()["Data"]] == ["A3", "A4"]
    # VoucherDate is a date-time: OData v4 refuses it compared with a bare date.
    bare = api(client, token, "GET", "/vouchers", **{"$filter": "VoucherDate eq 2026-11-27"})
    assert bare.status_code == 400
    assert "Edm.DateTimeOffset" in bare.json()["DeveloperErrorMessage"]

    window = api(
        client,
        token,
        "GET",
        "/vouchers",
        **{
            "$filter": "VoucherDate ge 2026-11-26T00:00:00Z and VoucherDate le 2026-11-27T00:00:00Z"
        },
    ).json()
    assert window["Meta"]["TotalNumberOfResults"] == 3

    text = api(
        client,
        token,
        "GET",
        "/vouchers",
        **{
            "$filter": "VoucherDate eq datetime'2026-11-28T00:00:00' or contains(VoucherText,'11-25')"
        },
    ).json()
    assert sorted(v["VoucherText"] for v in text["Data"]) == ["Z 2026-11-25", "Z 2026-11-28"]

    capped = api(client, token, "GET", "/vouchers", **{"$pagesize": 5000}).json()
    assert capped["Meta"]["PageSize"] == 1000


def test_it_refuses_a_filter_it_cannot_read_with_2000(tokens, client):
    post_voucher(client, tokens["access_token"], simple_voucher())
    for bad in ("Nonsense eq 1", "VoucherDate equals 2026-11-27", "VoucherDate eq"):
        answer = api(client, tokens["access_token"], "GET", "/vouchers", **{"$filter": bad})
        assert _error(answer)["ErrorCode"] == 2000, bad
    assert _error(api(client, tokens["access_token"], "GET", "/vouchers", **{"$page": "x"}))


def test_it_shows_only_the_tokens_company_vouchers(oauth_client, client):
    demo = get_tokens(client)["access_token"]
    post_voucher(client, demo, simple_voucher())
    bakeri = get_tokens(client, company=BAKERI)["access_token"]
    assert api(client, bakeri, "GET", "/vouchers").json()["Data"] == []


def test_it_answers_one_voucher_by_fiscal_year_and_id(tokens, client):
    voucher = post_voucher(client, tokens["access_token"], simple_voucher()).json()
    years = api(client, tokens["access_token"], "GET", "/fiscalyears").json()["Data"]
    year = next(y for y in years if y["StartDate"].startswith("2026"))["Id"]
    other = next(y for y in years if y["StartDate"].startswith("2025"))["Id"]
    found = api(client, tokens["access_token"], "GET", f"/vouchers/{year}/{voucher['Id']}")
    assert found.json()["NumberAndNumberSeries"] == "A1"
    assert (
        api(client, tokens["access_token"], "GET", f"/vouchers/{other}/{voucher['Id']}").status_code
        == 404
    )


def test_it_checks_accounts_against_the_chart_of_the_vouchers_fiscal_year(tokens, client):
    token = tokens["access_token"]
    last_day = date(TODAY.year, 12, 31).isoformat()
    first_day = date(TODAY.year + 1, 1, 1).isoformat()
    services.set_account("912345678", 3100, year=TODAY.year + 1, is_active=False)

    assert post_voucher(client, token, simple_voucher(last_day)).status_code == 201
    body = _error(post_voucher(client, token, simple_voucher(first_day)))
    assert body["ErrorCode"] == 3002
    assert body["Errors"][0]["Message"] == "Account 3100 is inactive."


def test_it_refuses_rows_their_accounts_rules_forbid_with_2000(tokens, client):
    token = tokens["access_token"]
    services.set_account("912345678", 1900, first_cost_center_mandatory=True)
    services.set_account("912345678", 3100, allow_transaction_text=False)
    payload = simple_voucher()
    payload["Rows"].append(
        {"AccountNumber": 2400, "DebitAmount": Decimal("1.00"), "TransactionText": "Lev."}
    )
    payload["Rows"].append({"AccountNumber": 1920, "CreditAmount": Decimal("1.00")})

    body = _error(post_voucher(client, token, payload))

    assert body["ErrorCode"] == 2000
    assert [(e["Field"], e["Message"]) for e in body["Errors"]] == [
        ("Rows[0].CostCenterItemId1", "Account 1900 requires a first cost center."),
        ("Rows[1].TransactionText", "Account 3100 does not allow a transaction text."),
        ("Rows[2].AccountNumber", "Account 2400 is blocked for manual bookkeeping."),
    ]
    assert SandboxVoucher.objects.count() == 0
    # Without the blocked row, with no text where none is allowed and a first cost centre
    # that is not mandatory any more, the same voucher goes in.
    services.set_account("912345678", 1900, first_cost_center_mandatory=False)
    payload["Rows"] = payload["Rows"][:2]
    del payload["Rows"][1]["TransactionText"]
    answer = post_voucher(client, token, payload)
    assert answer.status_code == 201, answer.content
    assert answer.json()["Rows"][1]["TransactionText"] is None
