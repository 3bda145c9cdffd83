"""/voucherdrafts as Visma's VoucherDrafts API describes it (shared/visma swagger): POST
(201 VoucherDraftApi), GET the list (paginated, $filter) and one, PUT, DELETE, and
POST /{id}/convert (201 VoucherApi; the draft is removed); what each refuses, and with
which code; the same fault switches as POST /vouchers."""

from decimal import Decimal

from integrations.visma.voucher_schema import (
    validate_voucher_draft_payload,
    validate_voucher_payload,
)
from tests.clock import iso_days_ago
from visma_sandbox import services
from visma_sandbox.models import SandboxVoucher, SandboxVoucherDraft

from .conftest import BAKERI, api, get_tokens, simple_voucher, vat_ids


def _error(answer, status=400) -> dict:
    assert answer.status_code == status, answer.content
    body = answer.json()
    assert set(body) == {"ErrorCode", "DeveloperErrorMessage", "ErrorId", "Errors"}
    return body


def post_draft(client, token, payload, **query):
    return api(client, token, "POST", "/voucherdrafts", payload, **query)


def test_it_keeps_a_draft_and_answers_it_as_visma_documents(tokens, client, sandbox):
    payload = simple_voucher(text="Dagsoppgjør [BO-7]")
    payload["Rows"][1]["VatCodeId"] = vat_ids(sandbox["912345678"])["3"]
    assert validate_voucher_draft_payload(payload) == []

    answer = post_draft(client, tokens["access_token"], payload, amountIncludesVat="false")

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert validate_voucher_draft_payload(body) == []  # Visma's own schema describes it
    assert set(body) == {
        "Id",
        "VoucherDate",
        "VoucherText",
        "NumberSeries",
        "CreatedUtc",
        "ModifiedUtc",
        "Rows",
    }
    assert body["VoucherDate"] == f"{iso_days_ago(1)}T00:00:00"
    assert body["VoucherText"] == "Dagsoppgjør [BO-7]"
    assert [(r["AccountNumber"], r["DebitAmount"], r["CreditAmount"]) for r in body["Rows"]] == [
        (1900, 100.0, 0.0),
        (3100, 0.0, 100.0),
    ]
    assert body["Rows"][1]["VatCodeId"] == payload["Rows"][1]["VatCodeId"]
    assert not SandboxVoucher.objects.exists()  # a draft is not a voucher
    draft = SandboxVoucherDraft.objects.get(uuid=body["Id"])
    assert draft.flags == {"amountIncludesVat": False}

    one = api(client, tokens["access_token"], "GET", f"/voucherdrafts/{body['Id']}")
    assert one.status_code == 200 and one.json() == body


def test_it_refuses_what_the_draft_schema_refuses_with_2000(tokens, client):
    payload = simple_voucher()
    payload["Rows"][0]["TransactionText"] = "x" * 51  # 50 at most on a draft row
    payload["Attachments"] = {"AttachmentIds": []}  # not a field of VoucherDraftApi

    body = _error(post_draft(client, tokens["access_token"], payload))

    assert body["ErrorCode"] == 2000
    fields = {error["Field"] for error in body["Errors"]}
    assert "Rows[0].TransactionText" in fields
    assert not SandboxVoucherDraft.objects.exists()


def test_it_refuses_unknown_accounts_with_3002_and_foreign_vat_codes_with_2000(
    tokens, client, sandbox
):
    payload = simple_voucher()
    payload["Rows"][0]["AccountNumber"] = 1234
    assert _error(post_draft(client, tokens["access_token"], payload))["ErrorCode"] == 3002

    payload = simple_voucher()
    payload["Rows"][1]["VatCodeId"] = vat_ids(sandbox[BAKERI])["3"]
    assert _error(post_draft(client, tokens["access_token"], payload))["ErrorCode"] == 2000
    assert not SandboxVoucherDraft.objects.exists()


def test_a_draft_may_be_unfinished_but_converts_only_when_visma_would_book_it(tokens, client):
    payload = simple_voucher()
    payload["Rows"][1]["CreditAmount"] = Decimal("90.00")  # not balanced yet
    draft = post_draft(client, tokens["access_token"], payload).json()

    answer = api(client, tokens["access_token"], "POST", f"/voucherdrafts/{draft['Id']}/convert")

    assert _error(answer)["ErrorCode"] == 2000  # POST /vouchers' own check
    assert SandboxVoucherDraft.objects.filter(uuid=draft["Id"]).exists()
    assert not SandboxVoucher.objects.exists()


def test_convert_makes_a_voucher_of_the_same_data_and_removes_the_draft(tokens, client):
    draft = post_draft(client, tokens["access_token"], simple_voucher(text="x [BO-9]")).json()

    answer = api(client, tokens["access_token"], "POST", f"/voucherdrafts/{draft['Id']}/convert")

    assert answer.status_code == 201, answer.content
    voucher = answer.json()
    assert validate_voucher_payload(voucher) == []  # a VoucherApi
    assert voucher["NumberAndNumberSeries"] == "A1"
    assert voucher["VoucherText"] == "x [BO-9]"
    assert voucher["VoucherDate"] == draft["VoucherDate"]
    assert [(r["AccountNumber"], r["DebitAmount"], r["CreditAmount"]) for r in voucher["Rows"]] == [
        (r["AccountNumber"], r["DebitAmount"], r["CreditAmount"]) for r in draft["Rows"]
    ]
    gone = api(client, tokens["access_token"], "GET", f"/voucherdrafts/{draft['Id']}")
    assert gone.status_code == 404
    listed = api(client, tokens["access_token"], "GET", "/voucherdrafts").json()
    assert listed["Data"] == []
    again = api(client, tokens["access_token"], "POST", f"/voucherdrafts/{draft['Id']}/convert")
    assert again.status_code == 404


def test_it_lists_drafts_in_pages_and_filters_by_date(tokens, client):
    for day in (iso_days_ago(1), iso_days_ago(2), iso_days_ago(9)):
        post_draft(client, tokens["access_token"], simple_voucher(day=day))

    page = api(client, tokens["access_token"], "GET", "/voucherdrafts", **{"$pagesize": 2})
    body = page.json()
    assert body["Meta"]["TotalNumberOfResults"] == 3
    assert body["Meta"]["TotalNumberOfPages"] == 2
    assert len(body["Data"]) == 2
    near = api(
        client,
        tokens["access_token"],
        "GET",
        "/voucherdrafts",
        **{
            "$filter": f"VoucherDate ge {iso_days_ago(3)}T00:00:00.00Z "
            f"and VoucherDate le {iso_days_ago(1)}T23:59:59.00Z"
        },
    ).json()
    assert sorted(item["VoucherDate"][:10] for item in near["Data"]) == [
        iso_days_ago(2),
        iso_days_ago(1),
    ]
    bare = api(
        client,
        tokens["access_token"],
        "GET",
        "/voucherdrafts",
        **{"$filter": f"VoucherDate eq {iso_days_ago(1)}"},
    )
    assert _error(bare)["ErrorCode"] == 2000  # as on /vouchers


def test_it_replaces_and_deletes_a_draft(tokens, client):
    draft = post_draft(client, tokens["access_token"], simple_voucher()).json()

    replaced = api(
        client,
        tokens["access_token"],
        "PUT",
        f"/voucherdrafts/{draft['Id']}",
        simple_voucher(amount="250.00", text="Changed"),
    )
    assert replaced.status_code == 200, replaced.content
    assert replaced.json()["VoucherText"] == "Changed"
    assert replaced.json()["Rows"][0]["DebitAmount"] == 250.0

    deleted = api(client, tokens["access_token"], "DELETE", f"/voucherdrafts/{draft['Id']}")
    assert deleted.status_code == 200
    assert not SandboxVoucherDraft.objects.exists()
    again = api(client, tokens["access_token"], "DELETE", f"/voucherdrafts/{draft['Id']}")
    assert again.status_code == 404


def test_it_shows_only_the_tokens_company_drafts(oauth_client, client):
    mine = get_tokens(client)
    theirs = get_tokens(client, company=BAKERI)
    draft = post_draft(client, mine["access_token"], simple_voucher()).json()

    assert api(client, theirs["access_token"], "GET", "/voucherdrafts").json()["Data"] == []
    other = api(client, theirs["access_token"], "GET", f"/voucherdrafts/{draft['Id']}")
    assert other.status_code == 404


def test_it_needs_the_accounting_scope_to_write(oauth_client, client):
    read_only = get_tokens(client, scope="ea:api offline_access ea:accounting_readonly")

    answer = post_draft(client, read_only["access_token"], simple_voucher())

    assert answer.status_code == 403
    assert answer.json()["ErrorCode"] == 4006
    assert api(client, read_only["access_token"], "GET", "/voucherdrafts").status_code == 200


def test_it_loses_the_answer_after_storing_the_draft_when_told_to(tokens, client):
    services.set_fault(lose_after_store=1, lose_mode="504")

    answer = post_draft(client, tokens["access_token"], simple_voucher())

    assert answer.status_code == 504
    assert SandboxVoucherDraft.objects.count() == 1  # stored all the same
    assert post_draft(client, tokens["access_token"], simple_voucher()).status_code == 201


def test_amounts_including_vat_are_split_into_net_and_vat(tokens, client, sandbox):
    payload = simple_voucher(amount="125.00")
    payload["Rows"][0]["AccountNumber"] = 1900
    payload["Rows"][1] = {
        "AccountNumber": 3000,
        "CreditAmount": Decimal("125.00"),
        "VatCodeId": vat_ids(sandbox["912345678"])["3"],
    }

    body = post_draft(client, tokens["access_token"], payload, amountIncludesVat="true").json()

    assert [(r["AccountNumber"], r["CreditAmount"]) for r in body["Rows"][1:]] == [
        (3000, 100.0),
        (2700, 25.0),
    ]
