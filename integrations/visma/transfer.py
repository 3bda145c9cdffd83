"""The transfer: every due settlement of an organisation becomes exactly one Visma voucher.

One run (`export_organization`) takes the organisation's due settlements oldest first:

    pre-flight (connection; chart, VAT codes and fiscal years refreshed once per run)
    → claim (state.claim, a conditional UPDATE: only one run ever holds a settlement)
    → build (accounting.builder, pure) → check against the company (preflight.py)
    → POST /vouchers?useDefaultVatCodes=false (client.voucher_body, client.create_voucher)
    → record id, number, payload and answer (state.record_posted).

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
Only a settlement that is not postable (it does not balance, or its VAT or its source's
totals disagree: Settlement.hold_code) waits for a corrected settlement from the till (it
is never due, selectors.due_settlements).

Visma's API: https://eaccountingapi.vismaonline.com/swagger/ui/index (POST /v2/vouchers).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounting.builder import MappingIncomplete, UnbalancedSettlement, Voucher, build_voucher
from accounting.mapping import MappingData
from accounting.services import load_mapping
from backoffice.models import Organization
from settlements.models import Settlement

from . import (
    attachments,
    client,
    corrections,
    costcentres,
    drafts,
    reconcile,
    selectors,
    state,
    tokens,
)
from .models import ExportAttempt, ExportRun, Problem, SettlementExport, TransferSettings
from .notifications import notify_new_problems, notify_run_failed
from .preflight import Company, preflight, read_company
from .selectors import due_settlements, export_of, waiting_for_answer
from .services import refresh_company_data

logger = logging.getLogger(__name__)

State = SettlementExport.State

# How long one run waits, in all, for Visma's "Try again in N seconds".
MAX_RATE_LIMIT_WAIT = 180


class TransientRunError(Exception):
    """The run could not start for a passing reason (Visma down, rate limit); retry later."""


class RunFailed(Exception):
    """The run cannot go on for a reason no retry fixes (the message says what to do)."""


@dataclass
class Outcome:
    settlement: Settlement
    # posted | already_posted | found | draft | needs_action | failed | uncertain | would_post
    # | skipped | waiting (a correction waits for the voucher of the version it corrects)
    result: str
    message: str = ""
    voucher_number: str = ""
    problem: str = ""  # the Problem code of a needs_action outcome

    @property
    def label(self) -> str:
        s = self.settlement
        day = date_format(s.business_date, "d.m.Y")
        return f"{day} {s.location.name} {s.register_id} Z{s.z_number}"

    def line(self) -> str:
        texts = {
            "posted": _("overført som bilag %(number)s"),
            "found": _("funnet i Visma som bilag %(number)s (ikke sendt på nytt)"),
            "already_posted": _("var allerede overført (bilag %(number)s)"),
            "draft": _("lagt som kladd i Visma (venter på regnskapsfører)"),
            "would_post": _("ville blitt overført (tørrkjøring)"),
            "needs_action": _("trenger handling"),
            "failed": _("feilet"),
            "uncertain": _("usikker"),
            "skipped": _("hoppet over (tatt av en annen kjøring)"),
            "waiting": _("venter"),
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
            o.result
            in ("posted", "found", "draft", "already_posted", "would_post", "skipped", "waiting")
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
        waits = []
        for outcome in self.outcomes:
            row = export_of(outcome.settlement)
            if row is not None and waiting_for_answer(row, now=now):
                waits.append((row.updated_at + selectors.STALE_CLAIM - now).total_seconds())
        return max(waits, default=0.0)

    def summary(self) -> dict:
        return {
            "posted": self.count("posted", "found"),
            "already_posted": self.count("already_posted"),
            "draft": self.count("draft"),
            "needs_action": self.count("needs_action"),
            "failed": self.count("failed", "uncertain"),
            "waiting": self.count("would_post", "skipped", "waiting"),
            "message": self.message,
        }


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
    failed, previous = False, _previous_message(organization)
    try:
        if settlements:
            _run(organization, settlements, result, run=run, dry_run=dry_run)
        if not dry_run:
            # The Z-reports of the vouchers just posted, and of earlier ones whose upload
            # failed (issue 18, item 1): after the vouchers, never in their way.
            attachments.attach_waiting(organization, settlement_ids=settlement_ids)
    except TransientRunError:
        raise
    except RunFailed as exc:
        failed, result.message = True, str(exc)
    except Exception as exc:
        # A defect or an answer nothing here expects: never a run "ferdig" with an empty
        # summary. The run says why, the admins get one e-mail, the log has the trace.
        logger.exception("Transfer run of organisation %s broke off", organization.pk)
        failed = True
        result.message = _(
            "Overføringen stoppet på en uventet feil (%(error)s). Dagsoppgjør som ikke ble "
            "overført, prøves igjen ved neste kjøring; meld fra til brukerstøtte hvis det "
            "gjentar seg."
        ) % {"error": f"{type(exc).__name__}: {exc}"[:300]}
    finally:
        if run is not None:
            _finish(organization, run, result, failed=failed)
    # One e-mail per new reason: the same failure night after night is told once.
    if failed and not dry_run and result.message != previous:
        notify_run_failed(organization, result.message)
    if not dry_run:
        notify_new_problems(organization, result.outcomes)
    return result


def _previous_message(organization: Organization) -> str:
    settings_ = TransferSettings.objects.filter(organization=organization).first()
    return (settings_.last_run_summary or {}).get("message", "") if settings_ else ""


def _run(
    organization: Organization,
    settlements: list[Settlement],
    result: RunResult,
    *,
    run: ExportRun | None,
    dry_run: bool,
) -> None:
    try:
        refresh_company_data(organization)
    except tokens.TokenUnavailable as exc:
        reason = connection_reason(exc)
        result.message = reason
        if not dry_run:
            state.wait_for_connection(settlements, reason, run=run)
        result.outcomes.extend(
            Outcome(s, "needs_action", reason, problem=Problem.CONNECTION) for s in settlements
        )
        return
    except (client.TransportError, client.ServerError, client.RateLimited) as exc:
        raise TransientRunError(str(exc)) from exc
    except client.AccessDenied as exc:
        # Nothing can go before the admin fixes it in Visma; the settlements wait as they
        # are and go out on the first run after.
        raise RunFailed(exc.advice) from exc

    company = read_company(organization)
    mapping = load_mapping(organization)
    attach = not dry_run and attachments.enabled(organization)
    for index, settlement in enumerate(settlements):
        outcome = export_settlement(
            settlement, mapping=mapping, company=company, run=run, dry_run=dry_run
        )
        result.outcomes.append(outcome)
        if attach and outcome.result in ("posted", "found"):
            attachments.expect(settlement)  # uploaded after the run's vouchers
        if run is not None:
            ExportRun.objects.filter(pk=run.pk).update(processed=index + 1)
        if outcome.result == "needs_action" and outcome.problem == Problem.ACCESS_DENIED:
            # Visma refuses this company or user: the rest would meet the same 403. They
            # wait as they are; the admins are told once (notify_new_problems).
            result.message = outcome.message
            return
        if outcome.result == "needs_action" and outcome.problem == Problem.CONNECTION:
            # The connection is gone: the rest wait (unchanged) for the admin to reconnect.
            result.message = outcome.message
            rest = settlements[index + 1 :]
            if not dry_run:
                state.wait_for_connection(rest, outcome.message, run=run)
            result.outcomes.extend(
                Outcome(s, "needs_action", outcome.message, problem=Problem.CONNECTION)
                for s in rest
            )
            return


def _finish(
    organization: Organization, run: ExportRun, result: RunResult, *, failed: bool = False
) -> None:
    now = timezone.now()
    summary = result.summary()
    status = ExportRun.Status.FAILED if failed else ExportRun.Status.DONE
    ExportRun.objects.filter(pk=run.pk).update(status=status, finished_at=now, summary=summary)
    TransferSettings.objects.filter(organization=organization).update(
        last_run_at=now, last_run_summary=summary
    )


def connection_reason(exc: tokens.TokenUnavailable) -> str:
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


def export_settlement(
    settlement: Settlement,
    *,
    mapping: MappingData,
    company: Company,
    run: ExportRun | None = None,
    dry_run: bool = False,
) -> Outcome:
    row = export_of(settlement)
    if row is not None and row.state == State.POSTED:
        return Outcome(settlement, "already_posted", voucher_number=row.voucher_number)
    if waiting_for_answer(row):
        return Outcome(settlement, "uncertain", row.reason if row else "")
    previous = row.state if row is not None else State.PENDING
    if not state.claim(settlement):
        return Outcome(settlement, "skipped")

    try:
        return _export_claimed(
            settlement,
            mapping=mapping,
            company=company,
            run=run,
            dry_run=dry_run,
            previous=previous,
        )
    except Exception as exc:
        if dry_run:
            state.release(settlement, previous)
            raise
        # Whatever broke (a defect, a dependency such as the rate limiter's Redis), the
        # claim must not outlive the run and leave the settlement "overføres" for
        # STALE_CLAIM: it becomes "usikker" (a POST may have gone out), so the next attempt
        # searches Visma first, and the run goes on with the others.
        logger.exception("Transfer of settlement %s broke off", settlement.pk)
        state.doubt(settlement, True)
        error = client.VismaError(None, type(exc).__name__)
        return _failed(settlement, run, error, timezone.now(), uncertain=True)


def _export_claimed(
    settlement: Settlement,
    *,
    mapping: MappingData,
    company: Company,
    run: ExportRun | None,
    dry_run: bool,
    previous: str,
) -> Outcome:
    problem = None
    voucher = None
    try:
        voucher = build_voucher(settlement.as_data(), mapping)
    except UnbalancedSettlement:
        # Not due (selectors.due_settlements), so only a defect gets here.
        problem = (Problem.UNBALANCED, _("Oppgjøret går ikke i balanse."))
    except MappingIncomplete as exc:
        problem = (
            Problem.MAPPING_MISSING,
            _(
                "%(missing)s. Fyll ut under Oppsett > Kontooppsett; oppgjøret overføres ved neste kjøring."
            )
            % {"missing": "; ".join(exc.messages)},
        )
    if voucher is not None:
        # Sent again as a new voucher after an avvik: its own reference (BO-17-2).
        row = export_of(settlement)
        voucher = reconcile.for_generation(voucher, row.generation if row else 1)
    if problem is None:
        assert voucher is not None  # built, or the problem says why not
        if settlement.corrects_id is not None:
            # A correction: the voucher of the version it corrects is reversed first
            # (corrections.py), and this one may move to the reversal's date.
            step = corrections.before_corrected(
                settlement, voucher, company=company, run=run, dry_run=dry_run, previous=previous
            )
            if step.outcome is not None:
                return step.outcome
            voucher = step.voucher or voucher
        problem = preflight(voucher.voucher_date, voucher, company, store=settlement.location)
    if problem is not None:
        if dry_run:
            state.release(settlement, previous)
        else:
            state.set_problem(settlement, *problem, run=run)
        return Outcome(settlement, "needs_action", problem[1], problem=problem[0])
    assert voucher is not None  # built: each way of not building it sets a problem

    payload = client.voucher_body(
        voucher,
        company.vat_code_ids,
        cost_center_item_id=costcentres.item_for(settlement, company),
        without_text=company.accounts_without_text(voucher.voucher_date),
    )
    if dry_run:
        state.release(settlement, previous)
        return Outcome(settlement, "would_post")
    if not voucher.rows:
        # A day with no takings: nothing to book, and Visma refuses an empty voucher.
        reason = _("Ingen beløp å bokføre (nullomsetning); ingen bilag er sendt.")
        state.set_state(settlement, State.POSTED, "", reason)
        state.attempt(settlement, run, ExportAttempt.Result.POSTED, reason)
        return Outcome(settlement, "posted", reason)
    return _post(settlement, voucher, payload, run=run)


def search_filter(day: date) -> str:
    """The vouchers around `day`: a day wider on each side (client.voucher_date_filter)."""
    return client.voucher_date_filter(day - timedelta(days=1), day + timedelta(days=1))


def find_posted(organization: Organization, voucher: Voucher) -> dict | None:
    """The voucher Visma already holds for this settlement (our reference in its text,
    dated within a day of its date), or None. Used before posting again after an unknown
    outcome. If Visma refuses the filter (400), the vouchers are paged without it."""
    marker = f"[{voucher.reference}]"
    try:
        found = tokens.call(
            organization, client.list_vouchers, filter=search_filter(voucher.voucher_date)
        )
    except client.VismaError as exc:
        if exc.status != 400:
            raise
        logger.warning("Visma refused the voucher search filter (%s); paging without it", exc)
        found = tokens.call(organization, client.list_vouchers)
    earliest = voucher.voucher_date - timedelta(days=1)
    latest = voucher.voucher_date + timedelta(days=1)
    for item in found:
        if marker not in str(item.get("VoucherText") or ""):
            continue
        day = _voucher_day(item)
        if day is None or earliest <= day <= latest:
            return item
    return None


def _voucher_day(item: dict) -> date | None:
    try:
        return date.fromisoformat(str(item.get("VoucherDate") or "")[:10])
    except ValueError:
        return None


# After this many failed searches in a row for an in-doubt voucher, a person looks: the
# settlement is never posted again without a search that answered.
SEARCH_GIVE_UP = 3


def _recorded(
    settlement: Settlement, voucher_json: dict, payload: dict, *, run, found: bool, started
) -> Outcome:
    number = state.record_posted(
        settlement, voucher_json, payload, run=run, found=found, started=started
    )
    return Outcome(settlement, "found" if found else "posted", voucher_number=number)


def _post(settlement: Settlement, voucher: Voucher, payload: dict, *, run) -> Outcome:
    organization = settlement.organization
    started = timezone.now()
    search_first = state.count_attempt(settlement)
    # Draft mode (drafts.py): POST /voucherdrafts; after a lost answer of a POST that went
    # there, the search looks among the drafts too.
    as_draft = drafts.enabled(organization)
    if as_draft:
        payload = client.voucher_draft_body(payload)
    drafts_too = as_draft or (search_first and state.sent_as_draft(settlement))
    waited = 0
    while True:
        try:
            if search_first:
                try:
                    if drafts_too:
                        existing, is_draft = drafts.find_sent(organization, voucher, find_posted)
                    else:
                        existing, is_draft = find_posted(organization, voucher), False
                except (client.RateLimited, client.AuthError, client.MissingScope):
                    raise  # waited for, or the connection's problem: not the search's
                except client.VismaError as exc:
                    if state.searched(settlement, answered=False) >= SEARCH_GIVE_UP:
                        return _search_failed(settlement, run, exc, started)
                    raise
                state.searched(settlement, answered=True)
                if existing is not None and is_draft:
                    drafts.record(
                        settlement, existing, payload, run=run, found=True, started=started
                    )
                    return Outcome(settlement, "draft")
                if existing is not None:
                    return _recorded(
                        settlement, existing, payload, run=run, found=True, started=started
                    )
                search_first = False
            state.doubt(settlement, True, draft=as_draft)
            if as_draft:
                created = tokens.call(organization, client.create_voucher_draft, payload)
                drafts.record(settlement, created, payload, run=run, found=False, started=started)
                return Outcome(settlement, "draft")
            created = tokens.call(organization, client.create_voucher, payload)
            return _recorded(settlement, created, payload, run=run, found=False, started=started)
        except client.RateLimited as exc:
            if not search_first:
                state.doubt(settlement, False)  # a 429 stored nothing
            if waited + exc.retry_after > MAX_RATE_LIMIT_WAIT:
                return _failed(settlement, run, exc, started, uncertain=search_first)
            # Visma names the wait; a 429 means nothing was stored.
            time.sleep(exc.retry_after)
            waited += exc.retry_after
        except tokens.TokenUnavailable as exc:
            # No token, so no request went out now; an earlier doubt stays as it was.
            reason = connection_reason(exc)
            state.set_problem(settlement, Problem.CONNECTION, reason, run=run)
            return Outcome(settlement, "needs_action", reason, problem=Problem.CONNECTION)
        except client.AccessDenied as exc:
            # A 403 stored nothing; an earlier doubt is kept (the search ran first).
            if not search_first:
                state.doubt(settlement, False)
            reason = exc.advice
            state.set_problem(
                settlement, Problem.ACCESS_DENIED, reason, run=run, error_code=exc.code or 403
            )
            return Outcome(settlement, "needs_action", reason, problem=Problem.ACCESS_DENIED)
        except (client.AuthError, client.MissingScope) as exc:
            # A refused token stored nothing; an earlier doubt is kept by the search, which
            # ran first (and failed) when it was set.
            if not search_first:
                state.doubt(settlement, False)
            reason = connection_reason(tokens.ReconnectRequired(exc.detail))
            state.set_problem(settlement, Problem.CONNECTION, reason, run=run)
            return Outcome(settlement, "needs_action", reason, problem=Problem.CONNECTION)
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
                state.doubt(settlement, False)
            in_flight = not search_first and exc.may_land_later
            return _failed(settlement, run, exc, started, uncertain=unknown, in_flight=in_flight)


# Visma's ErrorCode of a refused voucher → our problem.
_REFUSALS = {
    4026: Problem.PERIOD_LOCKED,
    3001: Problem.FISCAL_YEAR_MISSING,
    3002: Problem.ACCOUNT_MISSING,
}


def _rejected(settlement: Settlement, run, exc: client.VismaError, started) -> Outcome:
    state.doubt(settlement, False)  # Visma refused it: nothing was stored.
    code = _REFUSALS.get(exc.code or 0, Problem.REJECTED)
    reason = _(
        "Visma avviste bilaget: %(detail)s. Rett årsaken (Kontooppsett eller Visma); "
        "oppgjøret prøves igjen ved neste kjøring."
    ) % {"detail": exc.detail}
    state.set_problem(settlement, code, reason, run=run, error_code=exc.code or "", started=started)
    return Outcome(settlement, "needs_action", reason, problem=code)


def _search_failed(settlement: Settlement, run, exc: client.VismaError, started) -> Outcome:
    """An in-doubt voucher whose search kept failing: never posted again blindly, and never
    left "usikker" in silence. The admins are told; later runs keep searching."""
    reason = _(
        "Usikkert om Visma tok imot bilaget, og søket etter det i Visma har feilet "
        "%(count)s ganger på rad (%(detail)s). Backoffice sender det ikke på nytt før "
        "søket svarer. Se i Visma (Bokføring > Bilag) etter bilaget med teksten "
        "[%(reference)s]; neste kjøring søker igjen."
    ) % {
        "count": SEARCH_GIVE_UP,
        "detail": exc.detail,
        # BO-17, or BO-17-2 for a settlement sent again after an avvik.
        "reference": reconcile.reference_of(
            settlement, getattr(export_of(settlement), "generation", 1)
        ),
    }
    state.set_problem(
        settlement,
        Problem.SEARCH_FAILED,
        reason,
        run=run,
        error_code=exc.code or exc.status or "",
        started=started,
    )
    return Outcome(settlement, "needs_action", reason, problem=Problem.SEARCH_FAILED)


def _failed(
    settlement: Settlement,
    run,
    exc: client.VismaError,
    started,
    *,
    uncertain: bool,
    in_flight: bool = False,
) -> Outcome:
    if uncertain:
        reason = _(
            "Usikkert om Visma tok imot bilaget (%(detail)s). Neste forsøk sjekker Visma "
            "først, så bilaget blir ikke dobbelt."
        ) % {"detail": exc.detail}
        new_state, result = State.UNCERTAIN, ExportAttempt.Result.UNCERTAIN
    else:
        reason = _("Visma svarte ikke som ventet (%(detail)s). Prøves igjen automatisk.") % {
            "detail": exc.detail
        }
        new_state, result = State.FAILED, ExportAttempt.Result.FAILED
    state.set_state(
        settlement, new_state, Problem.IN_FLIGHT if in_flight else Problem.TRANSIENT, reason
    )
    state.attempt(settlement, run, result, reason, exc.code or exc.status or "", started)
    return Outcome(settlement, "uncertain" if uncertain else "failed", reason)
