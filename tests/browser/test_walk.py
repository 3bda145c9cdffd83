"""The whole walk of the setup guide in a real browser, against the live server with the
Visma simulator mounted on it and a real Celery worker beside it: sign in, set how often
and how far back, Connect Visma eAccounting, sign in at Visma, choose the company, "Yes,
allow", see the confirmation and "Visma Account connected", fill the kontooppsett with the
standard chart, and look at a settlement's voucher before it goes out.

Every step leaves a screenshot in screenshots/test_it_walks_.../ (the README points there).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from integrations.visma.models import TransferSettings, VismaConnection
from settlements.models import Settlement

from .steps import (
    COMPANY,
    INTEGRATION_PATH,
    choose_company,
    connected_status,
    expect_connected,
    expect_consent,
    expect_top_right,
    open_setup_menu,
    recent_settlements,
    sign_in,
    sign_in_at_visma,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def settlements(location) -> list[Settlement]:
    """Three days of one till, all before today (Oslo): all due for the transfer."""
    return recent_settlements(location, days=3)


def test_it_walks_from_sign_in_to_a_voucher_ready_for_visma(
    page, live_server, simulator, worker, alice, org, settlements, shot
):
    base = live_server.url

    # 1. Alice, the organisation's admin, signs in.
    page.goto(f"{base}/")
    expect(page.get_by_role("heading", name="Logg inn")).to_be_visible()
    shot("sign-in")
    sign_in(page, base, "alice", "pw-alice")
    expect(page.locator(".who")).to_contain_text("Fjordkafé AS")
    shot("signed-in")

    # 2. Oppsett > Integrasjoner, through the menu.
    open_setup_menu(page, "Integrasjoner")
    expect(page).to_have_url(f"{base}{INTEGRATION_PATH}")
    expect(page.get_by_role("heading", name="Visma eAccounting", exact=True)).to_be_visible()
    expect(page.locator(".visma-connection .badge")).to_have_text("ikke tilkoblet")
    expect(connected_status(page)).to_have_count(0)
    shot("integration-not-connected")

    # 3. How often (Daglig) and how far back (14 days), saved and shown as saved.
    page.get_by_role("radio", name="Daglig").check()
    page.get_by_label("Hent oppgjør bakover").select_option(label="14 dager")
    shot("transfer-settings-filled")
    page.get_by_role("button", name="Lagre").click()
    saved = page.locator(".toasts .toast-success")
    expect(saved).to_have_text("Innstillingene for overføring er lagret.")
    expect_top_right(page, saved)
    expect(page.get_by_role("radio", name="Daglig")).to_be_checked()
    expect(page.get_by_label("Hent oppgjør bakover")).to_have_value("14")
    overview = page.locator("#overforinger")
    expect(overview).to_contain_text("14 dager")
    expect(overview).to_contain_text("Skjer først når Visma eAccounting er tilkoblet.")
    shot("transfer-settings-saved")
    transfer = TransferSettings.objects.get(organization=org)
    assert (transfer.interval, transfer.lookback_days) == ("daily", 14)
    # The confirmation steps aside after a few seconds instead of covering the "Overføringer"
    # card (where a run's progress shows) for good.
    expect(saved).to_be_hidden(timeout=10_000)

    # 4. Connect Visma eAccounting: off to Visma's sign-in (the simulator).
    page.get_by_role("button", name="Connect Visma eAccounting").click()
    expect(page).to_have_url(re.compile(r"/visma-sandbox/identity/"))
    shot("visma-sign-in")
    sign_in_at_visma(page)

    # 5. The demo user has three companies: choose Fjordkafé AS.
    shot("visma-choose-company")
    choose_company(page, COMPANY)

    # 6. "Yes, allow".
    expect_consent(page, COMPANY)
    shot("visma-consent")
    page.get_by_role("button", name="Yes, allow").click()

    # 7. Back home: the toast top right, "Visma Account connected" above the button.
    expect_connected(page, base, COMPANY)
    shot("visma-account-connected")
    connection = VismaConnection.objects.get(organization=org)
    assert connection.status == VismaConnection.Status.CONNECTED
    assert connection.connected_by == alice
    # The company's chart came along: the kontooppsett checks against it.
    expect(page.locator("#kontoplan")).to_contain_text("Aktive kontoer")

    # 8. Oppsett > Kontooppsett: "Bruk standard kontoplan", then save.
    open_setup_menu(page, "Kontooppsett")
    expect(page.get_by_role("heading", name="Kontooppsett", exact=True)).to_be_visible()
    expect(page.locator("p.status-ok")).to_contain_text("kontrolleres mot")
    expect(page.locator("tr.unmapped").first).to_be_visible()  # empty before
    shot("mapping-empty")
    page.get_by_role("button", name="Bruk standard kontoplan").click()
    expect(page.locator(".toasts .toast-success")).to_have_text(
        "Standard kontoplan er fylt inn i tomme felt og lagret."
    )
    page.get_by_role("button", name="Lagre", exact=True).click()
    expect(page.locator(".toasts .toast")).to_have_text("Ingen endringer å lagre.")
    expect(page.locator("tr.unmapped")).to_have_count(0)
    expect(page.get_by_text("Mangler konto")).to_have_count(0)
    expect(page.locator("[role=alert].status-bad")).to_have_count(0)
    # NS 4102 and SAF-T: 25 % food and drink on 3000 with output VAT code 3.
    expect(page.get_by_label("Konto 25 %", exact=True)).to_have_value("3000")
    expect(page.get_by_label("MVA-kode 25 %", exact=True)).to_have_value("3")
    shot("mapping-standard-chart-saved")

    # 9. Dagsoppgjør: the three days wait for the transfer.
    page.get_by_role("navigation", name="Hovedmeny").get_by_role("link", name="Dagsoppgjør").click()
    rows = page.locator("table.settlements tbody tr")
    expect(rows).to_have_count(len(settlements))
    for row in rows.all():
        expect(row.locator(".badge")).to_have_text("venter")
    shot("settlements-waiting")

    # 10. Open the newest one: its voucher preview balances and names the Z-number.
    newest = settlements[0]
    page.get_by_role("link", name=str(newest.z_number), exact=True).click()
    expect(page).to_have_url(f"{base}/dagsoppgjor/{newest.pk}/")
    preview = page.locator(".voucher-preview")
    expect(preview.get_by_role("heading", name="Bilag")).to_be_visible()
    expect(preview).to_contain_text(f"Z{newest.z_number}")
    expect(preview.locator("tbody tr").first).to_be_visible()
    assert preview.locator("tbody tr").count() >= 5  # sales, VAT, payments at least
    totals = preview.locator("tfoot td.num")
    expect(totals).to_have_count(2)
    debit, credit = totals.all_inner_texts()
    assert debit == credit and debit.strip() not in ("", "0,00"), (debit, credit)
    preview.scroll_into_view_if_needed()
    shot("settlement-voucher-preview")

    _transfer_and_verify(page, base, settlements, shot)
    assert worker.poll() is None, "the Celery worker died during the walk"


def _transfer_and_verify(page: Page, base: str, settlements: list[Settlement], shot) -> None:
    """The walk's last part: "Overfør nå" on the integration page, the real Celery worker
    (the `worker` fixture) posts every due settlement while the page follows the run, the
    Dagsoppgjør page shows each one overført with its voucher number, and the simulator's
    page shows the vouchers.
    """
    from integrations.visma.models import SettlementExport

    count = len(settlements)

    # 11. Oppsett > Integrasjoner: "Overfør nå".
    open_setup_menu(page, "Integrasjoner")
    expect(page.locator(".visma-summary")).to_have_count(0)  # no run yet
    page.get_by_role("button", name="Overfør nå").click()
    expect(page.locator(".toasts .toast-success")).to_have_text("Overføringen er startet.")
    shot("transfer-started")

    # 12. The page follows the run and reloads itself when the worker is done.
    summary = page.locator("#overforinger .visma-summary")
    expect(summary).to_contain_text(f"{count} overført", timeout=60_000)
    expect(page.locator(".transfer-progress")).to_have_count(0)
    shot("transfer-done")

    # 13. Dagsoppgjør: every one overført, each with its own voucher number.
    page.get_by_role("navigation", name="Hovedmeny").get_by_role("link", name="Dagsoppgjør").click()
    rows = page.locator("table.settlements tbody tr")
    expect(rows.locator(".badge")).to_have_text(["overført"] * count)
    numbers = {}
    for settlement in settlements:
        export = SettlementExport.objects.get(settlement=settlement)
        assert re.fullmatch(r"[A-Z]*\d+", export.voucher_number), export.voucher_number
        numbers[settlement.pk] = export.voucher_number
    assert len(set(numbers.values())) == count, "one voucher per settlement"
    expect(rows.locator(".voucher-number")).to_have_text(
        [f"Bilag {numbers[s.pk]}" for s in settlements]  # newest first, like the fixture
    )
    shot("settlements-transferred")

    # 14. The settlement's page names its voucher.
    newest = settlements[0]
    page.get_by_role("link", name=str(newest.z_number), exact=True).click()
    expect(page.locator(".state-card .badge")).to_have_text("overført")
    expect(page.locator(".visma-voucher-number")).to_have_text(numbers[newest.pk])
    shot("settlement-transferred")

    # 15. The vouchers arrived at "Visma": the simulator's page lists them.
    page.goto(f"{base}/visma-sandbox/")
    expect(page.locator("article.voucher")).to_have_count(count)
    for settlement in settlements:
        voucher = page.get_by_role("article", name=f"Voucher {numbers[settlement.pk]}")
        expect(voucher).to_contain_text(f"Z{settlement.z_number}")
        expect(voucher).to_contain_text(COMPANY)
        expect(voucher).to_contain_text(settlement.business_date.isoformat())
    shot("visma-vouchers")
