"""When the next transfer runs: daily at the chosen time, weekly on Mondays, monthly on
the 1st, always at the organisation's time of day in Europe/Oslo (../shared/DESIGN.md 2).

A pure function so the page (display), the settings form (next_run_at) and the dispatcher
of the scheduled transfer compute the same thing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")

DAILY, WEEKLY, MONTHLY, NEVER = "daily", "weekly", "monthly", "never"


def _first_on_or_after(day: date, interval: str) -> date:
    if interval == WEEKLY:
        return day + timedelta(days=(7 - day.weekday()) % 7)  # Monday is 0
    if interval == MONTHLY:
        if day.day == 1:
            return day
        return date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return day


def _following(day: date, interval: str) -> date:
    return _first_on_or_after(day + timedelta(days=1), interval)


def local_run_at(day: date, run_time: time) -> datetime:
    """`run_time` on `day` in Oslo. Wall-clock arithmetic: 06:00 stays 06:00 across DST.

    A time that does not exist on the spring-forward night (02:30 on the last Sunday of
    March) resolves with fold=0, i.e. one hour later in summer time (03:30); a time that
    occurs twice in October is its first occurrence.
    """
    wall = datetime.combine(day, run_time.replace(tzinfo=None, fold=0), tzinfo=OSLO)
    # Round-trip through UTC so a non-existent wall time becomes a real instant.
    return wall.astimezone(UTC).astimezone(OSLO)


def next_run_after(now: datetime, interval: str, run_time: time) -> datetime | None:
    """The first scheduled run strictly after `now` (an aware datetime), in Europe/Oslo;
    None when the interval is "never"."""
    if interval == NEVER:
        return None
    if interval not in (DAILY, WEEKLY, MONTHLY):
        raise ValueError(f"unknown interval {interval!r}")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    day = _first_on_or_after(now.astimezone(OSLO).date(), interval)
    while True:
        candidate = local_run_at(day, run_time)
        # Compare instants: Python compares two Oslo datetimes by wall clock, which is
        # wrong inside the repeated hour of the October night.
        if candidate.astimezone(UTC) > now.astimezone(UTC):
            return candidate
        day = _following(day, interval)
