"""A reconnect that lands in another Visma company: the admin reads what a change means on
its own page and confirms it; the integration page then names the new company and shows
the connection's history."""

import pytest
from playwright.sync_api import expect

from .steps import (
    COMPANY,
    INTEGRATION_PATH,
    allow_at_visma,
    expect_connected,
    open_setup_menu,
    sign_in,
)

pytestmark = pytest.mark.browser

OTHER = "Bakeri Nord AS"


def test_it_asks_before_the_books_move_to_another_company(
    page, live_server, simulator, alice, org, shot
):
    base = live_server.url
    sign_in(page, base, "alice", "pw-alice")
    open_setup_menu(page, "Integrasjoner")
    allow_at_visma(page, COMPANY)
    expect_connected(page, base, COMPANY)

    # Disconnect, connect again, and pick the other company at Visma.
    page.get_by_role("button", name="Koble fra").click()
    allow_at_visma(page, OTHER, sign_in=False)

    expect(page.get_by_role("heading", name="Bytte Visma-selskap?")).to_be_visible()
    expect(page.locator(".change-company")).to_contain_text(f"Nye bilag går til {OTHER}")
    expect(page.locator(".change-company")).to_contain_text(
        f"Bilag som allerede er overført, blir i {COMPANY}"
    )
    shot("change-company")
    page.get_by_role("button", name=f"Bytt til {OTHER}").click()

    expect(page).to_have_url(f"{base}{INTEGRATION_PATH}")
    expect(page.locator(".visma-connection .facts")).to_contain_text(OTHER)
    history = page.locator("#historikk")
    expect(history).to_contain_text(f"byttet selskap: {OTHER}")
    expect(history).to_contain_text(f"koblet fra: {COMPANY}")
    expect(history).to_contain_text(f"koblet til: {COMPANY}")
    shot("changed")
