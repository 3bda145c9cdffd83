"""When Visma no longer accepts the refresh token (revoked, or replaced elsewhere), the next
thing that needs a token says "må kobles til på nytt", every page shows the banner, and
connecting again, in the browser, puts it right."""

import pytest
from playwright.sync_api import expect

from integrations.visma.models import VismaConnection
from visma_sandbox import services as sandbox

from .steps import (
    COMPANY,
    INTEGRATION_PATH,
    allow_at_visma,
    connected_status,
    expect_connected,
    open_setup_menu,
    sign_in,
)

pytestmark = pytest.mark.browser


def test_it_asks_to_reconnect_after_the_refresh_token_was_revoked_and_recovers(
    page, live_server, simulator, alice, org, shot
):
    base = live_server.url
    sign_in(page, base, "alice", "pw-alice")
    open_setup_menu(page, "Integrasjoner")
    allow_at_visma(page, COMPANY)
    expect_connected(page, base, COMPANY)
    shot("connected")

    # At Visma, the grant goes away: refresh tokens revoked, access tokens expired.
    assert sandbox.revoke_refresh_tokens(company=COMPANY) >= 1
    sandbox.expire_access_tokens(company=COMPANY)

    # Something that needs a token: the access token is refused (401), the refresh is
    # refused (invalid_grant), and the connection waits for an admin.
    page.get_by_role("button", name="Oppdater kontoplan fra Visma").click()

    expect(page).to_have_url(f"{base}{INTEGRATION_PATH}")
    toast = page.locator(".toasts .toast-error")
    expect(toast).to_contain_text("Visma-tilkoblingen må kobles til på nytt")
    expect(toast).to_contain_text("invalid_grant")
    expect(page.locator(".visma-connection .badge")).to_have_text("må kobles til på nytt")
    expect(page.locator(".visma-reason")).to_contain_text("invalid_grant")
    expect(connected_status(page)).to_have_count(0)
    banner = page.locator(".banner[role=alert]")
    expect(banner).to_contain_text("Visma-tilkoblingen må kobles til på nytt")
    shot("reconnect-required")
    connection = VismaConnection.objects.get(organization=org)
    assert connection.status == VismaConnection.Status.RECONNECT_REQUIRED
    assert not connection.has_tokens

    # The banner follows the admin to every page and leads back.
    page.get_by_role("navigation", name="Hovedmeny").get_by_role("link", name="Dagsoppgjør").click()
    expect(banner).to_contain_text("Visma-tilkoblingen må kobles til på nytt")
    shot("banner-on-settlements")
    banner.get_by_role("link", name="Koble til på nytt").click()
    expect(page).to_have_url(f"{base}{INTEGRATION_PATH}")

    # Connect again: still signed in at Visma, so straight to the company and consent.
    allow_at_visma(page, COMPANY, sign_in=False)

    expect_connected(page, base, COMPANY)
    expect(page.locator(".banner[role=alert]")).to_have_count(0)
    shot("connected-again")
    connection.refresh_from_db()
    assert connection.status == VismaConnection.Status.CONNECTED
    assert connection.reason == "" and connection.has_tokens

    # And the new grant works: the chart refreshes.
    page.get_by_role("button", name="Oppdater kontoplan fra Visma").click()
    expect(page.locator(".toasts .toast-success")).to_contain_text(
        "Kontoplanen er oppdatert fra Visma"
    )
    shot("chart-refreshed")
