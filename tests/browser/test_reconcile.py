"""In the browser: a Visma user deletes one voucher and changes another; after the nightly
run the admin sees both as "avvik", accepts Visma's version of the changed one and sends
the deleted one again as a new voucher; and switches draft mode on. Every step leaves a
screenshot in screenshots/test_it_walks_the_avvik_.../."""

from __future__ import annotations

import copy

import pytest
from playwright.sync_api import expect

from accounting.services import import_mapping
from integrations.visma import tasks, transfer
from integrations.visma.models import ExportRun, TransferSettings
from integrations.visma.tasks import export_organization_task
from settlements.parsing import parse_settlement
from settlements.services import ingest_settlement
from tests.clock import days_ago
from tests.simulator import connect
from visma_sandbox import services as sandbox

from .steps import INTEGRATION_PATH, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_walks_the_avvik_from_the_visma_user_to_the_admins_choices(
    page, live_server, simulator, shot, org, alice, location, worked_example, monkeypatch
):
    base = live_server.url
    import_mapping(organization=org, data=worked_example["mapping"])
    connect(org, user=alice, env=simulator)
    changed, deleted = [
        ingest_settlement(location=location, data=parse_settlement(body)).settlement
        for body in (
            worked_example["settlement"],
            {
                **copy.deepcopy(worked_example["settlement"]),
                "z_number": 1041,
                "business_date": days_ago(2).isoformat(),
            },
        )
    ]
    transfer.export_organization(organization=org)
    # "Send på nytt" runs the settlement's transfer at once (no worker in this test).
    monkeypatch.setattr(
        tasks.export_settlement_task, "delay", lambda *a: tasks.export_settlement_task.apply(a)
    )

    # A Visma user deletes a voucher in Visma's screens, and changes another.
    page.goto(f"{base}/visma-sandbox/?company=912345678#vouchers")
    number = str(sandbox.with_reference(deleted.reference))  # its voucher number, "A2"
    voucher = page.get_by_role("article", name=f"Voucher {number}")
    voucher.get_by_role("button", name="Delete voucher").click()
    expect(page.get_by_text(f"Voucher {number} deleted")).to_be_visible()
    shot("a Visma user deleted a voucher")
    sandbox.change_voucher(
        sandbox.with_reference(changed.reference),
        rows={3000: (0, "4700.00"), 1901: ("5999.60", 0)},
    )

    # The night's scheduled run reconciles.
    run = ExportRun.objects.create(organization=org, trigger=ExportRun.Trigger.SCHEDULE)
    export_organization_task.apply(args=(org.pk, ExportRun.Trigger.SCHEDULE, run.pk))

    sign_in(page, base, "alice", "pw-alice")
    page.goto(f"{base}/dagsoppgjor/?state=avvik")
    expect(page.locator(".badge-avvik")).to_have_count(2)
    shot("two avvik in the list")

    page.goto(f"{base}/dagsoppgjor/{changed.pk}/")
    box = page.locator(".visma-avvik")
    expect(box.get_by_role("heading", name="Avvik mot Visma")).to_be_visible()
    expect(box.get_by_role("cell", name="Konto 3000")).to_be_visible()
    expect(box.get_by_role("cell", name="4\u00a0700,00")).to_be_visible()
    shot("the changed voucher: what differs")
    box.get_by_role("button", name="Godta Vismas versjon").click()
    expect(page.get_by_text("Vismas versjon er godtatt.")).to_be_visible()
    expect(page.locator(".state-card .badge-posted")).to_be_visible()
    shot("Visma's version accepted")

    page.goto(f"{base}/dagsoppgjor/{deleted.pk}/")
    expect(page.get_by_text("Bilaget er slettet i Visma. Dagens omsetning")).to_be_visible()
    shot("the deleted voucher")
    page.get_by_role("button", name="Send på nytt som nytt bilag").click()
    expect(page.get_by_text("Oppgjøret sendes på nytt som nytt bilag.")).to_be_visible()
    page.goto(f"{base}/dagsoppgjor/{deleted.pk}/")
    expect(page.locator(".state-card .badge-posted")).to_be_visible()
    expect(page.get_by_role("heading", name="Tidligere bilag")).to_be_visible()
    expect(page.get_by_text(f"Bilag {number} (referanse {deleted.reference})")).to_be_visible()
    shot("sent again as a new voucher")
    assert sandbox.with_reference(f"{deleted.reference}-2")

    # Draft mode for the accountant.
    page.goto(f"{base}{INTEGRATION_PATH}")
    page.get_by_label("Send som kladd (bilagsforslag) til regnskapsfører").check()
    page.get_by_role("button", name="Lagre").click()
    expect(page.get_by_text("Innstillingene for overføring er lagret.")).to_be_visible()
    shot("draft mode switched on")
    assert TransferSettings.objects.get(organization=org).send_as_draft
