"""Draft mode (issue 18, item 6): the vouchers go to `POST /voucherdrafts` for the
accountant to approve in Visma, instead of `POST /vouchers`.

Switched on per organisation (TransferSettings.send_as_draft, "Send som kladd
(bilagsforslag) til regnskapsfører" on the integration page). The transfer (transfer._post)
is the same claim → post → record, exactly once, with two differences:

- the body is Visma's VoucherDraftApi (client.voucher_draft_body) and the settlement
  becomes "kladd i Visma" (state.record_draft) with the draft's id;
- after a lost answer the search (`find_sent`) looks among the drafts first and then the
  vouchers (an accountant may have approved the draft meanwhile), so a lost answer never
  makes a second draft. It looks among the drafts whenever the last POST went there
  (SettlementExport.sent_as_draft), also if the switch was turned off since.

What becomes of a draft is seen by the reconciliation (reconcile.py) after the scheduled
run. Visma's description of POST /voucherdrafts/{id}/convert: "Once converted, the voucher
draft will be removed and a new voucher will be created with the same transaction data."
Nothing in VoucherApi names the draft it came from (SourceId is documented as "e.g. invoice
id"), so the link is our reference in the text ("[BO-17]"), which the voucher keeps:

- the draft is still in GET /voucherdrafts: still "kladd i Visma";
- it is gone and a voucher with its reference exists: approved, "overført" with the
  voucher's number (then compared like any voucher: an accountant's change shows as avvik);
- it is gone and no voucher has its reference: deleted in Visma. The settlement goes back
  to "venter" with the note "Kladden ble slettet i Visma", and the next run sends it again
  (as a draft while the switch is on, else as a voucher). Chosen so that no day silently
  goes missing from the books: a deleted draft is most often one the accountant wants
  redone; an accountant who does not want the day booked tells the shop, whose admin can
  then see every such deletion among the settlement's attempts.

The link being the reference, an accountant who removes "[BO-17]" from the text before
approving the draft breaks it: the settlement would count as deleted and be sent again.
https://eaccountingapi.vismaonline.com/swagger/ui/index#!/VoucherDrafts
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.utils.translation import gettext as _

from accounting.builder import Voucher
from backoffice.models import Organization
from settlements.models import Settlement

from . import client, state, tokens
from .models import ExportRun, TransferSettings

logger = logging.getLogger(__name__)


def enabled(organization: Organization) -> bool:
    """Whether the organisation's vouchers go to Visma as drafts."""
    return bool(
        TransferSettings.objects.filter(organization=organization)
        .values_list("send_as_draft", flat=True)
        .first()
    )


def draft_filter(day: date) -> str:
    """The drafts around `day` (VoucherDraftApi.VoucherDate is a date-time as on vouchers)."""
    return client.voucher_date_filter(day - timedelta(days=1), day + timedelta(days=1))


def list_drafts(organization: Organization, filter: str | None) -> list[dict]:
    """GET /voucherdrafts (every page), without the filter if Visma refuses it (400)."""
    try:
        return tokens.call(organization, client.list_voucher_drafts, filter=filter)
    except client.VismaError as exc:
        if exc.status != 400 or filter is None:
            raise
        logger.warning("Visma refused the voucher draft filter (%s); paging without it", exc)
        return tokens.call(organization, client.list_voucher_drafts)


def find_draft(organization: Organization, voucher: Voucher) -> dict | None:
    """The draft Visma holds for this voucher (our reference in its text, dated within a
    day of its date), or None."""
    marker = f"[{voucher.reference}]"
    earliest = voucher.voucher_date - timedelta(days=1)
    latest = voucher.voucher_date + timedelta(days=1)
    for item in list_drafts(organization, draft_filter(voucher.voucher_date)):
        if marker not in str(item.get("VoucherText") or ""):
            continue
        day = day_of(item)
        if day is None or earliest <= day <= latest:
            return item
    return None


def find_sent(
    organization: Organization, voucher: Voucher, find_voucher
) -> tuple[dict | None, bool]:
    """What Visma holds of a POST whose answer was lost: (item, is_draft). The drafts are
    read first: a draft approved between the two reads is then found as its voucher; read
    the other way round it could be missed in both."""
    found = find_draft(organization, voucher)
    if found is not None:
        return found, True
    return find_voucher(organization, voucher), False


def day_of(item: dict) -> date | None:
    try:
        return date.fromisoformat(str(item.get("VoucherDate") or "")[:10])
    except ValueError:
        return None


def record(
    settlement: Settlement,
    draft_json: dict,
    payload: dict,
    *,
    run: ExportRun | None,
    found: bool,
    started: datetime,
) -> None:
    """ "Kladd i Visma": the draft Visma made (or that a search found after a lost answer)."""
    reason = _(
        "Ligger som kladd (bilagsforslag) i Visma og venter på at regnskapsfører godkjenner den."
    )
    if found:
        message = _("Kladden ble funnet i Visma etter tapt svar (ikke sendt på nytt)")
    else:
        message = _("Sendt som kladd til Visma")
    state.record_draft(
        settlement,
        draft_json,
        payload,
        run=run,
        found=found,
        started=started,
        reason=reason,
        message=message,
    )
