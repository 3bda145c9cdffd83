"""The simulator's own page: companies, received vouchers, fault switches and reset."""

from tests.clock import TODAY
from visma_sandbox import services
from visma_sandbox.chart import end_of_month_before
from visma_sandbox.models import FaultSwitch, SandboxVoucher

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
