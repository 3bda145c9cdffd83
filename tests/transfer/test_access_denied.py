"""Visma's 403s, named: each ErrorCode has its sentence of what the admin must do in
Visma; the connect checks the company before it stores anything, and a run that meets a
403 or an unexpected error says so (run "feilet", one e-mail), never "ferdig" in silence."""

import pytest
from django.core import mail

from integrations.visma import access, services, transfer
from integrations.visma.models import ExportRun, Problem, SettlementExport, VismaConnection
from tests.conftest import status_of
from visma_sandbox import services as sandbox

from .conftest import vouchers_in

pytestmark = pytest.mark.django_db(transaction=True)

State = SettlementExport.State


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (4002, "Apper og utvidelser"),
        (4003, "Oppstartsveiviseren"),
        (4004, "ikke aktivt"),
        (4005, "rettigheter til bokføring"),
        (4011, "ikke (lenger) tilgang til selskapet"),
    ],
)
def test_it_refuses_to_connect_a_company_visma_denies_with_what_to_do(org, connect, code, words):
    sandbox.setup_demo()
    sandbox.set_fault(company="Fjordkafé AS", access_error=code)

    with pytest.raises(services.ConnectFailed) as refused:
        connect(org)

    assert words in str(refused.value)
    assert str(refused.value) == access.advice(code)
    connection = VismaConnection.objects.filter(organization=org).first()
    assert connection is None or not connection.is_connected


@pytest.mark.parametrize(("status", "words"), [(0, "ikke aktivt"), (2, "skrivebeskyttet")])
def test_it_refuses_an_inactive_or_read_only_company(org, connect, status, words):
    sandbox.setup_demo()
    sandbox.set_company_status("Fjordkafé AS", status)

    with pytest.raises(services.ConnectFailed, match=words):
        connect(org)


def test_a_read_only_user_meets_the_first_post_and_the_admins_are_told_once(
    org, connect, mapped, ingest, worked_example
):
    connect(org)
    first = ingest(worked_example["settlement"])
    second = ingest(dict(worked_example["settlement"], z_number=1043))
    sandbox.set_fault(company="Fjordkafé AS", access_error=access.READ_ONLY_USER)
    mail.outbox.clear()

    result = transfer.export_organization(organization=org)

    assert vouchers_in().count() == 0
    stopped = [status_of(s) for s in (first, second)]
    assert [s.state for s in stopped].count(State.NEEDS_ACTION) == 1  # the rest wait
    needs = next(s for s in stopped if s.state == State.NEEDS_ACTION)
    assert needs.problem == Problem.ACCESS_DENIED
    assert needs.reason == access.advice(access.READ_ONLY_USER)
    assert "lesetilgang" in result.message
    assert len(mail.outbox) == 1 and "lesetilgang" in mail.outbox[0].body

    sandbox.set_fault(company="Fjordkafé AS", access_error=0)
    assert transfer.export_organization(organization=org).ok
    assert vouchers_in().count() == 2


def test_a_run_that_meets_a_403_before_posting_fails_with_the_reason_once(
    org, connect, mapped, ingest, worked_example
):
    connect(org)
    settlement = ingest(worked_example["settlement"])
    sandbox.set_fault(company="Fjordkafé AS", access_error=access.NO_ACCESS_TO_MODULE)
    mail.outbox.clear()

    for _ in range(2):
        result = transfer.export_organization(organization=org)
        run = ExportRun.objects.latest("created_at")
        assert run.status == ExportRun.Status.FAILED
        assert run.summary["message"] == access.advice(access.NO_ACCESS_TO_MODULE)
    assert not result.ok
    assert status_of(settlement).state == State.PENDING  # waits, nothing lost
    assert len(mail.outbox) == 1  # the same reason the next night is not told again
    assert "Apper og utvidelser" in mail.outbox[0].body


def test_an_unexpected_error_marks_the_run_failed_with_a_reason_and_one_email(
    org, connect, mapped, ingest, worked_example, monkeypatch
):
    connect(org)
    ingest(worked_example["settlement"])

    def broken(organization):
        raise KeyError("CompanyStatus")

    monkeypatch.setattr(transfer, "refresh_company_data", broken)
    mail.outbox.clear()

    result = transfer.export_organization(organization=org)

    run = ExportRun.objects.latest("created_at")
    assert run.status == ExportRun.Status.FAILED
    assert "uventet feil" in run.summary["message"] and "KeyError" in run.summary["message"]
    assert not result.ok
    assert len(mail.outbox) == 1 and "stoppet" in mail.outbox[0].subject
