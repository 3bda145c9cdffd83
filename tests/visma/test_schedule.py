"""next_run_after: daily at the chosen time, weekly on Mondays, monthly on the 1st, in
Europe/Oslo wall-clock time across the DST changes (last Sundays of March and October)."""

from datetime import UTC, datetime, time

import pytest

from integrations.visma.schedule import OSLO, next_run_after


def oslo(*args) -> datetime:
    return datetime(*args, tzinfo=OSLO)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_daily_runs_later_today_or_tomorrow():
    assert next_run_after(oslo(2026, 11, 27, 5, 59), "daily", time(6)) == oslo(2026, 11, 27, 6)
    assert next_run_after(oslo(2026, 11, 27, 6, 0), "daily", time(6)) == oslo(2026, 11, 28, 6)


def test_daily_across_spring_forward_keeps_six_o_clock_on_the_wall():
    after = next_run_after(oslo(2026, 3, 28, 7), "daily", time(6))
    assert after == utc(2026, 3, 29, 4)  # 06:00 CEST
    assert after.astimezone(OSLO).hour == 6 and after.utcoffset().total_seconds() == 7200


def test_daily_across_fall_back_keeps_six_o_clock_on_the_wall():
    after = next_run_after(oslo(2026, 10, 24, 7), "daily", time(6))
    assert after == utc(2026, 10, 25, 5)  # 06:00 CET
    assert after.astimezone(OSLO).hour == 6 and after.utcoffset().total_seconds() == 3600


def test_a_time_skipped_by_spring_forward_runs_an_hour_later():
    after = next_run_after(oslo(2026, 3, 28, 12), "daily", time(2, 30))
    assert after == utc(2026, 3, 29, 1, 30)  # 03:30 CEST: 02:30 does not exist that night


def test_a_time_repeated_by_fall_back_runs_once_at_its_first_occurrence():
    # (Aware datetimes inside the repeated hour never compare equal across zones, PEP 495,
    # so these compare in UTC.)
    first = next_run_after(oslo(2026, 10, 24, 12), "daily", time(2, 30))
    assert first.astimezone(UTC) == utc(2026, 10, 25, 0, 30)  # 02:30 CEST
    # Asked again right after it ran, the next run is the following night, not 02:30 CET.
    assert next_run_after(first, "daily", time(2, 30)) == oslo(2026, 10, 26, 2, 30)
    # 02:15 CET (the second 02:15, after 02:30 CEST has passed) -> the next night
    second_quarter_past = utc(2026, 10, 25, 1, 15).astimezone(OSLO)
    assert (second_quarter_past.hour, second_quarter_past.fold) == (2, 1)
    after = next_run_after(second_quarter_past, "daily", time(2, 30))
    assert after == oslo(2026, 10, 26, 2, 30)


def test_weekly_runs_on_mondays():
    # Friday -> Monday; Monday before the time -> that Monday; at the time -> next Monday
    assert next_run_after(oslo(2026, 11, 27, 12), "weekly", time(6)) == oslo(2026, 11, 30, 6)
    assert next_run_after(oslo(2026, 11, 30, 5), "weekly", time(6)) == oslo(2026, 11, 30, 6)
    assert next_run_after(oslo(2026, 11, 30, 6), "weekly", time(6)) == oslo(2026, 12, 7, 6)
    # Sunday 29 March 2026 (the DST night) -> Monday 30 March, 06:00 CEST
    assert next_run_after(oslo(2026, 3, 29, 1), "weekly", time(6)) == utc(2026, 3, 30, 4)


def test_monthly_runs_on_the_first():
    assert next_run_after(oslo(2026, 11, 1, 5), "monthly", time(6)) == oslo(2026, 11, 1, 6)
    assert next_run_after(oslo(2026, 11, 1, 6), "monthly", time(6)) == oslo(2026, 12, 1, 6)
    assert next_run_after(oslo(2026, 12, 15), "monthly", time(6)) == oslo(2027, 1, 1, 6)
    # 1 April 06:00 is summer time, 1 November 06:00 winter time
    assert next_run_after(oslo(2026, 3, 15), "monthly", time(6)) == utc(2026, 4, 1, 4)
    assert next_run_after(oslo(2026, 10, 15), "monthly", time(6)) == utc(2026, 11, 1, 5)


def test_the_answer_is_in_oslo_time_whatever_zone_now_is_in():
    # 23:30 UTC on 27 Nov is already 28 Nov in Oslo
    after = next_run_after(utc(2026, 11, 27, 23, 30), "daily", time(6))
    assert after == oslo(2026, 11, 28, 6) and after.tzinfo == OSLO


def test_never_has_no_next_run():
    assert next_run_after(oslo(2026, 11, 27), "never", time(6)) is None


def test_a_naive_now_is_refused():
    with pytest.raises(ValueError):
        next_run_after(datetime(2026, 11, 27), "daily", time(6))
