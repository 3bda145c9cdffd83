"""Saying "No, cancel" at Visma brings the admin back to the integration page with a
friendly word that the connection was cancelled, still not connected, and free to try
again."""

import re

import pytest
from playwright.sync_api import expect

from integrations.visma.models import VismaConnection

from .steps import (
    COMPANY,
    INTEGRATION_PATH,
    choose_company,
    connected_status,
    expect_consent,
    expect_top_right,
    open_setup_menu,
    sign_in,
    sign_in_at_visma,
)

pytestmark = pytest.mark.browser


def test_it_returns_with_a_friendly_message_when_the_consent_is_declined(
    page, live_server, simulator, alice, org, shot
):
    base = live_server.url
    sign_in(page, base, "alice", "pw-alice")
    open_setup_menu(page, "Integrasjoner")
    page.get_by_role("button", name="Connect Visma eAccounting").click()
    sign_in_at_visma(page)
    choose_company(page, COMPANY)
    expect_consent(page, COMPANY)
    shot("visma-consent")

    page.get_by_role("button", name="No, cancel").click()

    expect(page).to_have_url(f"{base}{INTEGRATION_PATH}")
    toast = page.locator(".toasts .toast-warning")
    expect(toast).to_contain_text("Tilkoblingen ble avbrutt")
    expect(toast).to_contain_text("tilgangen ble ikke godkjent hos Visma")
    expect(toast).to_contain_text("Klikk «Connect Visma eAccounting» for å prøve igjen.")
    expect_top_right(page, toast)
    expect(page.locator(".visma-connection .badge")).to_have_text("ikke tilkoblet")
    expect(connected_status(page)).to_have_count(0)
    expect(page.get_by_role("button", name="Connect Visma eAccounting")).to_be_enabled()
    expect(page.locator(".banner")).to_have_count(0)  # nothing to reconnect: never connected
    # A warning stays to be read (a confirmation steps aside after 6 s).
    page.wait_for_timeout(7_000)
    expect(toast).to_be_visible()
    shot("back-not-connected")
    assert not VismaConnection.objects.filter(
        organization=org, status=VismaConnection.Status.CONNECTED
    ).exists()

    # Trying again goes back to Visma (the session still knows the Visma user).
    page.get_by_role("button", name="Connect Visma eAccounting").click()
    expect(page).to_have_url(re.compile(r"/visma-sandbox/identity/"))
    expect(page.get_by_role("heading", name="Choose company")).to_be_visible()
    shot("trying-again")
