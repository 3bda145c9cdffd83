"""What the settlement pages show of the transfer to Visma: the provider that fills the
seam settlements.transfer (setting SETTLEMENT_TRANSFER_PROVIDER =
"integrations.visma.pages.transfers"), so the settlements app knows nothing of Visma.

The settlement's section shows the posted voucher (number, Visma's id, when, the exact
payload sent), every attempt with its time and result, and for admins "Overfør nå" /
"Prøv igjen". The list page gets the organisation's "Overfør nå".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import reverse

from backoffice.ids import parse_id
from settlements.models import Settlement
from settlements.transfer import TransferStatus

from . import attachments, client, corrections, reconcile
from .models import ExportRun, SettlementExport, VismaConnection

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

from .selectors import (
    active_run,
    export_of,
    in_state,
    is_followed,
    retry_label,
    run_label,
    transfer_of,
    transfer_refusal,
)

# A settlement retried every night for weeks gathers many attempts; the newest tell the story.
MAX_ATTEMPTS_SHOWN = 20
# Refusals everybody may read; the others only matter to whoever can press the button.
NOTES_FOR_ALL = {"posting", "too_early", "too_old", "draft"}


# The order client.voucher_body builds the body in. PostgreSQL's jsonb does not keep the
# order of keys, so the stored payload comes back sorted by key length; shown in this order
# it reads as it was sent (same keys, same values: a JSON object has no order).
KEY_ORDER = [
    "VoucherDate",
    "VoucherText",
    "Rows",
    "AccountNumber",
    "DebitAmount",
    "CreditAmount",
    "VatCodeId",
    "CostCenterItemId1",
    "TransactionText",
]


def _in_sent_order(value: Any) -> Any:
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: KEY_ORDER.index(k) if k in KEY_ORDER else len(KEY_ORDER))
        return {k: _in_sent_order(value[k]) for k in keys}
    if isinstance(value, list):
        return [_in_sent_order(item) for item in value]
    return value


def _pretty(value: Any) -> str:
    """JSON as sent: the stored payload holds the numbers exactly as they went over the wire."""
    if value in (None, "", {}):
        return ""
    return client.dumps(_in_sent_order(value), indent=2)


def _followed_run(settlement: Settlement, request: HttpRequest) -> ExportRun | None:
    """The run started from this page (`?run=ID`, after "Overfør nå"), or the organisation's
    active run while the settlement is being sent, as long as it is queued or running."""
    run_id = parse_id(request.GET.get("run"))
    if run_id is not None:
        run = ExportRun.objects.filter(
            pk=run_id, organization_id=settlement.organization_id
        ).first()
        if run is not None and is_followed(run):
            return run
    if transfer_of(settlement).state == SettlementExport.State.POSTING:
        return active_run(settlement.organization_id)
    return None


def panel_context(settlement: Settlement, request: HttpRequest) -> dict:
    membership = getattr(request, "membership", None)
    is_admin = bool(membership is not None and membership.is_admin)
    export = export_of(settlement)
    attempts = list(settlement.visma_attempts.all()[: MAX_ATTEMPTS_SHOWN + 1])
    connected = VismaConnection.objects.filter(
        organization_id=settlement.organization_id, status=VismaConnection.Status.CONNECTED
    ).exists()
    refusal = transfer_refusal(settlement, connected=connected)

    action_label = ""
    disabled = False
    if is_admin and (refusal is None or refusal.code == "not_connected"):
        action_label = retry_label(settlement)
        disabled = refusal is not None
    note = ""
    if refusal is not None and (
        refusal.code in NOTES_FOR_ALL or (is_admin and refusal.code == "not_connected")
    ):
        note = refusal.text

    following = _followed_run(settlement, request)
    if following is not None:
        # Already on its way: a second click would only queue a run that finds it taken.
        disabled = True
    posted = export if export is not None and export.posted_at is not None else None
    attachment = attachments.status(
        settlement, voucher_number=export.voucher_number if export is not None else ""
    )
    return {
        "settlement": settlement,
        "export": posted,
        "payload_json": _pretty(posted.payload) if posted is not None else "",
        "response_json": _pretty(posted.response) if posted is not None else "",
        # The Z-report PDF in Visma (attachments.py), with the same PDF to download.
        "attachment": attachment,
        "pdf_url": reverse("settlements:pdf", args=[settlement.pk]),
        "attempts": attempts[:MAX_ATTEMPTS_SHOWN],
        "more_attempts": len(attempts) > MAX_ATTEMPTS_SHOWN,
        "action_label": action_label,
        "disabled": disabled,
        "note": note,
        "following": following,
        "following_label": run_label(following) if following else "",
        "following_url": (
            f"{reverse('visma:transfer_status')}?run={following.pk}" if following else ""
        ),
        # The inclusion tag has no parent context: {% csrf_token %} needs the token here.
        "csrf_token": get_token(request),
        # A corrected settlement: original → reversal → corrected (corrections.py).
        "chain": _chain(settlement),
        # Avvik against Visma, drafts, earlier vouchers (reconcile.py).
        **reconcile.panel_context(export, is_admin=is_admin),
    }


def _chain(settlement: Settlement) -> list[corrections.ChainLink]:
    links = corrections.chain_of(settlement)
    for link in links:
        link.payload_json = _pretty(link.payload) if link.payload else ""
    return links


class VismaTransfers:
    """settlements.transfer.TransferProvider for Visma eAccounting."""

    def state_choices(self) -> list[tuple[str, StrOrPromise]]:
        return list(SettlementExport.State.choices)

    def with_transfer(self, queryset: QuerySet[Settlement]) -> QuerySet[Settlement]:
        return queryset.select_related("visma_export")

    def filter_state(self, queryset: QuerySet[Settlement], state: str) -> QuerySet[Settlement]:
        return in_state(queryset, state)

    def status(self, settlement: Settlement) -> TransferStatus:
        return transfer_of(settlement)

    def panel(self, settlement: Settlement, request: HttpRequest) -> str:
        return render_to_string(
            "visma/_settlement_panel.html", panel_context(settlement, request), request=None
        )

    def list_actions(self, request: HttpRequest) -> str:
        return render_to_string("visma/_list_actions.html", request=request)


transfers = VismaTransfers()
