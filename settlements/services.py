"""Business actions on settlements: taking one in from a till (API or import command)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from backoffice import audit
from backoffice.models import Location, Register

from . import limits
from .domain import PaymentData, SaleLineData, SettlementData, rate_key, vat_disagreements
from .models import CashMovement, Payment, SaleLine, SeenName, Settlement, SettlementRevision
from .parsing import SettlementInvalid, canonical, content_hash, decode_body, parse_settlement
from .texts import (
    SOURCE_MISMATCH,
    VAT_MISMATCH,
    source_mismatch_reason,
    vat_mismatch_reason,
)

Outcome = Literal["created", "unchanged", "conflict", "corrected", "correction"]


@dataclass(frozen=True)
class IngestResult:
    settlement: Settlement
    outcome: Outcome


def _existing(location: Location, data: SettlementData) -> Settlement | None:
    """The latest version of this register's Z-number. Locked (inside _resent's
    transaction), so two corrections take turns. Ordered by version only: the model's
    ordering would join the location for nothing."""
    return (
        Settlement.objects.select_for_update()
        .filter(location=location, register_id=data.register_id, z_number=data.z_number)
        .order_by("-version")
        .first()
    )


SEEN_NAME_FIELDS = ["organization_id", "kind", "name", "rate", "first_seen", "first_location_id"]


def _name_rows(
    organization_id: int,
    location_id: int | None,
    sales: Iterable[SaleLineData],
    payments: Iterable[PaymentData],
) -> list[tuple]:
    keys = {
        (SeenName.Kind.PRODUCT_GROUP.value, line.product_group, rate_key(line.vat_rate))
        for line in sales
    }
    keys |= {(SeenName.Kind.PAYMENT_METHOD.value, p.method, "") for p in payments}
    now = timezone.now()
    # Sorted, so two transactions that add the same new names take their locks in one
    # order and cannot deadlock.
    return [
        (organization_id, kind, name, rate, now, location_id) for kind, name, rate in sorted(keys)
    ]


def record_seen_names(
    *,
    organization_id: int,
    sales: Iterable[SaleLineData],
    payments: Iterable[PaymentData],
    location_id: int | None = None,
) -> int:
    """Add the product groups (with their rates) and payment methods of a settlement to the
    organisation's SeenName rows, in one INSERT that skips those already there. Returns
    how many were new (the store's daily allowance counts them, limits.check_new_names).

    Anything that stores sale lines or payments must record their names (the kontooppsett
    page lists SeenName, not the lines): this, or the one-statement ingestion below."""
    rows = _name_rows(organization_id, location_id, sales, payments)
    return _insert(SeenName, SEEN_NAME_FIELDS, rows, skip_existing=True)


def _insert_new(model, fields: list[str], rows: list[tuple]) -> int:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: insert-if-missing in one statement, like
    bulk_create(ignore_conflicts=True), but telling how many rows were new (PostgreSQL and
    SQLite 3.35+)."""
    return _insert(model, fields, rows, skip_existing=True)


def _insert_sql(
    model, fields: list[str], rows: list[tuple], *, skip_existing: bool, settlement_sql: str = ""
) -> tuple[str, list]:
    """A multi-row INSERT of plain values (already what the columns hold: Decimal, str, int,
    datetime): what bulk_create does, without building a model instance per row and
    compiling a query per kind of row. With `settlement_sql`, the first field
    (settlement_id) is that SQL instead of a parameter."""
    meta = model._meta
    qn = connection.ops.quote_name
    columns = [meta.get_field(name.removesuffix("_id")).column for name in fields]
    if settlement_sql:
        row = "(" + ", ".join([settlement_sql] + ["%s"] * (len(fields) - 1)) + ")"
        params = [value for values in rows for value in values[1:]]
    else:
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        params = [value for values in rows for value in values]
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(c) for c in columns)}) "
        f"VALUES {', '.join([row] * len(rows))}"
    )
    if skip_existing:
        sql += f" ON CONFLICT DO NOTHING RETURNING {qn(meta.pk.column)}"
    return sql, params


def _insert(model, fields: list[str], rows: list[tuple], *, skip_existing: bool = False) -> int:
    """Run one _insert_sql; how many rows it inserted."""
    if not rows:
        return 0
    sql, params = _insert_sql(model, fields, rows, skip_existing=skip_existing)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return len(cursor.fetchall()) if skip_existing else len(rows)


def _line_rows(settlement_id: int | None, data: SettlementData) -> list[tuple]:
    """(model, fields, rows) of a settlement's sale lines, payments and cash movements."""
    movements = (
        (CashMovement.Kind.PAY_IN.value, data.pay_ins),
        (CashMovement.Kind.PAY_OUT.value, data.pay_outs),
    )
    return [
        (
            SaleLine,
            ["settlement_id", "product_group", "vat_rate", "gross_amount", "vat_amount", "count"],
            [
                (settlement_id, x.product_group, x.vat_rate, x.gross_amount, x.vat_amount, x.count)
                for x in data.sales
            ],
        ),
        (
            Payment,
            ["settlement_id", "method", "amount"],
            [(settlement_id, p.method, p.amount) for p in data.payments],
        ),
        (
            CashMovement,
            ["settlement_id", "kind", "reason", "amount"],
            [(settlement_id, kind, m.reason, m.amount) for kind, ms in movements for m in ms],
        ),
    ]


def _hold_of(data: SettlementData, checks: Sequence[str] = ()) -> dict:
    """What holds the settlement back besides its balance (Settlement.hold_code and
    hold_reason): its VAT disagrees with its rates (DESIGN.md 4.1), or its source's own
    cross-checks (`checks`, the failed ones worded) did not pass. Nothing: it is postable
    once it balances."""
    disagreements = vat_disagreements(data.sales)
    if not disagreements and not checks:
        return {"hold_code": "", "hold_reason": ""}
    # Stored in Norwegian whatever language the request spoke.
    with translation.override("nb"):
        if disagreements:
            code, reason = VAT_MISMATCH, vat_mismatch_reason(disagreements)
        else:
            code, reason = SOURCE_MISMATCH, source_mismatch_reason(checks)
    return {"hold_code": code, "hold_reason": reason}


def _content_fields(
    data: SettlementData, payload: dict, digest: str, checks: Sequence[str] = ()
) -> dict:
    """Everything of a settlement that comes from the till's body (not its identity)."""
    cash_count = data.cash_count
    return {
        "business_date": data.business_date,
        "opened_at": data.opened_at,
        "closed_at": data.closed_at,
        "currency": data.currency,
        "tips": data.tips,
        "gift_cards_sold": data.gift_cards_sold,
        "rounding": data.rounding,
        "cash_opening_float": cash_count.opening_float if cash_count else None,
        "cash_counted": cash_count.counted if cash_count else None,
        "counters": payload["counters"],
        "total_sales": data.total_sales,
        "total_vat": data.total_vat,
        "total_payments": data.total_payments,
        "balance_difference": data.balance_difference,
        "cash_difference": data.cash_difference,
        "payload": payload,
        "content_hash": digest,
        **_hold_of(data, checks),
    }


def _store_lines(settlement: Settlement, data: SettlementData) -> bool:
    """The settlement's lines and their names; whether any name was new (and allowed)."""
    for model, fields, rows in _line_rows(settlement.pk, data):
        _insert(model, fields, rows)
    return bool(
        record_seen_names(
            organization_id=settlement.organization_id,
            sales=data.sales,
            payments=data.payments,
            location_id=settlement.location_id,
        )
    )


def _create(
    location: Location, data: SettlementData, payload: dict, digest: str, checks: Sequence[str]
) -> Settlement:
    settlement = Settlement(
        organization_id=location.organization_id,
        location=location,
        register_id=data.register_id,
        z_number=data.z_number,
        **_content_fields(data, payload, digest, checks),
    )
    if connection.vendor == "postgresql":
        new_register, new_names = _insert_at_once(settlement, data)
    else:
        new_register, new_names = _insert_one_by_one(settlement, data)
    # Still inside the caller's transaction: a refusal undoes the inserts.
    if new_register:
        limits.check_new_registers(location)
    if new_names:
        limits.check_new_names(location)
    return settlement


def _insert_one_by_one(settlement: Settlement, data: SettlementData) -> tuple[bool, bool]:
    # Insert-if-missing (no SELECT first): a known register costs only a skipped insert.
    new_register = _insert_new(
        Register,
        ["location_id", "code", "created_at"],
        [(settlement.location_id, data.register_id, timezone.now())],
    )
    settlement.save(force_insert=True)
    return bool(new_register), _store_lines(settlement, data)


def _insert_at_once(settlement: Settlement, data: SettlementData) -> tuple[bool, bool]:
    """What _insert_one_by_one does in five round trips to the database (most of what an
    ingestion costs: bench/ingestion.py, figure 5), in one statement of data-modifying
    CTEs (https://www.postgresql.org/docs/current/queries-with.html#QUERIES-WITH-MODIFYING).

    The lines name their settlement as `(SELECT id FROM s)`; Django's foreign keys on
    PostgreSQL are DEFERRABLE INITIALLY DEFERRED, so they are checked at COMMIT. The unique
    constraint one_z_per_register fails the whole statement, as it failed the settlement's
    own INSERT before, and the caller answers from it the same way."""
    qn = connection.ops.quote_name
    meta = Settlement._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    # A concrete field always has a column (Field.column is None only for the others).
    columns = [qn(f.column) for f in fields if f.column is not None]
    assert len(columns) == len(fields)
    # What Django's SQLInsertCompiler does for each field: defaults and auto_now, then the
    # value as the column takes it (JSON adapted).
    values = [f.get_db_prep_save(f.pre_save(settlement, True), connection) for f in fields]
    register_sql, register_params = _insert_sql(
        Register,
        ["location_id", "code", "created_at"],
        [(settlement.location_id, data.register_id, timezone.now())],
        skip_existing=True,
    )
    ctes = [
        (f"r AS ({register_sql})", register_params),
        (
            f"s AS (INSERT INTO {qn(meta.db_table)} ({', '.join(columns)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING id)",
            values,
        ),
    ]
    for index, (model, row_fields, rows) in enumerate(_line_rows(None, data)):
        if rows:
            sql, params = _insert_sql(
                model, row_fields, rows, skip_existing=False, settlement_sql="(SELECT id FROM s)"
            )
            ctes.append((f"l{index} AS ({sql})", params))
    names = _name_rows(
        settlement.organization_id, settlement.location_id, data.sales, data.payments
    )
    if names:
        sql, params = _insert_sql(SeenName, SEEN_NAME_FIELDS, names, skip_existing=True)
        ctes.append((f"n AS ({sql})", params))
    else:
        ctes.append(("n AS (SELECT 1 WHERE false)", []))
    statement = (
        "WITH "
        + ", ".join(sql for sql, _params in ctes)
        + " SELECT (SELECT id FROM s), (SELECT count(*) FROM r), (SELECT count(*) FROM n)"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [value for _sql, params in ctes for value in params])
        pk, new_registers, new_names = cursor.fetchone()
    settlement.pk = pk
    settlement._state.adding = False
    settlement._state.db = connection.alias
    return new_registers > 0, new_names > 0


def _corrected_version(
    existing: Settlement, data: SettlementData, payload: dict, digest: str, checks: Sequence[str]
) -> Settlement:
    """The till's correction of a settlement that may be in the books: the next version of
    the same register and Z-number, linked to the one it corrects, which stays as it was
    (what the till said then, and what the books got). The unique constraint on the
    version (and the one-to-one `corrects`) decides a race between two corrections."""
    settlement = Settlement.objects.create(
        organization_id=existing.organization_id,
        location_id=existing.location_id,
        register_id=existing.register_id,
        z_number=existing.z_number,
        version=existing.version + 1,
        corrects=existing,
        **_content_fields(data, payload, digest, checks),
    )
    if _store_lines(settlement, data):
        limits.check_new_names(existing.location)
    return settlement


# Two corrections of one Z-number at the same moment: the second sees the first's version
# on its next try (a unique violation sends it round again), at most this many times.
CORRECTION_TRIES = 3


def _resent(
    location: Location, data: SettlementData, payload: dict, digest: str, checks: Sequence[str]
) -> IngestResult | None:
    """This register's Z-number was stored before (its latest version is compared). The
    same content is "unchanged" (or "corrected" when only its source's failed checks now
    pass); other content replaces a settlement that waits for a correction ("corrected",
    the old version kept as a SettlementRevision). A settlement that may be in Visma is
    never overwritten: other content is a "conflict", unless the till says it is a
    correction (`data.correction`), which is stored as the next version ("correction")."""
    for attempt in range(CORRECTION_TRIES):
        try:
            return _resent_once(location, data, payload, digest, checks)
        except IntegrityError:
            # A concurrent correction stored the next version first: compare with that one.
            if attempt == CORRECTION_TRIES - 1:
                raise
    return None  # pragma: no cover - the loop returns or raises


def _resent_once(
    location: Location, data: SettlementData, payload: dict, digest: str, checks: Sequence[str]
) -> IngestResult | None:
    with transaction.atomic():
        existing = _existing(location, data)
        if existing is None:
            return None
        if existing.content_hash == digest:
            if existing.hold_code == SOURCE_MISMATCH and not checks:
                # The same settlement from a corrected source: only its checks changed.
                for name, value in _hold_of(data).items():
                    setattr(existing, name, value)
                existing.save(update_fields=["hold_code", "hold_reason", "updated_at"])
                return IngestResult(existing, "corrected")
            return IngestResult(existing, "unchanged")
        # Only a settlement that waits for a correction (it does not balance, or is held)
        # is replaceable: no transfer ever takes one (an integration's due settlements are
        # postable), so nothing of it is booked.
        if existing.is_postable:
            if data.correction:
                return IngestResult(
                    _corrected_version(existing, data, payload, digest, checks), "correction"
                )
            return IngestResult(existing, "conflict")
        SettlementRevision.objects.create(
            settlement=existing,
            payload=existing.payload,
            content_hash=existing.content_hash,
            balance_difference=existing.balance_difference,
            received_at=existing.received_at,
        )
        existing.sales.all().delete()
        existing.payments.all().delete()
        existing.cash_movements.all().delete()
        for name, value in _content_fields(data, payload, digest, checks).items():
            setattr(existing, name, value)
        existing.received_at = timezone.now()
        existing.save()
        if _store_lines(existing, data):
            limits.check_new_names(location)
        return IngestResult(existing, "corrected")


def ingest_settlement(
    *, location: Location, data: SettlementData, checks: Sequence[str] = ()
) -> IngestResult:
    """Store a parsed settlement for a store, exactly once.

    `checks`: cross-checks of the settlement's source that failed, as Norwegian sentences
    (a SAF-T file's totals, DESIGN.md 4.6): such a settlement is held (hold_code) with
    them, like one whose VAT disagrees with its rate: it waits for a correction, as one
    that does not balance, and is replaced by the corrected version.

    created: stored now (to be transferred, or waiting for a correction when it does not
        balance or is held).
    unchanged: the same content was stored before (nothing written).
    corrected: other content for a stored settlement that waits for a correction: it
        replaces that one (kept as a SettlementRevision) and is posted if it is postable
        now; or the same content from a source whose checks failed before and pass now.
    conflict: this register's Z-number was stored before with other content, and that one
        is postable (it may be in Visma): nothing written.
    correction: as conflict, but the till says it corrects that one (`data.correction`):
        stored as its next version (Settlement.corrects), which the integration posts after
        reversing what it posted of the one corrected.
    """
    limits.check_line_counts(sales=len(data.sales), payments=len(data.payments))
    payload = canonical(data)
    digest = content_hash(payload)
    try:
        # One transaction (a savepoint when the caller has one open): the settlement and
        # all its lines, or nothing. No SELECT first: a new settlement, the common case,
        # goes straight to its INSERTs, and a resent one is answered from the unique
        # constraint one_z_per_register, which also decides a race between two requests.
        with transaction.atomic():
            settlement = _create(location, data, payload, digest, checks)
    except IntegrityError:
        # Stored before (or by a concurrent request that committed first). Another
        # constraint failing is a bug.
        result = _resent(location, data, payload, digest, checks)
        if result is None:
            raise
        return result
    return IngestResult(settlement, "created")


def zreport_pdf(*, settlement: Settlement) -> tuple[str, bytes]:
    """The settlement's one-page Z-report PDF and its file name: what its page offers for
    download and what an accounting integration attaches to its voucher (the same bytes).
    Select `location` and `organization` and prefetch `sales`, `payments` and
    `cash_movements` to avoid queries."""
    from .zreport_pdf import render_zreport_pdf, zreport_filename

    data = settlement.as_data()
    pdf = render_zreport_pdf(data, organization_name=settlement.organization.name)
    return zreport_filename(data), pdf


def correct_settlement(*, settlement: Settlement, raw: bytes, user) -> IngestResult:
    """An admin's correction of a settlement from its page: the corrected settlement as the
    till would have sent it (its JSON, `raw`), validated exactly as the API validates a
    body, for the same register and Z-number. Stored as the API stores a body with
    "correction": true (ingest_settlement), and written to the audit log.

    Raises SettlementInvalid naming what is wrong (nothing is stored), or
    limits.SettlementRefused."""
    limit = settings.SETTLEMENT_MAX_BODY_BYTES
    if len(raw) > limit:
        raise SettlementInvalid(
            [{"path": "", "message": _("Filen er større enn {limit} byte.").format(limit=limit)}]
        )
    obj = decode_body(raw)
    too_many = limits.line_count_errors(obj)
    if too_many:
        raise SettlementInvalid(too_many)
    data = parse_settlement(obj)
    if (data.register_id, data.z_number) != (settlement.register_id, settlement.z_number):
        raise SettlementInvalid(
            [
                {
                    "path": "z_number",
                    "message": _(
                        "Filen gjelder kasse {register} Z-nummer {z}, ikke kasse {own_register} "
                        "Z-nummer {own_z}. En korrigering har samme kasse og Z-nummer."
                    ).format(
                        register=data.register_id,
                        z=data.z_number,
                        own_register=settlement.register_id,
                        own_z=settlement.z_number,
                    ),
                }
            ]
        )
    with transaction.atomic():
        result = ingest_settlement(
            location=settlement.location, data=dataclasses.replace(data, correction=True)
        )
        if result.outcome in ("correction", "corrected"):
            audit.record(
                organization=settlement.organization_id,
                action=audit.Action.SETTLEMENT_CORRECTED,
                actor=user,
                details=[
                    f"{settlement.location.name} {settlement.register_id} Z{settlement.z_number} "
                    f"{settlement.business_date:%d.%m.%Y}: versjon {result.settlement.version}"
                ],
            )
    return result
