"""Browser hardening (issue 17, item 6): a Content-Security-Policy without unsafe-inline
(and no inline script left to need it), no-store on signed-in pages, and sessions that end
after 2 hours idle and after 12 hours in any case."""

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone

from integrations.visma.models import ExportRun, VismaConnection

PAGE = "/dagsoppgjor/"
INTEGRATION = "/oppsett/integrasjoner/visma-eaccounting/"

pytestmark = pytest.mark.django_db


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_every_page_sends_a_policy_without_unsafe_inline(client, alice):
    client.force_login(alice)

    for url in (PAGE, INTEGRATION, "/accounts/login/", "/api/v1/schema/settlement.json"):
        directives = policy(client.get(url))
        assert directives["script-src"] == ["'self'"], url
        assert directives["style-src"] == ["'self'"], url
        assert directives["frame-ancestors"] == ["'none'"]
        assert "'unsafe-inline'" not in str(directives)


def test_the_transfer_progress_needs_no_inline_script(client, alice, org):
    VismaConnection.objects.create(organization=org, status=VismaConnection.Status.CONNECTED)
    ExportRun.objects.create(organization=org, trigger=ExportRun.Trigger.MANUAL)
    client.force_login(alice)

    page = client.get(INTEGRATION).content.decode()

    assert 'class="transfer-progress"' in page
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert '<script src="/static/js/transfer-progress.js" defer></script>' in page
    assert re.findall(r'\sstyle="', page) == []


def test_signed_in_pages_are_not_stored(client, alice):
    client.force_login(alice)

    for url in (PAGE, INTEGRATION, "/oppsett/kontooppsett/"):
        assert "no-store" in client.get(url)["Cache-Control"], url


def test_a_session_ends_after_two_hours_idle(client, alice):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(alice)
        assert client.get(PAGE).status_code == 200
    with time_machine.travel(start + dt.timedelta(hours=1, minutes=59), tick=False):
        assert client.get(PAGE).status_code == 200  # and that renews the two hours
    with time_machine.travel(start + dt.timedelta(hours=3, minutes=50), tick=False):
        assert client.get(PAGE).status_code == 200
    with time_machine.travel(start + dt.timedelta(hours=5, minutes=51), tick=False):
        response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_session_ends_after_twelve_hours_however_busy(client, alice):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.post("/accounts/login/", {"username": "alice", "password": "pw-alice"})
    for hour in range(1, 12):
        with time_machine.travel(start + dt.timedelta(hours=hour), tick=False):
            assert client.get(PAGE).status_code == 200, hour
    with time_machine.travel(start + dt.timedelta(hours=12, minutes=1), tick=False):
        response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
