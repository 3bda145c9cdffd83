"""Business actions on settlements: taking one in from a till (API or import command)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django.db import IntegrityError, transaction
from django.utils import translation

from backoffice.models import Location, Register

from .domain import SettlementData
from .models import CashMovement, Payment, SaleLine, Settlement
from .parsing import canonical, content_hash
from .texts import UNBALANCED, unbalanced_reason

Outcome = Literal["created", "unchanged", "conflict"]


@dataclass(frozen=True)
class IngestResult:
    settlement: Settlement
    outcome: Outcome


def _existing(location: Location, data: SettlementData) -> Settlement | None:
    return Settlement.objects.filter(
        location=location, register_id=data.register_id, z_number=data.z_number
    ).first()


def _compare(settlement: Settlement, digest: str) -> IngestResult:
    # Idempotent on location + register + Z-number: the same content again is a no-op,
    # other content is a conflict. A stored settlement is never overwritten.
    outcome: Outcome = "unchanged" if settlement.content_hash == digest else "conflict"
    return IngestResult(settlement, outcome)


def _create(location: Location, data: SettlementData, payload: dict, digest: str) -> Settlement:
    Register.objects.get_or_create(location=location, code=data.register_id)
    balanced = data.balance_difference == 0
    if balanced:
        state, problem_code, reason = Settlement.State.PENDING, "", ""
    else:
        # Stored in Norwegian whatever language the request spoke (the page translates
        # the "unbalanced" reason itself from the difference).
        with translation.override("nb"):
            reason = unbalanced_reason(data.balance_difference)
        state, problem_code = Settlement.State.NEEDS_ACTION, UNBALANCED
    cash_count = data.cash_count
    settlement = Settlement.objects.create(
        organization_id=location.organization_id,
        location=location,
        register_id=data.register_id,
        z_number=data.z_number,
        business_date=data.business_date,
        opened_at=data.opened_at,
        closed_at=data.closed_at,
        currency=data.currency,
        tips=data.tips,
        gift_cards_sold=data.gift_cards_sold,
        rounding=data.rounding,
        cash_opening_float=cash_count.opening_float if cash_count else None,
        cash_counted=cash_count.counted if cash_count else None,
        counters=payload["counters"],
        total_sales=data.total_sales,
        total_vat=data.total_vat,
        total_payments=data.total_payments,
        balance_difference=data.balance_difference,
        cash_difference=data.cash_difference,
        payload=payload,
        content_hash=digest,
        state=state,
        problem_code=problem_code,
        state_reason=reason,
    )
    SaleLine.objects.bulk_create(
        SaleLine(
            settlement=settlement,
            product_group=line.product_group,
            vat_rate=line.vat_rate,
            gross_amount=line.gross_amount,
            vat_amount=line.vat_amount,
            count=line.count,
        )
        for line in data.sales
    )
    Payment.objects.bulk_create(
        Payment(settlement=settlement, method=p.method, amount=p.amount) for p in data.payments
    )
    CashMovement.objects.bulk_create(
        [
            CashMovement(settlement=settlement, kind=kind, reason=m.reason, amount=m.amount)
            for kind, movements in (
                (CashMovement.Kind.PAY_IN, data.pay_ins),
                (CashMovement.Kind.PAY_OUT, data.pay_outs),
            )
            for m in movements
        ]
    )
    return settlement


def ingest_settlement(*, location: Location, data: SettlementData) -> IngestResult:
    """Store a parsed settlement for a store, exactly once.

    created: stored now (state "venter", or "trenger handling" when it does not balance).
    unchanged: the same content was stored before (nothing written).
    conflict: this register's Z-number was stored before with other content (nothing written).
    """
    payload = canonical(data)
    digest = content_hash(payload)
    existing = _existing(location, data)
    if existing is not None:
        return _compare(existing, digest)
    try:
        # One transaction: the settlement and all its lines, or nothing.
        with transaction.atomic():
            settlement = _create(location, data, payload, digest)
    except IntegrityError:
        # Another request stored the same Z-number between our read and our insert (the
        # unique constraint one_z_per_register decided the race): answer as if we had
        # come second.
        existing = _existing(location, data)
        if existing is None:
            raise
        return _compare(existing, digest)
    return IngestResult(settlement, "created")
