"""The suite's clock: every test runs on the same "today", whatever the calendar says.

`tests/conftest.py` holds every test at NOW (time-machine, ticking from there, so timeouts
and sleeps still pass); tests write their dates relative to TODAY (`days_ago(1)` is
yesterday's business date). Processes a test starts with `tests.settings` (Celery workers,
rundemo, `manage.py`) inherit TEST_CLOCK_ENV and run on the same clock from start-up (see
`tests/settings.py`), so a worker's "today" is the test's.

NOW is a Saturday noon in Oslo, late in November: far from midnight, month's end, year's
end and the DST changes, so nothing a test does in a few seconds crosses one by accident.
Tests about those boundaries travel there themselves (`travel`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

OSLO = ZoneInfo("Europe/Oslo")
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=OSLO)
TODAY: date = NOW.date()
# The environment variable that carries the clock to processes a test starts: how far this
# process's clock is from the real one, in seconds. An offset rather than a moment, so a
# worker started minutes into a test agrees with it to the millisecond, and a later worker
# never lives before the claims an earlier one wrote.
TEST_CLOCK_ENV = "BACKOFFICE_TEST_CLOCK_OFFSET"


def days_ago(days: int) -> date:
    """A business date `days` before TODAY (1 is yesterday, the usual settlement)."""
    return TODAY - timedelta(days=days)


def iso_days_ago(days: int) -> str:
    return days_ago(days).isoformat()


def machine_clock_env() -> dict[str, str]:
    """This process's environment without libfaketime, for the services a test starts
    (redis-server, chromium): they keep the machine's clock, as PostgreSQL does, while
    `make test-dates` moves only the tests' own."""
    return {
        name: value
        for name, value in os.environ.items()
        if name != "LD_PRELOAD" and not name.startswith(("FAKETIME", "DONT_FAKE"))
    }


def _real_time() -> float:
    # The machine's clock (libfaketime's, under make test-dates), whatever time-machine does.
    if time_machine.escape_hatch.is_travelling():
        return time_machine.escape_hatch.time.time()
    return time.time()


@contextmanager
def travel(moment: datetime) -> Iterator[None]:
    """This process's clock at `moment`, ticking, until the block ends; the processes it
    starts meanwhile (with tests.settings) run on the same clock."""
    before = os.environ.get(TEST_CLOCK_ENV)
    os.environ[TEST_CLOCK_ENV] = repr(moment.timestamp() - _real_time())
    try:
        with time_machine.travel(moment, tick=True):
            yield
    finally:
        if before is None:
            os.environ.pop(TEST_CLOCK_ENV, None)
        else:
            os.environ[TEST_CLOCK_ENV] = before


def travel_from_environment() -> None:
    """In a process a test started: run on the test's clock, if it passed one down."""
    offset = os.environ.get(TEST_CLOCK_ENV)
    if offset:
        moment = datetime.fromtimestamp(_real_time() + float(offset), tz=OSLO)
        time_machine.travel(moment, tick=True).start()
