"""corrections.first_open_date: the date a reversal goes on when its own is locked in Visma
(after AccountingLockedTo, outside a locked fiscal year)."""

from datetime import date

from integrations.visma.corrections import first_open_date
from integrations.visma.models import VismaFiscalYear
from integrations.visma.preflight import Company


def company(locked_to=None, years=()) -> Company:
    return Company(
        catalog=None,
        years=[
            VismaFiscalYear(start_date=date(y, 1, 1), end_date=date(y, 12, 31), is_locked=locked)
            for y, locked in years
        ],
        locked_to=locked_to,
    )


def test_an_open_day_stays_as_it_is():
    books = company(date(2026, 10, 31), [(2026, False)])
    assert first_open_date(date(2026, 11, 27), books) == date(2026, 11, 27)


def test_a_day_up_to_the_lock_date_moves_to_the_day_after_it():
    books = company(date(2026, 11, 27), [(2026, False)])
    assert first_open_date(date(2026, 11, 27), books) == date(2026, 11, 28)
    assert first_open_date(date(2026, 3, 1), books) == date(2026, 11, 28)


def test_a_locked_fiscal_year_moves_it_to_the_next_open_one():
    books = company(date(2025, 6, 30), [(2025, True), (2026, False)])
    assert first_open_date(date(2025, 8, 1), books) == date(2026, 1, 1)


def test_no_open_year_after_it_is_none():
    assert first_open_date(date(2026, 8, 1), company(None, [(2026, True)])) is None
    assert first_open_date(date(2027, 8, 1), company(None, [(2026, False)])) is None


def test_without_known_years_only_the_lock_date_counts():
    assert first_open_date(date(2026, 1, 5), company(date(2026, 1, 31))) == date(2026, 2, 1)
