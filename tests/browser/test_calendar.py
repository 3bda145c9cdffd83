"""Dagsoppgjør > Kalender in a real browser (issue 18.4): the admin reads the month at a
glance, goes back a month and forth again, opens the red day a register missed, marks the
register closed that day, sees the calendar and its warnings change, undoes it, and opens
a settlement from its cell. On the suite's clock: today is Saturday 28.11.2026."""

from datetime import date

import pytest
from playwright.sync_api import expect

from tests.conftest import set_transfer
from tests.register_days import send, send_days, span

from .steps import sign_in

pytestmark = pytest.mark.browser


def nov(day: int) -> date:
    return date(2026, 11, day)


@pytest.fixture
def month(location, worked_example):
    """KASSE-1 every day since 15 October but Wednesday the 25th: posted up to the 20th,
    the 21st needs action, the rest wait. KASSE-2 since 1 November, Z 5020 lost."""
    sent = send_days(
        location,
        worked_example,
        span(date(2026, 10, 15), nov(27), skip=[nov(25)]),
        first_z=1001,
    )
    posted = [s for s in sent if s.business_date <= nov(20)]
    for n, settlement in enumerate(posted, start=1):
        set_transfer(settlement, "posted", voucher_number=f"A{n}")
    set_transfer(
        next(s for s in sent if s.business_date == nov(21)),
        "needs_action",
        "mapping_missing",
        "Kontoen for Mat mangler i kontooppsettet.",
    )
    for n, day in enumerate(span(nov(1), nov(27))):
        send(location, worked_example, day=day, z=5000 + n + (day >= nov(21)), register="KASSE-2")
    return posted


def test_an_admin_reads_the_calendar_and_marks_a_missed_day_closed(
    page, live_server, alice, month, shot
):
    sign_in(page, live_server.url, "alice", "pw-alice")
    nav = page.get_by_role("navigation", name="Hovedmeny")
    nav.get_by_role("link", name="Kalender").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Kalender")
    expect(page.locator(".month-title")).to_have_text("November 2026")
    warnings = page.locator(".calendar-warnings")
    expect(warnings).to_contain_text(
        "KASSE-1 i Fjordkafé Sentrum har ingen Z-rapport for 25.11.2026"
    )
    expect(warnings).to_contain_text(
        "KASSE-2 i Fjordkafé Sentrum: Z 5020 mangler (mellom 5019 og 5021)"
    )
    missed = page.get_by_label("KASSE-1 · 25.11.2026: ingen Z-rapport, men kassen ventes åpen")
    expect(missed).to_have_text("M")
    expect(page.locator(".legend")).to_contain_text("trenger handling")
    expect(page.locator(".month-summary")).to_contain_text("1 mangler")
    shot("november")

    page.get_by_role("link", name="‹ forrige").click()
    expect(page.locator(".month-title")).to_have_text("Oktober 2026")
    expect(page.locator("td.cell-posted")).to_have_count(17)  # 15 to 31 October
    shot("october")
    page.get_by_role("link", name="neste ›").click()
    expect(page.locator(".month-title")).to_have_text("November 2026")

    page.get_by_label("KASSE-1 · 25.11.2026: ingen Z-rapport, men kassen ventes åpen").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("KASSE-1 · Fjordkafé Sentrum")
    expect(page.locator("main")).to_contain_text("Onsdag 25.11.2026")
    shot("the-missed-day")
    page.get_by_label("Notat (valgfritt)").fill("Vannlekkasje, stengt hele dagen")
    page.get_by_role("button", name="Stengt denne dagen").click()

    expect(page.locator(".toast")).to_contain_text(
        "KASSE-1 i Fjordkafé Sentrum er merket stengt 25.11.2026."
    )
    expect(page.locator("main")).to_contain_text("Merket stengt denne dagen av alice")
    shot("marked-closed")

    page.get_by_role("link", name="← Kalender").click()
    closed = page.locator('tr:has(th:text-is("KASSE-1")) td[data-day="2026-11-25"]')
    expect(closed).to_have_class("cell cell-closed")
    expect(closed).to_have_text("S")
    expect(warnings).not_to_contain_text("har ingen Z-rapport")
    expect(warnings).to_contain_text("Z 5020 mangler")
    expect(page.locator(".closures")).to_contain_text("Vannlekkasje, stengt hele dagen")
    shot("closed-in-the-calendar")

    page.locator(".closures").get_by_role("button", name="Angre").click()
    expect(page.locator(".toast")).to_contain_text("er ikke lenger merket stengt 25.11.2026")
    expect(warnings).to_contain_text("har ingen Z-rapport for 25.11.2026")
    shot("undone")

    first_posted = month[-1]  # the 20th
    page.get_by_label(
        f"KASSE-1 · 20.11.2026: Z {first_posted.z_number}, overført (bilag A{len(month)})"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        f"Z-rapport {first_posted.z_number} · KASSE-1"
    )
    shot("a-settlement-from-its-cell")
