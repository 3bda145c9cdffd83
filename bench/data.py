"""Test data for the benchmarks, made fast: plain values for the builder, bulk_create for
the pages (not through the API, which benchmark 5 measures on its own).

Shared by the benchmarks that exist and those still to come (2 and 6 need many
organisations and settlements of 10 / 100 / 1 000 lines).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

from django.contrib.auth.models import User
from django.utils import timezone

from accounting.mapping import MappingData, mapping_from_json
from backoffice.models import ApiKey, Location, Membership, Organization, Register
from integrations.visma.models import SettlementExport
from settlements.domain import ZERO, PaymentData, SaleLineData, SettlementData, q2, vat_from_gross
from settlements.models import Payment, SaleLine, Settlement
from settlements.services import record_seen_names

RATES = ("25", "15", "12", "0")
SALES = {"25": (3000, "3"), "15": (3030, "31"), "12": (3050, "33"), "0": (3100, "5")}
OUTPUT_VAT = {"25": 2700, "15": 2701, "12": 2703}
STANDARD_PAYMENTS = {"cash": 1900, "card": 1901, "vipps": 1902, "gift_card": 2901}
SINGLES = {
    "tips": 2910,
    "gift_cards_sold": 2901,
    "rounding": 7740,
    "cash": 1900,
    "cash_difference": 1909,
    "pay_ins": 1911,
    "pay_outs": 1911,
}
# Every fourth product group follows its rate's sales account; the others have their own
# (an override), so most sale lines become a row of their own, as in a shop whose
# bookkeeper splits sales by product group.
FOLLOWS_RATE_EVERY = 4
FIRST_EXTRA_PAYMENT_ACCOUNT = 1920


def business_day(days_ago: int = 2) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=days_ago)


def line_split(lines: int) -> tuple[int, int]:
    """(sale lines, payments) of a settlement of `lines` lines: 4/5 sales, 1/5 payments."""
    payments = max(1, lines // 5)
    return max(1, lines - payments), payments


def group_name(index: int) -> str:
    return f"Varegruppe {index:04d}"


def method_name(index: int) -> str:
    standard = list(STANDARD_PAYMENTS)
    return standard[index] if index < len(standard) else f"betaling-{index:04d}"


def settlement_data(
    lines: int, *, z_number: int = 1, day: dt.date | None = None, reference: str = "BO-1"
) -> SettlementData:
    """A balanced settlement of `lines` lines: distinct product groups over the four rates,
    distinct payment methods, every one mapped by `mapping_json(lines)`."""
    sale_count, payment_count = line_split(lines)
    sales = []
    for i in range(sale_count):
        rate = Decimal(RATES[i % len(RATES)])
        gross = Decimal(100 + (i * 37) % 900) + Decimal("0.45")
        sales.append(
            SaleLineData(
                product_group=group_name(i),
                vat_rate=rate,
                gross_amount=gross,
                vat_amount=vat_from_gross(gross, rate),
                count=1 + i % 7,
            )
        )
    total = sum((s.gross_amount for s in sales), ZERO)
    share = q2(total / payment_count)
    payments = [PaymentData(method_name(j), share) for j in range(payment_count - 1)]
    payments.append(
        PaymentData(method_name(payment_count - 1), total - share * (payment_count - 1))
    )
    return SettlementData(
        register_id="KASSE-1",
        z_number=z_number,
        business_date=day or business_day(),
        sales=tuple(sales),
        payments=tuple(payments),
        location_name="Benkebutikken",
        reference=reference,
    )


def mapping_json(lines: int) -> dict:
    """The kontooppsett that maps every line of `settlement_data(lines)`."""
    sale_count, payment_count = line_split(lines)
    groups = {}
    for i in range(sale_count):
        if i % FOLLOWS_RATE_EVERY == FOLLOWS_RATE_EVERY - 1:
            continue
        rate = RATES[i % len(RATES)]
        account, code = SALES[rate]
        groups[group_name(i)] = {"account": account + 1 + i % 9, "vat_code": code}
    payments = {}
    for j in range(payment_count):
        method = method_name(j)
        payments[method] = STANDARD_PAYMENTS.get(method, FIRST_EXTRA_PAYMENT_ACCOUNT + j % 50)
    return {
        "sales_by_vat_rate": {
            rate: {"account": account, "vat_code": code} for rate, (account, code) in SALES.items()
        },
        "sales_by_product_group": groups,
        "output_vat_by_rate": dict(OUTPUT_VAT),
        "payments": payments,
        **SINGLES,
    }


def mapping_data(lines: int) -> MappingData:
    return mapping_from_json(mapping_json(lines), catalog=None)


def standard_mapping_json() -> dict:
    """The worked example's kontooppsett (what the page benchmark saves)."""
    return {
        "sales_by_vat_rate": {
            rate: {"account": account, "vat_code": code} for rate, (account, code) in SALES.items()
        },
        "sales_by_product_group": {"Klær": {"account": 3000, "vat_code": "3"}},
        "output_vat_by_rate": dict(OUTPUT_VAT),
        "payments": dict(STANDARD_PAYMENTS),
        **SINGLES,
    }


# --- the database ---------------------------------------------------------------------------


def make_org(slug: str, *, locations: int = 1, registers: int = 1) -> tuple[Organization, list]:
    org = Organization.objects.create(slug=slug, name=f"Benk {slug}")
    stores = Location.objects.bulk_create(
        Location(organization=org, code=f"butikk-{i:03d}", name=f"Butikk {i:03d}")
        for i in range(locations)
    )
    Register.objects.bulk_create(
        Register(location=store, code=f"KASSE-{r + 1}")
        for store in stores
        for r in range(registers)
    )
    return org, stores


def make_member(org: Organization, username: str, role: str = Membership.Role.ADMIN) -> User:
    user = User.objects.create_user(username, f"{username}@example.org", "pw-" + username)
    Membership.objects.create(user=user, organization=org, role=role)
    return user


def issue_key(location: Location) -> str:
    _key, raw = ApiKey.issue(location)
    return raw


# A small Z-report (the worked example's shape): 2 sale lines, 4 payments.
SMALL_SALES = (("Klær", "25", "6000.00", "1200.00"), ("Mat", "15", "4000.00", "521.74"))
SMALL_PAYMENTS = (
    ("cash", "2450.00"),
    ("card", "6099.60"),
    ("vipps", "1800.00"),
    ("gift_card", "300.00"),
)
# Σ payments = Σ sales + tips + gift cards sold + rounding
SMALL_EXTRAS = {"tips": "150.00", "gift_cards_sold": "500.00", "rounding": "-0.40"}

STATE_MIX = (
    (SettlementExport.State.POSTED, 8),
    (SettlementExport.State.PENDING, 1),
    (SettlementExport.State.NEEDS_ACTION, 1),
)


def _state(index: int) -> str:
    cycle = sum(weight for _state, weight in STATE_MIX)
    position = index % cycle
    for state, weight in STATE_MIX:
        if position < weight:
            return state
        position -= weight
    return SettlementExport.State.PENDING


def bulk_settlements(
    org: Organization, stores: list, count: int, *, first_z: int = 1, batch: int = 2000
) -> int:
    """`count` small settlements spread over the stores (register KASSE-1) and over the last
    days, mostly posted: like an organisation that has used the Backoffice for a while.
    Returns the next free Z-number."""
    total_sales = sum(Decimal(gross) for _g, _r, gross, _v in SMALL_SALES)
    total_vat = sum(Decimal(vat) for _g, _r, _gross, vat in SMALL_SALES)
    total_payments = sum(Decimal(amount) for _m, amount in SMALL_PAYMENTS)
    now = timezone.now()
    today = timezone.localdate()
    z = first_z
    done = 0
    while done < count:
        size = min(batch, count - done)
        rows = []
        states = []
        for i in range(done, done + size):
            store = stores[i % len(stores)]
            day = today - dt.timedelta(days=1 + (i // len(stores)) % 365)
            states.append(_state(i))
            payload = {
                "register_id": "KASSE-1",
                "z_number": z,
                "business_date": day.isoformat(),
                "sales": [
                    {"product_group": g, "vat_rate": r, "gross_amount": gross, "vat_amount": v}
                    for g, r, gross, v in SMALL_SALES
                ],
                "payments": [{"method": m, "amount": a} for m, a in SMALL_PAYMENTS],
                **SMALL_EXTRAS,
            }
            rows.append(
                Settlement(
                    organization=org,
                    location=store,
                    register_id="KASSE-1",
                    z_number=z,
                    business_date=day,
                    tips=Decimal(SMALL_EXTRAS["tips"]),
                    gift_cards_sold=Decimal(SMALL_EXTRAS["gift_cards_sold"]),
                    rounding=Decimal(SMALL_EXTRAS["rounding"]),
                    total_sales=total_sales,
                    total_vat=total_vat,
                    total_payments=total_payments,
                    payload=payload,
                    content_hash=hashlib.sha256(f"{org.pk}:{store.pk}:{z}".encode()).hexdigest(),
                    received_at=now,
                )
            )
            z += 1
        created = Settlement.objects.bulk_create(rows, batch_size=batch)
        # The transfer's part: posted and blocked ones have their row, as a run leaves it.
        SettlementExport.objects.bulk_create(
            (
                SettlementExport(
                    settlement=s,
                    state=state,
                    problem_code=(
                        "mapping_missing" if state == SettlementExport.State.NEEDS_ACTION else ""
                    ),
                    reason=(
                        "Betalingsmåten vipps mangler konto"
                        if state == SettlementExport.State.NEEDS_ACTION
                        else ""
                    ),
                )
                for s, state in zip(created, states, strict=True)
                if state != SettlementExport.State.PENDING
            ),
            batch_size=batch,
        )
        SaleLine.objects.bulk_create(
            (
                SaleLine(
                    settlement=s,
                    product_group=g,
                    vat_rate=Decimal(r),
                    gross_amount=Decimal(gross),
                    vat_amount=Decimal(v),
                )
                for s in created
                for g, r, gross, v in SMALL_SALES
            ),
            batch_size=batch * 2,
        )
        Payment.objects.bulk_create(
            (
                Payment(settlement=s, method=m, amount=Decimal(a))
                for s in created
                for m, a in SMALL_PAYMENTS
            ),
            batch_size=batch * 4,
        )
        done += size
    # What ingestion records for the kontooppsett page (every settlement has the same names).
    record_seen_names(
        organization_id=org.pk,
        sales=[
            SaleLineData(g, Decimal(r), Decimal(gross), Decimal(v))
            for g, r, gross, v in SMALL_SALES
        ],
        payments=[PaymentData(m, Decimal(a)) for m, a in SMALL_PAYMENTS],
    )
    return z
