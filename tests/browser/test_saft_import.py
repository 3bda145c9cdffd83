"""Dagsoppgjør > Importer SAF-T in a real browser with the real Celery worker: the admin
uploads two files, the page follows the worker's reading, the report names every Z report,
and a report line leads to its settlement's page."""

import pytest
from playwright.sync_api import expect

from bench.saft_file import generate
from settlements.models import Settlement
from tests.clock import days_ago
from tests.saft.conftest import EXAMPLE, REGISTER

from .steps import sign_in

pytestmark = pytest.mark.browser


def test_an_admin_uploads_saft_files_and_reads_the_report(
    page, live_server, worker, alice, location, shot, tmp_path
):
    # Big enough (a few MB, 2 months of one till) that the worker takes a moment.
    year = generate(tmp_path / "kasse-2.xml", registers=1, days=60, per_day=50, start=days_ago(61))
    base = live_server.url
    sign_in(page, base, "alice", "pw-alice")
    page.get_by_role("link", name="Importer SAF-T").click()
    expect(page.get_by_role("heading", name="Importer SAF-T")).to_be_visible()
    page.get_by_label("Butikk").select_option(label="Fjordkafé Sentrum")
    page.get_by_label("SAF-T-filer (XML)").set_input_files([str(EXAMPLE), str(year)])
    shot("chosen")

    page.get_by_role("button", name="Importer").click()

    expect(page.locator(".saft-progress progress")).to_be_visible()
    shot("progress")
    report = page.locator("table.saft-report")
    expect(report).to_have_count(2, timeout=60_000)
    shot("report")
    assert worker.poll() is None, "the Celery worker died"
    example_rows = report.nth(0).locator("tbody tr")
    expect(example_rows).to_have_count(1)
    expect(example_rows.first).to_contain_text(REGISTER)
    expect(example_rows.first).to_contain_text("lagret")
    expect(report.nth(1).locator("tbody tr")).to_have_count(60)
    expect(report.nth(1)).not_to_contain_text("trenger handling")
    assert Settlement.objects.count() == 61

    example_rows.first.get_by_role("link", name="1").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Z-rapport 1 · {REGISTER}")
    expect(page.locator("main")).to_contain_text(REGISTER)
    shot("settlement")
