"""The read endpoints: /companysettings, /accounts, /vatcodes, /fiscalyears; bearer tokens,
scopes and one company per token. Answers are checked against Visma's published schemas."""

import json
from datetime import timedelta
from pathlib import Path

from jsonschema import Draft202012Validator

from tests.clock import TODAY
from visma_sandbox import services
from visma_sandbox.chart import end_of_month_before

from .conftest import BAKERI, KIOSK, api, get_tokens

SWAGGER = Path(__file__).resolve().parents[3] / "shared/visma/eaccounting-v2-swagger.json"


def assert_matches_visma_schema(body: dict, name: str) -> None:
    """Against the swagger's own schema: shared/ lies beside the checkout (CI has it); a
    missing one fails the test, which could not have checked anything."""
    assert SWAGGER.exists(), f"{SWAGGER} is missing: the answers cannot be checked"
    swagger = json.loads(SWAGGER.read_text(encoding="utf-8"))
    document = {**swagger["components"]["schemas"][name], "components": swagger["components"]}
    errors = [e.message for e in Draft202012Validator(document).iter_errors(body)]
    assert errors == [], errors


def test_it_answers_the_company_settings_of_the_tokens_company(tokens, client):
    answer = api(client, tokens["access_token"], "GET", "/companysettings")
    assert answer.status_code == 200
    body = answer.json()
    assert body["Name"] == "Fjordkafé AS"
    assert body["CorporateIdentityNumber"] == "912345678"
    # Three months back: the end of August when today is late November.
    assert body["AccountingLockedTo"] == f"{end_of_month_before(TODAY, 3)}T00:00:00"
    assert end_of_month_before(TODAY, 3) == TODAY.replace(month=9, day=1) - timedelta(days=1)
    assert body["CountryCode"] == "NO"
    assert body["CurrencyCode"] == "NOK"
    assert_matches_visma_schema(body, "CompanySettingsApi")


def test_it_binds_a_token_to_the_company_chosen_at_sign_in(oauth_client, client):
    bakeri = get_tokens(client, company=BAKERI)
    body = api(client, bakeri["access_token"], "GET", "/companysettings").json()
    assert body["Name"] == "Bakeri Nord AS"
    assert body["AccountingLockedTo"] == "2026-10-31T00:00:00"


def test_it_needs_a_sales_scope_for_the_company_settings(oauth_client, client):
    tokens = get_tokens(client, scope="ea:api offline_access ea:accounting")
    answer = api(client, tokens["access_token"], "GET", "/companysettings")
    assert answer.status_code == 403
    body = answer.json()
    assert body["ErrorCode"] == 4006
    assert "ea:sales" in body["DeveloperErrorMessage"]
    assert set(body) == {"ErrorCode", "DeveloperErrorMessage", "ErrorId", "Errors"}
    # ...and ea:api for anything.
    no_api = get_tokens(client, scope="offline_access ea:accounting ea:sales")
    assert api(client, no_api["access_token"], "GET", "/fiscalyears").json()["ErrorCode"] == 4006


def test_it_refuses_missing_unknown_and_expired_tokens(tokens, client):
    assert client.get("/visma-sandbox/api/v2/accounts").status_code == 401
    assert api(client, "not-a-token", "GET", "/accounts").status_code == 401
    services.expire_access_tokens()
    answer = api(client, tokens["access_token"], "GET", "/accounts")
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"].startswith("Bearer")
    # Visma's own error form, not ASP.NET's {"Message": …}
    body = answer.json()
    assert body["ErrorCode"] == 4005
    assert body["DeveloperErrorMessage"].startswith("AuthorizationException - ")
    assert len(body["ErrorId"]) == 36


def test_it_lists_a_norwegian_chart_in_pages(tokens, client):
    first = api(client, tokens["access_token"], "GET", "/accounts").json()
    assert first["Meta"]["PageSize"] == 50
    assert first["Meta"]["TotalNumberOfPages"] == 2
    assert first["Meta"]["CurrentPage"] == 1
    total = first["Meta"]["TotalNumberOfResults"]
    assert total >= 60
    assert_matches_visma_schema(first, "PaginatedResponseOfAccountApi")
    everything = api(client, tokens["access_token"], "GET", "/accounts", **{"$pagesize": 1000})
    accounts = {row["Number"]: row for row in everything.json()["Data"]}
    assert len(accounts) == total
    for number in "1500 1900 1901 1902 1909 1911 1920 2700 2701 2703 2901 2910 3000 3030 3050 3100 3200 4000 7740".split():
        assert accounts[number]["IsActive"], number
    assert [n for n, row in accounts.items() if not row["IsActive"]] == ["1950"]
    assert accounts["3000"]["Name"] == "Salg, høy sats"
    years = api(client, tokens["access_token"], "GET", "/fiscalyears").json()["Data"]
    current = next(year for year in years if year["StartDate"].startswith("2026"))
    assert accounts["3000"]["FiscalYearId"] == current["Id"]


def test_it_gives_each_company_its_own_chart(oauth_client, client):
    kiosk = get_tokens(client, company=KIOSK)
    rows = api(client, kiosk["access_token"], "GET", "/accounts", **{"$pagesize": 500})
    accounts = {row["Number"]: row for row in rows.json()["Data"]}
    assert "3060" in accounts and "1200" not in accounts
    assert [n for n, row in accounts.items() if not row["IsActive"]] == ["7500"]


def test_it_lists_norwegian_vat_codes_with_stable_ids(tokens, client):
    body = api(client, tokens["access_token"], "GET", "/vatcodes", **{"$pagesize": 100}).json()
    codes = {row["Code"]: row for row in body["Data"]}
    assert codes["3"]["VatRate"] == 0.25
    assert codes["31"]["VatRate"] == 0.15
    assert codes["33"]["VatRate"] == 0.12
    assert codes["5"]["VatRate"] == 0
    assert codes["3"]["RelatedAccounts"] == {
        "AccountNumber1": 2700,
        "AccountNumber2": None,
        "AccountNumber3": None,
    }
    assert codes["31"]["RelatedAccounts"]["AccountNumber1"] == 2701
    assert_matches_visma_schema(body, "PaginatedResponseOfVatCodeApi")
    services.reset_sandbox()
    services.setup_demo()
    again = {vat.code: str(vat.uuid) for vat in services.get_company("912345678").vat_codes.all()}
    assert again["3"] == codes["3"]["Id"]
    other = {vat.code: str(vat.uuid) for vat in services.get_company(BAKERI).vat_codes.all()}
    assert other["3"] != codes["3"]["Id"]


def test_it_answers_vat_rates_as_percentages_for_kiosk_vest(oauth_client, client):
    """Visma documents VatRate as a percentage and has been seen sending fractions: the
    simulated companies answer each way (the demo company 0.25, Kiosk Vest 25)."""
    kiosk = get_tokens(client, company=KIOSK)["access_token"]
    body = api(client, kiosk, "GET", "/vatcodes", **{"$pagesize": 100}).json()
    codes = {row["Code"]: row["VatRate"] for row in body["Data"]}
    assert (codes["3"], codes["31"], codes["33"], codes["5"]) == (25, 15, 12, 0)


def test_it_lists_the_fiscal_years_with_their_locks(tokens, client):
    body = api(client, tokens["access_token"], "GET", "/fiscalyears").json()
    years = {row["StartDate"][:4]: row["IsLockedForAccounting"] for row in body["Data"]}
    year = TODAY.year
    assert years == {str(year - 2): True, str(year - 1): False, str(year): False,
                     str(year + 1): False}  # fmt: skip
    assert body["Data"][0]["EndDate"] == f"{year - 2}-12-31T00:00:00"
    assert_matches_visma_schema(body, "PaginatedResponseOfFiscalYearApi")


def test_it_answers_unknown_paths_and_methods_like_aspnet(tokens, client):
    assert client.get("/visma-sandbox/api/v2/nothing").status_code == 404
    answer = api(client, tokens["access_token"], "DELETE", "/accounts")
    assert answer.status_code == 405


def _years(client, token) -> dict[int, str]:
    body = api(client, token, "GET", "/fiscalyears").json()
    return {int(row["StartDate"][:4]): row["Id"] for row in body["Data"]}


def test_it_keeps_a_chart_per_fiscal_year(tokens, client):
    token = tokens["access_token"]
    years = _years(client, token)
    # The accountant renames and deactivates an account in next year's chart only.
    services.set_account("912345678", 1902, year=TODAY.year + 1, name="Vipps", is_active=False)

    def chart(year: int) -> dict:
        answer = api(client, token, "GET", f"/accounts/{years[year]}", **{"$pagesize": 500})
        assert answer.status_code == 200
        assert_matches_visma_schema(answer.json(), "PaginatedResponseOfAccountApi")
        return {row["Number"]: row for row in answer.json()["Data"]}

    this_year, next_year = chart(TODAY.year), chart(TODAY.year + 1)
    assert (this_year["1902"]["Name"], this_year["1902"]["IsActive"]) == ("Vipps til gode", True)
    assert (next_year["1902"]["Name"], next_year["1902"]["IsActive"]) == ("Vipps", False)
    assert {row["FiscalYearId"] for row in next_year.values()} == {years[TODAY.year + 1]}
    # GET /accounts is the current year's.
    current = api(client, token, "GET", "/accounts", **{"$pagesize": 500}).json()["Data"]
    assert {row["Number"]: row["Name"] for row in current}["1902"] == "Vipps til gode"


def test_it_refuses_the_chart_of_a_fiscal_year_it_does_not_have_with_3001(oauth_client, client):
    demo = get_tokens(client)["access_token"]
    bakeri = get_tokens(client, company=BAKERI)["access_token"]
    other_companys_year = _years(client, bakeri)[TODAY.year]
    answer = api(client, demo, "GET", f"/accounts/{other_companys_year}")
    assert answer.status_code == 400
    assert answer.json()["ErrorCode"] == 3001
    assert api(client, demo, "GET", "/accounts/not-a-year").status_code == 404


def test_it_answers_the_accounts_rules_for_manual_vouchers(tokens, client):
    services.set_account("912345678", 1909, first_cost_center_mandatory=True)
    services.set_account("912345678", 1911, allow_transaction_text=False)
    rows = api(client, tokens["access_token"], "GET", "/accounts", **{"$pagesize": 500})
    accounts = {row["Number"]: row for row in rows.json()["Data"]}
    rules = ("IsBlockedForManualBooking", "IsFirstCostCenterMandatory", "AllowTransactionText")

    def flags(number: str) -> tuple:
        return tuple(accounts[number][name] for name in rules)

    assert flags("1900") == (False, False, True)
    assert flags("2400") == (True, False, True)  # the demo's supplier ledger
    assert flags("1909") == (False, True, True)
    assert flags("1911") == (False, False, False)
