"""A correction after posting, walked in a real browser against the live server with the
Visma simulator and a real Celery worker: the admin transfers a settlement (bilag A1),
uploads the corrected settlement with "Korriger", transfers the correction, and reads the
chain on the page: A1 → the reversal A2 ("Korrigering av bilag A1") → the corrected A3.

Every step leaves a screenshot in screenshots/test_an_admin_corrects_a_settlement_.../."""

from __future__ import annotations

import copy
import json

import pytest
from playwright.sync_api import expect

from accounting.services import import_mapping
from settlements.parsing import parse_settlement
from settlements.services import ingest_settlement
from tests.simulator import connect
from visma_sandbox import services as sandbox
from visma_sandbox.models import SandboxVoucher

from .steps import sign_in

pytestmark = pytest.mark.browser


def test_an_admin_corrects_a_settlement_that_is_already_in_visma(
    page, live_server, simulator, worker, alice, org, location, worked_example, shot, tmp_path
):
    base = live_server.url
    connect(org, user=alice, env=simulator)
    import_mapping(organization=org, data=worked_example["mapping"])
    settlement = ingest_settlement(
        location=location, data=parse_settlement(worked_example["settlement"])
    ).settlement
    vouchers = SandboxVoucher.objects.filter(company=sandbox.get_company("Fjordkafé AS"))

    # 1. Alice opens the settlement and sends it to Visma: bilag A1.
    sign_in(page, base, "alice", "pw-alice")
    page.goto(f"{base}/dagsoppgjor/{settlement.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Z-rapport 1042 · KASSE-1")
    shot("settlement-waiting")
    page.locator(".visma-panel").get_by_role("button", name="Overfør nå").click()
    expect(page.locator(".visma-voucher-number")).to_have_text("A1", timeout=60_000)
    expect(page.locator(".state-card .badge")).to_have_text("overført")
    shot("settlement-posted-A1")

    # 2. The till's figures were wrong: 10 kr were cash, not card. Alice uploads the
    # corrected settlement (the till's JSON) with "Korriger".
    fixed = copy.deepcopy(worked_example["settlement"])
    fixed["payments"][0]["amount"] = "2460.00"
    fixed["payments"][1]["amount"] = "6089.60"
    fixed["cash_count"]["counted"] = "4440.00"
    upload = tmp_path / "z1042-rettet.json"
    upload.write_text(json.dumps(fixed), encoding="utf-8")
    page.locator("#korriger summary").click()  # "Last opp rettet oppgjør"
    page.get_by_label("Rettet oppgjør (JSON-fil)").set_input_files(str(upload))
    shot("korriger-file-chosen")
    page.locator(".correction-form").get_by_role("button", name="Korriger").click()

    toast = page.locator(".toasts .toast-success")
    expect(toast).to_contain_text("Korrigeringen er lagret som versjon 2.")
    expect(page.locator(".correction-note")).to_contain_text(
        "Versjon 2: korrigerer versjon 1 av samme Z-rapport."
    )
    chain = page.locator("#korrigering .chain > li")
    expect(chain).to_have_count(3)
    expect(chain.nth(0)).to_contain_text("Opprinnelig bilag (versjon 1)")
    expect(chain.nth(0)).to_contain_text("A1")
    expect(chain.nth(1)).to_contain_text("Motpostering (korrigering av bilag A1)")
    expect(chain.nth(1)).to_contain_text("venter")
    expect(chain.nth(2)).to_contain_text("Korrigert bilag (versjon 2)")
    shot("correction-stored-chain-waiting")
    assert vouchers.count() == 1  # nothing is edited, nothing sent yet

    # 3. Alice transfers the correction: the reversal and the corrected voucher go.
    page.locator(".visma-panel").get_by_role("button", name="Overfør nå").click()
    expect(page.locator(".visma-voucher-number")).to_have_text("A3", timeout=60_000)
    expect(chain.nth(1)).to_contain_text("A2")
    expect(chain.nth(1)).to_contain_text("overført")
    expect(chain.nth(2)).to_contain_text("A3")
    page.locator("#korrigering").scroll_into_view_if_needed()
    shot("chain-A1-A2-A3")
    assert worker.poll() is None, "the Celery worker died"
    texts = list(vouchers.order_by("number").values_list("voucher_text", flat=True))
    assert len(texts) == 3
    assert texts[1].startswith("Korrigering av bilag A1")

    # 4. The first version's page keeps what the till sent first, and says it is corrected.
    chain.nth(0).get_by_role("link").click()
    expect(page.locator(".correction-note.superseded")).to_contain_text(
        "Korrigert: erstattet av versjon 2"
    )
    expect(page.locator(".visma-voucher-number")).to_have_text("A1")
    expect(page.locator("#korriger")).to_have_count(0)
    shot("first-version-corrected")
