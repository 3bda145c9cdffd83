"""The one writer of a settlement's transfer (SettlementExport): the claim, every change
of state with its problem and reason, the posted voucher, the attempts shown on the
settlement's page, and the release of settlements that waited for the kontooppsett.

Every change is a conditional or keyed UPDATE, so two runs never both hold a settlement.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounting.builder import VoucherError, build_voucher
from accounting.services import load_mapping
from backoffice.models import Organization
from settlements.models import Settlement

from . import client
from .models import ExportAttempt, ExportRun, Problem, SettlementExport
from .selectors import blocked_by_mapping, export_of

State = SettlementExport.State
# Where a settlement may be marked as waiting for a reconnect: not while a run holds it,
# never once it is posted.
_UNCLAIMED = [State.PENDING, State.FAILED, State.UNCERTAIN, State.NEEDS_ACTION]


def row(settlement: Settlement) -> SettlementExport:
    """The settlement's transfer row, made (as "venter") when it has none yet."""
    found = export_of(settlement)
    if found is None:
        found, _created = SettlementExport.objects.get_or_create(settlement=settlement)
        settlement.visma_export = found
    return found


def claim(settlement: Settlement) -> bool:
    """Take the settlement for this run: a compare-and-set on the state and the last change
    that succeeds for exactly one claimant (for an untouched settlement: the INSERT of its
    row, decided by the one-to-one's unique constraint)."""
    now = timezone.now()
    found = export_of(settlement)
    if found is None:
        try:
            with transaction.atomic():
                found = SettlementExport.objects.create(
                    settlement=settlement, state=State.POSTING, updated_at=now
                )
        except IntegrityError:
            return False  # another run made it first
        settlement.visma_export = found
        return True
    claimed = SettlementExport.objects.filter(
        pk=found.pk, state=found.state, updated_at=found.updated_at
    ).update(state=State.POSTING, updated_at=now)
    if claimed:
        found.state, found.updated_at = State.POSTING, now
    return bool(claimed)


def release(settlement: Settlement, previous: str) -> None:
    """Give back a claim that sent nothing (a dry run), unless something else moved it."""
    SettlementExport.objects.filter(settlement=settlement, state=State.POSTING).update(
        state=previous, updated_at=timezone.now()
    )


def set_state(settlement: Settlement, state: str, code: str = "", reason: str = "") -> None:
    now = timezone.now()
    current = row(settlement)
    SettlementExport.objects.filter(pk=current.pk).update(
        state=state, problem_code=code, reason=reason, updated_at=now
    )
    current.state, current.problem_code, current.reason = state, code, reason
    current.updated_at = now


def attempt(
    settlement: Settlement,
    run: ExportRun | None,
    result: str,
    message: str = "",
    code: str | int = "",
    started: datetime | None = None,
) -> None:
    ExportAttempt.objects.create(
        settlement=settlement,
        run=run,
        started_at=started or timezone.now(),
        finished_at=timezone.now(),
        result=result,
        message=message[:2000],
        error_code=str(code or "")[:20],
    )


def set_problem(
    settlement: Settlement,
    code: str,
    reason: str,
    *,
    run: ExportRun | None = None,
    error_code: str | int | None = None,
    started: datetime | None = None,
) -> None:
    set_state(settlement, State.NEEDS_ACTION, code, reason)
    attempt(
        settlement,
        run,
        ExportAttempt.Result.NEEDS_ACTION,
        reason,
        code if error_code is None else error_code,
        started,
    )


def wait_for_connection(
    settlements: list[Settlement], reason: str, *, run: ExportRun | None
) -> None:
    """Mark unclaimed settlements as waiting for a reconnect, in one UPDATE that leaves
    alone any that another run holds or has posted meanwhile."""
    ids = [s.pk for s in settlements]
    now = timezone.now()
    SettlementExport.objects.bulk_create(
        [SettlementExport(settlement_id=pk) for pk in ids], ignore_conflicts=True
    )
    SettlementExport.objects.filter(settlement_id__in=ids, state__in=_UNCLAIMED).update(
        state=State.NEEDS_ACTION, problem_code=Problem.CONNECTION, reason=reason, updated_at=now
    )
    ExportAttempt.objects.bulk_create(
        ExportAttempt(
            settlement_id=pk,
            run=run,
            finished_at=now,
            result=ExportAttempt.Result.NEEDS_ACTION,
            message=reason,
            error_code=Problem.CONNECTION,
        )
        for pk in ids
    )


def count_attempt(settlement: Settlement) -> bool:
    """Count one more try at posting; returns the write-ahead flag the previous one left
    (read afresh after the claim: set, the next POST must search Visma first)."""
    current = row(settlement)
    in_doubt = SettlementExport.objects.filter(pk=current.pk).values_list("in_doubt", flat=True)[0]
    SettlementExport.objects.filter(pk=current.pk).update(attempts=F("attempts") + 1)
    return in_doubt


def searched(settlement: Settlement, *, answered: bool) -> int:
    """Count a search of Visma for the in-doubt voucher; returns the failures in a row."""
    rows = SettlementExport.objects.filter(settlement=settlement)
    if answered:
        rows.update(failed_searches=0)
        return 0
    rows.update(failed_searches=F("failed_searches") + 1)
    return rows.values_list("failed_searches", flat=True)[0]


def doubt(settlement: Settlement, value: bool, *, draft: bool | None = None) -> None:
    """The write-ahead flag: set before a POST is sent, cleared by a definite answer.
    `draft`: whether this POST goes to /voucherdrafts (the search after a lost answer
    then looks among the drafts too)."""
    changes: dict[str, Any] = {"in_doubt": value}
    if draft is not None:
        changes["sent_as_draft"] = draft
    SettlementExport.objects.filter(settlement=settlement).update(**changes)


def record_posted(
    settlement: Settlement,
    voucher_json: dict,
    payload: dict,
    *,
    run: ExportRun | None,
    found: bool,
    started: datetime,
) -> str:
    """The voucher Visma made (or that a search found), with the exact body sent. Returns
    its number."""
    number = str(voucher_json.get("NumberAndNumberSeries") or "")
    now = timezone.now()
    with transaction.atomic():
        SettlementExport.objects.update_or_create(
            settlement=settlement,
            defaults={
                "state": State.POSTED,
                "problem_code": "",
                "reason": "",
                "updated_at": now,
                "visma_voucher_id": str(voucher_json.get("Id") or ""),
                "voucher_number": number,
                "posted_at": now,
                "found_by_search": found,
                "payload": client.exact_json(payload),
                "response": _as_text(voucher_json),
                "in_doubt": False,
                "notified_problem": "",
            },
        )
        attempt(
            settlement,
            run,
            ExportAttempt.Result.FOUND if found else ExportAttempt.Result.POSTED,
            _("Bilag %(number)s") % {"number": number or "–"},
            started=started,
        )
    current = export_of(settlement)
    if current is not None:
        current.state, current.problem_code, current.reason = State.POSTED, "", ""
        current.voucher_number, current.updated_at = number, now
    return number


def _as_text(value: Any) -> Any:
    """Visma's answer for the record: its amounts as exact text (never a float)."""
    if isinstance(value, dict):
        return {k: _as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_text(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def mark_notified(settlement: Settlement, problem: str) -> None:
    SettlementExport.objects.filter(settlement=settlement).update(notified_problem=problem)


def release_blocked(*, organization: Organization) -> int:
    """Settlements waiting in "trenger handling" for a missing mapping that the
    kontooppsett now maps completely go back to "venter" (the next run posts them).
    Returns how many."""
    blocked = list(
        blocked_by_mapping(organization)
        .select_related("location")
        .prefetch_related("sales", "payments", "cash_movements")
    )
    if not blocked:
        return 0
    mapping = load_mapping(organization)
    ready = []
    for settlement in blocked:
        try:
            build_voucher(settlement.as_data(), mapping)
        except VoucherError:
            continue
        ready.append(settlement.pk)
    if not ready:
        return 0
    # Conditional on the state still being the blocked one: a concurrent change wins.
    return SettlementExport.objects.filter(
        settlement_id__in=ready,
        state=State.NEEDS_ACTION,
        problem_code=Problem.MAPPING_MISSING,
    ).update(state=State.PENDING, problem_code="", reason="", updated_at=timezone.now())


def on_mapping_saved(sender: Any, *, organization: Organization, **kwargs: Any) -> None:
    release_blocked(organization=organization)


# ------------------------------------------------------------------------------ drafts and
# reconciliation (issue 18, items 3 and 6): drafts.py and reconcile.py decide, this writes.
# The reconciliation's changes are compare-and-set on the state and the last change, so an
# admin's choice (or a run) that came first wins.


def sent_as_draft(settlement: Settlement) -> bool:
    """Whether the settlement's last POST went to /voucherdrafts (read afresh)."""
    return bool(
        SettlementExport.objects.filter(settlement=settlement)
        .values_list("sent_as_draft", flat=True)
        .first()
    )


def record_draft(
    settlement: Settlement,
    draft_json: dict,
    payload: dict,
    *,
    run: ExportRun | None,
    found: bool,
    started: datetime,
    reason: str,
    message: str,
) -> None:
    """The draft Visma made (or that a search found): "kladd i Visma" until the
    reconciliation sees it converted or deleted."""
    now = timezone.now()
    with transaction.atomic():
        SettlementExport.objects.update_or_create(
            settlement=settlement,
            defaults={
                "state": State.DRAFT,
                "problem_code": "",
                "reason": reason,
                "updated_at": now,
                "visma_draft_id": str(draft_json.get("Id") or ""),
                "visma_voucher_id": "",
                "voucher_number": "",
                "found_by_search": found,
                "payload": client.exact_json(payload),
                "response": _as_text(draft_json),
                "in_doubt": False,
                "sent_as_draft": True,
                "notified_problem": "",
            },
        )
        attempt(settlement, run, ExportAttempt.Result.DRAFT, message, started=started)
    current = export_of(settlement)
    if current is not None:
        current.state, current.problem_code, current.reason = State.DRAFT, "", reason
        current.updated_at = now


def _changed(row: SettlementExport, **changes: Any) -> bool:
    """Compare-and-set: apply `changes` only if the row is as it was read."""
    return bool(
        SettlementExport.objects.filter(
            pk=row.pk, state=row.state, updated_at=row.updated_at
        ).update(updated_at=timezone.now(), **changes)
    )


def _step(row: SettlementExport, result: str, message: str, code: str = "") -> None:
    ExportAttempt.objects.create(
        settlement_id=row.settlement_id,
        finished_at=timezone.now(),
        result=result,
        message=message[:2000],
        error_code=code[:20],
    )


def mark_reconciled(ids: list[int]) -> None:
    """The reconciliation found these transfers as they should be."""
    SettlementExport.objects.filter(pk__in=ids).update(reconciled_at=timezone.now())


def mark_avvik(
    row: SettlementExport,
    *,
    code: str,
    reason: str,
    differences: list[dict],
    visma_version: dict,
) -> bool:
    """Avvik: the voucher is deleted or changed in Visma. Nothing is sent."""
    done = _changed(
        row,
        state=State.AVVIK,
        problem_code=code,
        reason=reason,
        differences=differences,
        visma_version=client.exact_json(visma_version),
        reconciled_at=timezone.now(),
    )
    if done:
        _step(row, ExportAttempt.Result.AVVIK, reason, code)
    return done


def clear_avvik(row: SettlementExport, message: str) -> bool:
    """Visma's voucher is as it should be again (restored in Visma): "overført"."""
    done = _changed(
        row,
        state=State.POSTED,
        problem_code="",
        reason="",
        differences=[],
        visma_version=None,
        reconciled_at=timezone.now(),
    )
    if done:
        _step(row, ExportAttempt.Result.RECONCILED, message)
    return done


def draft_converted(row: SettlementExport, voucher_json: dict, message: str) -> bool:
    """The accountant approved the draft: Visma made a voucher of it."""
    now = timezone.now()
    done = _changed(
        row,
        state=State.POSTED,
        problem_code="",
        reason="",
        visma_voucher_id=str(voucher_json.get("Id") or ""),
        voucher_number=str(voucher_json.get("NumberAndNumberSeries") or ""),
        posted_at=now,
        response=_as_text(voucher_json),
        reconciled_at=now,
    )
    if done:
        _step(row, ExportAttempt.Result.POSTED, message)
    return done


def draft_deleted(row: SettlementExport, reason: str) -> bool:
    """The draft was deleted in Visma: "venter" with the note; the next run sends it."""
    done = _changed(
        row,
        state=State.PENDING,
        problem_code=Problem.DRAFT_DELETED,
        reason=reason,
        visma_draft_id="",
        reconciled_at=timezone.now(),
    )
    if done:
        _step(row, ExportAttempt.Result.RECONCILED, reason, Problem.DRAFT_DELETED)
    return done


def accept_visma_version(row: SettlementExport, *, user: Any, note: str) -> bool:
    """ "Godta Vismas versjon": the reconciliation compares with Visma's version from now
    on (a deleted voucher is no longer looked for); the settlement is "overført"."""
    version = row.visma_version or {}
    changes: dict[str, Any] = {}
    if version.get("Id"):
        changes["visma_voucher_id"] = str(version["Id"])
    if version.get("NumberAndNumberSeries"):
        changes["voucher_number"] = str(version["NumberAndNumberSeries"])
    done = _changed(
        row,
        state=State.POSTED,
        problem_code="",
        reason=note,
        accepted_version=client.exact_json(version),
        accepted_at=timezone.now(),
        accepted_by=user,
        differences=[],
        **changes,
    )
    if done:
        _step(row, ExportAttempt.Result.RECONCILED, note)
    return done


def send_again(row: SettlementExport, *, previous: dict, note: str) -> bool:
    """ "Send på nytt som nytt bilag": "venter" again as the settlement's next voucher
    (a new reference); the old voucher is kept in `previous_vouchers`."""
    done = _changed(
        row,
        state=State.PENDING,
        problem_code="",
        reason=note,
        generation=row.generation + 1,
        previous_vouchers=[*(row.previous_vouchers or []), previous],
        visma_voucher_id="",
        voucher_number="",
        posted_at=None,
        found_by_search=False,
        visma_version=None,
        differences=[],
        accepted_version=None,
        accepted_at=None,
        accepted_by=None,
        in_doubt=False,
        failed_searches=0,
        notified_problem="",
    )
    if done:
        _step(row, ExportAttempt.Result.RECONCILED, note)
    return done
