"""`manage.py seed_demo`: the demo organisation Fjordkafé AS with about 30 days of settlements.

Idempotent: running it again changes nothing (what exists is left alone; each day's
settlement is generated from a seed made of its store, register and date, so it comes out
identical and ingestion answers "unchanged"). Run on a later day, it adds the new days.
The settlements go in through the same parser and service as the tills' API.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from backoffice.models import Location, Membership, Organization
from backoffice.services import issue_api_key
from backoffice.settings import envbool
from settlements.models import Settlement
from settlements.parsing import parse_settlement
from settlements.services import ingest_settlement

OSLO = ZoneInfo("Europe/Oslo")
DAYS = 30
ORG = ("fjordkafe", "Fjordkafé AS")
ADMIN = ("admin@fjordkafe.no", "fjordkafe")
STAFF = ("ansatt@fjordkafe.no", "fjordkafe")
# code, name, registers, closed on Sundays
STORES = (
    ("bryggen", "Fjordkafé Bryggen", ("KASSE-1", "KASSE-2"), False),
    ("torget", "Fjordkafé Torget", ("KASSE-1",), True),
)
# A till that forgot to send one Z-report (store, register, days before today), so the
# calendar has a missed day and a lost Z-number to show (README, Kalender).
FORGOTTEN = ("bryggen", "KASSE-2", 3)
# Product group, VAT rate, (lowest, highest) price in whole kroner, typical count per day.
# Served food and drink is 25 %, take-away food 15 %.
PRODUCTS = (
    ("Kaffe", "25", (38, 62), 140),
    ("Bakevarer", "25", (32, 58), 70),
    ("Mat", "25", (95, 189), 35),
    ("Take away", "15", (35, 149), 60),
    ("Kioskvarer", "15", (25, 79), 20),
)
# Z-numbers run per register from this day on (a Monday), so a date always has the same
# Z-number; a store closed on Sundays makes no Z-report then, so its count skips them (no
# hole in the Z-numbers on the calendar page).
Z_EPOCH = dt.date(2024, 1, 1)


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def demo_settlement(
    store_code: str, register: str, day: dt.date, register_index: int, *, closed_sundays=False
) -> dict:
    """One realistic, balanced café day as a till would send it (deterministic)."""
    days = (day - Z_EPOCH).days
    z_number = 1000 * (register_index + 1) + days - (days // 7 if closed_sundays else 0)
    rng = random.Random(f"{store_code}:{register}:{day.isoformat()}")
    busy = 1.25 if day.weekday() >= 4 else 1.0  # Friday to Sunday are busier
    scale = busy * (0.55 if register_index else 1.0)  # the second till takes the overflow

    sales: list[dict[str, Any]] = []  # the lines as the till's JSON has them
    returns_count, returns_amount = 0, 0
    for group, rate, (low, high), typical in PRODUCTS:
        count = max(0, int(rng.gauss(typical * scale, typical * scale * 0.15)))
        gross = sum(rng.randint(low, high) for _ in range(count))
        if count and rng.random() < 0.04:  # a customer brought something back
            returned = rng.randint(low, high)
            gross -= returned
            returns_count += 1
            returns_amount += returned
        if count:
            sales.append(
                {
                    "product_group": group,
                    "vat_rate": rate,
                    "gross_amount": f"{gross}.00",
                    "count": count,
                }
            )
    total_sales = sum(Decimal(line["gross_amount"]) for line in sales)

    tips = Decimal(rng.randrange(0, 400, 10)) if rng.random() < 0.7 else Decimal(0)
    gift_cards_sold = (
        Decimal(rng.choice((250, 500, 500, 1000))) if rng.random() < 0.15 else Decimal(0)
    )
    to_pay = total_sales + tips + gift_cards_sold

    # Cash: whole kroner (the till rounds cash payments, the rounding line shows it).
    cash = Decimal(int(to_pay * Decimal(rng.uniform(0.04, 0.12))))
    rounding = Decimal(rng.choice((0, 0, 0, 1, -1, 2, -2))) / 100 if cash else Decimal(0)
    to_pay += rounding
    gift_cards_used = Decimal(rng.choice((250, 500))) if rng.random() < 0.12 else Decimal(0)
    vipps = (to_pay * Decimal(rng.uniform(0.18, 0.3))).quantize(Decimal("0.01"))
    if to_pay - cash - vipps - gift_cards_used < 0:
        gift_cards_used = Decimal(0)
    card = to_pay - cash - vipps - gift_cards_used
    payments = [
        {"method": "card", "amount": _money(card)},
        {"method": "vipps", "amount": _money(vipps)},
    ]
    if cash:
        payments.append({"method": "cash", "amount": _money(cash)})
    if gift_cards_used:
        payments.append({"method": "gift_card", "amount": _money(gift_cards_used)})

    pay_outs = []
    if rng.random() < 0.1:
        pay_outs.append(
            {"reason": "Melk fra nærbutikken", "amount": _money(Decimal(rng.randint(60, 180)))}
        )
    opening_float = Decimal(1500)
    expected = opening_float + cash - sum(Decimal(p["amount"]) for p in pay_outs)
    difference = Decimal(rng.choice((-50, -20, -10, 10, 20))) if rng.random() < 0.12 else Decimal(0)

    opens = dt.datetime.combine(day, dt.time(7, 30 + rng.randint(0, 20)), OSLO)
    closes = dt.datetime.combine(
        day, dt.time(17 if day.weekday() < 5 else 16, rng.randint(0, 40)), OSLO
    )
    receipts = max(1, int(sum(line["count"] for line in sales) / rng.uniform(1.6, 2.1)))
    return {
        "register_id": register,
        "z_number": z_number,
        "business_date": day.isoformat(),
        "opened_at": opens.isoformat(),
        "closed_at": closes.isoformat(),
        "currency": "NOK",
        "sales": sales,
        "payments": payments,
        "tips": _money(tips),
        "gift_cards_sold": _money(gift_cards_sold),
        "rounding": _money(rounding),
        "cash_count": {
            "opening_float": _money(opening_float),
            "counted": _money(expected + difference),
        },
        "pay_ins": [],
        "pay_outs": pay_outs,
        "counters": {
            "receipts": receipts,
            "returns_count": returns_count,
            "returns_amount": f"{returns_amount}.00",
            "discounts_count": rng.randint(0, 6),
            "discounts_amount": _money(Decimal(rng.randint(0, 6) * 15)),
            "no_sale_openings": rng.randint(0, 4),
        },
    }


class Command(BaseCommand):
    help = "Creates the demo organisation Fjordkafé AS with two stores and ~30 days of settlements."

    def handle(self, *args, **options):
        # The demo's passwords are in the README: never on a production database.
        if not envbool("DEBUG", "0"):
            raise CommandError(
                "seed_demo is for development only (DEBUG=1): it creates users with the "
                "passwords printed in the README. `make demo` sets DEBUG=1."
            )
        User = get_user_model()
        with transaction.atomic():
            org, _ = Organization.objects.get_or_create(slug=ORG[0], defaults={"name": ORG[1]})
            for (email, password), role in (
                (ADMIN, Membership.Role.ADMIN),
                (STAFF, Membership.Role.STAFF),
            ):
                user, created = User.objects.get_or_create(
                    username=email, defaults={"email": email}
                )
                if created:
                    user.set_password(password)
                    user.save(update_fields=["password"])
                Membership.objects.get_or_create(
                    user=user, organization=org, defaults={"role": role}
                )
            new_keys = []
            locations = []
            for code, name, registers, closed_sundays in STORES:
                location, created = Location.objects.get_or_create(
                    organization=org, code=code, defaults={"name": name}
                )
                if created:
                    _key, raw = issue_api_key(location=location, via="manage.py seed_demo")
                    new_keys.append((location.name, raw))
                locations.append((location, registers, closed_sundays))

        yesterday = timezone.localdate() - dt.timedelta(days=1)
        outcomes = {"created": 0, "unchanged": 0, "conflict": 0}
        for location, registers, closed_sundays in locations:
            for offset in range(DAYS):
                day = yesterday - dt.timedelta(days=offset)
                if closed_sundays and day.weekday() == 6:
                    continue
                for index, register in enumerate(registers):
                    if (location.code, register, offset + 1) == FORGOTTEN:
                        continue
                    if Settlement.objects.filter(
                        location=location, register_id=register, business_date=day
                    ).exists():
                        # There (perhaps under an older numbering): kept as it is.
                        outcomes["unchanged"] += 1
                        continue
                    body = demo_settlement(
                        location.code, register, day, index, closed_sundays=closed_sundays
                    )
                    result = ingest_settlement(location=location, data=parse_settlement(body))
                    outcomes[result.outcome] += 1

        self.stdout.write(f"Organisation: {org.name} ({org.slug})")
        self.stdout.write(f"Admin login:  {ADMIN[0]} / {ADMIN[1]}")
        self.stdout.write(f"Staff login:  {STAFF[0]} / {STAFF[1]}")
        self.stdout.write(
            "Stores: " + ", ".join(f"{loc.name} ({', '.join(regs)})" for loc, regs, _ in locations)
        )
        self.stdout.write(
            f"Settlements {(yesterday - dt.timedelta(days=DAYS - 1)).isoformat()} to "
            f"{yesterday.isoformat()}: {outcomes['created']} created, "
            f"{outcomes['unchanged']} already there"
            + (f", {outcomes['conflict']} conflicting" if outcomes["conflict"] else "")
        )
        for name, raw in new_keys:
            self.stdout.write(f"API key for {name} (shown once): {raw}")
