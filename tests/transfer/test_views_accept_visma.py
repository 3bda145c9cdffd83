"""POST /dagsoppgjor/<id>/avvik/godta-visma/: "Godta Vismas versjon" on a settlement
whose voucher was deleted or changed in Visma. Admins only, CSRF-checked; Visma's figures
are kept and the reconciliation stops flagging them; nothing is sent. End to end against
the simulator."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from integrations.visma import transfer
from integrations.visma.models import SettlementExport
from tests.conftest import status_of
from visma_sandbox import services as sandbox

from .conftest import vouchers_in
from .test_reconcile import scheduled_run

pytestmark = pytest.mark.django_db(transaction=True)

State = SettlementExport.State


def url(settlement) -> str:
    return f"/dagsoppgjor/{settlement.pk}/avvik/godta-visma/"


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def posted(org, alice, connect, mapped, ingest, worked_example):
    connect(org)
    settlement = ingest(worked_example["settlement"])
    transfer.export_organization(organization=org)
    return settlement


def test_it_accepts_the_amounts_changed_in_visma(client, alice, org, posted):
    voucher = sandbox.with_reference(posted.reference)
    sandbox.change_voucher(voucher, rows={3000: (0, "4700.00"), 1901: ("5999.60", 0)})
    scheduled_run(org)
    client.force_login(alice)
    page = client.get(f"/dagsoppgjor/{posted.pk}/").content.decode()
    assert "Godta Vismas versjon" in page and "Send på nytt som nytt bilag" in page

    response = client.post(url(posted))

    assert response.status_code == 302
    assert response["Location"] == f"/dagsoppgjor/{posted.pk}/"
    assert texts(response) == ["Vismas versjon er godtatt."]
    status = status_of(posted)
    assert status.state == State.POSTED
    assert "Vismas versjon av bilag A1 er godtatt av alice" in status.reason
    assert "Konto 3000: sendt 4\u00a0800,00, i Visma 4\u00a0700,00" in status.reason
    row = SettlementExport.objects.get(settlement=posted)
    assert row.accepted_by == alice and row.accepted_at is not None
    accepted = {r["AccountNumber"]: r for r in row.accepted_version["Rows"]}
    assert str(accepted[3000]["CreditAmount"]) == "4700.00"
    # The next nights: not flagged again, and nothing was sent.
    run = scheduled_run(org)
    assert status_of(posted).state == State.POSTED
    assert run.summary["avvik"] == 0
    assert vouchers_in().count() == 1


def test_it_accepts_a_deletion_and_stops_looking_for_the_voucher(client, alice, org, posted):
    sandbox.delete_voucher(sandbox.with_reference(posted.reference))
    scheduled_run(org)
    client.force_login(alice)

    response = client.post(url(posted))

    assert texts(response) == ["Slettingen i Visma er godtatt. Oppgjøret sendes ikke på nytt."]
    status = status_of(posted)
    assert status.state == State.POSTED
    assert "Slettingen i Visma er godtatt av alice" in status.reason
    run = scheduled_run(org)
    assert run.summary.get("reconciled", 0) == 0  # no longer looked for
    assert status_of(posted).state == State.POSTED
    assert vouchers_in().count() == 0  # never sent again


def test_staff_may_not_accept(client, bob, org, posted):
    sandbox.delete_voucher(sandbox.with_reference(posted.reference))
    scheduled_run(org)
    client.force_login(bob)
    page = client.get(f"/dagsoppgjor/{posted.pk}/").content.decode()
    assert "Avvik mot Visma" in page
    assert "Godta Vismas versjon" not in page  # the choice is the admins'

    response = client.post(url(posted))

    assert response.status_code == 403
    assert status_of(posted).state == State.AVVIK


def test_it_needs_the_csrf_token(alice, org, posted):
    sandbox.delete_voucher(sandbox.with_reference(posted.reference))
    scheduled_run(org)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)

    assert browser.post(url(posted)).status_code == 403
    assert status_of(posted).state == State.AVVIK


def test_it_changes_nothing_without_avvik(client, alice, posted):
    client.force_login(alice)

    response = client.post(url(posted))

    assert texts(response) == ["Oppgjøret har ikke (lenger) avvik mot Visma."]
    assert SettlementExport.objects.get(settlement=posted).accepted_at is None
