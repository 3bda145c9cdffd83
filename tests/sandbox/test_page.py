"""The simulator's own page: companies, received vouchers, fault switches and reset."""

from decimal import Decimal

import pytest

from tests.clock import TODAY
from visma_sandbox import services
from visma_sandbox.chart import end_of_month_before
from visma_sandbox.models import FaultSwitch, SandboxVoucher, SandboxVoucherDraft

from .conftest import api, post_voucher, simple_voucher, worked_example_payload

PAGE = "/visma-sandbox/"
CONTROL = "/visma-sandbox/control"


def test_it_lists_companies_and_vouchers_newest_first_with_rows(
    tokens, client, sandbox, worked_example
):
    payload = worked_example_payload(worked_example, sandbox["912345678"])
    assert post_voucher(client, tokens["access_token"], payload).status_code == 201
    assert (
        post_voucher(client, tokens["access_token"], simple_voucher(text="Second")).status_code
        == 201
    )
    page = client.get(PAGE).content.decode()
    locked_to = end_of_month_before(TODAY, 3).isoformat()  # Fjordkafé's lock date
    for text in ("Fjordkafé AS", "912345678", "Bakeri Nord AS", "Kiosk Vest AS", locked_to):
        assert text in page
    assert page.index('aria-label="Voucher A2"') < page.index('aria-label="Voucher A1"')
    first = page[page.index('aria-label="Voucher A1"') :]
    assert "Salg Klær 25 %" in first
    assert "3030 <span" in first and "31 <span" in first
    assert "6099.60" in first and "10670.00" in first
    assert "useDefaultVatCodes=false" in first
    assert "VISMA_API_URL=http://testserver/visma-sandbox/api/v2" in page


def test_it_filters_the_vouchers_by_company(tokens, client):
    post_voucher(client, tokens["access_token"], simple_voucher())
    page = client.get(PAGE, {"company": "923456783"}).content.decode()
    assert 'aria-label="Voucher A1"' not in page
    assert "No voucher has arrived yet." in page


def test_it_sets_the_switches_from_the_buttons(tokens, client):
    answer = client.post(
        CONTROL,
        {
            "action": "faults",
            "company": "912345678",
            "lose_after_store": "2",
            "lose_mode": "504",
            "fail_5xx": "1",
            "fail_429": "0",
            "retry_after_seconds": "1",
            "latency_ms": "0",
        },
    )
    assert answer.status_code == 302
    switch = services.fault_switch("912345678")
    assert (switch.lose_after_store, switch.lose_mode, switch.fail_5xx) == (2, "504", 1)
    assert "faults armed" in client.get(PAGE).content.decode()
    client.post(CONTROL, {"action": "clear_faults"})
    assert all(switch.is_quiet for switch in FaultSwitch.objects.all())
    client.post(CONTROL, {"action": "quota", "quota_per_minute": "7"})
    assert services.quota_per_minute() == 7
    client.post(CONTROL, {"action": "expire_tokens", "company": "912345678"})
    assert api(client, tokens["access_token"], "GET", "/fiscalyears").status_code == 401


def test_it_refuses_nonsense_counts(sandbox, client):
    answer = client.post(CONTROL, {"action": "faults", "fail_5xx": "-1"}, follow=True)
    assert "whole numbers" in answer.content.decode()
    assert services.fault_switch(None).fail_5xx == 0


def test_it_resets_the_simulator(tokens, client):
    post_voucher(client, tokens["access_token"], simple_voucher())
    services.set_fault(fail_429=3)
    client.post(CONTROL, {"action": "reset"})
    assert not SandboxVoucher.objects.exists()
    assert services.fault_switch(None).fail_429 == 0
    assert api(client, tokens["access_token"], "GET", "/fiscalyears").status_code == 401
    assert "backoffice-test" in client.get(PAGE).content.decode()  # clients stay


def test_it_sets_up_the_demo_on_first_visit(db, client):
    page = client.get(PAGE).content.decode()
    assert "Fjordkafé AS" in page
    assert "manage.py sandbox_setup" in page


# --- what a Visma user does in eAccounting's screens (the reconciliation's tests use it) --


def test_it_deletes_a_voucher_as_a_visma_user_would(tokens, client):
    voucher = post_voucher(client, tokens["access_token"], simple_voucher()).json()
    page = client.get(PAGE).content.decode()
    assert f'name="id" value="{voucher["Id"]}"' in page and "Delete voucher" in page

    answer = client.post(CONTROL, {"action": "delete_voucher", "id": voucher["Id"]}, follow=True)

    assert "Voucher A1 deleted" in answer.content.decode()
    assert not SandboxVoucher.objects.exists()
    listed = api(client, tokens["access_token"], "GET", "/vouchers").json()
    assert listed["Data"] == []
    # Visma never gives a deleted voucher's number again.
    again = post_voucher(client, tokens["access_token"], simple_voucher()).json()
    assert again["NumberAndNumberSeries"] == "A2"


def test_it_approves_and_deletes_drafts_as_the_accountant_would(tokens, client):
    first = api(
        client, tokens["access_token"], "POST", "/voucherdrafts", simple_voucher(text="one")
    ).json()
    second = api(
        client, tokens["access_token"], "POST", "/voucherdrafts", simple_voucher(text="two")
    ).json()
    page = client.get(PAGE).content.decode()
    assert "Voucher drafts waiting for the accountant" in page
    assert (
        f'aria-label="Voucher draft {first["Id"]}"' in page and "Approve (book as voucher)" in page
    )

    answer = client.post(CONTROL, {"action": "approve_draft", "id": first["Id"]}, follow=True)
    assert "Draft approved: voucher A1." in answer.content.decode()
    assert SandboxVoucher.objects.get().voucher_text == "one"

    answer = client.post(CONTROL, {"action": "delete_draft", "id": second["Id"]}, follow=True)
    assert "Draft deleted." in answer.content.decode()
    assert not SandboxVoucherDraft.objects.exists()
    assert SandboxVoucher.objects.count() == 1

    answer = client.post(CONTROL, {"action": "delete_draft", "id": second["Id"]}, follow=True)
    assert "No such voucher or draft" in answer.content.decode()


def test_it_says_why_visma_would_not_book_a_draft(tokens, client):
    payload = simple_voucher()
    payload["Rows"][1]["CreditAmount"] = Decimal("90.00")
    draft = api(client, tokens["access_token"], "POST", "/voucherdrafts", payload).json()

    answer = client.post(CONTROL, {"action": "approve_draft", "id": draft["Id"]}, follow=True)

    assert "Visma refused it: The voucher is not balanced" in answer.content.decode()
    assert SandboxVoucherDraft.objects.exists()


def test_a_user_changes_a_voucher_only_to_a_balanced_one(tokens, client):
    posted = post_voucher(client, tokens["access_token"], simple_voucher()).json()
    voucher = SandboxVoucher.objects.get(uuid=posted["Id"])

    services.change_voucher(voucher, rows={1900: ("90.00", 0), 3100: (0, "90.00")})
    changed = api(client, tokens["access_token"], "GET", "/vouchers").json()["Data"][0]
    assert [(r["DebitAmount"], r["CreditAmount"]) for r in changed["Rows"]] == [
        (90.0, 0.0),
        (0.0, 90.0),
    ]

    with pytest.raises(ValueError, match="not balanced"):
        services.change_voucher(voucher, rows={1900: ("80.00", 0)})
    voucher.refresh_from_db()
    assert voucher.debit_total == Decimal("90.00")
