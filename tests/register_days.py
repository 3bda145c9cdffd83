"""Tills sending (or not sending) their Z-reports day by day, for the calendar's tests."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from datetime import date, timedelta

from settlements.models import Settlement
from settlements.parsing import parse_settlement
from settlements.services import ingest_settlement


def send(location, worked_example: dict, *, day: date, z: int, register: str = "KASSE-1"):
    """The worked example's (balanced) settlement as `register`'s Z-report `z` for `day`."""
    body = copy.deepcopy(worked_example["settlement"])
    body.pop("opened_at", None)
    body.pop("closed_at", None)
    body.update(register_id=register, z_number=z, business_date=day.isoformat())
    result = ingest_settlement(location=location, data=parse_settlement(body))
    assert result.outcome == "created"
    return result.settlement


def send_days(
    location, worked_example: dict, days: Iterable[date], *, first_z: int, register="KASSE-1"
) -> list[Settlement]:
    """One Z-report for each of `days`, the Z-numbers counting up from first_z."""
    return [
        send(location, worked_example, day=day, z=first_z + n, register=register)
        for n, day in enumerate(sorted(days))
    ]


def span(first: date, last: date, *, skip: Iterable[date] = ()) -> list[date]:
    """Every day from first to last, without `skip`."""
    skipped = set(skip)
    days = []
    day = first
    while day <= last:
        if day not in skipped:
            days.append(day)
        day += timedelta(days=1)
    return days


_ROW = re.compile(r'<th scope="row" class="register-col">([^<\s]+).*?</tr>', re.S)
_CELL = re.compile(r'<td class="cell cell-(\w+)[^"]*" data-day="([\d-]+)">')


def calendar_cells(html: str) -> dict[str, dict[date, str]]:
    """The calendar table as {register: {day: state}} (registers of one store only)."""
    return {
        row[1]: {date.fromisoformat(day): state for state, day in _CELL.findall(row[0])}
        for row in _ROW.finditer(html)
    }
