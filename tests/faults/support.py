"""The fault matrix's machinery: the shops and their generated settlements, the census of
what reached the simulator, and the tally printed at the end of the run.

Volume: `make test` runs FAULT_SETTLEMENTS=200 (the default) through the in-process
faults plus a smaller batch per worker fault; `make soak` sets FAULT_SETTLEMENTS (e.g.
1000) and every batch and fault count grows with it. FAULT_SEED picks another (printed)
random sequence; the default is fixed so `make test` is reproducible.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import count

from django.utils import timezone

from backoffice.models import Location, Organization
from integrations.visma.models import SettlementExport, VoucherAttachment
from settlements.models import Settlement
from settlements.parsing import parse_settlement
from settlements.services import ingest_settlement
from tests.conftest import status_of
from visma_sandbox import chart
from visma_sandbox.models import SandboxAttachment, SandboxVoucher

State = SettlementExport.State

SETTLEMENTS = int(os.getenv("FAULT_SETTLEMENTS", "200") or 200)
SEED = int(os.getenv("FAULT_SEED", "20261129") or 20261129)
# The worker batches are a fraction of the in-process one (process start-up dominates).
WORKER_SETTLEMENTS = max(24, SETTLEMENTS // 8)


def scaled(fast: int, per: int) -> int:
    """A fault count: `fast` in make test, one per `per` settlements in the soak."""
    return max(fast, SETTLEMENTS // per)


def first_open_day(company: str, today: date) -> date:
    """The first day the simulated company (visma_sandbox/chart.py) accepts on `today`:
    after AccountingLockedTo, inside an open fiscal year."""
    return next(spec for spec in chart.COMPANIES if spec.name == company).first_open_day(today)


# Product groups per VAT rate; "Klær" has its own line in the worked-example mapping, the
# others go by their rate (25/15/12/0 %).
GROUPS = {
    "25": ["Klær", "Drikke", "Tobakk"],
    "15": ["Mat", "Kaffe", "Bakervarer"],
    "12": ["Kino", "Transport"],
    "0": ["Aviser"],
}
METHODS = ("cash", "card", "vipps")
REGISTERS = ("KASSE-1", "KASSE-2", "KASSE-3")


# --------------------------------------------------------------------------- the tally


@dataclass
class Tally:
    """What the whole fault matrix tried and found (printed by conftest.py)."""

    settlements: int = 0
    postable: int = 0
    vouchers: int = 0
    duplicates: int = 0
    lost: int = 0
    unexplained: int = 0
    faults: Counter = field(default_factory=Counter)
    lines: list[str] = field(default_factory=list)

    def fault(self, kind: str, n: int = 1) -> None:
        self.faults[kind] += n


TALLY = Tally()

FAULT_KINDS = {
    "a": "lost answer after Visma stored the voucher",
    "b": "5xx from Visma",
    "c": "429 burst (Retry-After 1 s)",
    "d": "timeout (the voucher may be stored)",
    "e": "access token expired mid-run",
    "f": "refresh token revoked (invalid_grant, reconnect)",
    "g": "worker SIGKILLed mid-POST",
    "h": "Redis restarted during a run",
    "i": "two beat processes at once",
    "j": "search filter refused by Visma (paged without it)",
    "k": "company changed on reconnect",
    "l": "attachment upload failing (500, or stored and its answer lost)",
    "m": "lost answer on a reversal (a correction after posting)",
    "n": "a voucher deleted in Visma (avvik; sent again only by the admin)",
}


# --------------------------------------------------------------------------- the shops


@dataclass
class Shop:
    organization: Organization
    company: str
    locations: list[Location]


@dataclass
class Batch:
    """The settlements of a scenario by what must become of them."""

    postable: set[int] = field(default_factory=set)
    unbalanced: set[int] = field(default_factory=set)
    locked: set[int] = field(default_factory=set)
    not_due: set[int] = field(default_factory=set)

    @property
    def all(self) -> set[int]:
        return self.postable | self.unbalanced | self.locked | self.not_due


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low, high)) / 100


def settlement_body(
    rng: random.Random, *, register_id: str, z_number: int, business_date: date
) -> dict:
    """A balanced Z-report: 1–4 VAT rates, cash/card/vipps, sometimes tips, gift cards sold,
    rounding and a counted drawer with a difference."""
    sales = []
    for rate in rng.sample(list(GROUPS), k=rng.randint(1, 4)):
        gross = _money(rng, 100, 2_500_000)
        line = {
            "product_group": rng.choice(GROUPS[rate]),
            "vat_rate": rate,
            "gross_amount": str(gross),
            "count": rng.randint(1, 300),
        }
        sales.append(line)
    tips = _money(rng, 0, 50_000) if rng.random() < 0.3 else Decimal("0.00")
    gift = _money(rng, 0, 100_000) if rng.random() < 0.2 else Decimal("0.00")
    rounding = _money(rng, -49, 49) if rng.random() < 0.5 else Decimal("0.00")
    total = sum((Decimal(s["gross_amount"]) for s in sales), Decimal("0.00")) + tips + gift
    total += rounding
    methods = rng.sample(METHODS, k=rng.randint(1, 3))
    cents = int(total * 100)
    cuts = sorted(rng.randint(0, cents) for _ in methods[1:])
    shares = [b - a for a, b in zip([0, *cuts], [*cuts, cents], strict=True)]
    payments = [
        {"method": method, "amount": str(Decimal(share) / 100)}
        for method, share in zip(methods, shares, strict=True)
    ]
    body = {
        "register_id": register_id,
        "z_number": z_number,
        "business_date": business_date.isoformat(),
        "currency": "NOK",
        "sales": sales,
        "payments": payments,
    }
    if tips:
        body["tips"] = str(tips)
    if gift:
        body["gift_cards_sold"] = str(gift)
    if rounding:
        body["rounding"] = str(rounding)
    if "cash" in methods and rng.random() < 0.5:
        cash = Decimal(payments[methods.index("cash")]["amount"])
        difference = rng.choice([Decimal("0.00"), Decimal("-20.00"), Decimal("10.50")])
        opening = Decimal("2000.00")
        body["cash_count"] = {
            "opening_float": str(opening),
            "counted": str(opening + cash + difference),
        }
    return body


def _ingest(location: Location, body: dict) -> Settlement:
    result = ingest_settlement(location=location, data=parse_settlement(body))
    assert result.outcome == "created", result.outcome
    return result.settlement


# Z-numbers never repeat within a test run, whatever the register.
_z_numbers = count(1001)


def populate(shops: list[Shop], count: int, rng: random.Random) -> Batch:
    """`count` postable settlements spread over the shops (their locations and registers,
    dates in the last 25 days that each company accepts), plus per shop one that does not
    balance and one of today (not due), and for Bakeri Nord one in its locked period."""
    today = timezone.localdate()
    batch = Batch()
    days_by_shop = {}
    for shop in shops:
        first = max(today - timedelta(days=25), first_open_day(shop.company, today))
        days = [first + timedelta(days=n) for n in range((today - first).days)]
        assert days, f"{shop.company} accepts no date in the last 25 days before {today}"
        days_by_shop[shop.organization.pk] = days

    def next_body(shop: Shop, day: date) -> tuple[Location, dict]:
        location = rng.choice(shop.locations)
        register = rng.choice(REGISTERS)
        body = settlement_body(
            rng, register_id=register, z_number=next(_z_numbers), business_date=day
        )
        return location, body

    for index in range(count):
        shop = shops[index % len(shops)]
        location, body = next_body(shop, rng.choice(days_by_shop[shop.organization.pk]))
        batch.postable.add(_ingest(location, body).pk)
    for shop in shops:
        location, body = next_body(shop, rng.choice(days_by_shop[shop.organization.pk]))
        body["payments"][0]["amount"] = str(Decimal(body["payments"][0]["amount"]) + 1)
        settlement = _ingest(location, body)
        assert status_of(settlement).state == State.NEEDS_ACTION
        batch.unbalanced.add(settlement.pk)
        location, body = next_body(shop, today)
        batch.not_due.add(_ingest(location, body).pk)
        if shop.company == "Bakeri Nord AS":
            location, body = next_body(shop, date(2026, 10, 31))
            if today - date(2026, 10, 31) <= timedelta(days=30):  # inside the look-back
                batch.locked.add(_ingest(location, body).pk)
    TALLY.settlements += len(batch.all)
    TALLY.postable += len(batch.postable)
    return batch


# --------------------------------------------------------------------------- the census

# "[BO-17]", and "[BO-17-2]" for the settlement's voucher sent again after an avvik.
REFERENCE = re.compile(r"\[BO-(\d+)(?:-\d+)?\]")


@dataclass
class Census:
    vouchers: int
    duplicates: int  # vouchers beyond the first for one settlement
    lost: int  # postable settlements without a voucher
    wrong: list[str]  # vouchers that must not exist, recorded ids that do not match
    unexplained: list[str]  # settlements whose state does not say why they are not posted

    @property
    def problems(self) -> list[str]:
        return self.wrong + self.unexplained


def census(shops: list[Shop], batch: Batch) -> Census:
    """Count what reached the simulator against what the database says."""
    companies = [shop.company for shop in shops]
    by_settlement: dict[int, list[SandboxVoucher]] = defaultdict(list)
    wrong = []
    vouchers = SandboxVoucher.objects.filter(company__name__in=companies)
    for voucher in vouchers:
        found = REFERENCE.findall(voucher.voucher_text)
        if len(found) != 1:
            wrong.append(f"voucher {voucher} without one reference: {voucher.voucher_text!r}")
            continue
        by_settlement[int(found[0])].append(voucher)
    duplicates = sum(len(v) - 1 for v in by_settlement.values() if len(v) > 1)
    for pk in set(by_settlement) - batch.postable:
        wrong.append(f"settlement {pk} must not be posted, yet Visma has {by_settlement[pk]}")
    lost = 0
    unexplained = []
    settlements = Settlement.objects.filter(pk__in=batch.all).select_related("visma_export")
    states = {s.pk: s for s in settlements}
    for pk in sorted(batch.postable):
        settlement = states[pk]
        found = by_settlement.get(pk, [])
        if not found:
            lost += 1
            unexplained.append(
                f"settlement {pk} has no voucher: {status_of(settlement).state} {status_of(settlement).reason!r}"
            )
            continue
        if status_of(settlement).state != State.POSTED:
            unexplained.append(f"settlement {pk} is in Visma but {status_of(settlement).state}")
            continue
        record = SettlementExport.objects.filter(settlement_id=pk).first()
        voucher = found[0]
        if record is None or record.visma_voucher_id != str(voucher.uuid):
            wrong.append(
                f"settlement {pk} recorded {record and record.visma_voucher_id}, not {voucher.uuid}"
            )
        elif record.voucher_number != f"{voucher.series}{voucher.number}" or record.in_doubt:
            wrong.append(
                f"settlement {pk} recorded {record.voucher_number} in_doubt={record.in_doubt}"
            )
        if voucher.voucher_date != settlement.business_date:
            wrong.append(f"settlement {pk} posted on {voucher.voucher_date}")
    for pk in batch.unbalanced | batch.locked:
        settlement = states[pk]
        if status_of(settlement).state != State.NEEDS_ACTION or not status_of(settlement).reason:
            unexplained.append(f"settlement {pk} {status_of(settlement).state} without a reason")
    for pk in batch.not_due:
        if status_of(states[pk]).state != State.PENDING:
            unexplained.append(f"settlement {pk} of today is {status_of(states[pk]).state}")
    return Census(
        vouchers=sum(len(v) for v in by_settlement.values()),
        duplicates=duplicates,
        lost=lost,
        wrong=wrong,
        unexplained=unexplained,
    )


def settle_and_count(name: str, shops: list[Shop], batch: Batch, faults: Counter) -> Census:
    """Take the census, add it to the tally with the faults injected, and return it."""
    result = census(shops, batch)
    TALLY.vouchers += result.vouchers
    TALLY.duplicates += result.duplicates
    TALLY.lost += result.lost
    TALLY.unexplained += len(result.problems)
    for kind, n in faults.items():
        TALLY.fault(kind, n)
    injected = ", ".join(f"{kind}={n}" for kind, n in sorted(faults.items()))
    TALLY.lines.append(
        f"{name}: {len(batch.all)} settlements ({len(batch.postable)} postable), "
        f"faults {injected}; {result.vouchers} vouchers, {result.duplicates} duplicates, "
        f"{result.lost} lost, {len(result.problems)} unexplained"
    )
    return result


def wait_for(predicate: Callable[[], bool], timeout: float = 60.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def due_left(batch: Batch) -> int:
    """Postable settlements not yet posted."""
    return (
        Settlement.objects.filter(pk__in=batch.postable)
        .exclude(visma_export__state=State.POSTED)
        .count()
    )


# --------------------------------------------------------------------------- attachments


@dataclass
class AttachmentCensus:
    """The Z-report PDFs in Visma against the vouchers they document (issue 18, item 1)."""

    linked: int  # vouchers with exactly their own PDF linked
    missing: list[str]  # postable settlements whose voucher has no PDF
    doubled: list[str]  # vouchers with more than one PDF, or a PDF of another settlement
    spare: int  # PDFs in the company's inbox, linked to nothing

    @property
    def problems(self) -> list[str]:
        return self.missing + self.doubled


def attachment_census(shops: list[Shop], batch: Batch) -> AttachmentCensus:
    companies = [shop.company for shop in shops]
    by_voucher: dict[int, list[SandboxAttachment]] = defaultdict(list)
    spare = 0
    for attachment in SandboxAttachment.objects.filter(company__name__in=companies).defer("data"):
        if attachment.voucher_id is None:
            spare += 1
        else:
            by_voucher[attachment.voucher_id].append(attachment)
    missing, doubled = [], []
    linked = 0
    for voucher in SandboxVoucher.objects.filter(company__name__in=companies):
        pk = int(REFERENCE.findall(voucher.voucher_text)[0])
        found = by_voucher.get(voucher.pk, [])
        if pk not in batch.postable:
            continue
        if not found:
            row = VoucherAttachment.objects.filter(settlement_id=pk).first()
            missing.append(f"settlement {pk}: no PDF on {voucher} ({row})")
        elif len(found) > 1 or any(f"_BO-{pk}_" not in a.file_name for a in found):
            doubled.append(f"settlement {pk}: {voucher} has {[a.file_name for a in found]}")
        else:
            linked += 1
    return AttachmentCensus(linked=linked, missing=missing, doubled=doubled, spare=spare)


# --------------------------------------------------------------------------- corrections

CHAIN_REFERENCE = re.compile(r"\[BO-(\d+)(-K)?\]")


def correct_posted(settlement: Settlement) -> Settlement:
    """The till corrects a settlement that is in Visma: 1 kr more tips and 1 kr more on
    its first payment (still balanced), sent again with "correction": true."""
    body = dict(settlement.payload)
    body["payments"] = [dict(p) for p in body["payments"]]
    body["tips"] = str(Decimal(body["tips"]) + 1)
    body["payments"][0]["amount"] = str(Decimal(body["payments"][0]["amount"]) + 1)
    body["correction"] = True
    result = ingest_settlement(location=settlement.location, data=parse_settlement(body))
    assert result.outcome == "correction", result.outcome
    return result.settlement


def _rows(voucher: SandboxVoucher) -> Counter:
    return Counter(
        (row.account_number, row.debit, row.credit, row.vat_code_id) for row in voucher.rows.all()
    )


def correction_census(shops: list[Shop], batch: Batch, corrected: dict[int, int]) -> Census:
    """What reached the simulator when `corrected` ({original pk: its correction's pk}) were
    corrected after posting: every postable settlement once, every corrected one's reversal
    once (its rows the original's on the other side), every correction once."""
    from integrations.visma.models import Reversal

    companies = [shop.company for shop in shops]
    found: dict[tuple[int, bool], list[SandboxVoucher]] = defaultdict(list)
    wrong = []
    for voucher in SandboxVoucher.objects.filter(company__name__in=companies).prefetch_related(
        "rows"
    ):
        refs = CHAIN_REFERENCE.findall(voucher.voucher_text)
        if len(refs) != 1:
            wrong.append(f"voucher {voucher} without one reference: {voucher.voucher_text!r}")
            continue
        pk, reversal = refs[0]
        found[(int(pk), bool(reversal))].append(voucher)
    expected = {(pk, False) for pk in batch.postable}
    expected |= {(pk, True) for pk in corrected}
    expected |= {(pk, False) for pk in corrected.values()}
    duplicates = sum(len(v) - 1 for v in found.values() if len(v) > 1)
    for key in set(found) - expected:
        wrong.append(f"{key} must not be in Visma, yet it has {found[key]}")
    lost = 0
    unexplained = []
    for key in sorted(expected):
        if not found.get(key):
            lost += 1
            unexplained.append(f"{key} has no voucher")
    for original, correction in corrected.items():
        posted, reversals = found.get((original, False), []), found.get((original, True), [])
        if posted and reversals:
            flipped = Counter({(a, c, d, v): n for (a, d, c, v), n in _rows(posted[0]).items()})
            if _rows(reversals[0]) != flipped:
                wrong.append(f"the reversal of {original} does not mirror its voucher")
            record = Reversal.objects.filter(settlement_id=original).first()
            number = f"{reversals[0].series}{reversals[0].number}"
            if record is None or record.voucher_number != number or record.in_doubt:
                wrong.append(
                    f"the reversal of {original} recorded {record and record.voucher_number}"
                )
            if not reversals[0].voucher_text.startswith(
                f"Korrigering av bilag {posted[0].series}{posted[0].number}"
            ):
                wrong.append(f"the reversal of {original} does not name its voucher")
        if status_of(correction).state != State.POSTED:
            unexplained.append(f"correction {correction} is {status_of(correction).state}")
    return Census(
        vouchers=sum(len(v) for v in found.values()),
        duplicates=duplicates,
        lost=lost,
        wrong=wrong,
        unexplained=unexplained,
    )
