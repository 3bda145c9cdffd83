"""The company's chart as Visma keeps it, against the simulator over real HTTP: a chart per
fiscal year (a December settlement posted in January meets December's), and the accounts'
rules for manual vouchers (blocked for manual booking, a mandatory first cost centre, no
row text allowed)."""

from datetime import date, datetime

import pytest
from django.test import Client

from integrations.visma import transfer
from integrations.visma.models import Problem, SettlementExport
from tests import clock
from tests.clock import TODAY
from tests.conftest import status_of
from visma_sandbox import services as sandbox

from .conftest import vouchers_in

pytestmark = pytest.mark.django_db(transaction=True)

State = SettlementExport.State
FJORDKAFE = "Fjordkafé AS"
# The worked example books Vipps on 1902 and its cash difference on 1909.
VIPPS, CASH_DIFFERENCE, CASH = 1902, 1909, 1900


def test_it_refuses_a_voucher_on_a_blocked_account_naming_it_and_heals_when_unblocked(
    org, connect, mapped, ingest, worked_example
):
    sandbox.set_account(FJORDKAFE, VIPPS, blocked_for_manual_booking=True)
    connect(org)
    settlement = ingest(worked_example["settlement"])

    result = transfer.export_organization(organization=org)

    assert [o.result for o in result.outcomes] == ["needs_action"]
    status = status_of(settlement)
    assert (status.state, status.problem) == (State.NEEDS_ACTION, Problem.ACCOUNT_BLOCKED)
    assert "Konto 1902 er sperret for manuell bokføring i Visma" in status.reason
    assert "Velg en annen konto i Oppsett > Kontooppsett" in status.reason
    assert "fjern sperren for manuell bokføring på konto 1902" in status.reason
    assert vouchers_in().count() == 0  # nothing was sent for Visma to refuse

    sandbox.set_account(FJORDKAFE, VIPPS, blocked_for_manual_booking=False)
    result = transfer.export_organization(organization=org)

    assert [o.result for o in result.outcomes] == ["posted"]
    assert vouchers_in().count() == 1


def test_it_refuses_a_voucher_on_an_account_that_needs_a_cost_centre(
    org, connect, mapped, ingest, worked_example
):
    sandbox.set_account(FJORDKAFE, CASH_DIFFERENCE, first_cost_center_mandatory=True)
    connect(org)
    settlement = ingest(worked_example["settlement"])

    transfer.export_organization(organization=org)

    status = status_of(settlement)
    assert status.problem == Problem.ACCOUNT_BLOCKED
    assert "Konto 1909 krever kostnadssted i Visma" in status.reason
    assert "slå av kravet om kostnadssted på konto 1909" in status.reason
    assert vouchers_in().count() == 0


def test_it_leaves_out_the_row_texts_an_account_does_not_allow(
    org, connect, mapped, ingest, worked_example
):
    sandbox.set_account(FJORDKAFE, CASH, allow_transaction_text=False)
    connect(org)
    settlement = ingest(worked_example["settlement"])

    result = transfer.export_organization(organization=org)

    assert [o.result for o in result.outcomes] == ["posted"]
    [voucher] = vouchers_in()
    texts = {(row.account_number, row.transaction_text) for row in voucher.rows.all()}
    assert {text for number, text in texts if number == CASH} == {None}
    assert (VIPPS, "Vipps") in texts  # the other rows keep theirs
    assert f"[{settlement.reference}]" in voucher.voucher_text  # and the voucher its own
    payload = SettlementExport.objects.get(settlement=settlement).payload
    assert all(
        "TransactionText" not in row for row in payload["Rows"] if row["AccountNumber"] == CASH
    )


def _new_years_day() -> datetime:
    return datetime(TODAY.year + 1, 1, 2, 12, 0, tzinfo=clock.OSLO)


def test_it_checks_a_december_settlement_posted_in_january_against_decembers_chart(
    org, alice, connect, mapped, ingest, worked_example
):
    december = date(TODAY.year, 12, 31)
    # Vipps is blocked in this year's chart only; next year's (January's) has it open.
    sandbox.set_account(FJORDKAFE, VIPPS, year=TODAY.year, blocked_for_manual_booking=True)
    with clock.travel(_new_years_day()):
        connect(org)
        settlement = ingest(dict(worked_example["settlement"], business_date=december.isoformat()))

        transfer.export_organization(organization=org)

        assert status_of(settlement).problem == Problem.ACCOUNT_BLOCKED
        assert "Konto 1902 er sperret" in status_of(settlement).reason

        # Now the other way round: open in December's chart, inactive in January's.
        sandbox.set_account(FJORDKAFE, VIPPS, year=TODAY.year, blocked_for_manual_booking=False)
        sandbox.set_account(FJORDKAFE, VIPPS, year=TODAY.year + 1, is_active=False)
        result = transfer.export_organization(organization=org)

        assert [o.result for o in result.outcomes] == ["posted"]
        [voucher] = vouchers_in()
        assert voucher.voucher_date == december
        # The kontooppsett is about the days to come: it shows January's chart.
        page = _kontooppsett(alice)
        assert '<option value="1902">' not in page  # inactive this year


def _kontooppsett(user) -> str:
    admin = Client()
    admin.force_login(user)
    return admin.get("/oppsett/kontooppsett/").content.decode()


def test_it_warns_on_the_kontooppsett_when_a_chosen_account_is_blocked(org, alice, connect, mapped):
    sandbox.set_account(FJORDKAFE, VIPPS, blocked_for_manual_booking=True)
    connect(org)

    page = _kontooppsett(alice)

    assert (
        "Konto 1902 er sperret for manuell bokføring i Visma eAccounting, så dagsoppgjør "
        "som føres på den, blir ikke overført." in page
    )
    assert page.count("er sperret for manuell bokføring") == 1  # next to its row only
    assert "Kontooppsettet har feil" not in page  # a warning, not an error: it saves
