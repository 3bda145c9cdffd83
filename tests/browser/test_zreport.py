"""The Z-report that travels with its voucher (issue 18, item 1), as a shop owner sees it:
the switch on the integration page, the settlement's page saying the PDF waits after a
failed upload and then that it is attached to the voucher, the same PDF downloaded from
there, and the simulator showing it on the voucher."""

import io

import pypdf
import pytest
from playwright.sync_api import expect

from accounting.services import import_mapping
from integrations.visma import transfer
from settlements.parsing import parse_settlement
from settlements.services import ingest_settlement
from tests.simulator import connect
from visma_sandbox import services as sandbox
from visma_sandbox.models import SandboxAttachment

from .steps import open_setup_menu, sign_in

pytestmark = pytest.mark.browser


def test_the_z_report_goes_with_its_voucher_and_downloads_from_the_page(
    page, live_server, simulator, alice, org, location, worked_example, shot
):
    import_mapping(organization=org, data=worked_example["mapping"])
    connect(org, user=alice, env=simulator)
    settlement = ingest_settlement(
        location=location, data=parse_settlement(worked_example["settlement"])
    ).settlement
    sandbox.set_fault(fail_attachment_upload=1)  # the first upload fails
    transfer.export_organization(organization=org)
    base = live_server.url

    sign_in(page, base, "alice", "pw-alice")
    open_setup_menu(page, "Integrasjoner")
    switch = page.get_by_label("Legg ved Z-rapport som PDF")
    expect(switch).to_be_checked()
    switch.scroll_into_view_if_needed()
    shot("integration-page-switch")

    page.goto(f"{base}/dagsoppgjor/{settlement.pk}/")
    panel = page.locator("#visma")
    # The voucher went all the same; its PDF waits for the next run.
    expect(panel.get_by_text("Vedlegg venter, prøves igjen")).to_be_visible()
    expect(panel.get_by_text("Bilaget er overført; Z-rapporten prøves igjen")).to_be_visible()
    panel.scroll_into_view_if_needed()
    shot("settlement-page-attachment-waiting")

    transfer.export_organization(organization=org)  # the next run
    page.reload()
    expect(panel.get_by_text("Z-rapport vedlagt")).to_be_visible()
    expect(panel.get_by_text("Z-rapporten (PDF) er lagt ved bilag A1 i Visma")).to_be_visible()
    shot("settlement-page")

    with page.expect_download() as download:
        page.get_by_role("link", name="Last ned Z-rapport (PDF)").first.click()
    pdf = download.value.path().read_bytes()
    assert download.value.suggested_filename == (
        f"Z-rapport_BO-{settlement.pk}_KASSE-1_Z1042_2026-11-27.pdf"
    )
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) == 1
    # The very file Visma holds on the voucher.
    assert bytes(SandboxAttachment.objects.get().data) == pdf

    page.goto(f"{base}/visma-sandbox/")
    voucher = page.get_by_role("article", name="Voucher A1")
    expect(voucher.get_by_role("link", name=download.value.suggested_filename)).to_be_visible()
    shot("simulator-voucher-with-attachment")
