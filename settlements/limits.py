"""Bounds on what one till may send (issue 17): lines per settlement, new registers and new
names per store and day, and the size of a 400 answer.

They sit at the boundary, around the parser: the line counts are checked on the decoded
body before it is parsed, the daily counts when ingestion inserts something new (the
common case, nothing new, costs no query), and a 400's error list is trimmed after
validation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import BaseModel

from . import parsing


def _fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields a part of the settlement may have, from its pydantic model."""
    return tuple(model.model_fields)


TOP_LEVEL_FIELDS = _fields(parsing.SettlementIn)
SALE_FIELDS = _fields(parsing.SaleIn)
PAYMENT_FIELDS = _fields(parsing.PaymentIn)
MOVEMENT_FIELDS = _fields(parsing.CashMovementIn)
CASH_COUNT_FIELDS = _fields(parsing.CashCountIn)
COUNTER_FIELDS = _fields(parsing.CountersIn)

OSLO = ZoneInfo("Europe/Oslo")
MAX_ERRORS = 50
PATH_MAX = 200
MESSAGE_MAX = 500


class SettlementRefused(Exception):
    """A well-formed settlement over a bound. `daily`: the store's allowance of new
    registers or names for today is used up (try again tomorrow)."""

    def __init__(self, path: str, message: str, *, daily: bool = False):
        self.path = path
        self.message = message
        self.daily = daily
        super().__init__(f"{path}: {message}")


def line_count_errors(obj: Any) -> list[dict[str, str]]:
    """Too many sales or payment lines, on the decoded body (before it is parsed)."""
    if not isinstance(obj, dict):
        return []
    errors = []
    for name, limit, text in (
        ("sales", settings.SETTLEMENT_MAX_SALES, _("Høyst {limit} salgslinjer per oppgjør")),
        (
            "payments",
            settings.SETTLEMENT_MAX_PAYMENTS,
            _("Høyst {limit} betalingslinjer per oppgjør"),
        ),
    ):
        lines = obj.get(name)
        if isinstance(lines, list) and len(lines) > limit:
            errors.append(
                {
                    "path": name,
                    "message": text.format(limit=limit)
                    + " "
                    + _("(fikk {count}).").format(count=len(lines)),
                }
            )
    return errors


def check_line_counts(*, sales: int, payments: int) -> None:
    """The same bound for every way in (API, import command, SAF-T)."""
    errors = line_count_errors({"sales": [None] * sales, "payments": [None] * payments})
    if errors:
        raise SettlementRefused(errors[0]["path"], errors[0]["message"])


def start_of_today() -> dt.datetime:
    today = timezone.localdate()
    return dt.datetime.combine(today, dt.time(0), OSLO)


def seconds_until_tomorrow() -> int:
    tomorrow = start_of_today() + dt.timedelta(days=1)
    # Midnight in Oslo, also across a change of daylight saving time.
    tomorrow = dt.datetime.combine(tomorrow.date(), dt.time(0), OSLO)
    return max(1, int((tomorrow - timezone.now()).total_seconds()) + 1)


def check_new_registers(location) -> None:
    """Called only after a new register was inserted for `location`."""
    from backoffice.models import Register

    limit = settings.SETTLEMENT_NEW_REGISTERS_PER_DAY
    added = Register.objects.filter(location=location, created_at__gte=start_of_today()).count()
    if added > limit:
        raise SettlementRefused(
            "register_id",
            _(
                "Butikken har fått {limit} nye kasser i dag, så mange som er tillatt per døgn. "
                "Oppgjøret fra en ny kasse tas imot igjen i morgen."
            ).format(limit=limit),
            daily=True,
        )


def check_new_names(location) -> None:
    """Called only after new product groups or payment methods were recorded."""
    from .models import SeenName

    limit = settings.SETTLEMENT_NEW_NAMES_PER_DAY
    added = SeenName.objects.filter(
        first_location=location, first_seen__gte=start_of_today()
    ).count()
    if added > limit:
        raise SettlementRefused(
            "sales",
            _(
                "Butikken har sendt {limit} nye varegrupper og betalingsmåter i dag, så mange "
                "som er tillatt per døgn. Oppgjøret tas imot igjen i morgen."
            ).format(limit=limit),
            daily=True,
        )


# --------------------------------------------------------------------------- the 400 answer


def _unknown_paths(obj: Any) -> dict[str, str]:
    """path of every unknown field → where it is ("" for the body, "sales[]" ...), found
    the way the parser names them."""
    found: dict[str, str] = {}

    def scan(value: Any, known: tuple[str, ...], prefix: str, where: str) -> None:
        if isinstance(value, dict):
            for key in value:
                if key not in known:
                    found[f"{prefix}{key}"] = where

    if not isinstance(obj, dict):
        return found
    scan(obj, TOP_LEVEL_FIELDS, "", "")
    for name, known in (
        ("sales", SALE_FIELDS),
        ("payments", PAYMENT_FIELDS),
        ("pay_ins", MOVEMENT_FIELDS),
        ("pay_outs", MOVEMENT_FIELDS),
    ):
        if isinstance(obj.get(name), list):
            for i, item in enumerate(obj[name]):
                scan(item, known, f"{name}[{i}].", f"{name}[]")
    scan(obj.get("cash_count"), CASH_COUNT_FIELDS, "cash_count.", "cash_count")
    scan(obj.get("counters"), COUNTER_FIELDS, "counters.", "counters")
    return found


ALLOWED = {
    "": TOP_LEVEL_FIELDS,
    "sales[]": SALE_FIELDS,
    "payments[]": PAYMENT_FIELDS,
    "pay_ins[]": MOVEMENT_FIELDS,
    "pay_outs[]": MOVEMENT_FIELDS,
    "cash_count": CASH_COUNT_FIELDS,
    "counters": COUNTER_FIELDS,
}


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bounded_errors(errors: list[dict[str, str]], obj: Any) -> dict:
    """The body of a 400: at most MAX_ERRORS errors, each short; an unknown field is named
    with one short line, and the allowed fields of each place are listed once
    (`allowed_fields`), not repeated in every error. `errors_total` counts them all."""
    unknown = _unknown_paths(obj)
    places: list[str] = []
    shown: list[dict[str, str]] = []
    for error in errors:
        path = error.get("path", "")
        if path in unknown:
            where = unknown[path]
            if where not in places:
                places.append(where)
            key = path if not where else path.split(".", 1)[1]
            error = {
                "path": path,
                "message": _("Ukjent felt «{key}».").format(key=_short(key, 100)),
            }
        if len(shown) < MAX_ERRORS:
            shown.append(
                {
                    "path": _short(str(path), PATH_MAX),
                    "message": _short(str(error.get("message", "")), MESSAGE_MAX),
                }
            )
    answer: dict[str, Any] = {"errors": shown}
    if len(errors) > len(shown):
        answer["errors_total"] = len(errors)
        answer["errors_omitted"] = len(errors) - len(shown)
    if places:
        answer["allowed_fields"] = {
            (where or "(body)"): list(ALLOWED[where]) for where in places if where in ALLOWED
        }
    return answer
