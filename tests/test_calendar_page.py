"""/dagsoppgjor/kalender/: the organisation's registers × the month's days, each cell one
state (overført, venter, trenger handling, avvik, mangler, stengt), on the suite's clock
(today is Saturday 28.11.2026)."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backoffice.models import Location, Register
from settlements.missing import close_register
from settlements.transfer import TransferStatus, untouched_status
from tests.clock import days_ago
from tests.conftest import set_transfer
from tests.register_days import calendar_cells, send, send_days, span

URL = "/dagsoppgjor/kalender/"


def nov(day: int) -> date:
    return date(2026, 11, day)


@pytest.fixture
def november(location, worked_example, alice):
    """KASSE-1 sent every day of November up to yesterday but Friday the 20th; posted up to
    the 18th, the 19th needs action, the rest wait. KASSE-2 started on the 14th, lost
    Z 5009 (the 23rd came as 5010), and was closed yesterday."""
    sent = send_days(location, worked_example, span(nov(1), nov(27), skip=[nov(20)]), first_z=1001)
    set_transfer(sent[:18], "posted", voucher_number="A7")
    set_transfer(sent[18], "needs_action", "mapping_missing", "Kontoen for Mat mangler.")
    days = span(nov(14), nov(26))
    for n, day in enumerate(days):
        send(
            location,
            worked_example,
            day=day,
            z=5000 + n + (1 if day >= nov(23) else 0),
            register="KASSE-2",
        )
    close_register(
        register=Register.objects.get(location=location, code="KASSE-2"),
        day=nov(27),
        user=alice,
        note="Inventar",
    )
    return {"sent": sent}


def test_it_sends_a_visitor_to_sign_in(client, db):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/dagsoppgjor/kalender/"


def test_it_shows_each_registers_days_at_a_glance(client, bob, november):
    client.force_login(bob)

    response = client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert "November 2026" in html
    cells = calendar_cells(html)
    assert set(cells) == {"KASSE-1", "KASSE-2"}
    kasse1, kasse2 = cells["KASSE-1"], cells["KASSE-2"]
    assert len(kasse1) == 30
    assert [kasse1[nov(d)] for d in (1, 18, 19, 20, 21, 27)] == [
        "posted",
        "posted",
        "needs_action",
        "missing",
        "waiting",
        "waiting",
    ]
    # Today and later: nothing is due yet.
    assert {kasse1[nov(d)] for d in (28, 29, 30)} == {"future"}
    # Before it ever sent nothing was expected; yesterday it was marked closed.
    assert kasse2[nov(13)] == "none"
    assert kasse2[nov(14)] == "waiting"
    assert kasse2[nov(27)] == "closed"


def test_each_cell_leads_to_its_settlement_or_its_day(client, bob, november, location):
    client.force_login(bob)

    html = client.get(URL).content.decode()

    needs_action = november["sent"][18]
    assert (
        f'<a class="cell-inner" href="/dagsoppgjor/{needs_action.pk}/" '
        f'title="KASSE-1 · 19.11.2026: Z {needs_action.z_number}, trenger handling"' in html
    )
    posted = november["sent"][0]
    assert f'title="KASSE-1 · 01.11.2026: Z {posted.z_number}, overført (bilag A7)"' in html
    kasse1 = Register.objects.get(location=location, code="KASSE-1")
    assert f'href="/dagsoppgjor/kalender/kasse/{kasse1.pk}/2026-11-20/"' in html
    # The letter makes the state readable without its colour.
    assert (
        'aria-label="KASSE-1 · 20.11.2026: ingen Z-rapport, men kassen ventes åpen">M</a>' in html
    )


def test_it_marks_the_day_a_z_number_went_missing(client, bob, november):
    client.force_login(bob)

    html = client.get(URL).content.decode()

    assert '<span class="gap-mark" title="Z 5009 mangler">Z</span>' in html
    assert "KASSE-2 i Fjordkafé Sentrum: Z 5009 mangler (mellom 5008 og 5010)" in html
    assert "1 hull i Z-numrene" in html


def test_it_names_the_last_weeks_missing_days_above_the_month(
    client, alice, location, worked_example
):
    send_days(location, worked_example, span(days_ago(14), days_ago(2)), first_z=1)
    client.force_login(alice)

    html = client.get(URL).content.decode()

    assert "Mangler siste 7 dager" in html
    assert "KASSE-1 i Fjordkafé Sentrum har ingen Z-rapport for 27.11.2026" in html
    # An admin may mark it closed right there.
    assert '<button name="scope" value="day">Stengt denne dagen</button>' in html
    assert '<button name="scope" value="for_good">Stengt for godt</button>' in html


def test_staff_see_the_month_but_cannot_mark_a_register_closed(
    client, bob, location, worked_example
):
    send_days(location, worked_example, span(days_ago(14), days_ago(2)), first_z=1)
    client.force_login(bob)

    html = client.get(URL).content.decode()

    assert "KASSE-1 i Fjordkafé Sentrum har ingen Z-rapport for 27.11.2026" in html
    assert "Stengt denne dagen" not in html


def test_it_says_what_each_colour_and_letter_means_and_when_a_register_is_expected(
    client, bob, november
):
    client.force_login(bob)

    html = client.get(URL).content.decode()

    for state, letter, label in [
        ("posted", "O", "overført"),
        ("waiting", "V", "venter"),
        ("needs_action", "H", "trenger handling"),
        ("avvik", "A", "avvik"),
        ("missing", "M", "mangler"),
        ("closed", "S", "stengt"),
    ]:
        assert (
            f'<span class="cell-chip cell-{state}" aria-hidden="true">{letter}</span> {label}'
            in html
        )
    assert (
        "En kasse ventes åpen en dag når den har sendt Z-rapport minst 4 av de 7 dagene før og "
        "samme ukedag en av de to ukene før, og ikke er merket stengt." in html
    )
    assert "Merket stengt" in html and "Inventar" in html


def test_it_moves_between_months(client, bob, november):
    client.force_login(bob)

    october = client.get(URL, {"month": "2026-10"}).content.decode()
    this_month = client.get(URL).content.decode()

    assert "Oktober 2026" in october
    assert 'href="?month=2026-09" rel="prev">‹ forrige</a>' in october
    assert 'href="?month=2026-11" rel="next">neste ›</a>' in october
    assert "Denne måneden" in october
    # October: KASSE-1 had not started; nothing was expected, nothing missing.
    assert "Ingen kasse sendte Z-rapport i oktober 2026." in october
    # No month after this one.
    assert 'rel="next"' not in this_month
    assert '<span class="button disabled" aria-disabled="true">neste ›</span>' in this_month


def test_it_says_so_when_the_month_is_not_a_month(client, bob, november):
    client.force_login(bob)

    response = client.get(URL, {"month": "2026-13"}, follow=True)

    assert response.status_code == 200
    html = response.content.decode()
    assert "«2026-13» er ikke en måned (år og måned, som 2026-11); viser denne måneden." in html
    assert "November 2026" in html


def test_it_never_shows_another_organisations_registers(
    client, charlie, bob, november, other_location, worked_example
):
    send_days(other_location, worked_example, span(nov(1), nov(27)), first_z=1, register="BAKER-9")
    client.force_login(charlie)

    theirs = client.get(URL).content.decode()
    client.force_login(bob)
    ours = client.get(URL).content.decode()

    assert set(calendar_cells(theirs)) == {"BAKER-9"}
    assert "Fjordkafé" not in theirs
    assert set(calendar_cells(ours)) == {"KASSE-1", "KASSE-2"}
    assert "BAKER-9" not in ours


def test_it_groups_the_registers_by_store(client, bob, org, november, worked_example):
    torget = Location.objects.create(organization=org, code="torget", name="Fjordkafé Torget")
    send_days(torget, worked_example, span(nov(1), nov(27)), first_z=1, register="KASSE-T")
    client.force_login(bob)

    html = client.get(URL).content.decode()

    assert (
        html.index("Fjordkafé Sentrum</th>")
        < html.index("KASSE-1")
        < html.index("Fjordkafé Torget</th>")
        < html.index("KASSE-T")
    )


class Reconciling:
    """A provider (settlements.transfer) whose integration knows states the calendar has
    not been told of: "avvik" (reconciliation) and "kladd" (a draft in Visma)."""

    def state_choices(self):
        return []

    def with_transfer(self, queryset):
        return queryset

    def filter_state(self, queryset, state):
        return queryset

    def status(self, settlement):
        if settlement.business_date == nov(25):
            return TransferStatus("avvik", "avvik")
        if settlement.business_date == nov(26):
            return TransferStatus("draft", "kladd i Visma")
        return untouched_status(settlement)

    def panel(self, settlement, request):
        return ""

    def list_actions(self, request):
        return ""


reconciling = Reconciling()


def test_a_state_the_calendar_does_not_know_shows_as_needs_action(client, bob, november, settings):
    settings.SETTLEMENT_TRANSFER_PROVIDER = "tests.test_calendar_page.reconciling"
    client.force_login(bob)

    kasse1 = calendar_cells(client.get(URL).content.decode())["KASSE-1"]

    assert kasse1[nov(25)] == "avvik"
    assert kasse1[nov(26)] == "needs_action"
    assert kasse1[nov(24)] == "waiting"


def test_it_reads_a_month_in_the_same_few_queries_however_many_registers(
    client, bob, november, org, worked_example
):
    client.force_login(bob)
    with CaptureQueriesContext(connection) as two_registers:
        client.get(URL)
    for n in range(3):
        store = Location.objects.create(organization=org, code=f"s{n}", name=f"Butikk {n}")
        send_days(store, worked_example, span(nov(10), nov(27)), first_z=1, register=f"K{n}")

    with CaptureQueriesContext(connection) as five_registers:
        response = client.get(URL)

    assert len(calendar_cells(response.content.decode())) == 5
    assert len(five_registers) == len(two_registers) <= 25
