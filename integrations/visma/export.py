"""The transfer: every due settlement of an organisation becomes exactly one Visma voucher.

One run (`export_organization`) takes the organisation's due settlements oldest first:

    pre-flight (connection; chart, VAT codes and fiscal years refreshed once per run)
    → claim (conditional UPDATE: only one run ever holds a settlement)
    → build (accounting.builder, pure) → check against the company (fiscal year open,
      after AccountingLockedTo, accounts exist and are active, VAT codes known)
    → POST /vouchers?useDefaultVatCodes=false → record id, number, payload and answer.

Exactly once. The voucher text carries the settlement's stable reference ("[BO-17]").
When a POST's outcome is unknown (timeout after sending, connection reset, 5xx, a 201
without a body) the settlement becomes "usikker", and the next attempt first searches
Visma's vouchers of that date for the reference and records the voucher it finds instead
of posting again. A worker killed in the middle of a POST leaves the settlement claimed
("overføres"); a claim older than STALE_CLAIM is treated the same way as "usikker". A POST
that we stopped waiting for (read timeout, a gateway's 504) may still land in Visma after a
search that found nothing, so that settlement is searched for only once it has had as long
as a dead worker's POST (STALE_CLAIM) to land; until then a run leaves it "usikker".

Whatever fails a check is not sent: the settlement becomes "trenger handling" with a
Norwegian sentence saying what is wrong and what to do, and the next run tries again by
itself (the admin fixes the mapping, reconnects or unlocks the period; nothing to click).
Only an unbalanced settlement waits for a corrected settlement from the till.

Visma's API: https://eaccountingapi.vismaonline.com/swagger/ui/index (POST /v2/vouchers).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounting.builder import MappingIncomplete, UnbalancedSettlement, Voucher, build_voucher
from accounting.catalog import Catalog
from accounting.services import MAPPING_MISSING, load_mapping
from backoffice.models import Organization
from settlements.models import Settlement
from settlements.texts import AWAITS_CORRECTION

from . import client, tokens
from .catalog import company_catalog
from .models import (
    ExportAttempt,
    ExportRun,
    SettlementExport,
    TransferSettings,
    VismaConnection,
    VismaFiscalYear,
)
from .schedule import OSLO
from .services import refresh_company_data

logger = logging.getLogger(__name__)

State = Settlement.State

# A claim ("overføres") older than this belongs to a worker that died mid-POST (default
# 10 minutes; the fault tests shorten it through the environment).
STALE_CLAIM = timedelta(seconds=settings.TRANSFER_STALE_CLAIM_SECONDS)
# How long one run waits, in all, for Visma's "Try again in N seconds".
MAX_RATE_LIMIT_WAIT = 180

# Problem codes (Settlement.problem_code). All but UNBALANCED (and the other
# settlements.texts.AWAITS_CORRECTION: VAT or a source's totals disagree) heal by themselves
# on a later run once the cause is fixed; those need a corrected settlement.
UNBALANCED = "unbalanced"
CONNECTION = "connection"
PERIOD_LOCKED = "period_locked"
FISCAL_YEAR_MISSING = "fiscal_year_missing"
ACCOUNT_MISSING = "account_missing"
VAT_CODE_MISSING = "vat_code_missing"
REJECTED = "rejected"
TRANSIENT = "transient"
# Uncertain, and the POST may still be under way at Visma (see waiting_for_answer).
IN_FLIGHT = "in_flight"


def oslo_today() -> date:
    return timezone.now().astimezone(OSLO).date()


def no_date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


class TransientRunError(Exception):
    """The run could not start for a passing reason (Visma down, rate limit); retry later."""


@dataclass
class Outcome:
    settlement: Settlement
    result: str  # posted | already_posted | found | needs_action | failed | uncertain | would_post | skipped
    message: str = ""
    voucher_number: str = ""

    @property
    def label(self) -> str:
        s = self.settlement
        return f"{no_date(s.business_date)} {s.location.name} {s.register_id} Z{s.z_number}"

    def line(self) -> str:
        texts = {
            "posted": _("overført som bilag %(number)s"),
            "found": _("funnet i Visma som bilag %(number)s (ikke sendt på nytt)"),
            "already_posted": _("var allerede overført (bilag %(number)s)"),
            "would_post": _("ville blitt overført (tørrkjøring)"),
            "needs_action": _("trenger handling"),
            "failed": _("feilet"),
            "uncertain": _("usikker"),
            "skipped": _("hoppet over (tatt av en annen kjøring)"),
        }
        text = texts[self.result] % {"number": self.voucher_number or "–"}
        if self.message:
            text = f"{text}: {self.message}"
        return f"{self.label}: {text}"


@dataclass
class RunResult:
    organization: Organization
    outcomes: list[Outcome] = field(default_factory=list)
    message: str = ""

    def count(self, *results: str) -> int:
        return sum(1 for o in self.outcomes if o.result in results)

    @property
    def ok(self) -> bool:
        return not self.message and all(
            o.result in ("posted", "found", "already_posted", "would_post", "skipped")
            for o in self.outcomes
        )

    @property
    def retry_soon(self) -> bool:
        """Something failed for a passing reason: worth another try within minutes."""
        return any(o.result in ("failed", "uncertain") for o in self.outcomes)

    def seconds_until_retry(self) -> float:
        """How long a retry should wait at least: until every POST we stopped waiting for
        has had its time to land (0 when there is none)."""
        now = timezone.now()
        return max(
            (
                (o.settlement.updated_at + STALE_CLAIM - now).total_seconds()
                for o in self.outcomes
                if waiting_for_answer(o.settlement, now=now)
            ),
            default=0.0,
        )

    def summary(self) -> dict:
        return {
            "posted": self.count("posted", "found"),
            "already_posted": self.count("already_posted"),
            "needs_action": self.count("needs_action"),
            "failed": self.count("failed", "uncertain"),
            "waiting": self.count("would_post", "skipped"),
            "message": self.message,
        }


@dataclass
class Company:
    """What one run knows of the Visma company (read once per run)."""

    catalog: Catalog | None
    years: list[VismaFiscalYear]
    locked_to: date | None


# ------------------------------------------------------------------------------ selection


def due_settlements(organization: Organization, *, today: date | None = None):
    """Settlements of the organisation that a run should try, oldest first: business date
    before today (Europe/Oslo) and inside the look-back window, not posted, and not
    waiting for a corrected settlement from the till."""
    today = today or oslo_today()
    lookback = TransferSettings.for_organization(organization).lookback_days
    stale = timezone.now() - STALE_CLAIM
    return (
        Settlement.objects.filter(
            organization=organization,
            business_date__lt=today,
            business_date__gte=today - timedelta(days=lookback),
        )
        .filter(
            Q(state__in=[State.PENDING, State.FAILED, State.UNCERTAIN])
            | (Q(state=State.NEEDS_ACTION) & ~Q(problem_code__in=AWAITS_CORRECTION))
            | Q(state=State.POSTING, updated_at__lt=stale)
        )
        .order_by("business_date", "location_id", "register_id", "z_number")
    )


# ------------------------------------------------------------------------------ the run


def export_organization(
    *,
    organization: Organization,
    trigger: str = ExportRun.Trigger.SCHEDULE,
    dry_run: bool = False,
    settlement_ids: Iterable[int] | None = None,
    run: ExportRun | None = None,
    today: date | None = None,
) -> RunResult:
    """Post every due settlement (or the given ones, if due) of the organisation.

    Raises TransientRunError when the run cannot start for a passing reason."""
    result = RunResult(organization)
    queryset = due_settlements(organization, today=today)
    if settlement_ids is not None:
        queryset = queryset.filter(pk__in=list(settlement_ids))
    settlements = list(
        queryset.select_related("organization", "location", "visma_export").prefetch_related(
            "sales", "payments", "cash_movements"
        )
    )
    if run is None and not dry_run:
        run = ExportRun.objects.create(organization=organization, trigger=trigger)
    if run is not None:
        ExportRun.objects.filter(pk=run.pk).update(
            status=ExportRun.Status.RUNNING, started_at=timezone.now(), total=len(settlements)
        )
    try:
        if settlements:
            _run(organization, settlements, result, run=run, dry_run=dry_run)
    finally:
        if run is not None:
            _finish(organization, run, result)
    if not dry_run:
        _notify_new_problems(organization, result)
    return result


def _run(organization, settlements, result: RunResult, *, run, dry_run: bool) -> None:
    try:
        refresh_company_data(organization)
    except tokens.TokenUnavailable as exc:
        reason = _connection_reason(exc)
        result.message = reason
        if not dry_run:
            _wait_for_connection(settlements, reason, run=run)
        result.outcomes.extend(Outcome(s, "needs_action", reason) for s in settlements)
        return
    except (client.TransportError, client.ServerError, client.RateLimited) as exc:
        raise TransientRunError(str(exc)) from exc

    company = Company(
        catalog=company_catalog(organization),
        years=list(VismaFiscalYear.objects.filter(organization=organization)),
        locked_to=VismaConnection.objects.filter(organization=organization)
        .values_list("accounting_locked_to", flat=True)
        .first(),
    )
    mapping = load_mapping(organization)
    for index, settlement in enumerate(settlements):
        outcome = export_settlement(
            settlement, mapping=mapping, company=company, run=run, dry_run=dry_run
        )
        result.outcomes.append(outcome)
        if run is not None:
            ExportRun.objects.filter(pk=run.pk).update(processed=index + 1)
        if outcome.result == "needs_action" and settlement.problem_code == CONNECTION:
            # The connection is gone: the rest wait (unchanged) for the admin to reconnect.
            result.message = outcome.message
            rest = settlements[index + 1 :]
            if not dry_run:
                _wait_for_connection(rest, outcome.message, run=run)
            result.outcomes.extend(Outcome(s, "needs_action", outcome.message) for s in rest)
            return


def _finish(organization, run: ExportRun, result: RunResult) -> None:
    now = timezone.now()
    summary = result.summary()
    ExportRun.objects.filter(pk=run.pk).update(
        status=ExportRun.Status.DONE, finished_at=now, summary=summary
    )
    TransferSettings.objects.filter(organization=organization).update(
        last_run_at=now, last_run_summary=summary
    )


def _wait_for_connection(settlements: list[Settlement], reason: str, *, run) -> None:
    """Mark unclaimed settlements as waiting for a reconnect, in one UPDATE that leaves
    alone any that another run holds or has posted meanwhile."""
    ids = [s.pk for s in settlements]
    Settlement.objects.filter(
        pk__in=ids, state__in=[State.PENDING, State.FAILED, State.UNCERTAIN, State.NEEDS_ACTION]
    ).update(
        state=State.NEEDS_ACTION,
        problem_code=CONNECTION,
        state_reason=reason,
        updated_at=timezone.now(),
    )
    for s in settlements:
        s.problem_code = CONNECTION
    ExportAttempt.objects.bulk_create(
        ExportAttempt(
            settlement_id=pk,
            run=run,
            finished_at=timezone.now(),
            result=ExportAttempt.Result.NEEDS_ACTION,
            message=reason,
            error_code=CONNECTION,
        )
        for pk in ids
    )


def _connection_reason(exc: tokens.TokenUnavailable) -> str:
    if isinstance(exc, tokens.NotConnected):
        return _(
            "Visma eAccounting er ikke tilkoblet. Koble til under Oppsett > Integrasjoner; "
            "oppgjøret overføres ved neste kjøring."
        )
    if isinstance(exc, tokens.ReconnectRequired):
        return _(
            "Visma-tilkoblingen må kobles til på nytt (%(reason)s). Koble til under "
            "Oppsett > Integrasjoner; oppgjøret overføres ved neste kjøring."
        ) % {"reason": exc.reason}
    return _("Fikk ikke kontakt med Visma sin innlogging nå; prøver igjen automatisk.")


# ------------------------------------------------------------------------------ one settlement


def waiting_for_answer(settlement: Settlement, *, now: datetime | None = None) -> bool:
    """The last POST of this settlement timed out (or a gateway gave up on it) less than
    STALE_CLAIM ago: Visma may still store it, so a search now could miss it and a second
    voucher follow. It waits like the claim of a worker that died mid-POST."""
    now = now or timezone.now()
    return (
        settlement.state == State.UNCERTAIN
        and settlement.problem_code == IN_FLIGHT
        and settlement.updated_at > now - STALE_CLAIM
    )


def _claim(settlement: Settlement) -> bool:
    """Take the settlement for this run: a conditional UPDATE that succeeds for exactly one
    claimant (compare-and-set on state and the last change)."""
    now = timezone.now()
    claimed = Settlement.objects.filter(
        pk=settlement.pk, state=settlement.state, updated_at=settlement.updated_at
    ).update(state=State.POSTING, updated_at=now)
    if claimed:
        settlement._previous_state = settlement.state
        settlement.state = State.POSTING
        settlement.updated_at = now
    return bool(claimed)


def _set_state(settlement: Settlement, state: str, code: str = "", reason: str = "") -> None:
    now = timezone.now()
    Settlement.objects.filter(pk=settlement.pk).update(
        state=state, problem_code=code, state_reason=reason, updated_at=now
    )
    settlement.state, settlement.problem_code, settlement.state_reason = state, code, reason
    settlement.updated_at = now


def _attempt(settlement, run, result: str, message: str = "", code: str = "", started=None):
    ExportAttempt.objects.create(
        settlement=settlement,
        run=run,
        started_at=started or timezone.now(),
        finished_at=timezone.now(),
        result=result,
        message=message[:2000],
        error_code=str(code or "")[:20],
    )


def _set_problem(settlement: Settlement, code: str, reason: str, *, run=None) -> None:
    _set_state(settlement, State.NEEDS_ACTION, code, reason)
    _attempt(settlement, run, ExportAttempt.Result.NEEDS_ACTION, reason, code)


def _export_row(settlement: Settlement) -> SettlementExport:
    try:
        return settlement.visma_export
    except SettlementExport.DoesNotExist:
        row, _created = SettlementExport.objects.get_or_create(settlement=settlement)
        settlement.visma_export = row
        return row


def export_settlement(
    settlement: Settlement, *, mapping, company: Company, run=None, dry_run: bool = False
) -> Outcome:
    if settlement.state == State.POSTED:
        return Outcome(
            settlement, "already_posted", voucher_number=_export_row(settlement).voucher_number
        )
    if waiting_for_answer(settlement):
        return Outcome(settlement, "uncertain", settlement.state_reason)
    previous = settlement.state
    if not _claim(settlement):
        return Outcome(settlement, "skipped")

    def release() -> None:
        Settlement.objects.filter(pk=settlement.pk, state=State.POSTING).update(
            state=previous, updated_at=timezone.now()
        )

    try:
        return _export_claimed(
            settlement, mapping=mapping, company=company, run=run, dry_run=dry_run, release=release
        )
    except Exception as exc:
        if dry_run:
            release()
            raise
        # Whatever broke (a defect, a dependency such as the rate limiter's Redis), the
        # claim must not outlive the run and leave the settlement "overføres" for
        # STALE_CLAIM: it becomes "usikker" (a POST may have gone out), so the next attempt
        # searches Visma first, and the run goes on with the others.
        logger.exception("Transfer of settlement %s broke off", settlement.pk)
        _export_row(settlement)
        _doubt(settlement, True)
        error = client.VismaError(None, type(exc).__name__)
        return _failed(settlement, run, error, timezone.now(), uncertain=True)


def _export_claimed(settlement, *, mapping, company: Company, run, dry_run: bool, release):
    problem = None
    voucher = None
    try:
        voucher = build_voucher(settlement.as_data(), mapping)
    except UnbalancedSettlement:
        problem = (UNBALANCED, settlement.reason_text or _("Oppgjøret går ikke i balanse."))
    except MappingIncomplete as exc:
        problem = (
            MAPPING_MISSING,
            _(
                "%(missing)s. Fyll ut under Oppsett > Kontooppsett; oppgjøret overføres ved neste kjøring."
            )
            % {"missing": "; ".join(exc.messages)},
        )
    if problem is None:
        problem = preflight(settlement.business_date, voucher, company)
    if problem is not None:
        if dry_run:
            release()
        else:
            _set_problem(settlement, *problem, run=run)
        return Outcome(settlement, "needs_action", problem[1])

    payload = voucher_payload(voucher, company)
    if dry_run:
        release()
        return Outcome(settlement, "would_post")
    if not voucher.rows:
        # A day with no takings: nothing to book, and Visma refuses an empty voucher.
        reason = _("Ingen beløp å bokføre (nullomsetning); ingen bilag er sendt.")
        _set_state(settlement, State.POSTED, "", reason)
        _attempt(settlement, run, ExportAttempt.Result.POSTED, reason)
        return Outcome(settlement, "posted", reason)
    return _post(settlement, voucher, payload, run=run)


def preflight(day: date, voucher: Voucher, company: Company) -> tuple[str, str] | None:
    """What Visma would refuse, judged from the company data read at the start of the
    run, as (problem code, Norwegian reason with what to do)."""
    if company.years:
        year = next((y for y in company.years if y.start_date <= day <= y.end_date), None)
        if year is None:
            return FISCAL_YEAR_MISSING, _(
                "Visma-selskapet har ikke noe regnskapsår for %(day)s. Opprett regnskapsåret "
                "i Visma (Innstillinger > Regnskapsår); oppgjøret overføres ved neste kjøring."
            ) % {"day": no_date(day)}
        if year.is_locked:
            return PERIOD_LOCKED, _(
                "Regnskapsåret %(start)s–%(end)s er låst i Visma. Åpne året i Visma, eller "
                "før oppgjøret manuelt; det prøves igjen ved neste kjøring."
            ) % {"start": no_date(year.start_date), "end": no_date(year.end_date)}
    if company.locked_to and day <= company.locked_to:
        return PERIOD_LOCKED, _(
            "Perioden er låst i Visma til %(date)s. Åpne perioden i Visma, eller før "
            "oppgjøret manuelt; det prøves igjen ved neste kjøring."
        ) % {"date": no_date(company.locked_to)}
    catalog = company.catalog
    if catalog is None:
        return None
    problems = []
    for number in sorted({row.account for row in voucher.rows}):
        known = catalog.accounts.get(number)
        if known is None:
            problems.append((ACCOUNT_MISSING, _("Konto %(n)s finnes ikke i Visma") % {"n": number}))
        elif not known.active:
            problems.append((ACCOUNT_MISSING, _("Konto %(n)s er inaktiv i Visma") % {"n": number}))
    for code in sorted({row.vat_code for row in voucher.rows if row.vat_code}):
        known_code = catalog.vat_codes.get(code)
        if known_code is None or not known_code.external_id:
            problems.append(
                (VAT_CODE_MISSING, _("MVA-kode %(c)s finnes ikke i Visma") % {"c": code})
            )
    if problems:
        text = "; ".join(message for _code, message in problems)
        return problems[0][0], _(
            "%(problems)s. Opprett eller aktiver i Visma, eller velg en annen i "
            "Oppsett > Kontooppsett; oppgjøret overføres ved neste kjøring."
        ) % {"problems": text}
    return None


def voucher_payload(voucher: Voucher, company: Company) -> dict:
    """Visma's VoucherApi body. Amounts are Decimal (sent as JSON numbers, 2 decimals);
    our VAT codes travel as Visma's VatCodeId on the sales rows."""
    vat_ids = {}
    if company.catalog is not None:
        vat_ids = {code: known.external_id for code, known in company.catalog.vat_codes.items()}
    rows = []
    for row in voucher.rows:
        item = {
            "AccountNumber": row.account,
            "DebitAmount": row.debit,
            "CreditAmount": row.credit,
            "TransactionText": row.text[:60],
        }
        if row.vat_code:
            item["VatCodeId"] = vat_ids.get(row.vat_code)
        rows.append(item)
    return {
        "VoucherDate": voucher.voucher_date.isoformat(),
        "VoucherText": voucher.text[:1000],
        "Rows": rows,
    }


def _jsonable(payload: dict) -> dict:
    """The payload exactly as it went over the wire (amounts as JSON numbers)."""
    return json.loads(client.dumps(payload))


def find_posted(organization, voucher: Voucher) -> dict | None:
    """The voucher Visma already holds for this settlement (same date, our reference in
    its text), or None. Used before posting again after an unknown outcome."""
    marker = f"[{voucher.reference}]"
    found = tokens.call(
        organization,
        client.list_vouchers,
        filter=f"VoucherDate eq {voucher.voucher_date.isoformat()}",
    )
    for item in found:
        if marker in str(item.get("VoucherText") or ""):
            return item
    return None


def _record_posted(settlement, voucher_json: dict, payload: dict, *, run, found: bool, started):
    number = str(voucher_json.get("NumberAndNumberSeries") or "")
    with transaction.atomic():
        SettlementExport.objects.update_or_create(
            settlement=settlement,
            defaults={
                "visma_voucher_id": str(voucher_json.get("Id") or ""),
                "voucher_number": number,
                "posted_at": timezone.now(),
                "found_by_search": found,
                "payload": _jsonable(payload),
                "response": _jsonable_response(voucher_json),
                "in_doubt": False,
                "notified_problem": "",
            },
        )
        _set_state(settlement, State.POSTED)
        _attempt(
            settlement,
            run,
            ExportAttempt.Result.FOUND if found else ExportAttempt.Result.POSTED,
            _("Bilag %(number)s") % {"number": number or "–"},
            started=started,
        )
    return Outcome(settlement, "found" if found else "posted", voucher_number=number)


def _jsonable_response(value):
    if isinstance(value, dict):
        return {k: _jsonable_response(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable_response(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _doubt(settlement, value: bool) -> None:
    SettlementExport.objects.filter(settlement=settlement).update(in_doubt=value)


def _post(settlement, voucher: Voucher, payload: dict, *, run) -> Outcome:
    organization = settlement.organization
    started = timezone.now()
    row = _export_row(settlement)
    # Read afresh after the claim: the flag a previous attempt left decides the search.
    search_first = SettlementExport.objects.filter(pk=row.pk).values_list("in_doubt", flat=True)[0]
    SettlementExport.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
    waited = 0
    while True:
        try:
            if search_first:
                existing = find_posted(organization, voucher)
                if existing is not None:
                    return _record_posted(
                        settlement, existing, payload, run=run, found=True, started=started
                    )
                search_first = False
            _doubt(settlement, True)
            created = tokens.call(organization, client.create_voucher, payload)
            return _record_posted(
                settlement, created, payload, run=run, found=False, started=started
            )
        except client.RateLimited as exc:
            if not search_first:
                _doubt(settlement, False)  # a 429 stored nothing
            if waited + exc.retry_after > MAX_RATE_LIMIT_WAIT:
                return _failed(settlement, run, exc, started, uncertain=search_first)
            # Visma names the wait; a 429 means nothing was stored.
            time.sleep(exc.retry_after)
            waited += exc.retry_after
        except tokens.TokenUnavailable as exc:
            # No token, so no request went out now; an earlier doubt stays as it was.
            reason = _connection_reason(exc)
            _set_problem(settlement, CONNECTION, reason, run=run)
            return Outcome(settlement, "needs_action", reason)
        except (client.AuthError, client.MissingScope) as exc:
            # A refused token stored nothing; an earlier doubt is kept by the search, which
            # ran first (and failed) when it was set.
            if not search_first:
                _doubt(settlement, False)
            reason = _connection_reason(tokens.ReconnectRequired(exc.detail))
            _set_problem(settlement, CONNECTION, reason, run=run)
            return Outcome(settlement, "needs_action", reason)
        except (
            client.PeriodLocked,
            client.FiscalYearMissing,
            client.AccountNotFound,
            client.ValidationError,
        ) as exc:
            if search_first:  # the search itself was refused: still in doubt, try later
                return _failed(settlement, run, exc, started, uncertain=True)
            return _rejected(settlement, run, exc, started)
        except client.InvalidPayload as exc:
            # Our own payload broke Visma's schema: a defect of ours, never sent.
            logger.error("voucher payload for settlement %s invalid: %s", settlement.pk, exc)
            return _rejected(settlement, run, exc, started)
        except client.VismaError as exc:
            # During the search nothing new was sent: the doubt stays as it was.
            unknown = search_first or exc.outcome_unknown
            if not unknown:
                _doubt(settlement, False)
            in_flight = not search_first and exc.may_land_later
            return _failed(settlement, run, exc, started, uncertain=unknown, in_flight=in_flight)


def _rejected(settlement, run, exc: client.VismaError, started) -> Outcome:
    _doubt(settlement, False)  # Visma refused it: nothing was stored.
    codes = {
        4026: PERIOD_LOCKED,
        4038: PERIOD_LOCKED,
        3001: FISCAL_YEAR_MISSING,
        3002: ACCOUNT_MISSING,
    }
    code = codes.get(exc.code or 0, REJECTED)
    reason = _(
        "Visma avviste bilaget: %(detail)s. Rett årsaken (Kontooppsett eller Visma); "
        "oppgjøret prøves igjen ved neste kjøring."
    ) % {"detail": exc.detail}
    _set_state(settlement, State.NEEDS_ACTION, code, reason)
    _attempt(settlement, run, ExportAttempt.Result.NEEDS_ACTION, reason, exc.code or "", started)
    return Outcome(settlement, "needs_action", reason)


def _failed(
    settlement, run, exc: client.VismaError, started, *, uncertain: bool, in_flight: bool = False
) -> Outcome:
    if uncertain:
        reason = _(
            "Usikkert om Visma tok imot bilaget (%(detail)s). Neste forsøk sjekker Visma "
            "først, så bilaget blir ikke dobbelt."
        ) % {"detail": exc.detail}
        state, result = State.UNCERTAIN, ExportAttempt.Result.UNCERTAIN
    else:
        reason = _("Visma svarte ikke som ventet (%(detail)s). Prøves igjen automatisk.") % {
            "detail": exc.detail
        }
        state, result = State.FAILED, ExportAttempt.Result.FAILED
    _set_state(settlement, state, IN_FLIGHT if in_flight else TRANSIENT, reason)
    _attempt(settlement, run, result, reason, exc.code or exc.status or "", started)
    return Outcome(settlement, "uncertain" if uncertain else "failed", reason)


# ------------------------------------------------------------------------------ e-mail


def _notify_new_problems(organization, result: RunResult) -> None:
    """One e-mail per new problem, not per attempt: a settlement's problem is told once;
    the same problem on the next run stays quiet. All of a run's new problems share one
    e-mail. Passing failures (retried automatically) and a lost connection (which has its
    own e-mail) are not told here."""
    fresh = []
    for outcome in result.outcomes:
        s = outcome.settlement
        if outcome.result != "needs_action" or s.problem_code in ("", CONNECTION, TRANSIENT):
            continue
        row = _export_row(s)
        if row.notified_problem != s.problem_code:
            fresh.append((outcome, row))
    if not fresh:
        return
    recipients = organization.admin_emails()
    if recipients:
        with translation.override("nb"):
            lines = [f"- {o.label}: {o.message}" for o, _row in fresh]
            url = (
                settings.SITE_URL.rstrip("/") + reverse("settlements:list") + "?state=needs_action"
            )
            send_mail(
                _("Dagsoppgjør trenger handling før de kan overføres til Visma"),
                _("Disse dagsoppgjørene ble ikke overført til Visma eAccounting:")
                + "\n\n"
                + "\n".join(lines)
                + "\n\n"
                + _("Se detaljer: %(url)s") % {"url": url},
                None,
                recipients,
                fail_silently=True,
            )
    for outcome, row in fresh:
        SettlementExport.objects.filter(pk=row.pk).update(
            notified_problem=outcome.settlement.problem_code
        )
