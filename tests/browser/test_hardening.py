"""Issue 17 in a real browser: the sign-in lock-out a person sees, the pages under the
Content-Security-Policy without a single violation (the transfer progress still follows
its run with its script from a file), the Butikker key shown once, the audit log and the
two-factor setup."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from backoffice.models import ApiKey
from integrations.visma.models import ExportRun, VismaConnection

from .test_login import sign_in

pytestmark = pytest.mark.browser


def csp_violations(page: Page) -> list[str]:
    found: list[str] = []
    page.on(
        "console",
        lambda message: (
            found.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return found


def test_five_wrong_passwords_lock_the_sign_in(page, live_server, alice, shot):
    for attempt in range(1, 6):
        sign_in(page, live_server.url, "alice", f"wrong-{attempt}")
    expect(page.get_by_role("heading", name="For mange mislykkede innlogginger")).to_be_visible()
    expect(page.locator(".locked-out")).to_contain_text(
        re.compile(r"Prøv igjen etter kl\. \d\d:\d\d")
    )
    shot("locked-out")

    # The right password does not help while the lock lasts.
    sign_in(page, live_server.url, "alice", "pw-alice")
    expect(page.get_by_role("heading", name="For mange mislykkede innlogginger")).to_be_visible()


def test_the_pages_break_no_rule_of_the_policy(page, live_server, alice, org, location, shot):
    violations = csp_violations(page)
    VismaConnection.objects.create(organization=org, status=VismaConnection.Status.CONNECTED)
    run = ExportRun.objects.create(organization=org, trigger=ExportRun.Trigger.MANUAL)
    ApiKey.issue(location)
    sign_in(page, live_server.url, "alice", "pw-alice")
    expect(page).to_have_url(f"{live_server.url}/dagsoppgjor/")

    page.goto(f"{live_server.url}/oppsett/integrasjoner/visma-eaccounting/")
    expect(page.locator(".transfer-progress-label")).to_have_text("I kø")
    shot("transfer-queued")
    # The script (a static file now) polls and reloads the page once the run is done.
    ExportRun.objects.filter(pk=run.pk).update(
        status=ExportRun.Status.DONE, finished_at=timezone.now(), summary={"posted": 0}
    )
    expect(page.locator(".transfer-progress")).to_have_count(0, timeout=10_000)

    page.goto(f"{live_server.url}/oppsett/butikker/")
    page.get_by_role("button", name="Lag ny nøkkel").click()
    expect(page.locator(".new-key")).to_contain_text("vises bare denne ene gangen")
    key = page.locator("code.api-key").inner_text()
    assert key.startswith("bo_")
    shot("stores-new-key")

    page.goto(f"{live_server.url}/oppsett/logg/")
    expect(page.locator("table.audit-log")).to_contain_text("API-nøkkel laget")
    shot("audit-log")

    page.goto(f"{live_server.url}/konto/tofaktor/")
    expect(page.locator(".qr svg")).to_be_visible()
    shot("two-factor-setup")

    page.goto(f"{live_server.url}/oppsett/kontooppsett/")
    expect(page.get_by_role("heading", name="Kontooppsett")).to_be_visible()

    assert violations == []
