"""The dispatcher: which organisations' runs are due, claimed exactly once."""

import threading
from datetime import UTC, datetime, time

import pytest
from django.db import connection

from backoffice.models import Organization
from integrations.visma import dispatch
from integrations.visma.models import TransferSettings, VismaConnection
from integrations.visma.schedule import OSLO

Interval = TransferSettings.Interval


def oslo(*args) -> datetime:
    return datetime(*args, tzinfo=OSLO)


def make_org(slug: str, *, interval=Interval.DAILY, next_run_at=None, connected=True):
    org = Organization.objects.create(slug=slug, name=slug)
    TransferSettings.objects.create(
        organization=org, interval=interval, run_time=time(6, 0), next_run_at=next_run_at
    )
    VismaConnection.objects.create(
        organization=org,
        status=VismaConnection.Status.CONNECTED
        if connected
        else VismaConnection.Status.NOT_CONNECTED,
    )
    return org


@pytest.mark.django_db
def test_it_claims_a_due_daily_run_and_moves_it_to_tomorrow():
    org = make_org("a", next_run_at=oslo(2026, 11, 29, 6, 0))
    now = oslo(2026, 11, 29, 6, 3)

    assert dispatch.claim_due_organizations(now=now) == [org.pk]

    settings = TransferSettings.objects.get(organization=org)
    assert settings.next_run_at == oslo(2026, 11, 30, 6, 0)
    assert dispatch.claim_due_organizations(now=now) == []


@pytest.mark.django_db
def test_it_leaves_runs_that_are_not_due_yet():
    make_org("a", next_run_at=oslo(2026, 11, 29, 6, 0))
    assert dispatch.claim_due_organizations(now=oslo(2026, 11, 29, 5, 59)) == []


@pytest.mark.django_db
def test_it_moves_weekly_runs_to_monday_and_monthly_to_the_first():
    weekly = make_org("w", interval=Interval.WEEKLY, next_run_at=oslo(2026, 11, 30, 6, 0))
    monthly = make_org("m", interval=Interval.MONTHLY, next_run_at=oslo(2026, 12, 1, 6, 0))
    now = oslo(2026, 12, 1, 6, 1)

    assert sorted(dispatch.claim_due_organizations(now=now)) == sorted([weekly.pk, monthly.pk])

    assert TransferSettings.objects.get(organization=weekly).next_run_at == oslo(2026, 12, 7, 6, 0)
    assert TransferSettings.objects.get(organization=monthly).next_run_at == oslo(2027, 1, 1, 6, 0)


@pytest.mark.django_db
def test_it_never_runs_never_and_not_connected():
    make_org("n", interval=Interval.NEVER, next_run_at=oslo(2026, 11, 1, 6, 0))
    make_org("x", next_run_at=oslo(2026, 11, 1, 6, 0), connected=False)
    assert dispatch.claim_due_organizations(now=oslo(2026, 11, 29, 12, 0)) == []


@pytest.mark.django_db
def test_it_catches_up_a_missed_run_once():
    # The system was down for three days: one catch-up run, then the normal schedule.
    org = make_org("a", next_run_at=oslo(2026, 11, 26, 6, 0))
    now = oslo(2026, 11, 29, 10, 0)

    assert dispatch.claim_due_organizations(now=now) == [org.pk]
    assert TransferSettings.objects.get(organization=org).next_run_at == oslo(2026, 11, 30, 6, 0)


@pytest.mark.django_db
def test_it_keeps_the_wall_clock_time_across_daylight_saving():
    org = make_org("a", next_run_at=oslo(2026, 3, 28, 6, 0))
    dispatch.claim_due_organizations(now=oslo(2026, 3, 28, 6, 1))
    nxt = TransferSettings.objects.get(organization=org).next_run_at
    assert nxt.astimezone(OSLO).time() == time(6, 0)  # 2026-03-29 is 23 hours long
    assert nxt.astimezone(UTC).hour == 4  # summer time: 06:00 Oslo is 04:00 UTC


@pytest.mark.django_db
def test_it_schedules_settings_that_were_never_saved():
    org = make_org("a", next_run_at=None)
    assert dispatch.schedule_unscheduled() == 1
    assert TransferSettings.objects.get(organization=org).next_run_at is not None


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_claim_each_run_once():
    orgs = [make_org(f"o{i}", next_run_at=oslo(2026, 11, 29, 6, 0)) for i in range(30)]
    now = oslo(2026, 11, 29, 6, 5)
    results: list[list[int]] = []
    barrier = threading.Barrier(2)

    def tick():
        try:
            barrier.wait()
            results.append(dispatch.claim_due_organizations(now=now))
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    claimed = results[0] + results[1]
    assert sorted(claimed) == sorted(org.pk for org in orgs)  # all, and none twice
