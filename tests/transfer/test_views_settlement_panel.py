"""The Visma section of /dagsoppgjor/<id>/: the posted voucher, the attempts, and
"Overfør nå" / "Prøv igjen" for admins (dagsoppgjor/<id>/overfor/)."""

from __future__ import annotations

import copy
import html
import json
import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from integrations.visma import tasks
from integrations.visma.models import (
    ExportAttempt,
    ExportRun,
    SettlementExport,
    VismaConnection,
    VoucherAttachment,
)
from settlements.models import Settlement
from settlements.parsing import parse_settlement
from settlements.services import ingest_settlement
from tests.conftest import set_transfer, status_of

pytestmark = pytest.mark.django_db

State = SettlementExport.State
PAYLOAD = {
    "VoucherDate": "2026-11-27",
    "VoucherText": "Dagsoppgjør 27.11.2026 Fjordkafé Sentrum KASSE-1 Z1042 [BO-1]",
    "Rows": [
        {
            "AccountNumber": 1920,
            "DebitAmount": 6099.6,
            "CreditAmount": 0.0,
            "TransactionText": "Kort",
        },
        {
            "AccountNumber": 3000,
            "DebitAmount": 0.0,
            "CreditAmount": 4800.0,
            "TransactionText": "Klær",
        },
    ],
}


@pytest.fixture
def delays(monkeypatch) -> list[tuple]:
    calls: list[tuple] = []
    monkeypatch.setattr(tasks.export_settlement_task, "delay", lambda *a: calls.append(a))
    return calls


@pytest.fixture
def connected(org) -> VismaConnection:
    return VismaConnection.objects.create(
        organization=org, status=VismaConnection.Status.CONNECTED, company_name="Fjordkafé AS"
    )


def add(location, worked_example, *, days_ago: int = 1, z: int = 1042, **changes) -> Settlement:
    body = copy.deepcopy(worked_example["settlement"])
    day = timezone.localdate() - timedelta(days=days_ago)
    body.update(z_number=z, business_date=day.isoformat(), **changes)
    return ingest_settlement(location=location, data=parse_settlement(body)).settlement


def set_state(settlement: Settlement, state: str, **fields) -> Settlement:
    set_transfer(settlement, state, **fields)
    settlement.refresh_from_db()
    return settlement


def post(settlement: Settlement, *, number="A17", found=False) -> SettlementExport:
    set_state(
        settlement,
        State.POSTED,
        visma_voucher_id="7d1c6f2e-5b0a-4c1e-9f7e-2a9d3c1b0e11",
        voucher_number=number,
        posted_at=timezone.now(),
        found_by_search=found,
        payload=PAYLOAD,
        response={"Id": "7d1c6f2e-5b0a-4c1e-9f7e-2a9d3c1b0e11", "NumberAndNumberSeries": number},
        attempts=1,
    )
    return SettlementExport.objects.get(settlement=settlement)


def url(settlement: Settlement) -> str:
    return f"/dagsoppgjor/{settlement.pk}/overfor/"


def detail(client, settlement: Settlement, **params) -> str:
    response = client.get(f"/dagsoppgjor/{settlement.pk}/", params)
    assert response.status_code == 200
    return response.content.decode()


def panel(page: str) -> str:
    return re.search(r'<section class="card visma-panel".*?</section>', page, re.S).group(0)


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def transfer(client, settlement, capture) -> object:
    with capture(execute=True):
        return client.post(url(settlement))


# ------------------------------------------------------------------------ the button


def test_it_sends_yesterdays_settlement_now(
    client, alice, location, worked_example, connected, delays, django_capture_on_commit_callbacks
):
    settlement = add(location, worked_example)
    client.force_login(alice)

    response = transfer(client, settlement, django_capture_on_commit_callbacks)

    [run] = ExportRun.objects.all()
    assert run.organization_id == settlement.organization_id
    assert run.trigger == ExportRun.Trigger.MANUAL and run.requested_by == alice
    assert delays == [(settlement.pk, run.pk)]
    assert response.status_code == 302
    assert response["Location"] == f"/dagsoppgjor/{settlement.pk}/?run={run.pk}"
    assert texts(response) == ["Overføringen er startet."]


def test_the_page_follows_the_run_it_started(
    client, alice, location, worked_example, org, connected
):
    settlement = add(location, worked_example)
    run = ExportRun.objects.create(organization=org, trigger=ExportRun.Trigger.MANUAL)
    client.force_login(alice)

    section = panel(detail(client, settlement, run=run.pk))

    assert "I kø" in section
    assert re.search(r"<button[^>]* disabled[^>]*>Overfør nå</button>", section)
    assert f'data-status-url="/oppsett/integrasjoner/visma-eaccounting/status/?run={run.pk}"' in (
        html.unescape(section)
    )


def test_it_offers_overfor_na_on_a_waiting_settlement(
    client, alice, location, worked_example, connected
):
    settlement = add(location, worked_example)
    client.force_login(alice)

    section = panel(detail(client, settlement))

    assert f'action="{url(settlement)}"' in section
    assert re.search(r"<button class=\"primary\">Overfør nå</button>", section)
    assert "Ingen forsøk ennå." in section


@pytest.mark.parametrize("state", [State.FAILED, State.UNCERTAIN])
def test_it_offers_prov_igjen_after_a_failed_or_uncertain_try(
    client, alice, location, worked_example, connected, state
):
    settlement = set_state(add(location, worked_example), state, problem_code="transient")
    client.force_login(alice)

    section = panel(detail(client, settlement))

    assert re.search(r"<button class=\"primary\">Prøv igjen</button>", section)
    assert "Overfør nå" not in section


def test_it_offers_overfor_na_for_a_problem_the_admin_has_fixed(
    client, alice, location, worked_example, connected
):
    settlement = set_state(
        add(location, worked_example), State.NEEDS_ACTION, problem_code="account_missing"
    )
    client.force_login(alice)

    assert "Overfør nå</button>" in panel(detail(client, settlement))


def test_it_does_not_send_an_unbalanced_settlement(
    client, alice, location, worked_example, connected, delays, django_capture_on_commit_callbacks
):
    payments = copy.deepcopy(worked_example["settlement"]["payments"])
    payments[1]["amount"] = "6109.60"
    settlement = add(location, worked_example, payments=payments)
    assert status_of(settlement).problem == "unbalanced"
    client.force_login(alice)

    section = panel(detail(client, settlement))
    response = transfer(client, settlement, django_capture_on_commit_callbacks)

    assert "<button" not in section
    assert not ExportRun.objects.exists() and delays == []
    assert "går ikke i balanse" in texts(response)[0]


def test_it_does_not_send_todays_settlement_before_the_day_is_over(
    client, alice, location, worked_example, connected, delays, django_capture_on_commit_callbacks
):
    settlement = add(location, worked_example, days_ago=0)
    tomorrow = (timezone.localdate() + timedelta(days=1)).strftime("%d.%m.%Y")
    client.force_login(alice)

    section = panel(detail(client, settlement))
    response = transfer(client, settlement, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert not ExportRun.objects.exists() and delays == []
    [message] = texts(response)
    assert "fra og med dagen etter forretningsdatoen" in message and tomorrow in message
    assert "<button" not in section and tomorrow in section


def test_it_never_sends_a_posted_settlement_again(
    client, alice, location, worked_example, connected, delays, django_capture_on_commit_callbacks
):
    settlement = add(location, worked_example)
    post(settlement)
    client.force_login(alice)

    section = panel(detail(client, settlement))
    response = transfer(client, settlement, django_capture_on_commit_callbacks)

    assert "<button" not in section
    assert not ExportRun.objects.exists() and delays == []
    assert texts(response) == ["Oppgjøret er allerede overført til Visma."]


def test_it_explains_a_settlement_older_than_the_look_back(
    client, alice, location, worked_example, connected, delays, django_capture_on_commit_callbacks
):
    settlement = add(location, worked_example, days_ago=45)
    client.force_login(alice)

    response = transfer(client, settlement, django_capture_on_commit_callbacks)

    assert not ExportRun.objects.exists() and delays == []
    assert "eldre enn 30 dager" in texts(response)[0]


def test_it_asks_for_a_connection_first(
    client, alice, location, worked_example, delays, django_capture_on_commit_callbacks
):
    settlement = add(location, worked_example)
    client.force_login(alice)

    section = panel(detail(client, settlement))
    response = transfer(client, settlement, django_capture_on_commit_callbacks)

    assert re.search(r"<button[^>]* disabled[^>]*>Overfør nå</button>", section)
    assert "Koble til Visma eAccounting før du overfører." in section
    assert not ExportRun.objects.exists() and delays == []
    assert texts(response) == ["Koble til Visma eAccounting før du overfører."]


def test_staff_see_the_section_but_may_not_press(
    client, bob, location, worked_example, connected, delays
):
    settlement = add(location, worked_example)
    ExportAttempt.objects.create(
        settlement=settlement, result=ExportAttempt.Result.FAILED, message="Visma svarte 503"
    )
    client.force_login(bob)

    section = panel(detail(client, settlement))
    response = client.post(url(settlement))

    assert "Visma svarte 503" in section
    assert "<button" not in section and "<form" not in section
    assert response.status_code == 403
    assert not ExportRun.objects.exists() and delays == []


def test_another_organisations_admin_gets_not_found(
    client, charlie, location, worked_example, connected, delays
):
    settlement = add(location, worked_example)
    client.force_login(charlie)

    response = client.post(url(settlement))

    assert response.status_code == 404
    assert not ExportRun.objects.exists() and delays == []


def test_it_only_accepts_post(client, alice, location, worked_example, connected):
    settlement = add(location, worked_example)
    client.force_login(alice)

    assert client.get(url(settlement)).status_code == 405


# ------------------------------------------------------------------------ what is shown


def test_it_shows_the_posted_voucher_and_what_was_sent(client, bob, location, worked_example):
    settlement = add(location, worked_example)
    export = post(settlement, number="A17")
    client.force_login(bob)

    section = html.unescape(panel(detail(client, settlement)))

    assert '<dd class="visma-voucher-number"><strong>A17</strong></dd>' in section
    assert export.visma_voucher_id in section
    assert "funnet i Visma etter tapt svar" not in section
    pre = re.search(
        r"<summary>Det som ble sendt til Visma</summary>\s*<pre>(.*?)</pre>", section, re.S
    )
    assert json.loads(pre.group(1)) == PAYLOAD
    assert '"DebitAmount": 6099.6' in pre.group(1)  # the number as it went over the wire
    assert '\n  "Rows": [' in pre.group(1)  # pretty, one key per line
    # In the order it was built and sent, whatever order the database keeps keys in.
    assert re.findall(r'^\s*"(\w+)":', pre.group(1), re.M)[:8] == [
        "VoucherDate",
        "VoucherText",
        "Rows",
        "AccountNumber",
        "DebitAmount",
        "CreditAmount",
        "TransactionText",
        "AccountNumber",
    ]


def test_it_says_when_the_voucher_was_found_after_a_lost_answer(
    client, alice, location, worked_example
):
    settlement = add(location, worked_example)
    post(settlement, number="A18", found=True)
    client.force_login(alice)

    section = panel(detail(client, settlement))

    assert "A18" in section
    assert "funnet i Visma etter tapt svar" in section


def test_it_lists_every_attempt_newest_first_with_time_and_result(
    client, alice, location, worked_example
):
    settlement = add(location, worked_example)
    post(settlement, number="A19")
    start = timezone.now() - timedelta(hours=3)
    for offset, result, message in [
        (0, ExportAttempt.Result.UNCERTAIN, "Usikkert om Visma tok imot bilaget (504)."),
        (1, ExportAttempt.Result.FOUND, "Bilag A19"),
    ]:
        ExportAttempt.objects.create(
            settlement=settlement,
            started_at=start + timedelta(hours=offset),
            finished_at=start + timedelta(hours=offset),
            result=result,
            message=message,
        )
    client.force_login(alice)

    section = panel(detail(client, settlement))

    rows = re.findall(
        r"<tr>\s*<td class=\"visma-attempt-time\">(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>",
        section,
        re.S,
    )
    assert [(badge, message) for _time, badge, message in rows] == [
        ('<span class="badge badge-posted">funnet i Visma</span>', "Bilag A19"),
        (
            '<span class="badge badge-uncertain">usikker</span>',
            "Usikkert om Visma tok imot bilaget (504).",
        ),
    ]
    newest = timezone.localtime(start + timedelta(hours=1))
    assert rows[0][0] == newest.strftime("%d.%m.%Y %H:%M")


def test_it_is_in_english_for_an_english_reader(client, alice, location, worked_example):
    settlement = add(location, worked_example)
    post(settlement, found=True)
    client.force_login(alice)

    response = client.get(f"/dagsoppgjor/{settlement.pk}/", HTTP_ACCEPT_LANGUAGE="en")

    section = panel(response.content.decode())
    assert "Voucher number" in section
    assert "found in Visma after a lost answer" in section


# ------------------------------------------------------------------------ the Z-report in Visma


def plain(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment)))


def test_it_says_the_z_report_is_attached_to_the_voucher(
    client, bob, location, worked_example, connected
):
    settlement = add(location, worked_example)
    post(settlement, number="A17")
    VoucherAttachment.objects.create(
        settlement=settlement,
        file_name="Z-rapport.pdf",
        state=VoucherAttachment.State.LINKED,
        attachment_id="3f1c8a52-6d0b-4c3e-9a41-0c6f2b7d9e10",
        attempts=1,
        linked_at=timezone.now(),
    )
    client.force_login(bob)

    section = panel(detail(client, settlement))

    assert "Z-rapport vedlagt" in plain(section)
    assert "Z-rapporten (PDF) er lagt ved bilag A17 i Visma 28.11.2026 12:00." in plain(section)
    assert f'href="/dagsoppgjor/{settlement.pk}/z-rapport.pdf"' in section


def test_it_says_a_failed_upload_is_tried_again(client, bob, location, worked_example, connected):
    settlement = add(location, worked_example)
    post(settlement, number="A17")
    VoucherAttachment.objects.create(
        settlement=settlement,
        file_name="Z-rapport.pdf",
        state=VoucherAttachment.State.FAILED,
        attempts=2,
        last_error="An unexpected error occurred",
    )
    client.force_login(bob)

    text = plain(panel(detail(client, settlement)))

    assert "Vedlegg venter, prøves igjen" in text
    assert (
        "Forsøk 2 feilet (An unexpected error occurred). Bilaget er overført; Z-rapporten "
        "prøves igjen ved neste overføring." in text
    )
    assert "Bilagsnummer A17" in text  # the voucher itself is in Visma


def test_it_says_nothing_of_an_attachment_for_a_voucher_without_one(
    client, bob, location, worked_example, connected
):
    settlement = add(location, worked_example)
    post(settlement, number="A17")
    client.force_login(bob)

    assert "Z-rapport vedlagt" not in detail(client, settlement)
    assert "Vedlegg venter" not in detail(client, settlement)


def test_it_says_in_english_that_the_z_report_waits_for_the_next_run(
    client, bob, location, worked_example, connected
):
    settlement = add(location, worked_example)
    post(settlement, number="A17")
    VoucherAttachment.objects.create(settlement=settlement, file_name="Z-rapport.pdf")
    client.force_login(bob)

    response = client.get(f"/dagsoppgjor/{settlement.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    text = plain(panel(response.content.decode()))

    assert "Attachment waiting" in text
    assert "The Z-report is uploaded and attached to the voucher at the next transfer." in text
    assert "Download the Z-report (PDF)" in text


# ------------------------------------------------------------------------ avvik and drafts

CHANGED = [
    {
        "kind": "account",
        "account": 3000,
        "sent": {"debit": "0.00", "credit": "4800.00"},
        "visma": {"debit": "0.00", "credit": "4700.00"},
    },
    {
        "kind": "account",
        "account": 1920,
        "sent": {"debit": "6099.60", "credit": "0.00"},
        "visma": {"debit": "5999.60", "credit": "0.00"},
    },
]


def avvik(settlement: Settlement, *, deleted: bool) -> Settlement:
    post(settlement, number="A17")
    return set_state(
        settlement,
        State.AVVIK,
        problem_code="deleted_in_visma" if deleted else "changed_in_visma",
        reason="Bilaget er slettet i Visma (bilag A17)." if deleted else "Bilag A17 er endret.",
        differences=[{"kind": "deleted"}] if deleted else CHANGED,
        visma_version={"deleted": True} if deleted else {"Rows": []},
    )


def test_it_shows_what_differs_and_offers_the_admin_two_choices(
    client, alice, location, worked_example, connected, delays, django_capture_on_commit_callbacks
):
    settlement = avvik(add(location, worked_example), deleted=False)
    client.force_login(alice)

    page = detail(client, settlement)
    section = panel(page)

    assert 'class="badge badge-avvik">avvik</span>' in page
    assert "Avvik mot Visma" in section
    cells = re.findall(
        r"<tr><td>(.*?)</td><td class=\"num\">(.*?)</td><td class=\"num\">(.*?)</td>", section
    )
    assert cells == [
        ("Konto 3000", "4\u00a0800,00", "4\u00a0700,00"),
        ("Konto 1920", "6\u00a0099,60", "5\u00a0999,60"),
    ]
    assert f'action="/dagsoppgjor/{settlement.pk}/avvik/send-pa-nytt/"' in section
    assert f'action="/dagsoppgjor/{settlement.pk}/avvik/godta-visma/"' in section
    assert "Send på nytt som nytt bilag" in section and "Godta Vismas versjon" in section
    assert "Overfør nå" not in section  # never the plain button
    # Nor the plain transfer endpoint.
    response = transfer(client, settlement, django_capture_on_commit_callbacks)
    assert delays == [] and not ExportRun.objects.exists()
    assert texts(response) == [
        "Bilaget i Visma er slettet eller endret. Velg under om oppgjøret skal sendes på nytt "
        "som nytt bilag, eller om Vismas versjon skal godtas."
    ]


def test_a_deleted_voucher_says_so_and_staff_only_read_it(client, bob, location, worked_example):
    settlement = avvik(add(location, worked_example), deleted=True)
    client.force_login(bob)

    section = panel(detail(client, settlement))

    assert "Bilaget er slettet i Visma." in section
    assert "Backoffice sender det ikke på nytt av seg selv." in section
    assert "<form" not in section


def test_a_draft_shows_kladd_i_visma_and_no_button(
    client, alice, location, worked_example, connected
):
    settlement = set_state(
        add(location, worked_example),
        State.DRAFT,
        reason="Ligger som kladd (bilagsforslag) i Visma og venter på at regnskapsfører godkjenner den.",
        visma_draft_id="0b8e8f52-8a6e-4f43-9d8e-3a1c2b4d5e6f",
    )
    client.force_login(alice)

    page = detail(client, settlement)
    section = panel(page)

    assert 'class="badge badge-draft">kladd i Visma</span>' in page
    assert "0b8e8f52-8a6e-4f43-9d8e-3a1c2b4d5e6f" in section
    assert (
        "Oppgjøret ligger som kladd i Visma og venter på at regnskapsfører godkjenner det."
        in section
    )
    assert "<button" not in section
    assert status_of(settlement).label == "kladd i Visma"
