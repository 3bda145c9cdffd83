"""Corrections after posting: a reversal plus a new voucher, never an edit (issue 18, 2).

A till ("correction": true on the API) or an admin ("Korriger" on the settlement's page)
corrects a settlement that may already be in Visma. settlements/ keeps what the till said:
the correction is the next version of the same register and Z-number, linked to the one
it corrects (Settlement.corrects), and that one stays exactly as it was. This module owns
the chain in Visma:

    original voucher (A12, [BO-17])
      → reversal (A13, "Korrigering av bilag A12 … [BO-17-K]": every row of what was
        posted, SettlementExport.payload, on the other side)
      → corrected voucher (A14, [BO-18])

The corrected version is transferred like any settlement (transfer.export_settlement,
which holds its claim); before its voucher goes, `before_corrected` makes sure of the chain:

- the version it corrects is not in Visma yet (waiting, or on its way): the corrected one
  waits ("venter"); the original goes first, as it was, so nothing that may already have
  landed in Visma is ever left unreversed;
- its reversal is not posted yet: it is posted now, exactly once (a claim of its own, the
  write-ahead doubt, and after a lost answer a search of Visma for "[BO-17-K]" before
  posting again, as transfer._post does for a settlement);
- then the corrected voucher goes, dated like the reversal when that had to move.

Dates: the reversal carries the reversed voucher's date, or, when that period is locked in
Visma (AccountingLockedTo, a locked fiscal year), the first open date; the corrected
voucher then goes on that date too when its own is before it. The settlement's page says so
(`chain_of`).

Visma's API: https://eaccountingapi.vismaonline.com/swagger/ui/index (POST /v2/vouchers).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounting.builder import VOUCHER_TEXT_MAX, Voucher
from settlements.models import Settlement

from . import client, selectors, state, tokens, transfer
from .models import ExportAttempt, ExportRun, Problem, Reversal, SettlementExport
from .preflight import Company, preflight

logger = logging.getLogger(__name__)

State = SettlementExport.State
ZERO = Decimal("0.00")


# ------------------------------------------------------------------------------ dates


def first_open_date(day: date, company: Company) -> date | None:
    """`day`, or the first date after it that Visma takes: after the company's lock date
    (AccountingLockedTo) and outside a locked fiscal year. None when no fiscal year the
    company has holds such a date (known years only: with none known, Visma decides)."""
    candidate = day
    if company.locked_to and candidate <= company.locked_to:
        candidate = company.locked_to + timedelta(days=1)
    if not company.years:
        return candidate
    for year in sorted(company.years, key=lambda y: y.start_date):
        if year.end_date < candidate:
            continue
        if year.start_date > candidate:
            return None  # a gap without a fiscal year
        if not year.is_locked:
            return candidate
        candidate = year.end_date + timedelta(days=1)
    return None


def _day(value: date) -> str:
    return date_format(value, "d.m.Y")


def _posted(export: SettlementExport) -> dict:
    """The body that was posted (the audit copy): a posted export always has it."""
    assert export.payload is not None, export
    return export.payload


def _posted_day(export: SettlementExport) -> date:
    return date.fromisoformat(str(_posted(export)["VoucherDate"])[:10])


# ------------------------------------------------------------------------------ the bodies


def reversal_text(number: str, posted_text: str, reversed_reference: str, reference: str) -> str:
    """ "Korrigering av bilag A12: Dagsoppgjør 27.11.2026 … Z1042 [BO-17-K]". The reversed
    voucher's reference is taken out of its text: a search for "[BO-17]" must only ever
    find the voucher it names."""
    described = posted_text.replace(f"[{reversed_reference}]", "").strip()
    text = f"Korrigering av bilag {number or '–'}: {described}".strip()
    suffix = f" [{reference}]"
    return text[: VOUCHER_TEXT_MAX - len(suffix)] + suffix


def reversal_body(posted: dict, *, day: date, text: str) -> dict:
    """The reversal of a posted VoucherApi body: the same rows (account, VAT code, cost
    centre, text) with debit and credit swapped, so it cancels exactly what Visma holds."""
    rows = []
    for row in posted.get("Rows") or []:
        item = {key: value for key, value in row.items() if value is not None}
        item["DebitAmount"] = row.get("CreditAmount") or ZERO
        item["CreditAmount"] = row.get("DebitAmount") or ZERO
        rows.append(item)
    return {"VoucherDate": day.isoformat(), "VoucherText": text, "Rows": rows}


def _corrected_text(voucher: Voucher, number: str) -> str:
    """The corrected voucher's text says what it replaces; its reference stays at the end."""
    suffix = f" [{voucher.reference}]"
    body = voucher.text.removesuffix(suffix) if voucher.reference else voucher.text
    text = f"{body} (korrigert, erstatter bilag {number})" if number else body
    if not voucher.reference:
        return text[:VOUCHER_TEXT_MAX]
    return text[: VOUCHER_TEXT_MAX - len(suffix)] + suffix


# ------------------------------------------------------------------------------ the hook


@dataclass
class Step:
    """What `before_corrected` decided: an outcome when the corrected voucher must not go
    now, else the voucher to post (its date and text as the chain wants)."""

    outcome: transfer.Outcome | None = None
    voucher: Voucher | None = None


def _reversal_of(settlement: Settlement) -> Reversal | None:
    return Reversal.objects.filter(settlement=settlement).first()


def _has_voucher(export: SettlementExport) -> bool:
    # A day with no takings is "posted" without a voucher: nothing in Visma to reverse.
    return bool(export.payload and export.payload.get("Rows"))


def _corrected_day(settlement: Settlement, reversal_day: date | None, moved: bool) -> date:
    """The corrected voucher's date: its own, unless the reversal had to move to the first
    open date and its own is before that (then locked too)."""
    if moved and reversal_day is not None and settlement.business_date < reversal_day:
        return reversal_day
    return settlement.business_date


def _planned_reversal_day(
    reversal: Reversal | None, export: SettlementExport, company: Company
) -> tuple[date | None, bool]:
    if reversal is not None and reversal.state == State.POSTED and reversal.voucher_date:
        return reversal.voucher_date, reversal.date_moved
    posted = _posted_day(export)
    day = first_open_date(posted, company)
    return day, day is not None and day != posted


def before_corrected(
    settlement: Settlement,
    voucher: Voucher,
    *,
    company: Company,
    run: ExportRun | None,
    dry_run: bool,
    previous: str,
) -> Step:
    """Called by the transfer for a settlement that corrects another (holding its claim,
    with its voucher built): wait for the original, post its reversal, or let it go."""
    original = settlement.corrects
    assert original is not None  # called only for a settlement that corrects another
    export = selectors.export_of(original)
    if export is None or export.state != State.POSTED:
        reason = _(
            "Venter på at versjon %(version)s av oppgjøret blir overført til Visma. Så "
            "motposteres bilaget, og denne versjonen overføres."
        ) % {"version": original.version}
        if dry_run:
            state.release(settlement, previous)
        else:
            state.set_state(settlement, State.PENDING, "", reason)
        return Step(outcome=transfer.Outcome(settlement, "waiting", reason))
    if not _has_voucher(export):
        return Step(voucher=voucher)

    reversal = _reversal_of(original)
    reversal_day, moved = _planned_reversal_day(reversal, export, company)
    corrected = dataclasses.replace(
        voucher,
        voucher_date=_corrected_day(settlement, reversal_day, moved),
        text=_corrected_text(voucher, export.voucher_number),
    )
    if reversal is not None and reversal.state == State.POSTED:
        return Step(voucher=corrected)
    # What would stop the corrected voucher is found before anything is reversed: the
    # books never hold a reversal whose corrected voucher cannot follow. The transfer's own
    # pre-flight then says why.
    if preflight(corrected.voucher_date, corrected, company, store=settlement.location):
        return Step(voucher=corrected)
    if dry_run:
        return Step(voucher=corrected)  # both would go (the transfer releases the claim)

    if reversal is None:
        reversal, _created = Reversal.objects.get_or_create(settlement=original)
    result = reverse_voucher(
        reversal, original=original, export=export, company=company, corrected=settlement, run=run
    )
    if result.posted:
        reversal.refresh_from_db()
        corrected = dataclasses.replace(
            corrected,
            voucher_date=_corrected_day(settlement, reversal.voucher_date, reversal.date_moved),
        )
        return Step(voucher=corrected)
    return Step(outcome=_hold_corrected(settlement, result, export.voucher_number, run=run))


def _hold_corrected(
    settlement: Settlement, result: ReversalResult, number: str, *, run: ExportRun | None
) -> transfer.Outcome:
    """The corrected settlement waits for its reversal: its state says why (its claim is
    given back), and the run's summary and e-mails treat it like the reversal's outcome."""
    reason = _("Motposteringen av bilag %(number)s: %(reason)s") % {
        "number": number or "–",
        "reason": result.message,
    }
    if result.result == "needs_action":
        state.set_problem(settlement, result.problem, reason, run=run, started=result.started)
        return transfer.Outcome(settlement, "needs_action", reason, problem=result.problem)
    # Failed, uncertain or still on its way: retried soon; the reversal's own doubt makes
    # the next attempt search for it first.
    state.set_state(settlement, State.FAILED, Problem.TRANSIENT, reason)
    if result.result != "skipped":
        attempt = (
            ExportAttempt.Result.UNCERTAIN
            if result.result == "uncertain"
            else ExportAttempt.Result.FAILED
        )
        state.attempt(settlement, run, attempt, reason, result.code, result.started)
    outcome = "uncertain" if result.result in ("uncertain", "skipped") else "failed"
    return transfer.Outcome(settlement, outcome, reason)


# ------------------------------------------------------------------------------ the reversal


@dataclass
class ReversalResult:
    result: str  # posted | found | needs_action | failed | uncertain | skipped
    message: str = ""
    problem: str = ""
    code: str | int = ""
    started: datetime | None = None

    @property
    def posted(self) -> bool:
        return self.result in ("posted", "found")


def _set(reversal: Reversal, **fields: Any) -> None:
    fields.setdefault("updated_at", timezone.now())
    Reversal.objects.filter(pk=reversal.pk).update(**fields)
    for name, value in fields.items():
        setattr(reversal, name, value)


def _waiting_for_answer(reversal: Reversal) -> bool:
    """Its last POST timed out less than STALE_CLAIM ago: it may still land in Visma, so a
    search now proves nothing (selectors.waiting_for_answer, for a reversal)."""
    return (
        reversal.state == State.UNCERTAIN
        and reversal.problem_code == Problem.IN_FLIGHT
        and reversal.updated_at > timezone.now() - selectors.STALE_CLAIM
    )


def _claim(reversal: Reversal) -> bool:
    """Compare-and-set, as state.claim: exactly one run holds a reversal. A claim older than
    STALE_CLAIM is a dead worker's and may be taken over (its doubt makes a search first)."""
    now = timezone.now()
    if reversal.state == State.POSTING and reversal.updated_at > now - selectors.STALE_CLAIM:
        return False
    claimed = Reversal.objects.filter(
        pk=reversal.pk, state=reversal.state, updated_at=reversal.updated_at
    ).update(state=State.POSTING, updated_at=now)
    if claimed:
        reversal.state, reversal.updated_at = State.POSTING, now
    return bool(claimed)


def reverse_voucher(
    reversal: Reversal,
    *,
    original: Settlement,
    export: SettlementExport,
    company: Company,
    corrected: Settlement,
    run: ExportRun | None,
) -> ReversalResult:
    """Post the reversal of `original`'s voucher, exactly once."""
    if reversal.state == State.POSTED:
        return ReversalResult("posted")
    if _waiting_for_answer(reversal):
        return ReversalResult("uncertain", reversal.reason)
    if not _claim(reversal):
        return ReversalResult("skipped", _("motposteringen sendes av en annen kjøring nå."))
    started = timezone.now()
    try:
        return _post(reversal, original, export, company, corrected, run, started)
    except Exception as exc:
        # Whatever broke, the claim must not outlive the run: a POST may have gone out, so
        # the next attempt searches Visma first.
        logger.exception("Reversal of settlement %s broke off", original.pk)
        reason = _(
            "Usikkert om Visma tok imot motposteringen (%(detail)s). Neste forsøk sjekker "
            "Visma først, så den blir ikke dobbel."
        ) % {"detail": type(exc).__name__}
        _set(
            reversal,
            state=State.UNCERTAIN,
            problem_code=Problem.TRANSIENT,
            reason=reason,
            in_doubt=True,
        )
        return ReversalResult("uncertain", reason, started=started)


def _plan(
    original: Settlement, export: SettlementExport, company: Company, reversal: Reversal
) -> tuple[date | None, dict | None, bool]:
    """The date and body the reversal goes with now (from what was posted)."""
    posted = _posted_day(export)
    day = first_open_date(posted, company)
    if day is None:
        return None, None, False
    text = reversal_text(
        export.voucher_number,
        str(_posted(export).get("VoucherText") or ""),
        original.reference,
        reversal.reference,
    )
    return day, reversal_body(_posted(export), day=day, text=text), day != posted


def _post(
    reversal: Reversal,
    original: Settlement,
    export: SettlementExport,
    company: Company,
    corrected: Settlement,
    run: ExportRun | None,
    started: datetime,
) -> ReversalResult:
    organization = original.organization
    fresh = Reversal.objects.filter(pk=reversal.pk).values("in_doubt", "attempts")[0]
    search_first = fresh["in_doubt"]
    _set(reversal, attempts=fresh["attempts"] + 1, updated_at=reversal.updated_at)
    waited = 0
    while True:
        try:
            if search_first:
                try:
                    existing = _search(organization, reversal, export)
                except (client.RateLimited, client.AuthError, client.MissingScope):
                    raise
                except client.VismaError as exc:
                    failures = reversal.failed_searches + 1
                    _set(reversal, failed_searches=failures, updated_at=reversal.updated_at)
                    if failures >= transfer.SEARCH_GIVE_UP:
                        return _search_failed(reversal, exc, started)
                    raise
                _set(reversal, failed_searches=0, updated_at=reversal.updated_at)
                if existing is not None:
                    return _recorded(
                        reversal, existing, reversal.payload, corrected, run, True, started
                    )
                search_first = False
            day, payload, moved = _plan(original, export, company, reversal)
            if payload is None:
                return _needs_action(
                    reversal,
                    Problem.FISCAL_YEAR_MISSING,
                    _(
                        "Visma-selskapet har ikke noe åpent regnskapsår etter %(day)s å "
                        "motpostere bilaget i. Opprett eller åpne regnskapsåret i Visma; det "
                        "prøves igjen ved neste kjøring."
                    )
                    % {"day": _day(_posted_day(export))},
                    started,
                )
            # Write-ahead: what goes out, and the doubt, before it is sent.
            _set(
                reversal,
                payload=client.exact_json(payload),
                voucher_date=day,
                date_moved=moved,
                locked_to=company.locked_to if moved else None,
                in_doubt=True,
                updated_at=reversal.updated_at,
            )
            created = tokens.call(organization, client.create_voucher, payload)
            return _recorded(reversal, created, payload, corrected, run, False, started)
        except client.RateLimited as exc:
            if not search_first:
                _set(reversal, in_doubt=False, updated_at=reversal.updated_at)
            if waited + exc.retry_after > transfer.MAX_RATE_LIMIT_WAIT:
                return _failed(reversal, exc, started, uncertain=search_first)
            time.sleep(exc.retry_after)
            waited += exc.retry_after
        except tokens.TokenUnavailable as exc:
            return _needs_action(
                reversal, Problem.CONNECTION, transfer.connection_reason(exc), started
            )
        except client.AccessDenied as exc:
            if not search_first:
                _set(reversal, in_doubt=False, updated_at=reversal.updated_at)
            return _needs_action(
                reversal, Problem.ACCESS_DENIED, exc.advice, started, code=exc.code or 403
            )
        except (client.AuthError, client.MissingScope) as exc:
            if not search_first:
                _set(reversal, in_doubt=False, updated_at=reversal.updated_at)
            reason = transfer.connection_reason(tokens.ReconnectRequired(exc.detail))
            return _needs_action(reversal, Problem.CONNECTION, reason, started)
        except (
            client.PeriodLocked,
            client.FiscalYearMissing,
            client.AccountNotFound,
            client.ValidationError,
            client.InvalidPayload,
        ) as exc:
            if search_first:  # the search itself was refused: still in doubt, try later
                return _failed(reversal, exc, started, uncertain=True)
            _set(reversal, in_doubt=False, updated_at=reversal.updated_at)
            code = transfer._REFUSALS.get(exc.code or 0, Problem.REJECTED)
            reason = _(
                "Visma avviste motposteringen: %(detail)s. Rett årsaken i Visma; den prøves "
                "igjen ved neste kjøring."
            ) % {"detail": exc.detail}
            return _needs_action(reversal, code, reason, started, code=exc.code or "")
        except client.VismaError as exc:
            unknown = search_first or exc.outcome_unknown
            if not unknown:
                _set(reversal, in_doubt=False, updated_at=reversal.updated_at)
            in_flight = not search_first and exc.may_land_later
            return _failed(reversal, exc, started, uncertain=unknown, in_flight=in_flight)


def _search(organization, reversal: Reversal, export: SettlementExport) -> dict | None:
    """The reversal Visma already holds (its reference, within a day of the date it was
    last sent with), or None: transfer.find_posted, for a reversal."""
    day = reversal.voucher_date or _posted_day(export)
    probe = Voucher(
        voucher_date=day,
        text="",
        reference=reversal.reference,
        rows=(),
        total_debit=ZERO,
        total_credit=ZERO,
    )
    return transfer.find_posted(organization, probe)


def _recorded(
    reversal: Reversal,
    voucher_json: dict,
    payload: dict | None,
    corrected: Settlement,
    run: ExportRun | None,
    found: bool,
    started: datetime,
) -> ReversalResult:
    number = str(voucher_json.get("NumberAndNumberSeries") or "")
    _set(
        reversal,
        state=State.POSTED,
        problem_code="",
        reason="",
        visma_voucher_id=str(voucher_json.get("Id") or ""),
        voucher_number=number,
        posted_at=timezone.now(),
        found_by_search=found,
        payload=client.exact_json(payload) if payload is not None else reversal.payload,
        response=state._as_text(voucher_json),
        in_doubt=False,
    )
    message = (
        _("Motpostering funnet i Visma som bilag %(number)s (ikke sendt på nytt)")
        if found
        else _("Motpostering: bilag %(number)s")
    ) % {"number": number or "–"}
    result = ExportAttempt.Result.FOUND if found else ExportAttempt.Result.POSTED
    state.attempt(corrected, run, result, message, started=started)
    return ReversalResult("found" if found else "posted", message, started=started)


def _needs_action(
    reversal: Reversal, problem: str, reason: str, started: datetime, *, code: Any = None
) -> ReversalResult:
    _set(reversal, state=State.NEEDS_ACTION, problem_code=problem, reason=reason)
    return ReversalResult(
        "needs_action", reason, problem=problem, code=code or problem, started=started
    )


def _search_failed(reversal: Reversal, exc: client.VismaError, started: datetime) -> ReversalResult:
    reason = _(
        "Usikkert om Visma tok imot motposteringen, og søket etter den har feilet %(count)s "
        "ganger på rad (%(detail)s). Den sendes ikke på nytt før søket svarer. Se i Visma "
        "(Bokføring > Bilag) etter bilaget med teksten [%(reference)s]; neste kjøring søker "
        "igjen."
    ) % {
        "count": transfer.SEARCH_GIVE_UP,
        "detail": exc.detail,
        "reference": reversal.reference,
    }
    return _needs_action(
        reversal, Problem.SEARCH_FAILED, reason, started, code=exc.code or exc.status or ""
    )


def _failed(
    reversal: Reversal,
    exc: client.VismaError,
    started: datetime,
    *,
    uncertain: bool,
    in_flight: bool = False,
) -> ReversalResult:
    if uncertain:
        reason = _(
            "Usikkert om Visma tok imot motposteringen (%(detail)s). Neste forsøk sjekker "
            "Visma først, så den blir ikke dobbel."
        ) % {"detail": exc.detail}
        new_state = State.UNCERTAIN
    else:
        reason = _("Visma svarte ikke som ventet (%(detail)s). Prøves igjen automatisk.") % {
            "detail": exc.detail
        }
        new_state = State.FAILED
    _set(
        reversal,
        state=new_state,
        problem_code=Problem.IN_FLIGHT if in_flight else Problem.TRANSIENT,
        reason=reason,
    )
    return ReversalResult(
        "uncertain" if uncertain else "failed",
        reason,
        code=exc.code or exc.status or "",
        started=started,
    )


# ------------------------------------------------------------------------------ the page


@dataclass
class ChainLink:
    """One voucher of a correction chain, as the settlement's page shows it."""

    kind: str  # original | reversal | corrected
    title: str
    voucher_number: str
    state: str
    state_label: str
    voucher_date: date | None
    note: str = ""
    settlement: Settlement | None = None
    current: bool = False
    payload: Any = None
    payload_json: str = ""  # for the page (pages._chain)


def _versions(settlement: Settlement) -> list[Settlement]:
    first = settlement
    while first.corrects_id is not None:
        first = Settlement.objects.select_related("corrects").get(pk=first.corrects_id)
    versions = [first]
    while True:
        following = Settlement.objects.filter(corrects=versions[-1]).first()
        if following is None:
            return versions
        versions.append(following)


def _voucher_day(export: SettlementExport | None) -> date | None:
    if export is None or not export.payload:
        return None
    try:
        return _posted_day(export)
    except (KeyError, ValueError):
        return None


def chain_of(settlement: Settlement) -> list[ChainLink]:
    """original → reversal → corrected (→ reversal → corrected …), with voucher numbers,
    for the page of any version of a corrected settlement; [] for one never corrected."""
    if (
        settlement.corrects_id is None
        and not Settlement.objects.filter(corrects=settlement).exists()
    ):
        return []
    versions = _versions(settlement)
    exports = {e.settlement_id: e for e in SettlementExport.objects.filter(settlement__in=versions)}
    reversals = {r.settlement_id: r for r in Reversal.objects.filter(settlement__in=versions)}
    links: list[ChainLink] = []
    for index, version in enumerate(versions):
        export = exports.get(version.pk)
        posted = export is not None and export.state == State.POSTED
        status = selectors.transfer_of(version) if export is not None else None
        day = _voucher_day(export)
        note = ""
        if posted and export is not None and not _has_voucher(export):
            note = _("Ingen beløp å bokføre; ingen bilag i Visma.")
        elif day is not None and day != version.business_date:
            note = _(
                "Datert %(day)s: perioden for %(own)s er låst i Visma, så første åpne dato er "
                "brukt."
            ) % {"day": _day(day), "own": _day(version.business_date)}
        links.append(
            ChainLink(
                kind="original" if index == 0 else "corrected",
                title=(
                    _("Opprinnelig bilag (versjon 1)")
                    if index == 0
                    else _("Korrigert bilag (versjon %(version)s)") % {"version": version.version}
                ),
                voucher_number=export.voucher_number if export is not None else "",
                state=status.state if status else State.PENDING,
                state_label=str(status.label) if status else str(State.PENDING.label),
                voucher_date=day,
                note=note,
                settlement=version,
                current=version.pk == settlement.pk,
            )
        )
        if index == len(versions) - 1:
            break
        reversal = reversals.get(version.pk)
        number = export.voucher_number if export is not None else ""
        links.append(_reversal_link(reversal, number, export))
    return links


def _reversal_link(
    reversal: Reversal | None, number: str, export: SettlementExport | None
) -> ChainLink:
    title = _("Motpostering (korrigering av bilag %(number)s)") % {"number": number or "–"}
    if export is not None and export.state == State.POSTED and not _has_voucher(export):
        return ChainLink(
            "reversal",
            title,
            "",
            State.POSTED,
            str(_("ikke nødvendig")),
            None,
            note=_("Det var ikke noe bilag å motpostere."),
        )
    if reversal is None:
        return ChainLink(
            "reversal",
            title,
            "",
            State.PENDING,
            str(State.PENDING.label),
            None,
        )
    note = reversal.reason
    if reversal.date_moved and reversal.voucher_date:
        posted = _voucher_day(export)
        moved = _(
            "Datert %(day)s og ikke %(own)s: perioden er låst i Visma%(until)s, så første åpne "
            "dato er brukt."
        ) % {
            "day": _day(reversal.voucher_date),
            "own": _day(posted) if posted else "–",
            "until": (
                _(" (til og med %(date)s)") % {"date": _day(reversal.locked_to)}
                if reversal.locked_to
                else ""
            ),
        }
        note = f"{moved} {note}".strip()
    return ChainLink(
        "reversal",
        title,
        reversal.voucher_number,
        reversal.state,
        str(State(reversal.state).label),
        reversal.voucher_date,
        note=note,
        payload=reversal.payload if reversal.state == State.POSTED else None,
    )
