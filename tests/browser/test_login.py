"""Signing in, the menu, the language switch and a wrong password, in a real browser."""

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def sign_in(page: Page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Brukernavn").fill(username)
    page.get_by_label("Passord").fill(password)
    page.get_by_role("button", name="Logg inn").click()


def test_it_signs_in_and_shows_the_menu_in_norwegian_then_english(page, live_server, alice, shot):
    page.goto(f"{live_server.url}/dagsoppgjor/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/dagsoppgjor/$"))
    expect(page.get_by_role("heading", name="Logg inn")).to_be_visible()
    shot("login")

    page.get_by_label("Brukernavn").fill("alice")
    page.get_by_label("Passord").fill("pw-alice")
    page.get_by_role("button", name="Logg inn").click()

    expect(page).to_have_url(f"{live_server.url}/dagsoppgjor/")
    nav = page.get_by_role("navigation", name="Hovedmeny")
    expect(nav.get_by_role("link", name="Dagsoppgjør")).to_be_visible()
    expect(page.locator(".who")).to_contain_text("Fjordkafé AS")
    nav.get_by_text("Oppsett", exact=True).click()
    expect(nav.get_by_role("link", name="Integrasjoner")).to_have_attribute(
        "href", "/oppsett/integrasjoner/visma-eaccounting/"
    )
    expect(nav.get_by_role("link", name="Kontooppsett")).to_have_attribute(
        "href", "/oppsett/kontooppsett/"
    )
    shot("menu-norwegian")

    # The footer's language buttons (named by Django's catalogue, "Engelsk" in Norwegian).
    page.locator("footer button[name=language][value=en]").click()

    expect(page).to_have_url(f"{live_server.url}/dagsoppgjor/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    nav = page.get_by_role("navigation", name="Main menu")
    expect(nav.get_by_role("link", name="Daily settlements")).to_be_visible()
    nav.get_by_text("Settings", exact=True).click()
    expect(nav.get_by_role("link", name="Integrations")).to_be_visible()
    expect(nav.get_by_role("link", name="Account mapping")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    shot("menu-english")


def test_it_refuses_a_wrong_password_in_norwegian(page, live_server, alice, shot):
    sign_in(page, live_server.url, "alice", "not-her-password")

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_text("Feil e-post/brukernavn eller passord. Prøv igjen.")).to_be_visible()
    expect(page.get_by_label("Brukernavn")).to_have_value("alice")
    expect(page.get_by_role("navigation", name="Hovedmeny")).to_have_count(0)
    shot("wrong-password")
