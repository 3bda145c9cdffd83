"""The "Visma" section of a settlement's page, as one inclusion tag so that the settlements
app knows nothing of Visma but one line in its template:

    {% load visma_export %}{% settlement_visma_panel settlement request %}

It shows the posted voucher (number, Visma's id, when, the exact payload sent), every
attempt with its time and result, and for admins "Overfør nå" / "Prøv igjen".
"""

from __future__ import annotations

import json

from django import template
from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.urls import reverse

from backoffice.ids import parse_id
from settlements.models import Settlement

from ..models import ExportRun, SettlementExport, VismaConnection
from ..views import active_run, is_followed, retry_label, run_label, transfer_refusal

register = template.Library()

# A settlement retried every night for weeks gathers many attempts; the newest tell the story.
MAX_ATTEMPTS_SHOWN = 20
# Refusals everybody may read; the others only matter to whoever can press the button.
NOTES_FOR_ALL = {"posting", "too_early", "too_old"}


def _export_of(settlement: Settlement) -> SettlementExport | None:
    try:
        return settlement.visma_export
    except ObjectDoesNotExist:
        return None


# The order export.voucher_payload builds the body in. PostgreSQL's jsonb does not keep the
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
    "TransactionText",
]


def _in_sent_order(value):
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: KEY_ORDER.index(k) if k in KEY_ORDER else len(KEY_ORDER))
        return {k: _in_sent_order(value[k]) for k in keys}
    if isinstance(value, list):
        return [_in_sent_order(item) for item in value]
    return value


def _pretty(value) -> str:
    """JSON as sent: the stored payload holds the numbers exactly as they went over the wire."""
    if value in (None, "", {}):
        return ""
    return json.dumps(_in_sent_order(value), indent=2, ensure_ascii=False)


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
    if settlement.state == Settlement.State.POSTING:
        return active_run(settlement.organization_id)
    return None


@register.inclusion_tag("visma/_settlement_panel.html")
def settlement_visma_panel(settlement: Settlement, request: HttpRequest) -> dict:
    membership = getattr(request, "membership", None)
    is_admin = bool(membership is not None and membership.is_admin)
    export = _export_of(settlement)
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
    posted = export is not None and export.posted_at is not None
    return {
        "settlement": settlement,
        "export": export if posted else None,
        "payload_json": _pretty(export.payload) if posted else "",
        "response_json": _pretty(export.response) if posted else "",
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
    }
