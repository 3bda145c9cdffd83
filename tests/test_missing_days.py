"""No day goes missing unnoticed (issue 18.4): settlements.missing finds the registers
that should have sent a Z-report and did not, and the holes in their Z-numbers; a register
marked closed stops warning; the check after each run e-mails the admins once a day."""

from datetime import datetime

import pytest

from backoffice.models import Register
from integrations.visma import tasks
from integrations.visma.models import ExportRun
from settlements.missing import (
    close_register,
    missing_between,
    missing_days,
    notify_missing_days,
    reopen_register,
    z_gaps,
)
from tests.clock import OSLO, TODAY, days_ago, travel
from tests.register_days import send, send_days, span

YESTERDAY = days_ago(1)  # Friday 27.11.2026


def register(location, code: str = "KASSE-1") -> Register:
    return Register.objects.get(location=location, code=code)


@pytest.fixture
def two_tills(location, worked_example):
    """KASSE-1 sent every day of the last two weeks; KASSE-2 too, except yesterday."""
    send_days(location, worked_example, span(days_ago(14), days_ago(1)), first_z=1001)
    send_days(
        location, worked_example, span(days_ago(14), days_ago(2)), first_z=5001, register="KASSE-2"
    )
    return location


def test_it_names_a_register_that_sent_on_most_days_but_not_yesterday(org, two_tills):
    found = missing_days(organization=org, on=YESTERDAY)

    assert [m.text for m in found] == [
        "KASSE-2 i Fjordkafé Sentrum har ingen Z-rapport for 27.11.2026"
    ]


def test_it_never_calls_today_missing(org, two_tills):
    assert missing_between(organization=org, start=TODAY, end=TODAY) == []


def test_it_expects_nothing_of_a_register_that_seldom_sends(org, location, worked_example):
    send_days(location, worked_example, [days_ago(2), days_ago(4), days_ago(9)], first_z=1)

    assert missing_between(organization=org, start=days_ago(8), end=days_ago(1)) == []


def test_it_expects_nothing_on_the_weekday_a_shop_is_always_closed(org, location, worked_example):
    # Open every day but Sunday since 1 November; on Friday the 20th the till sent nothing.
    sundays = [d for d in span(days_ago(27), days_ago(1)) if d.weekday() == 6]
    friday = days_ago(8)
    send_days(
        location,
        worked_example,
        span(days_ago(27), days_ago(1), skip=[*sundays, friday]),
        first_z=1,
    )

    found = missing_between(organization=org, start=days_ago(20), end=days_ago(1))

    assert [m.day for m in found] == [friday]


def test_it_stops_expecting_a_register_that_fell_silent(org, location, worked_example):
    # The till's last Z-report was on Friday the 20th: four days are told, then it rests.
    send_days(location, worked_example, span(days_ago(27), days_ago(8)), first_z=1)

    found = missing_between(organization=org, start=days_ago(7), end=days_ago(1))

    assert [m.day for m in found] == [days_ago(7), days_ago(6), days_ago(5), days_ago(4)]


def test_it_never_names_another_organisations_register(
    org, other_org, location, other_location, worked_example
):
    # Bakeri Nord's till: nothing yesterday, and Z 13–99 lost the day before.
    send_days(other_location, worked_example, span(days_ago(14), days_ago(3)), first_z=1)
    send(other_location, worked_example, day=days_ago(2), z=100)

    assert missing_days(organization=org, on=YESTERDAY) == []
    assert z_gaps(organization=org, since=days_ago(14)) == []
    assert len(missing_days(organization=other_org, on=YESTERDAY)) == 1
    assert [g.short for g in z_gaps(organization=other_org, since=days_ago(14))] == [
        "Z 13–99 mangler"
    ]


# --------------------------------------------------------------------------- Z-numbers


def test_it_finds_the_z_numbers_that_never_came(org, location, worked_example):
    for z, days in ((1041, 4), (1042, 3), (1044, 2), (1048, 1)):
        send(location, worked_example, day=days_ago(days), z=z)

    gaps = z_gaps(organization=org, since=days_ago(7))

    assert [g.short for g in gaps] == ["Z 1043 mangler", "Z 1045–1047 mangler"]
    assert gaps[0].text == "KASSE-1 i Fjordkafé Sentrum: Z 1043 mangler (mellom 1042 og 1044)"
    assert [g.day for g in gaps] == [days_ago(2), days_ago(1)]


def test_it_finds_a_gap_right_at_the_start_of_the_window(org, location, worked_example):
    send(location, worked_example, day=days_ago(20), z=1040)
    settlement = send(location, worked_example, day=days_ago(3), z=1042)

    gaps = z_gaps(organization=org, since=days_ago(7))

    assert [(g.short, g.settlement_id) for g in gaps] == [("Z 1041 mangler", settlement.pk)]


def test_it_does_not_take_a_till_that_restarts_its_count_for_a_gap(org, location, worked_example):
    send(location, worked_example, day=days_ago(3), z=9999)
    send(location, worked_example, day=days_ago(2), z=1)
    send(location, worked_example, day=days_ago(1), z=2)

    assert z_gaps(organization=org, since=days_ago(7)) == []


def test_a_late_z_report_closes_its_gap(org, location, worked_example):
    send(location, worked_example, day=days_ago(3), z=1042)
    send(location, worked_example, day=days_ago(1), z=1044)
    assert len(z_gaps(organization=org, since=days_ago(7))) == 1

    send(location, worked_example, day=days_ago(2), z=1043)

    assert z_gaps(organization=org, since=days_ago(7)) == []


# --------------------------------------------------------------------------- closed registers


def test_a_register_closed_for_the_day_stops_warning_for_that_day(org, two_tills, alice):
    closure, created = close_register(
        register=register(two_tills, "KASSE-2"), day=YESTERDAY, user=alice, note="Strømbrudd"
    )

    assert created and closure.closed_by_label == "alice"
    assert missing_days(organization=org, on=YESTERDAY) == []
    # Marking it again changes nothing; undoing it makes the day missing again.
    assert close_register(register=closure.register, day=YESTERDAY, user=alice)[1] is False
    reopen_register(closure=closure)
    assert len(missing_days(organization=org, on=YESTERDAY)) == 1


def test_a_register_closed_for_good_stops_warning_about_days_and_z_numbers(
    org, location, worked_example, alice
):
    send_days(location, worked_example, span(days_ago(14), days_ago(3)), first_z=1001)
    send(location, worked_example, day=days_ago(2), z=1100)
    assert missing_days(organization=org, on=YESTERDAY) and z_gaps(
        organization=org, since=days_ago(7)
    )

    close_register(register=register(location), day=None, user=alice)

    assert missing_between(organization=org, start=days_ago(14), end=YESTERDAY) == []
    assert z_gaps(organization=org, since=days_ago(7)) == []


# --------------------------------------------------------------------------- the e-mail


def test_it_emails_the_admins_once_a_day(org, two_tills, worked_example, alice, bob, mailoutbox):
    send(two_tills, worked_example, day=days_ago(15), z=999)  # 999, then 1001: Z 1000 missing
    # …and that gap shows with the settlement of days_ago(14): within the e-mail's month.

    assert notify_missing_days(organization=org) is True
    assert notify_missing_days(organization=org) is False  # the second run of the day

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["alice@example.org"]  # admins only
    assert mail.subject == "Z-rapporter mangler i Fjordkafé AS"
    assert "- KASSE-2 i Fjordkafé Sentrum har ingen Z-rapport for 27.11.2026" in mail.body
    assert "- KASSE-1 i Fjordkafé Sentrum: Z 1000 mangler (mellom 999 og 1001)" in mail.body
    assert "/dagsoppgjor/kalender/?month=2026-11" in mail.body


def test_the_next_days_email_tells_the_new_day_and_not_the_old_gap(
    org, two_tills, worked_example, alice, mailoutbox
):
    send(two_tills, worked_example, day=days_ago(15), z=999)
    assert notify_missing_days(organization=org)

    with travel(datetime(2026, 11, 29, 7, 0, tzinfo=OSLO)):
        # Saturday's Z-report from KASSE-1; KASSE-2 still silent.
        send(two_tills, worked_example, day=TODAY, z=1015)
        assert notify_missing_days(organization=org)

    assert len(mailoutbox) == 2
    body = mailoutbox[1].body
    assert "KASSE-2 i Fjordkafé Sentrum har ingen Z-rapport for 28.11.2026" in body
    assert "27.11.2026" not in body
    assert "Z 1000" not in body


def test_it_sends_nothing_when_nothing_is_missing_and_tells_a_later_run_that_day(
    org, location, worked_example, alice, mailoutbox
):
    send_days(location, worked_example, span(days_ago(14), days_ago(1)), first_z=1001)

    assert notify_missing_days(organization=org) is False
    assert mailoutbox == []

    send(location, worked_example, day=TODAY, z=1020)  # Z 1015–1019 lost
    assert notify_missing_days(organization=org) is True
    assert "Z 1015–1019 mangler" in mailoutbox[0].body


def test_a_register_marked_closed_is_not_in_the_email(org, two_tills, alice, mailoutbox):
    close_register(register=register(two_tills, "KASSE-2"), day=YESTERDAY, user=alice)

    assert notify_missing_days(organization=org) is False
    assert mailoutbox == []


def test_the_scheduled_run_ends_with_the_check(org, two_tills, alice, mailoutbox):
    """The transfer's task calls the check when the run is over (no Visma connection here:
    the run finds nothing it can send, and still ends with the check)."""
    run = ExportRun.objects.create(organization=org, trigger=ExportRun.Trigger.SCHEDULE)

    tasks.export_organization_task.apply(args=(org.pk, "schedule", run.pk))
    tasks.export_organization_task.apply(args=(org.pk, "schedule", None))

    missing = [m for m in mailoutbox if m.subject.startswith("Z-rapporter mangler")]
    assert len(missing) == 1
    assert "KASSE-2 i Fjordkafé Sentrum har ingen Z-rapport for 27.11.2026" in missing[0].body
