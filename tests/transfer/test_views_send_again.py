"""POST /dagsoppgjor/<id>/avvik/send-pa-nytt/: "Send på nytt som nytt bilag" on a
settlement whose voucher was deleted or changed in Visma. Admins only, CSRF-checked; the
settlement goes to Visma exactly once more, as a new voucher with its own reference, and the
old voucher stays in its history. End to end against the simulator."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from integrations.visma import tasks, transfer
from integrations.visma.models import ExportRun, SettlementExport
from tests.conftest import status_of
from visma_sandbox import services as sandbox

from .conftest import vouchers_in
from .test_reconcile import scheduled_run

pytestmark = pytest.mark.django_db(transaction=True)

State = SettlementExport.State


def url(settlement) -> str:
    return f"/dagsoppgjor/{settlement.pk}/avvik/send-pa-nytt/"


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def worker(monkeypatch) -> list[tuple]:
    """The settlement's run is done at once, in this process, as the worker would."""
    calls: list[tuple] = []

    def run_now(*args):
        calls.append(args)
        tasks.export_settlement_task.apply(args=args)

    monkeypatch.setattr(tasks.export_settlement_task, "delay", run_now)
    return calls


@pytest.fixture
def deleted(org, alice, connect, mapped, ingest, worked_example):
    """The worked example, posted as A1, then deleted in Visma: avvik."""
    connect(org)
    settlement = ingest(worked_example["settlement"])
    transfer.export_organization(organization=org)
    sandbox.delete_voucher(sandbox.with_reference(settlement.reference))
    scheduled_run(org)
    assert status_of(settlement).state == State.AVVIK
    return settlement


def test_it_sends_a_deleted_voucher_again_as_a_new_voucher_exactly_once(
    client, alice, org, deleted, worker
):
    client.force_login(alice)

    response = client.post(url(deleted))

    [run] = ExportRun.objects.filter(settlement=deleted)
    assert response.status_code == 302
    assert response["Location"] == f"/dagsoppgjor/{deleted.pk}/?run={run.pk}"
    assert texts(response) == ["Oppgjøret sendes på nytt som nytt bilag."]
    assert worker == [(deleted.pk, run.pk)]
    [voucher] = vouchers_in()
    assert f"[{deleted.reference}-2]" in voucher.voucher_text
    assert f"[{deleted.reference}]" not in voucher.voucher_text
    status = status_of(deleted)
    assert status.state == State.POSTED
    assert status.voucher_number == f"{voucher.series}{voucher.number}" == "A2"
    row = SettlementExport.objects.get(settlement=deleted)
    assert row.generation == 2
    assert row.visma_voucher_id == str(voucher.uuid)
    [old] = row.previous_vouchers
    assert old["number"] == "A1" and old["reference"] == deleted.reference and old["deleted"]
    assert old["by"] == "alice"

    # The page tells the story.
    page = client.get(f"/dagsoppgjor/{deleted.pk}/").content.decode()
    assert "Tidligere bilag" in page
    assert f"Bilag A1 (referanse {deleted.reference})" in page
    assert "slettet i Visma" in page

    # A second click (or another admin) sends nothing more.
    response = client.post(url(deleted))
    assert texts(response) == ["Oppgjøret har ikke (lenger) avvik mot Visma."]
    assert len(worker) == 1 and vouchers_in().count() == 1

    # The nightly check follows the new voucher; the deleted one is not looked for.
    run = scheduled_run(org)
    assert status_of(deleted).state == State.POSTED
    assert run.summary["avvik"] == 0


def test_a_lost_answer_on_the_new_voucher_never_doubles_it(client, alice, org, deleted, worker):
    client.force_login(alice)
    sandbox.set_fault(lose_after_store=1)

    client.post(url(deleted))

    assert status_of(deleted).state == State.UNCERTAIN
    assert vouchers_in().count() == 1  # stored, the answer lost

    transfer.export_organization(organization=org)

    [voucher] = vouchers_in()
    assert f"[{deleted.reference}-2]" in voucher.voucher_text
    row = SettlementExport.objects.get(settlement=deleted)
    assert row.state == State.POSTED and row.found_by_search
    assert row.visma_voucher_id == str(voucher.uuid)


def test_a_changed_voucher_sent_again_is_a_new_voucher_beside_the_old(
    client, alice, org, connect, mapped, ingest, worked_example, worker
):
    connect(org)
    settlement = ingest(worked_example["settlement"])
    transfer.export_organization(organization=org)
    old = sandbox.with_reference(settlement.reference)
    sandbox.change_voucher(old, rows={3000: (0, "4700.00"), 1901: ("5999.60", 0)})
    scheduled_run(org)
    client.force_login(alice)
    page = client.get(f"/dagsoppgjor/{settlement.pk}/").content.decode()
    assert "slett det der, ellers blir dagen bokført to ganger" in page

    client.post(url(settlement))

    assert vouchers_in().count() == 2  # the old one is the accountant's to delete
    new = sandbox.with_reference(f"{settlement.reference}-2")
    row = SettlementExport.objects.get(settlement=settlement)
    assert row.visma_voucher_id == str(new.uuid)
    # The old (changed) voucher is no longer taken for this settlement's.
    scheduled_run(org)
    assert status_of(settlement).state == State.POSTED


def test_staff_may_not_send_again(client, bob, deleted, worker):
    client.force_login(bob)

    response = client.post(url(deleted))

    assert response.status_code == 403
    assert worker == []
    assert status_of(deleted).state == State.AVVIK


def test_it_needs_the_csrf_token(alice, deleted, worker):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)

    response = browser.post(url(deleted))

    assert response.status_code == 403
    assert status_of(deleted).state == State.AVVIK

    page = browser.get(f"/dagsoppgjor/{deleted.pk}/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = browser.post(url(deleted), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert status_of(deleted).state == State.POSTED


def test_only_post(client, alice, deleted):
    client.force_login(alice)

    assert client.get(url(deleted)).status_code == 405


def test_it_sends_nothing_for_a_settlement_without_avvik(
    client, alice, org, connect, mapped, ingest, worked_example, worker
):
    connect(org)
    settlement = ingest(worked_example["settlement"])
    transfer.export_organization(organization=org)
    client.force_login(alice)

    response = client.post(url(settlement))

    assert texts(response) == ["Oppgjøret har ikke (lenger) avvik mot Visma."]
    assert worker == [] and vouchers_in().count() == 1


def test_another_organisations_settlement_is_not_found(client, charlie, deleted, worker):
    client.force_login(charlie)

    assert client.post(url(deleted)).status_code == 404
    assert status_of(deleted).state == State.AVVIK
