"""Corrections after posting, against the simulator over real HTTP: a settlement already in
Visma is corrected by a reversal (every row on the other side, "Korrigering av bilag A1 …")
and a new voucher, each exactly once, never an edit; the settlement's page shows the chain."""

from __future__ import annotations

import copy
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.visma import client, transfer
from integrations.visma.models import Problem, Reversal, SettlementExport
from settlements.models import Settlement
from settlements.parsing import parse_settlement
from settlements.services import ingest_settlement
from tests.clock import TODAY, days_ago
from tests.conftest import status_of
from visma_sandbox import services as sandbox
from visma_sandbox.models import SandboxAccount

from .conftest import vouchers_in

pytestmark = pytest.mark.django_db(transaction=True)

State = SettlementExport.State


def corrected_body(body: dict) -> dict:
    """The worked example with 10 kr moved from card to cash: it still balances."""
    fixed = copy.deepcopy(body)
    fixed["payments"][0]["amount"] = "2460.00"  # cash
    fixed["payments"][1]["amount"] = "6089.60"  # card
    fixed["cash_count"]["counted"] = "4440.00"
    fixed["correction"] = True
    return fixed


def correct(location, body: dict) -> Settlement:
    result = ingest_settlement(location=location, data=parse_settlement(corrected_body(body)))
    assert result.outcome == "correction"
    return result.settlement


def run(org):
    return transfer.export_organization(organization=org)


def rows_of(voucher) -> Counter:
    return Counter(
        (row.account_number, row.debit, row.credit, row.vat_code.code if row.vat_code else None)
        for row in voucher.rows.select_related("vat_code")
    )


def mirrored(rows: Counter) -> Counter:
    return Counter(
        {(account, credit, debit, vat): n for (account, debit, credit, vat), n in rows.items()}
    )


def test_it_reverses_the_posted_voucher_and_posts_the_corrected_one_exactly_once(
    org, location, connect, mapped, ingest, worked_example, alice, client
):
    connect(org)
    original = ingest(worked_example["settlement"])
    run(org)
    [first] = vouchers_in()
    assert status_of(original).voucher_number == "A1"

    corrected = correct(location, worked_example["settlement"])
    result = run(org)

    assert [o.result for o in result.outcomes] == ["posted"]
    assert vouchers_in().count() == 3
    reversal_voucher = vouchers_in().get(number=2)
    new = vouchers_in().get(number=3)
    # The reversal: the original's rows on the other side, its text naming the original.
    assert rows_of(reversal_voucher) == mirrored(rows_of(first))
    assert reversal_voucher.voucher_text.startswith(
        "Korrigering av bilag A1: Dagsoppgjør 27.11.2026"
    )
    assert reversal_voucher.voucher_text.endswith(f"[BO-{original.pk}-K]")
    assert f"[BO-{original.pk}]" not in reversal_voucher.voucher_text
    assert reversal_voucher.voucher_date == first.voucher_date
    # The corrected voucher: the new figures, its own reference, saying what it replaces.
    assert new.voucher_text.endswith(f"(korrigert, erstatter bilag A1) [BO-{corrected.pk}]")
    assert new.voucher_date == days_ago(1)
    cash = {row.account_number: row.debit for row in new.rows.all() if row.debit}
    assert cash[1900] == first.rows.get(account_number=1900, debit__gt=0).debit + 10
    # Recorded: the reversal with its number, the corrected as posted.
    reversal = Reversal.objects.get(settlement=original)
    assert (reversal.state, reversal.voucher_number) == (State.POSTED, "A2")
    assert not reversal.in_doubt and not reversal.found_by_search
    assert status_of(corrected).voucher_number == "A3"
    assert status_of(original).voucher_number == "A1"  # the original stays as it was
    # ... and exactly once: another run sends nothing.
    run(org)
    assert vouchers_in().count() == 3

    # The chain on the page of either version, with the voucher numbers in order.
    client.force_login(alice)
    page = client.get(f"/dagsoppgjor/{corrected.pk}/").content.decode()
    chain = page[page.index('id="korrigering"') :]
    assert chain.index("Opprinnelig bilag") < chain.index("Motpostering (korrigering av bilag A1)")
    assert chain.index("A1") < chain.index("A2") < chain.index("A3")
    assert "Korrigert bilag (versjon 2)" in chain
    old_page = client.get(f"/dagsoppgjor/{original.pk}/").content.decode()
    assert "Korrigert: erstattet av versjon 2" in old_page
    assert 'id="korrigering"' in old_page


def test_a_correction_before_the_first_transfer_posts_the_original_first(
    org, location, connect, mapped, ingest, worked_example
):
    connect(org)
    original = ingest(worked_example["settlement"])
    corrected = correct(location, worked_example["settlement"])

    result = run(org)

    assert [(o.settlement.pk, o.result) for o in result.outcomes] == [
        (original.pk, "posted"),
        (corrected.pk, "posted"),
    ]
    texts = [v.voucher_text for v in vouchers_in().order_by("number")]
    assert [t.split(":")[0].split(" ")[0] for t in texts] == [
        "Dagsoppgjør",
        "Korrigering",
        "Dagsoppgjør",
    ]
    assert status_of(corrected).voucher_number == "A3"


def test_the_corrected_one_waits_while_the_original_is_not_in_visma(
    org, location, connect, mapped, ingest, worked_example
):
    connect(org)
    original = ingest(worked_example["settlement"])
    corrected = correct(location, worked_example["settlement"])

    # Only the correction is tried (as "Overfør nå" on its page would): nothing goes.
    result = transfer.export_organization(organization=org, settlement_ids=[corrected.pk])

    assert [o.result for o in result.outcomes] == ["waiting"]
    assert vouchers_in().count() == 0
    status = status_of(corrected)
    assert status.state == State.PENDING
    assert "Venter på at versjon 1 av oppgjøret blir overført" in status.reason
    assert status_of(original).state == State.PENDING


def test_a_locked_period_moves_the_reversal_and_the_corrected_voucher_to_the_first_open_day(
    org, location, connect, mapped, ingest, worked_example, alice, client
):
    connect(org)
    original = ingest(worked_example["settlement"])
    run(org)
    # The accountant locks the books to the settlement's day after it went to Visma.
    sandbox.set_accounting_locked_to("Fjordkafé AS", days_ago(1))
    corrected = correct(location, worked_example["settlement"])

    run(org)

    reversal_voucher, new = vouchers_in().get(number=2), vouchers_in().get(number=3)
    assert reversal_voucher.voucher_date == TODAY  # the first open day
    assert new.voucher_date == TODAY
    reversal = Reversal.objects.get(settlement=original)
    assert (reversal.date_moved, reversal.locked_to) == (True, days_ago(1))
    assert status_of(corrected).state == State.POSTED

    client.force_login(alice)
    page = client.get(f"/dagsoppgjor/{corrected.pk}/").content.decode()
    assert (
        "Datert 28.11.2026 og ikke 27.11.2026: perioden er låst i Visma (til og med "
        "27.11.2026), så første åpne dato er brukt." in page
    )
    assert "Datert 28.11.2026: perioden for 27.11.2026 er låst i Visma" in page


def test_a_lost_answer_on_the_reversal_is_found_not_posted_again(
    org, location, connect, mapped, ingest, worked_example
):
    connect(org)
    original = ingest(worked_example["settlement"])
    run(org)
    corrected = correct(location, worked_example["settlement"])
    sandbox.set_fault(lose_after_store=1)  # the reversal is stored, its answer lost

    result = run(org)

    assert [o.result for o in result.outcomes] == ["uncertain"]
    assert vouchers_in().count() == 2  # Visma has the reversal; we could not know
    reversal = Reversal.objects.get(settlement=original)
    assert (reversal.state, reversal.in_doubt) == (State.UNCERTAIN, True)
    status = status_of(corrected)
    assert status.state == State.FAILED
    assert status.reason.startswith("Motposteringen av bilag A1: Usikkert om Visma tok imot")

    result = run(org)

    assert [o.result for o in result.outcomes] == ["posted"]
    assert vouchers_in().count() == 3
    assert vouchers_in().filter(voucher_text__contains=f"[BO-{original.pk}-K]").count() == 1
    reversal.refresh_from_db()
    assert (reversal.state, reversal.found_by_search, reversal.voucher_number) == (
        State.POSTED,
        True,
        "A2",
    )
    attempts = list(corrected.visma_attempts.values_list("message", flat=True))
    assert "Motpostering funnet i Visma som bilag A2 (ikke sendt på nytt)" in attempts


def test_nothing_is_reversed_when_the_corrected_voucher_could_not_follow(
    org, location, connect, mapped, ingest, worked_example
):
    connect(org)
    ingest(worked_example["settlement"])
    run(org)
    # The card account is made inactive in Visma: the corrected voucher would be refused.
    SandboxAccount.objects.filter(company=sandbox.get_company("Fjordkafé AS"), number=1901).update(
        is_active=False
    )
    corrected = correct(location, worked_example["settlement"])

    result = run(org)

    assert [o.result for o in result.outcomes] == ["needs_action"]
    assert vouchers_in().count() == 1  # no reversal without its corrected voucher
    assert not Reversal.objects.filter(state=State.POSTED).exists()
    assert "Konto 1901 er inaktiv i Visma" in status_of(corrected).reason


def test_a_refused_reversal_holds_the_corrected_one_with_the_reason(
    org, location, connect, mapped, ingest, worked_example, monkeypatch
):
    connect(org)
    original = ingest(worked_example["settlement"])
    run(org)
    corrected = correct(location, worked_example["settlement"])
    real = client.create_voucher

    def refuse_reversals(token, payload, **kwargs):
        if payload["VoucherText"].startswith("Korrigering"):
            raise client.ValidationError(2000, "The voucher is not valid: for the test")
        return real(token, payload, **kwargs)

    monkeypatch.setattr(client, "create_voucher", refuse_reversals)

    result = run(org)

    assert [(o.result, o.problem) for o in result.outcomes] == [("needs_action", Problem.REJECTED)]
    assert vouchers_in().count() == 1
    reason = status_of(corrected).reason
    assert reason.startswith("Motposteringen av bilag A1: Visma avviste motposteringen")
    assert Reversal.objects.get(settlement=original).in_doubt is False

    monkeypatch.setattr(client, "create_voucher", real)
    run(org)  # healed by itself on the next run
    assert vouchers_in().count() == 3
    assert status_of(corrected).state == State.POSTED


def test_a_dry_run_reverses_nothing(org, location, connect, mapped, ingest, worked_example):
    connect(org)
    ingest(worked_example["settlement"])
    run(org)
    corrected = correct(location, worked_example["settlement"])

    result = transfer.export_organization(organization=org, dry_run=True)

    assert [o.result for o in result.outcomes] == ["would_post"]
    assert vouchers_in().count() == 1
    assert not Reversal.objects.exists()
    assert status_of(corrected).state == State.PENDING


def test_a_second_correction_reverses_the_first_correction(
    org, location, connect, mapped, ingest, worked_example
):
    connect(org)
    original = ingest(worked_example["settlement"])
    run(org)
    second = correct(location, worked_example["settlement"])
    run(org)
    third_body = corrected_body(worked_example["settlement"])
    third_body["tips"] = "160.00"
    third_body["payments"][1]["amount"] = "6099.60"  # card back, 10 kr more tips
    third = ingest_settlement(location=location, data=parse_settlement(third_body)).settlement
    assert (third.version, third.corrects_id) == (3, second.pk)

    run(org)

    assert vouchers_in().count() == 5
    assert Reversal.objects.get(settlement=second).voucher_number == "A4"
    assert vouchers_in().get(number=4).voucher_text.startswith("Korrigering av bilag A3")
    assert status_of(third).voucher_number == "A5"
    assert Reversal.objects.get(settlement=original).voucher_number == "A2"


def test_a_company_change_waits_for_a_reversal_in_doubt(
    org, location, connect, mapped, ingest, worked_example
):
    from integrations.visma import services

    connect(org)
    ingest(worked_example["settlement"])
    run(org)
    correct(location, worked_example["settlement"])
    sandbox.set_fault(lose_after_store=1)
    run(org)

    assert services.uncertain_in_old_company(org) == 1


def test_a_recently_timed_out_reversal_is_not_searched_for_yet(
    org, location, connect, mapped, ingest, worked_example
):
    connect(org)
    original = ingest(worked_example["settlement"])
    run(org)
    corrected = correct(location, worked_example["settlement"])
    Reversal.objects.create(
        settlement=original,
        state=State.UNCERTAIN,
        problem_code=Problem.IN_FLIGHT,
        in_doubt=True,
        voucher_date=days_ago(1),
        updated_at=timezone.now() - timedelta(seconds=1),
    )

    result = run(org)

    assert [o.result for o in result.outcomes] == ["uncertain"]
    assert vouchers_in().count() == 1
    assert status_of(corrected).state == State.FAILED


def test_a_day_without_takings_has_nothing_to_reverse(org, location, connect, mapped, ingest):
    connect(org)
    empty = {
        "register_id": "KASSE-9",
        "z_number": 7,
        "business_date": days_ago(1).isoformat(),
        "sales": [],
        "payments": [],
    }
    original = ingest(empty)
    run(org)
    assert status_of(original).state == State.POSTED and vouchers_in().count() == 0
    sale = {
        **empty,
        "sales": [{"product_group": "Mat", "vat_rate": "15", "gross_amount": "115.00"}],
        "payments": [{"method": "cash", "amount": "115.00"}],
        "correction": True,
    }
    corrected = ingest_settlement(location=location, data=parse_settlement(sale)).settlement

    run(org)

    [voucher] = vouchers_in()  # no reversal: Visma had nothing of the first version
    assert voucher.voucher_text.endswith(f"[BO-{corrected.pk}]")
    assert not Reversal.objects.exists()
    assert status_of(corrected).state == State.POSTED
