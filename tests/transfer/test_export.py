"""The export service against the simulator over real HTTP: what arrives in Visma."""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from accounting.services import export_mapping, import_mapping
from integrations.visma import transfer
from integrations.visma.models import ExportAttempt, Problem, SettlementExport
from integrations.visma.voucher_schema import validate_voucher_payload
from settlements.models import Settlement
from tests.clock import TODAY
from tests.conftest import status_of
from visma_sandbox import services as sandbox

from .conftest import vouchers_in

pytestmark = pytest.mark.django_db(transaction=True)

State = SettlementExport.State


def run_command(*args) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("export_settlements", *args, stdout=out)
        return 0, out.getvalue()
    except SystemExit as exc:
        return int(exc.code), out.getvalue()


def test_it_posts_the_worked_example_exactly_once(org, connect, mapped, ingest, worked_example):
    connect(org)
    settlement = ingest(worked_example["settlement"])

    code, out = run_command("--org", org.slug)

    assert code == 0, out
    settlement.refresh_from_db()
    assert status_of(settlement).state == State.POSTED
    [voucher] = vouchers_in()
    assert f"[{settlement.reference}]" in voucher.voucher_text
    assert "Z1042" in voucher.voucher_text
    net = defaultdict(Decimal)
    for row in voucher.rows.select_related("vat_code"):
        code_ = row.vat_code.code if row.vat_code else None
        net[(row.account_number, code_)] += row.debit - row.credit
    expected = defaultdict(Decimal)
    for row in worked_example["voucher"]["rows"]:
        expected[(row["account"], row["vat_code"])] += Decimal(row["debit"]) - Decimal(
            row["credit"]
        )
    assert {k: v for k, v in net.items() if v} == {k: v for k, v in expected.items() if v}
    assert voucher.debit_total == Decimal("10670.00")
    record = SettlementExport.objects.get(settlement=settlement)
    assert record.voucher_number == f"{voucher.series}{voucher.number}"
    assert f"overført som bilag {record.voucher_number}" in out
    # What was sent is stored and is valid against Visma's VoucherApi schema.
    assert validate_voucher_payload(record.payload) == []
    # ... with its amounts exact, never through a float (4800.00, not 4800.0).
    amounts = [row["CreditAmount"] for row in record.payload["Rows"]]
    assert all(isinstance(a, Decimal) for a in amounts)
    assert "4800.00" in {str(a) for a in amounts}

    code, out = run_command("--org", org.slug)
    assert code == 0
    assert vouchers_in().count() == 1
    assert "Ingen dagsoppgjør å overføre" in out


def test_it_sends_nothing_on_a_dry_run(org, connect, mapped, ingest, worked_example):
    connect(org)
    settlement = ingest(worked_example["settlement"])

    code, out = run_command("--org", org.slug, "--dry-run")

    assert code == 0, out
    assert "1 ville blitt overført" in out
    assert "tørrkjøring" in out
    assert vouchers_in().count() == 0
    settlement.refresh_from_db()
    assert status_of(settlement).state == State.PENDING


def test_it_never_duplicates_when_the_answer_is_lost(org, connect, mapped, ingest, worked_example):
    connect(org)
    settlement = ingest(worked_example["settlement"])
    sandbox.set_fault(lose_after_store=1)

    code, out = run_command("--org", org.slug)

    assert code == 1
    settlement.refresh_from_db()
    assert status_of(settlement).state == State.UNCERTAIN
    assert vouchers_in().count() == 1  # Visma stored it; we could not know

    code, out = run_command("--org", org.slug)

    assert code == 0, out
    assert "funnet i Visma" in out
    assert vouchers_in().count() == 1
    settlement.refresh_from_db()
    assert status_of(settlement).state == State.POSTED
    assert SettlementExport.objects.get(settlement=settlement).found_by_search


def test_it_retries_after_a_server_error(org, connect, mapped, ingest, worked_example):
    connect(org)
    settlement = ingest(worked_example["settlement"])
    # The chart refresh makes 4 GET requests before the POST; fail only the POST.
    sandbox.set_fault(fail_5xx=0)
    result = None
    from integrations.visma import client

    original = client.create_voucher
    calls = {"n": 0}

    def flaky(token, payload, **kw):
        calls["n"] += 1
        if calls["n"] == 1:
            sandbox.set_fault(fail_5xx=1)
        return original(token, payload, **kw)

    client.create_voucher = flaky
    try:
        result = transfer.export_organization(organization=org)
    finally:
        client.create_voucher = original
    assert result.summary()["failed"] == 1
    settlement.refresh_from_db()
    # A 5xx after sending: outcome unknown, so the next attempt searches first.
    assert status_of(settlement).state == State.UNCERTAIN
    assert vouchers_in().count() == 0

    result = transfer.export_organization(organization=org)
    assert result.summary()["posted"] == 1
    assert vouchers_in().count() == 1


def test_it_waits_the_seconds_visma_names_on_429(org, connect, mapped, ingest, worked_example):
    connect(org)
    settlement = ingest(worked_example["settlement"])
    from integrations.visma import client

    original = client.create_voucher
    calls = {"n": 0}

    def limited(token, payload, **kw):
        calls["n"] += 1
        if calls["n"] == 1:
            sandbox.set_fault(fail_429=1, retry_after_seconds=1)
        return original(token, payload, **kw)

    client.create_voucher = limited
    try:
        result = transfer.export_organization(organization=org)
    finally:
        client.create_voucher = original
    assert calls["n"] == 2
    assert result.summary()["posted"] == 1
    settlement.refresh_from_db()
    assert status_of(settlement).state == State.POSTED
    assert vouchers_in().count() == 1


def test_it_holds_back_a_date_in_a_locked_period(org, connect, mapped, ingest, worked_example):
    connect(org, "Bakeri Nord AS")  # books locked to the end of last month
    locked_to = TODAY.replace(day=1) - timedelta(days=1)
    day = locked_to - timedelta(days=1)
    assert day >= TODAY - timedelta(days=30)  # inside the look-back window: due
    body = dict(worked_example["settlement"], business_date=day.isoformat())
    settlement = ingest(body)

    code, out = run_command("--org", org.slug)

    assert code == 1
    settlement.refresh_from_db()
    assert status_of(settlement).state == State.NEEDS_ACTION
    assert status_of(settlement).problem == Problem.PERIOD_LOCKED
    assert f"Perioden er låst i Visma til {locked_to:%d.%m.%Y}" in status_of(settlement).reason
    assert vouchers_in("Bakeri Nord AS").count() == 0
    # One e-mail to the admins for the new problem, none for the same problem again.
    assert len(mail.outbox) == 1
    assert "Perioden er låst" in mail.outbox[0].body
    run_command("--org", org.slug)
    assert len(mail.outbox) == 1


def test_it_names_an_account_that_visma_lacks_and_heals_after_the_fix(
    org, connect, mapped, ingest, worked_example
):
    # Mapped before connecting (so nothing could check it then), or an account deleted in
    # Visma since.
    mapping = export_mapping(organization=org)
    mapping["payments"]["vipps"] = 1903  # not in the company's chart
    import_mapping(organization=org, data=mapping)
    connect(org)
    settlement = ingest(worked_example["settlement"])

    code, out = run_command("--org", org.slug)

    assert code == 1
    settlement.refresh_from_db()
    assert status_of(settlement).problem == Problem.ACCOUNT_MISSING
    assert "Konto 1903 finnes ikke i Visma" in status_of(settlement).reason
    assert vouchers_in().count() == 0

    mapping["payments"]["vipps"] = 1902
    import_mapping(organization=org, data=mapping)
    code, out = run_command("--org", org.slug)
    assert code == 0, out
    assert vouchers_in().count() == 1


def test_it_names_a_missing_mapping(org, connect, mapped, ingest, worked_example):
    connect(org)
    body = dict(worked_example["settlement"])
    body["payments"] = [*body["payments"][:-1], {"method": "amex", "amount": "300.00"}]
    settlement = ingest(body)

    code, out = run_command("--org", org.slug)

    assert code == 1
    settlement.refresh_from_db()
    assert status_of(settlement).state == State.NEEDS_ACTION
    assert "amex" in status_of(settlement).reason
    assert "Kontooppsett" in status_of(settlement).reason


def test_it_refreshes_an_expired_token_during_a_run(org, connect, mapped, ingest, worked_example):
    connect(org)
    ingest(worked_example["settlement"])
    sandbox.expire_access_tokens()

    code, out = run_command("--org", org.slug)

    assert code == 0, out
    assert vouchers_in().count() == 1


def test_it_waits_for_a_reconnect_when_the_grant_is_revoked(
    org, connect, mapped, ingest, worked_example
):
    connect(org)
    settlement = ingest(worked_example["settlement"])
    sandbox.revoke_refresh_tokens()
    sandbox.expire_access_tokens()

    code, out = run_command("--org", org.slug)

    assert code == 1
    settlement.refresh_from_db()
    assert status_of(settlement).problem == Problem.CONNECTION
    assert "kobles til på nytt" in status_of(settlement).reason
    assert vouchers_in().count() == 0

    connect(org)
    code, out = run_command("--org", org.slug)
    assert code == 0, out
    settlement.refresh_from_db()
    assert status_of(settlement).state == State.POSTED
    assert vouchers_in().count() == 1


def test_it_leaves_an_unbalanced_settlement_for_the_till(
    org, connect, mapped, ingest, worked_example
):
    connect(org)
    body = dict(worked_example["settlement"], tips="160.00")
    settlement = ingest(body)
    assert status_of(settlement).state == State.NEEDS_ACTION

    code, out = run_command("--org", org.slug)

    assert code == 0  # nothing due: an unbalanced settlement waits for a correction
    assert vouchers_in().count() == 0


def test_it_records_each_attempt(org, connect, mapped, ingest, worked_example):
    connect(org)
    settlement = ingest(worked_example["settlement"])
    sandbox.set_fault(lose_after_store=1)
    run_command("--org", org.slug)
    run_command("--org", org.slug)

    results = list(
        ExportAttempt.objects.filter(settlement=settlement)
        .order_by("started_at", "id")
        .values_list("result", flat=True)
    )
    assert results == ["uncertain", "found"]


def test_it_posts_a_returns_only_product_group(
    org, connect, mapped, client, api_key, worked_example
):
    """A till's day where one group had only returns: its line is negative in amount and
    count (net of returns). It is stored like any other (201) and its voucher goes out,
    the returned goods' net and VAT on the debit side."""
    connect(org)
    body = worked_example["settlement"]
    body["sales"].append(
        {"product_group": "Leker", "vat_rate": "25", "gross_amount": "-349.00", "count": -1}
    )
    card = next(p for p in body["payments"] if p["method"] == "card")
    card["amount"] = "5750.60"  # the 349.00 went back to the customer's card

    answer = client.post(
        "/api/v1/settlements", body, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api_key}",
    )  # fmt: skip

    assert answer.status_code == 201, answer.content
    settlement = Settlement.objects.get()
    assert settlement.sales.get(product_group="Leker").count == -1
    code, out = run_command("--org", org.slug)
    assert code == 0, out
    assert status_of(settlement).state == State.POSTED
    [voucher] = vouchers_in()
    rows = [(r.account_number, r.debit, r.credit) for r in voucher.rows.all()]
    assert (3000, Decimal("279.20"), Decimal("0.00")) in rows  # 349.00 − 69.80 VAT
    vat_25 = sum(r.credit - r.debit for r in voucher.rows.filter(account_number=2700))
    assert vat_25 == Decimal("1130.20")  # 1200.00 on Klær less 69.80 returned
    assert voucher.debit_total == voucher.credit_total


# -- the search after an unknown outcome (Visma's OData, as it really answers) --------------


def lose_the_answer(org, ingest, worked_example):
    settlement = ingest(worked_example["settlement"])
    sandbox.set_fault(lose_after_store=1)
    assert run_command("--org", org.slug)[0] == 1
    assert status_of(settlement).state == State.UNCERTAIN
    assert vouchers_in().count() == 1  # Visma stored it; we could not know
    return settlement


def test_it_searches_a_date_time_range_around_the_voucher_date(org, connect, mapped, ingest):
    day = TODAY - timedelta(days=1)
    assert transfer.search_filter(day) == (
        f"VoucherDate ge {day - timedelta(days=1)}T00:00:00.00Z "
        f"and VoucherDate le {day + timedelta(days=1)}T23:59:59.00Z"
    )


def test_it_pages_without_the_filter_when_visma_refuses_it(
    org, connect, mapped, ingest, worked_example, monkeypatch
):
    """The simulator refuses a date-time property compared with a bare date (400), as
    Visma's OData v4 stack may refuse a filter: the search pages every voucher instead."""
    connect(org)
    settlement = lose_the_answer(org, ingest, worked_example)
    monkeypatch.setattr(transfer, "search_filter", lambda day: f"VoucherDate eq {day}")

    code, out = run_command("--org", org.slug)

    assert code == 0, out
    assert status_of(settlement).state == State.POSTED
    assert SettlementExport.objects.get(settlement=settlement).found_by_search
    assert vouchers_in().count() == 1


def test_a_search_that_keeps_failing_needs_a_persons_look(
    org, connect, mapped, ingest, worked_example, monkeypatch
):
    """Never "usikker" in silence, never posted again blindly: after three failed searches
    the settlement needs action, the admins get one e-mail, and once Visma answers again
    the voucher is found (not posted twice)."""
    connect(org)
    settlement = lose_the_answer(org, ingest, worked_example)
    real_find = transfer.find_posted

    def broken(organization, voucher):
        raise transfer.client.ServerError(5000, "An error has occurred.", 500)

    monkeypatch.setattr(transfer, "find_posted", broken)
    mail.outbox.clear()
    for _ in range(2):
        assert run_command("--org", org.slug)[0] == 1
        assert status_of(settlement).state == State.UNCERTAIN
    assert mail.outbox == []

    assert run_command("--org", org.slug)[0] == 1

    status = status_of(settlement)
    assert status.state == State.NEEDS_ACTION
    assert status.problem == Problem.SEARCH_FAILED
    assert "har feilet 3 ganger på rad" in status.reason
    assert f"[{settlement.reference}]" in status.reason
    assert len(mail.outbox) == 1 and "feilet 3 ganger" in mail.outbox[0].body
    assert vouchers_in().count() == 1

    monkeypatch.setattr(transfer, "find_posted", real_find)
    assert run_command("--org", org.slug)[0] == 0
    assert status_of(settlement).state == State.POSTED
    assert SettlementExport.objects.get(settlement=settlement).found_by_search
    assert vouchers_in().count() == 1
