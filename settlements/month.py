"""The calendar page's month (issue 18, item 4): one row per register, one cell per day,
each cell one state a shop owner reads at a glance.

Where a settlement is in its transfer comes through the seam settlements.transfer (the
integration fills it); `cell_state` turns that into the calendar's few states, in one
place, so a state an integration adds later shows sensibly without touching the page.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from backoffice.models import Location, Organization, Register

from .missing import (
    LOOKBEHIND,
    ZGap,
    closures_of,
    day_text,
    missing_between,
    registers_of,
    report_days,
    z_gaps,
)
from .models import RegisterClosure, Settlement
from .transfer import provider

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

POSTED = "posted"
WAITING = "waiting"
NEEDS_ACTION = "needs_action"
AVVIK = "avvik"
MISSING = "missing"
CLOSED = "closed"
NONE = "none"  # no Z-report, and none expected
FUTURE = "future"  # today and later, before anything came


@dataclass(frozen=True)
class CellKind:
    state: str
    letter: StrOrPromise
    label: StrOrPromise


# The legend, in this order. The letter makes a cell readable without its colour.
KINDS = [
    CellKind(POSTED, pgettext_lazy("kalender", "O"), gettext_lazy("overført")),
    CellKind(WAITING, pgettext_lazy("kalender", "V"), gettext_lazy("venter")),
    CellKind(NEEDS_ACTION, pgettext_lazy("kalender", "H"), gettext_lazy("trenger handling")),
    CellKind(AVVIK, pgettext_lazy("kalender", "A"), gettext_lazy("avvik")),
    CellKind(MISSING, pgettext_lazy("kalender", "M"), pgettext_lazy("kalender", "mangler")),
    CellKind(CLOSED, pgettext_lazy("kalender", "S"), gettext_lazy("stengt")),
]
KIND = {kind.state: kind for kind in KINDS}
LETTERS = {kind.state: kind.letter for kind in KINDS}
KIND[NONE] = CellKind(NONE, "", gettext_lazy("ingen Z-rapport ventet"))
KIND[FUTURE] = CellKind(FUTURE, "", "")

# The transfer's states (TransferStatus.state) as the calendar's. "failed" and "uncertain"
# are passing troubles the next attempt settles by itself, so they wait.
_OF_TRANSFER = {
    "posted": POSTED,
    "pending": WAITING,
    "posting": WAITING,
    "uncertain": WAITING,
    "failed": WAITING,
    "needs_action": NEEDS_ACTION,
    "avvik": AVVIK,
}

# Several settlements of one register on one day: the cell shows the most pressing.
_MOST_PRESSING_FIRST = [AVVIK, NEEDS_ACTION, WAITING, POSTED]


def cell_state(transfer_state: str) -> str:
    """The calendar's state for a settlement in this transfer state. A state this does not
    know (one an integration adds) wants a look: "trenger handling"."""
    return _OF_TRANSFER.get(transfer_state, NEEDS_ACTION)


@dataclass
class Cell:
    day: date
    state: str
    settlements: list[Settlement] = field(default_factory=list)
    closure: RegisterClosure | None = None
    gaps: list[ZGap] = field(default_factory=list)
    url: str = ""
    title: str = ""
    voucher_number: str = ""

    @property
    def letter(self) -> StrOrPromise:
        return KIND[self.state].letter

    @property
    def label(self) -> StrOrPromise:
        return KIND[self.state].label

    @property
    def is_weekend(self) -> bool:
        return self.day.weekday() >= 5


@dataclass
class Row:
    register: Register
    cells: list[Cell]
    closed_for_good: RegisterClosure | None = None


@dataclass
class Store:
    location: Location
    rows: list[Row]


@dataclass
class Month:
    first: date
    last: date
    today: date
    days: list[date]
    stores: list[Store]
    counts: list[tuple[CellKind, int]]
    gap_count: int
    previous: date
    next: date | None

    @property
    def is_empty(self) -> bool:
        return not self.stores


# The months the page can show (a date beyond would not build its neighbours).
MIN_YEAR, MAX_YEAR = 2000, 2999


def parse_month(value: str | None, *, today: date) -> date | None:
    """The first of the month "2026-11" names, or None when it names none."""
    if not value:
        return today.replace(day=1)
    try:
        year, month = (int(part) for part in value.split("-"))
        if not MIN_YEAR <= year <= MAX_YEAR:
            return None
        return date(year, month, 1)
    except ValueError:
        return None


def _shift(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _pressing(states: list[str]) -> str:
    return min(states, key=_MOST_PRESSING_FIRST.index)


def month_of(*, organization: Organization, first: date, today: date | None = None) -> Month:
    today = today or timezone.localdate()
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    days = [first + timedelta(days=n) for n in range(last.day)]
    registers = registers_of(organization)
    active = report_days(organization, start=first - timedelta(days=LOOKBEHIND), end=last)
    closures = closures_of(organization, start=first, end=last)
    missing = {
        (m.register.pk, m.day)
        for m in missing_between(
            organization=organization, start=first, end=last, today=today, registers=registers
        )
    }
    gaps: dict[tuple[int, date], list[ZGap]] = {}
    for gap in z_gaps(organization=organization, since=first, until=last, registers=registers):
        gaps.setdefault((gap.register.pk, gap.day), []).append(gap)
    settlements: dict[tuple[int, str, date], list[Settlement]] = {}
    for s in provider().with_transfer(
        Settlement.objects.filter(
            organization=organization, business_date__gte=first, business_date__lte=last
        ).order_by("z_number")
    ):
        settlements.setdefault((s.location_id, s.register_id, s.business_date), []).append(s)

    shown = sorted(
        (r for key, r in registers.items() if active.get(key)),
        key=lambda r: (r.location.name, r.code),
    )
    stores: list[Store] = []
    tally: dict[str, int] = dict.fromkeys(KIND, 0)
    for register in shown:
        cells = []
        for day in days:
            cell = _cell(
                register,
                day,
                settlements.get((register.location_id, register.code, day), []),
                today=today,
                missing=(register.pk, day) in missing,
                closure=closures.on(register.pk, day),
                gaps=gaps.get((register.pk, day), []),
            )
            tally[cell.state] += 1
            cells.append(cell)
        row = Row(register, cells, closures.for_good.get(register.pk))
        if stores and stores[-1].location.pk == register.location_id:
            stores[-1].rows.append(row)
        else:
            stores.append(Store(register.location, [row]))
    this_month = today.replace(day=1)
    following = _shift(first, 1)
    return Month(
        first=first,
        last=last,
        today=today,
        days=days,
        stores=stores,
        counts=[(kind, tally[kind.state]) for kind in KINDS if tally[kind.state]],
        gap_count=sum(len(found) for found in gaps.values()),
        previous=_shift(first, -1),
        next=following if following <= this_month else None,
    )


def _cell(
    register: Register,
    day: date,
    found: list[Settlement],
    *,
    today: date,
    missing: bool,
    closure: RegisterClosure | None,
    gaps: list[ZGap],
) -> Cell:
    where = f"{register.code} · {day_text(day)}"
    day_url = reverse("settlements:calendar_day", args=[register.pk, day.isoformat()])
    if found:
        statuses = [provider().status(s) for s in found]
        state = _pressing([cell_state(status.state) for status in statuses])
        if len(found) == 1:
            url = reverse("settlements:detail", args=[found[0].pk])
            what = _("Z %(z)s") % {"z": found[0].z_number}
        else:
            url = (
                reverse("settlements:list")
                + "?"
                + urlencode(
                    {
                        "register": str(register.pk),
                        "date_from": day.isoformat(),
                        "date_to": day.isoformat(),
                    }
                )
            )
            what = _("%(count)s Z-rapporter") % {"count": len(found)}
        voucher = statuses[0].voucher_number if len(found) == 1 and state == POSTED else ""
        title = f"{where}: {what}, {KIND[state].label}"
        if voucher:
            title += " " + _("(bilag %(number)s)") % {"number": voucher}
        if gaps:
            title += "; " + "; ".join(gap.short for gap in gaps)
        return Cell(day, state, found, None, gaps, url, title, voucher)
    if closure is not None and (
        # Closed for good: from the day it was marked, up to yesterday (not the future).
        closure.day is not None or timezone.localtime(closure.closed_at).date() <= day < today
    ):
        title = f"{where}: {KIND[CLOSED].label}"
        if closure.note:
            title += f" ({closure.note})"
        return Cell(day, CLOSED, closure=closure, url=day_url, title=title)
    if day >= today:
        return Cell(day, FUTURE)
    if missing:
        why = _("ingen Z-rapport, men kassen ventes åpen")
        return Cell(day, MISSING, url=day_url, title=f"{where}: {why}")
    return Cell(day, NONE, title=f"{where}: {KIND[NONE].label}")
