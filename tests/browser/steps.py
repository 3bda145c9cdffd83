"""What a person does in the browser, step by step, shared by the walk-through tests.

Each step asserts what the person would see before going on, so a failing test stops at
the first screen that looks wrong (and the `page` fixture keeps a failure.png of it).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from backoffice.management.commands.seed_demo import demo_settlement
from backoffice.models import Location
from integrations.visma.models import SettlementExport
from settlements.models import Settlement
from settlements.parsing import parse_settlement
from settlements.services import ingest_settlement
from tests.conftest import status_of

OSLO = ZoneInfo("Europe/Oslo")
INTEGRATION_PATH = "/oppsett/integrasjoner/visma-eaccounting/"
# The simulator's demo user (visma_sandbox/chart.py), who sees all three companies.
VISMA_EMAIL = "demo@visma.example"
VISMA_PASSWORD = "demo"
COMPANY = "Fjordkafé AS"


def recent_settlements(location: Location, *, days: int = 3) -> list[Settlement]:
    """One balanced café day per register and day, for the `days` days before today (Oslo):
    every one of them is due for the transfer. Generated like `seed_demo` does and taken in
    through the same parser and service as the tills' API."""
    today = dt.datetime.now(OSLO).date()
    settlements = []
    for offset in range(1, days + 1):
        body = demo_settlement(location.code, "KASSE-1", today - dt.timedelta(days=offset), 0)
        result = ingest_settlement(location=location, data=parse_settlement(body))
        assert result.outcome == "created"
        assert status_of(result.settlement).state == SettlementExport.State.PENDING, (
            "a demo day balances"
        )
        settlements.append(result.settlement)
    return settlements


def sign_in(page: Page, base_url: str, username: str, password: str) -> None:
    """Sign in from the front door; lands on the Dagsoppgjør page."""
    page.goto(f"{base_url}/")
    page.get_by_label("Brukernavn").fill(username)
    page.get_by_label("Passord").fill(password)
    page.get_by_role("button", name="Logg inn").click()
    expect(page.get_by_role("navigation", name="Hovedmeny")).to_be_visible()


def open_setup_menu(page: Page, item: str) -> None:
    """Oppsett > `item` through the main menu, as a person clicks it."""
    nav = page.get_by_role("navigation", name="Hovedmeny")
    nav.get_by_text("Oppsett", exact=True).click()
    nav.get_by_role("link", name=item).click()


def connected_status(page: Page):
    return page.locator(".visma-connected")


def sign_in_at_visma(page: Page) -> None:
    """The simulator's log-in page (Visma's look): the demo user signs in."""
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("E-mail address").fill(VISMA_EMAIL)
    page.get_by_label("Password").fill(VISMA_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def choose_company(page: Page, company: str = COMPANY) -> None:
    """We ask for prompt=select_account, so a user with several companies picks one."""
    expect(page.get_by_role("heading", name="Choose company")).to_be_visible()
    page.get_by_role("radio", name=company).check()
    page.get_by_role("button", name="Continue").click()


def expect_consent(page: Page, company: str = COMPANY) -> None:
    expect(page.get_by_role("heading", name="access?")).to_be_visible()
    expect(page.locator(".lead")).to_contain_text(company)


def expect_top_right(page: Page, locator) -> None:
    """The confirmation sits in the page's top right corner (a toast). Measured until it
    is there, for up to 5 s: on a loaded machine the first frame may be laid out before
    the stylesheet applies (seen in CI: the toast full width at the top)."""
    width = page.viewport_size["width"]
    box = None
    for _ in range(50):
        box = locator.bounding_box()
        if (
            box is not None
            and box["x"] > width / 2
            and width - (box["x"] + box["width"]) < 60
            and box["y"] < 150
        ):
            return
        page.wait_for_timeout(100)
    assert box is not None, "the toast is not shown"
    assert box["x"] > width / 2 and width - (box["x"] + box["width"]) < 60, box
    assert box["y"] < 150, box


def expect_connected(page: Page, base_url: str, company: str = COMPANY) -> None:
    """Back on the integration page: the toast at the top right says the Visma login
    worked, and above the buttons the page reads "Visma Account connected"."""
    expect(page).to_have_url(f"{base_url}{INTEGRATION_PATH}")
    toast = page.locator(".toasts .toast-success")
    expect(toast).to_have_text(f"Innlogging hos Visma lyktes. Koblet til {company}.")
    expect_top_right(page, toast)
    expect(connected_status(page)).to_have_text("Visma Account connected")
    expect(page.locator(".visma-connection .badge")).to_have_text("tilkoblet")
    expect(page.locator(".visma-connection .facts")).to_contain_text(company)
    # "Above the button": the status line comes before the connection's buttons.
    status_box = connected_status(page).bounding_box()
    button_box = page.get_by_role("button", name="Oppdater kontoplan fra Visma").bounding_box()
    assert status_box and button_box and status_box["y"] < button_box["y"]


def allow_at_visma(page: Page, company: str = COMPANY, *, sign_in: bool = True) -> None:
    """Click Connect on the integration page and say yes at Visma for `company` (signing
    in first unless the browser is still signed in there)."""
    page.get_by_role("button", name="Connect Visma eAccounting").click()
    if sign_in:
        sign_in_at_visma(page)
    choose_company(page, company)
    expect_consent(page, company)
    page.get_by_role("button", name="Yes, allow").click()
