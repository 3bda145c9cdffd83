"""The fuzzers' summary at the end of the run: one line per fuzzer and the total
("fuzz: N inputs tried, 0 server errors, 0 partial writes"). The tally itself and the
example counts live in tests/fuzz/support.py."""

import logging
from collections import Counter

import pytest

from .support import TALLY

MAIN = ("tried", "server_errors", "partial_writes")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not TALLY:
        return
    terminalreporter.section("fuzz")
    total = Counter()
    for name, counts in sorted(TALLY.items()):
        total.update({k: counts[k] for k in MAIN})
        # What the inputs came to: answers by status, or imported / refused.
        outcomes = ", ".join(
            f"{key.removeprefix('status ')}: {value}"
            for key, value in sorted(counts.items())
            if key not in MAIN
        )
        terminalreporter.write_line(
            f"{name}: {counts['tried']} tried, {counts['server_errors']} server errors or "
            f"crashes, {counts['partial_writes']} partial writes"
            + (f" ({outcomes})" if outcomes else "")
        )
    terminalreporter.write_line(
        f"fuzz: {total['tried']} inputs tried, {total['server_errors']} server errors or crashes, "
        f"{total['partial_writes']} partial writes"
    )


@pytest.fixture(autouse=True)
def quiet_bad_requests():
    """Thousands of 400s would each log a warning; a 500 still logs its traceback."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)
