"""Reading a settlement's transfer to Visma (SettlementExport), for the pages, the run
and the "can this be sent now" checks. Only `state.py` writes it.

A settlement without a SettlementExport row has not been touched by a transfer: it waits
("venter"), or, when it is not postable (it does not balance, or what the till said holds
it: Settlement.hold_code), needs the till's corrected settlement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from backoffice.models import Organization
from settlements.models import POSTABLE, Settlement
from settlements.transfer import TransferStatus, untouched_status

from .models import ExportRun, Problem, SettlementExport, TransferSettings

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

State = SettlementExport.State
# In Visma (or there as a draft): what the till sends later no longer changes the state.
SENT = [State.POSTED, State.DRAFT, State.AVVIK]

# A claim ("overføres") older than this belongs to a worker that died mid-POST (default
# 10 minutes; the fault tests shorten it through the environment).
STALE_CLAIM = timedelta(seconds=settings.TRANSFER_STALE_CLAIM_SECONDS)


def export_of(settlement: Settlement) -> SettlementExport | None:
    """The settlement's transfer row (select_related "visma_export" to avoid a query)."""
    try:
        return settlement.visma_export
    except ObjectDoesNotExist:
        return None


def transfer_of(settlement: Settlement) -> TransferStatus:
    row = export_of(settlement)
    if row is None or (row.state not in SENT and not settlement.is_postable):
        return untouched_status(settlement)
    return TransferStatus(
        state=row.state,
        label=State(row.state).label,
        reason=row.reason,
        problem=row.problem_code,
        voucher_number=row.voucher_number,
    )


class TransferStateAnnotation(TypedDict):
    transfer_state: str


def with_state(
    queryset: QuerySet[Settlement],
) -> QuerySet[WithAnnotations[Settlement, TransferStateAnnotation]]:
    """The queryset with `transfer_state`, the state `transfer_of` gives, in SQL."""
    return queryset.annotate(
        transfer_state=Case(
            When(visma_export__state__in=SENT, then=F("visma_export__state")),
            When(~Q(**POSTABLE), then=Value(State.NEEDS_ACTION.value)),
            When(visma_export__isnull=True, then=Value(State.PENDING.value)),
            default=F("visma_export__state"),
        )
    )


def in_state(queryset: QuerySet[Settlement], state: str) -> QuerySet[Settlement]:
    return with_state(queryset).filter(transfer_state=state)


def due_settlements(
    organization: Organization, *, today: date | None = None
) -> QuerySet[Settlement]:
    """Settlements of the organisation that a run should try, oldest first: business date
    before today (Europe/Oslo) and inside the look-back window, postable (balanced and not
    held, Settlement.is_postable), and not posted nor held by a live claim."""
    today = today or timezone.localdate()
    lookback = TransferSettings.for_organization(organization).lookback_days
    stale = timezone.now() - STALE_CLAIM
    return (
        Settlement.objects.filter(
            organization=organization,
            business_date__lt=today,
            business_date__gte=today - timedelta(days=lookback),
            **POSTABLE,
        )
        .filter(
            Q(visma_export__isnull=True)
            | Q(
                visma_export__state__in=[
                    State.PENDING,
                    State.FAILED,
                    State.UNCERTAIN,
                    State.NEEDS_ACTION,
                ]
            )
            | Q(visma_export__state=State.POSTING, visma_export__updated_at__lt=stale)
        )
        # A correction after the version it corrects: that one goes (and is reversed) first.
        .order_by("business_date", "location_id", "register_id", "z_number", "version")
    )


def blocked_by_mapping(organization: Organization) -> QuerySet[Settlement]:
    """Settlements that wait in "trenger handling" for the kontooppsett."""
    return Settlement.objects.filter(
        organization=organization,
        visma_export__state=State.NEEDS_ACTION,
        visma_export__problem_code=Problem.MAPPING_MISSING,
    )


def waiting_for_answer(row: SettlementExport | None, *, now: datetime | None = None) -> bool:
    """The last POST of this settlement timed out (or a gateway gave up on it) less than
    STALE_CLAIM ago: Visma may still store it, so a search now could miss it and a second
    voucher follow. It waits like the claim of a worker that died mid-POST."""
    now = now or timezone.now()
    return (
        row is not None
        and row.state == State.UNCERTAIN
        and row.problem_code == Problem.IN_FLIGHT
        and row.updated_at > now - STALE_CLAIM
    )


@dataclass(frozen=True)
class Refusal:
    """Why "Overfør nå" on one settlement sends nothing, and what the admin is told."""

    # posted | draft | avvik | posting | unbalanced | awaits_correction | too_early |
    # too_old | not_connected
    code: str
    level: int
    text: str


def transfer_refusal(settlement: Settlement, *, connected: bool) -> Refusal | None:
    """None when the settlement may be sent now; else why not. The same rules as
    `due_settlements`, said to the admin instead of a run that does nothing."""
    row = export_of(settlement)
    state = transfer_of(settlement).state
    if state == State.POSTED:
        # Never re-sent: a second voucher would double the day's takings in the books.
        return Refusal("posted", messages.INFO, _("Oppgjøret er allerede overført til Visma."))
    if state == State.DRAFT:
        return Refusal(
            "draft",
            messages.INFO,
            _("Oppgjøret ligger som kladd i Visma og venter på at regnskapsfører godkjenner det."),
        )
    if state == State.AVVIK:
        # Never sent again by itself nor by this button: the admin chooses (reconcile.py).
        return Refusal(
            "avvik",
            messages.WARNING,
            _(
                "Bilaget i Visma er slettet eller endret. Velg under om oppgjøret skal sendes "
                "på nytt som nytt bilag, eller om Vismas versjon skal godtas."
            ),
        )
    if row is not None and state == State.POSTING and row.updated_at > timezone.now() - STALE_CLAIM:
        return Refusal("posting", messages.INFO, _("Oppgjøret overføres nå."))
    if not settlement.is_balanced:
        return Refusal(
            "unbalanced",
            messages.WARNING,
            _(
                "Oppgjøret går ikke i balanse og kan ikke overføres. Kassen må sende et "
                "rettet oppgjør."
            ),
        )
    if settlement.hold_code:
        # Its VAT or its source's totals disagree (Settlement.hold_reason says which).
        return Refusal(
            "awaits_correction",
            messages.WARNING,
            _("Oppgjøret kan ikke overføres før kassen har sendt et rettet oppgjør."),
        )
    today = timezone.localdate()
    if settlement.business_date >= today:
        return Refusal(
            "too_early",
            messages.INFO,
            _("Dagsoppgjøret overføres fra og med dagen etter forretningsdatoen, altså %(day)s.")
            % {"day": date_format(settlement.business_date + timedelta(days=1), "d.m.Y")},
        )
    lookback = TransferSettings.for_organization(settlement.organization).lookback_days
    if settlement.business_date < today - timedelta(days=lookback):
        return Refusal(
            "too_old",
            messages.WARNING,
            _(
                "Oppgjøret er eldre enn %(days)s dager, som er så langt bakover overføringen "
                "henter. Øk «Hent oppgjør bakover» under Oppsett > Integrasjoner for å "
                "overføre det."
            )
            % {"days": lookback},
        )
    if not connected:
        return Refusal(
            "not_connected", messages.WARNING, _("Koble til Visma eAccounting før du overfører.")
        )
    return None


def retry_label(settlement: Settlement) -> str:
    """ "Prøv igjen" after a try that went wrong, else "Overfør nå"."""
    if transfer_of(settlement).state in (State.FAILED, State.UNCERTAIN, State.POSTING):
        return _("Prøv igjen")
    return _("Overfør nå")


# ------------------------------------------------------------------------------ runs

# A queued or running run older than this is no longer followed on the pages: its worker
# died or its retries (about three hours of them, see tasks.RETRY_COUNTDOWNS) are spent.
# Without a limit a dead run would keep the page polling and "Overfør nå" blocked forever.
FOLLOW_RUN_FOR = timedelta(hours=3)


def active_run(organization) -> ExportRun | None:
    """The organisation's latest run while it is queued or running (and not abandoned)."""
    run = ExportRun.objects.filter(organization=organization).order_by("-created_at", "-id").first()
    return run if run is not None and is_followed(run) else None


def is_followed(run: ExportRun) -> bool:
    return run.is_active and run.created_at > timezone.now() - FOLLOW_RUN_FOR


def run_label(run: ExportRun) -> str:
    """ "I kø" / "Overfører: 3 av 12" / "Ferdig", in the reader's language."""
    if run.status == ExportRun.Status.RUNNING:
        return _("Overfører: %(processed)s av %(total)s") % {
            "processed": run.processed,
            "total": run.total,
        }
    if run.status == ExportRun.Status.QUEUED:
        return _("I kø")
    if run.status == ExportRun.Status.DONE:
        return _("Ferdig")
    return _("Avbrutt")


def run_json(run: ExportRun | None) -> dict:
    if run is None:
        return {
            "status": None,
            "total": 0,
            "processed": 0,
            "summary": {},
            "active": False,
            "label": "",
        }
    summary = run.summary if isinstance(run.summary, dict) else {}
    return {
        "status": run.status,
        "total": run.total,
        "processed": run.processed,
        "summary": summary,
        "active": is_followed(run),
        "label": run_label(run),
    }
