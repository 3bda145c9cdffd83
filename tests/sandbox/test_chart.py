"""The simulated companies' books are relative to today, so the demo and the tests behave
the same in any year: lock dates at month ends, fiscal years around this one."""

from datetime import date

import pytest

from visma_sandbox import chart
from visma_sandbox.chart import end_of_month_before


@pytest.mark.parametrize(
    ("today", "months", "expected"),
    [
        (date(2026, 11, 28), 1, date(2026, 10, 31)),
        (date(2026, 11, 28), 3, date(2026, 8, 31)),
        (date(2027, 1, 4), 1, date(2026, 12, 31)),
        (date(2027, 1, 4), 3, date(2026, 10, 31)),
        (date(2028, 3, 1), 1, date(2028, 2, 29)),  # a leap year's February
        (date(2027, 3, 31), 1, date(2027, 2, 28)),
    ],
)
def test_it_locks_to_the_end_of_a_month_before_today(today, months, expected):
    assert end_of_month_before(today, months) == expected


def company(name: str) -> chart.CompanySpec:
    return next(spec for spec in chart.COMPANIES if spec.name == name)


@pytest.mark.parametrize("today", [date(2026, 11, 28), date(2027, 1, 1), date(2028, 2, 29)])
def test_it_keeps_the_demo_companys_last_30_days_open(today):
    """The demo seeds 30 days back from yesterday; each of them is postable, in any year."""
    fjordkafe = company("Fjordkafé AS")
    years = dict(fjordkafe.years(today))
    assert fjordkafe.first_open_day(today) <= date.fromordinal(today.toordinal() - 31)
    assert years[today.year] is False and years[today.year - 1] is False
    assert years[today.year + 1] is False  # next year is there already, as in Visma


def test_it_gives_bakeri_nord_a_locked_last_year_and_kiosk_vest_no_year_two_years_back():
    today = date(2027, 1, 4)
    assert company("Bakeri Nord AS").first_open_day(today) == date(2027, 1, 1)
    assert dict(company("Bakeri Nord AS").years(today))[2026] is True
    assert 2025 not in dict(company("Kiosk Vest AS").years(today))
    assert company("Kiosk Vest AS").accounting_locked_to(today) == date(2026, 8, 31)
