"""No day goes missing unnoticed (issue 18, item 4): which registers should have sent a
Z-report and did not, which Z-numbers never came, and the one e-mail a day that names them.

The rule for "expected open" is deliberately simple, and the calendar page says it in one
sentence (EXPECTED_RULE): a register is expected on day D when it sent Z-reports on at
least 4 of the 7 days before D, and on the same weekday one or two weeks before (so a shop
that is always closed on Sundays is never asked for a Sunday), unless it is marked closed
for D or for good (RegisterClosure). Today is never missing: its Z-report comes when the
day is closed.

A Z gap: within one register, two settlements whose Z-numbers skip numbers ("Z 1043
mangler"). The numbers are compared in order, and only where the later number is not of
an earlier business date, so a till that restarts its count is not one big gap.

The check after each run (`notify_missing_days`) is called by the transfer's task when a
run of the organisation ends; settlements/ knows nothing of who calls it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backoffice.models import Organization, Register

from .models import MissingDaysNotice, RegisterClosure, Settlement

# The expected-open rule: reports on at least EXPECTED_OF of the HISTORY_DAYS days before.
HISTORY_DAYS = 7
EXPECTED_OF = 4
# …and on the same weekday one of these many weeks before.
SAME_WEEKDAY_WEEKS = 2
LOOKBEHIND = max(HISTORY_DAYS, 7 * SAME_WEEKDAY_WEEKS)
# The page's warnings cover the days before today this far back.
RECENT_DAYS = 7
# A gap's earlier Z-number is looked for this far before the window (a register silent
# for longer starts afresh), so the query stays bounded in a long history.
GAP_LOOKBEHIND_DAYS = 62
# The e-mail names gaps revealed by settlements of this many days back at most (a year's
# SAF-T file imported today is not a year of gaps in one e-mail; the page shows them).
GAP_MAIL_DAYS = 31
# Lines in one e-mail at most; the rest are on the page.
MAIL_LINES = 30

EXPECTED_RULE = gettext_lazy(
    "En kasse ventes åpen en dag når den har sendt Z-rapport minst 4 av de 7 dagene før og "
    "samme ukedag en av de to ukene før, og ikke er merket stengt."
)


def day_text(day: date) -> str:
    """dd.mm.yyyy, whatever the language (the shop owner's dates)."""
    return day.strftime("%d.%m.%Y")


@dataclass(frozen=True)
class MissingDay:
    register: Register  # with its location
    day: date

    @property
    def text(self) -> str:
        return _("%(register)s i %(store)s har ingen Z-rapport for %(day)s") % {
            "register": self.register.code,
            "store": self.register.location.name,
            "day": day_text(self.day),
        }


@dataclass(frozen=True)
class ZGap:
    register: Register  # with its location
    before: int
    after: int
    day: date  # the business date of the settlement after the gap: where it shows
    settlement_id: int  # that settlement

    @property
    def numbers(self) -> str:
        first, last = self.before + 1, self.after - 1
        return f"{first}" if first == last else f"{first}–{last}"

    @property
    def short(self) -> str:
        return _("Z %(numbers)s mangler") % {"numbers": self.numbers}

    @property
    def text(self) -> str:
        return _(
            "%(register)s i %(store)s: Z %(numbers)s mangler (mellom %(before)s og %(after)s)"
        ) % {
            "register": self.register.code,
            "store": self.register.location.name,
            "numbers": self.numbers,
            "before": self.before,
            "after": self.after,
        }


@dataclass
class Warnings:
    missing: list[MissingDay] = field(default_factory=list)
    gaps: list[ZGap] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.missing or self.gaps)

    def lines(self) -> list[str]:
        return [m.text for m in self.missing] + [g.text for g in self.gaps]


def expected_open(report_days: set[date], day: date) -> bool:
    """The rule above, without the closures: did the register send on most days before
    `day`, and on the same weekday lately?"""
    recent = sum(day - timedelta(days=n) in report_days for n in range(1, HISTORY_DAYS + 1))
    weekday = any(day - timedelta(weeks=n) in report_days for n in range(1, SAME_WEEKDAY_WEEKS + 1))
    return recent >= EXPECTED_OF and weekday


class Closures:
    """An organisation's register closures, looked up by register and day."""

    def __init__(self, rows: list[RegisterClosure]):
        self.for_good: dict[int, RegisterClosure] = {}
        self.days: dict[tuple[int, date], RegisterClosure] = {}
        for row in rows:
            if row.day is None:
                self.for_good[row.register_id] = row
            else:
                self.days[(row.register_id, row.day)] = row

    def on(self, register_id: int, day: date) -> RegisterClosure | None:
        return self.for_good.get(register_id) or self.days.get((register_id, day))


def closures_of(organization: Organization, *, start: date, end: date) -> Closures:
    return Closures(
        list(
            RegisterClosure.objects.filter(register__location__organization=organization).filter(
                Q(day__isnull=True) | Q(day__gte=start, day__lte=end)
            )
        )
    )


def registers_of(organization: Organization) -> dict[tuple[int, str], Register]:
    """The organisation's registers by (location id, code), as settlements name them."""
    return {
        (r.location_id, r.code): r
        for r in Register.objects.filter(location__organization=organization).select_related(
            "location"
        )
    }


def report_days(
    organization: Organization, *, start: date, end: date
) -> dict[tuple[int, str], set[date]]:
    """The business dates each register sent a Z-report on, between start and end."""
    found: dict[tuple[int, str], set[date]] = defaultdict(set)
    rows = (
        Settlement.objects.filter(
            organization=organization, business_date__gte=start, business_date__lte=end
        )
        .order_by()
        .values_list("location_id", "register_id", "business_date")
        .distinct()
    )
    for location_id, register_id, day in rows:
        found[(location_id, register_id)].add(day)
    return found


def _sort_key(register: Register) -> tuple[str, str]:
    return (register.location.name, register.code)


def missing_between(
    *,
    organization: Organization,
    start: date,
    end: date,
    today: date | None = None,
    registers: dict[tuple[int, str], Register] | None = None,
) -> list[MissingDay]:
    """Every day from start to end (before today) a register was expected open and sent no
    Z-report, by store, register and day."""
    today = today or timezone.localdate()
    end = min(end, today - timedelta(days=1))
    if end < start:
        return []
    registers = registers if registers is not None else registers_of(organization)
    days = report_days(organization, start=start - timedelta(days=LOOKBEHIND), end=end)
    closures = closures_of(organization, start=start, end=end)
    found = []
    for key, register in sorted(registers.items(), key=lambda item: _sort_key(item[1])):
        sent = days.get(key, set())
        if not sent:
            continue
        day = start
        while day <= end:
            if day not in sent and expected_open(sent, day) and not closures.on(register.pk, day):
                found.append(MissingDay(register, day))
            day += timedelta(days=1)
    return found


def missing_days(*, organization: Organization, on: date) -> list[MissingDay]:
    """The registers expected open on `on` that sent no Z-report for it."""
    return missing_between(organization=organization, start=on, end=on)


def z_gaps(
    *,
    organization: Organization,
    since: date,
    until: date | None = None,
    received_after: datetime | None = None,
    registers: dict[tuple[int, str], Register] | None = None,
) -> list[ZGap]:
    """The holes in each register's Z-numbers that settlements of business date `since`
    to `until` reveal (the settlement after the hole is in that range, and was received
    after `received_after` when given). Registers closed for good are left out."""
    registers = registers if registers is not None else registers_of(organization)
    rows = Settlement.objects.filter(organization=organization, business_date__gte=since)
    if until is not None:
        rows = rows.filter(business_date__lte=until)
    numbers: dict[tuple[int, str], list[tuple[int, date, datetime | None, int]]] = defaultdict(list)
    for location_id, register_id, z, day, received, pk in rows.order_by().values_list(
        "location_id", "register_id", "z_number", "business_date", "received_at", "pk"
    ):
        numbers[(location_id, register_id)].append((z, day, received, pk))
    if not numbers:
        return []
    # Each register's last Z-number before the window, so a hole at its start shows too.
    earlier = (
        Settlement.objects.filter(
            organization=organization,
            business_date__lt=since,
            business_date__gte=since - timedelta(days=GAP_LOOKBEHIND_DAYS),
        )
        .order_by()
        .values("location_id", "register_id")
        .annotate(last=Max("z_number"), day=Max("business_date"))
    )
    for row in earlier:
        key = (row["location_id"], row["register_id"])
        if key in numbers and row["last"] < min(z for z, *_rest in numbers[key]):
            # Not "in the window": it never reveals a gap itself.
            numbers[key].append((row["last"], row["day"], None, 0))
    closed = set(
        RegisterClosure.objects.filter(
            register__location__organization=organization, day__isnull=True
        ).values_list("register_id", flat=True)
    )
    found = []
    for key, seen in numbers.items():
        register = registers.get(key)
        if register is None or register.pk in closed:
            continue
        seen.sort(key=lambda number: (number[0], number[1]))
        for (z1, day1, _r1, _pk1), (z2, day2, received2, pk2) in zip(seen, seen[1:], strict=False):
            if z2 - z1 < 2 or day2 < day1 or pk2 == 0:
                continue
            if received_after is not None and (received2 is None or received2 <= received_after):
                continue
            found.append(ZGap(register, z1, z2, day2, pk2))
    found.sort(key=lambda g: (_sort_key(g.register), g.before))
    return found


def recent_warnings(*, organization: Organization, today: date | None = None) -> Warnings:
    """What the calendar page names above the month: the missing days of the last week and
    the Z gaps its settlements reveal."""
    today = today or timezone.localdate()
    start = today - timedelta(days=RECENT_DAYS)
    registers = registers_of(organization)
    return Warnings(
        missing=missing_between(
            organization=organization,
            start=start,
            end=today - timedelta(days=1),
            today=today,
            registers=registers,
        ),
        gaps=z_gaps(organization=organization, since=start, registers=registers),
    )


def notify_missing_days(*, organization: Organization, today: date | None = None) -> bool:
    """The check after each run: one e-mail a day to the organisation's admins naming the
    registers without a Z-report for yesterday and the Z gaps not told before. Returns
    whether it sent one.

    "Once a day" is the notice row, locked while the check runs: two runs that end at the
    same moment take turns, and the second finds today's e-mail sent. A day with nothing
    to tell sends nothing (and a later run that day may still tell)."""
    today = today or timezone.localdate()
    yesterday = today - timedelta(days=1)
    with transaction.atomic():
        notice, _created = MissingDaysNotice.objects.select_for_update().get_or_create(
            organization=organization
        )
        if notice.sent_on is not None and notice.sent_on >= today:
            return False
        registers = registers_of(organization)
        with translation.override("nb"):
            warnings = Warnings(
                missing=missing_between(
                    organization=organization,
                    start=yesterday,
                    end=yesterday,
                    today=today,
                    registers=registers,
                ),
                gaps=z_gaps(
                    organization=organization,
                    since=today - timedelta(days=GAP_MAIL_DAYS),
                    received_after=notice.sent_at,
                    registers=registers,
                ),
            )
            recipients = organization.admin_emails()
            if not warnings or not recipients:
                return False
            _send(organization, warnings, recipients, month=yesterday)
        notice.sent_on, notice.sent_at = today, timezone.now()
        notice.save(update_fields=["sent_on", "sent_at"])
    return True


def _send(organization: Organization, warnings: Warnings, recipients: list[str], *, month: date):
    lines = warnings.lines()
    shown = [f"- {line}" for line in lines[:MAIL_LINES]]
    if len(lines) > MAIL_LINES:
        shown.append(_("… og %(count)s til.") % {"count": len(lines) - MAIL_LINES})
    url = settings.SITE_URL.rstrip("/") + reverse("settlements:calendar") + f"?month={month:%Y-%m}"
    send_mail(
        _("Z-rapporter mangler i %(organization)s") % {"organization": organization.name},
        _("Disse Z-rapportene har ikke kommet fra kassene:")
        + "\n\n"
        + "\n".join(shown)
        + "\n\n"
        + _(
            "Be kassen sende dagsoppgjøret på nytt, eller merk kassen som stengt den dagen "
            "(eller for godt) i kalenderen, så varsles den ikke mer: %(url)s"
        )
        % {"url": url},
        None,
        recipients,
        fail_silently=True,
    )


# ---------------------------------------------------------------- closing a register


def close_register(
    *, register: Register, day: date | None, user=None, note: str = ""
) -> tuple[RegisterClosure, bool]:
    """Mark the register closed on `day`, or for good (None): it stops warning. Marking it
    again changes nothing (returns the closure there, False)."""
    label = user.get_username() if user is not None and user.is_authenticated else ""
    return RegisterClosure.objects.get_or_create(
        register=register,
        day=day,
        defaults={
            "note": note[:200],
            "closed_by": user if label else None,
            "closed_by_label": label,
        },
    )


def reopen_register(*, closure: RegisterClosure) -> None:
    """Undo a closure: the register is expected again by the rule."""
    closure.delete()
