"""The Z-report travels with its voucher (issue 18, item 1): the settlement's one-page PDF
(settlements.zreport_pdf) is uploaded to Visma and linked to the voucher it documents.

Upload, then link, after the voucher is in Visma:

    the run posts the voucher (transfer.py) → `expect` notes the attachment as "venter"
    → after the run's vouchers, `attach_waiting`: POST /attachments (the PDF, base64)
    → POST /attachmentlinks {DocumentId: the voucher, DocumentType: 3, AttachmentIds}.

Why not `Attachments` in the voucher's own body: an upload that fails would then hold the
voucher back, or the voucher would go without it and need the link anyway. Apart, the
voucher never waits for its PDF and is never sent twice because of it: a failed upload or
link only leaves the attachment "venter" (with the error and the number of tries), and
every later run tries again until it is linked, or until MAX_ATTEMPTS tries have failed
and a person attaches the downloaded PDF by hand.

Exactly once, as far as Visma lets us know:
- Visma's id of the attachment is stored the moment it is known, and an attachment with
  an id is never uploaded again: a failed link retries the link alone.
- Before each POST a write-ahead flag is set (upload_in_doubt, link_in_doubt) and a
  definite answer clears it. A flag still set means the answer was lost (timeout, reset,
  5xx, a worker killed): the next try first looks at what Visma holds. For a link that is
  GET /attachments/{id}: linked to our voucher means done, so no link is ever sent twice
  (Visma refuses to link an attachment that is already linked). For an upload it is the
  unmatched attachments (GET /attachments?includeMatched=false) with our file name, which
  is unique per settlement (settlements.zreport_pdf.zreport_filename); the one found is
  adopted instead of uploading again. The upload cannot carry an idempotency key (Visma
  documents none), so an upload still under way while we looked may land after a second
  one: the price is a spare, unlinked copy of the PDF in the company's document inbox,
  harmless to the books, never a voucher with two PDFs or a second voucher.
- A lease (claimed_at) keeps two runs from sending the same attachment at once.

State is owned here (VoucherAttachment); settlements/ and accounting/ know nothing of it:
the settlement's page shows it through the transfer panel (pages.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from backoffice.models import Organization
from settlements.models import Settlement
from settlements.services import zreport_pdf
from settlements.zreport_pdf import zreport_filename

from . import client, selectors, tokens
from .models import SettlementExport, TransferSettings, VoucherAttachment

logger = logging.getLogger(__name__)

AttachmentState = VoucherAttachment.State
# After this many failed tries the attachment is left to a person (the page says how).
MAX_ATTEMPTS = 10
OPEN = [AttachmentState.PENDING, AttachmentState.UPLOADED, AttachmentState.FAILED]


def enabled(organization: Organization | int) -> bool:
    """The switch on the integration page ("Legg ved Z-rapport som PDF"), on by default."""
    organization_id = organization if isinstance(organization, int) else organization.pk
    found = TransferSettings.objects.filter(organization_id=organization_id).first()
    return True if found is None else found.attach_zreport


def attachment_of(settlement: Settlement) -> VoucherAttachment | None:
    try:
        return settlement.visma_attachment
    except VoucherAttachment.DoesNotExist:
        return None


def expect(settlement: Settlement) -> None:
    """The settlement's voucher is in Visma: its Z-report waits for its upload. Nothing for
    a day without a voucher (no takings, nothing sent)."""
    # Read afresh: the run's copy of the row does not carry the voucher's id.
    posted = SettlementExport.objects.filter(
        settlement=settlement, state=SettlementExport.State.POSTED
    ).exclude(visma_voucher_id="")
    if not posted.exists():
        return
    VoucherAttachment.objects.get_or_create(
        settlement=settlement, defaults={"file_name": zreport_filename(settlement.as_data())}
    )


def waiting(
    organization: Organization, *, settlement_ids: Iterable[int] | None = None
) -> QuerySet[VoucherAttachment]:
    """The organisation's attachments still to upload or link, oldest first."""
    rows = VoucherAttachment.objects.filter(
        settlement__organization=organization,
        state__in=OPEN,
        attempts__lt=MAX_ATTEMPTS,
        settlement__visma_export__state=SettlementExport.State.POSTED,
    ).exclude(settlement__visma_export__visma_voucher_id="")
    if settlement_ids is not None:
        rows = rows.filter(settlement_id__in=list(settlement_ids))
    return rows.order_by("pk")


@dataclass
class AttachResult:
    linked: int = 0
    failed: int = 0


def attach_waiting(
    organization: Organization, *, settlement_ids: Iterable[int] | None = None
) -> AttachResult:
    """Upload and link every waiting attachment of the organisation (the run calls this
    after its vouchers). Never raises: whatever goes wrong is written on the attachment,
    and the next run tries again."""
    result = AttachResult()
    if not enabled(organization):
        return result
    ids = list(waiting(organization, settlement_ids=settlement_ids).values_list("pk", flat=True))
    if not ids:
        return result
    try:
        tokens.get_access_token(organization)
    except tokens.TokenUnavailable:
        # Not connected (or must reconnect): nothing can go, and nothing is counted as a
        # try; they wait for the run after the reconnect.
        return result
    for pk in ids:
        row = _claim(pk)
        if row is None:
            continue  # another run holds it, or did it meanwhile
        try:
            if _attach(row):
                result.linked += 1
            else:
                result.failed += 1
        except tokens.TokenUnavailable as exc:
            # The connection is gone: nothing went out. The rest wait for the reconnect.
            _failed(row, str(exc) or type(exc).__name__)
            result.failed += 1
            break
        except Exception as exc:
            logger.exception("Attaching the Z-report of settlement %s broke off", row.settlement_id)
            _failed(row, f"{type(exc).__name__}: {exc}"[:300])
            result.failed += 1
        finally:
            VoucherAttachment.objects.filter(pk=row.pk).update(claimed_at=None)
    return result


def _claim(pk: int) -> VoucherAttachment | None:
    """A lease on the row for this run (a conditional UPDATE: one claimant wins); a lease
    older than STALE_CLAIM is a dead worker's. Returns the row read afresh."""
    now = timezone.now()
    claimed = (
        VoucherAttachment.objects.filter(pk=pk, state__in=OPEN)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - selectors.STALE_CLAIM))
        .update(claimed_at=now)
    )
    if not claimed:
        return None
    return VoucherAttachment.objects.select_related(
        "settlement__organization", "settlement__location", "settlement__visma_export"
    ).get(pk=pk)


def _save(row: VoucherAttachment, **fields) -> None:
    VoucherAttachment.objects.filter(pk=row.pk).update(**fields)
    for name, value in fields.items():
        setattr(row, name, value)


def _failed(row: VoucherAttachment, error: str) -> None:
    _save(row, state=AttachmentState.FAILED, last_error=error[:2000])


def _attach(row: VoucherAttachment) -> bool:
    """One try: upload unless Visma already has it, then link unless already linked.
    True once linked."""
    settlement = row.settlement
    organization = settlement.organization
    voucher_id = settlement.visma_export.visma_voucher_id
    _save(row, attempts=row.attempts + 1, last_attempt_at=timezone.now())
    step = ""
    try:
        if not row.attachment_id:
            found = None
            if row.upload_in_doubt:
                step = "find"
                found = _uploaded_before(organization, row)
            if found is None:
                step = "upload"
                _upload(organization, row, settlement)
            else:
                _save(row, attachment_id=found, upload_in_doubt=False)
            _save(row, state=AttachmentState.UPLOADED, last_error="")
        if row.link_in_doubt:
            step = "check"
            if _linked_before(organization, row, voucher_id):
                _linked(row)
                return True
        step = "link"
        _save(row, link_in_doubt=True)
        tokens.call(
            organization,
            client.link_attachments,
            document_id=voucher_id,
            attachment_ids=[row.attachment_id],
        )
        _linked(row)
        return True
    except client.VismaError as exc:
        # Only the answer to a POST says what that POST did: a definite refusal stored
        # nothing, so there is no doubt left. A failed look-up leaves the doubt as it was.
        if step == "upload" and not exc.outcome_unknown:
            _save(row, upload_in_doubt=False)
        if step == "link" and not exc.outcome_unknown:
            _save(row, link_in_doubt=False)
        if step == "check" and exc.status == 404:
            # The uploaded file is gone from Visma (deleted there), so it is not linked
            # either: the next try uploads it anew.
            _save(row, attachment_id="", link_in_doubt=False)
        _failed(row, exc.detail or str(exc))
        return False


def _upload(organization: Organization, row: VoucherAttachment, settlement: Settlement) -> None:
    _file_name, pdf = zreport_pdf(settlement=settlement)
    # In the books' own language, as the PDF: whoever's request started the run.
    with translation.override(settings.LANGUAGE_CODE):
        comment = _("Z-rapport for bilag %(number)s") % {
            "number": settlement.visma_export.voucher_number or settlement.reference
        }
    _save(row, upload_in_doubt=True)
    uploaded = tokens.call(
        organization,
        client.upload_attachment,
        file_name=row.file_name,
        data=pdf,
        comment=comment,
    )
    _save(row, attachment_id=uploaded.id, upload_in_doubt=False)


def _uploaded_before(organization: Organization, row: VoucherAttachment) -> str | None:
    """The id of our upload whose answer was lost, if Visma holds it (still unlinked)."""
    for attachment in tokens.call(organization, client.list_unmatched_attachments):
        if attachment.file_name == row.file_name:
            return attachment.id
    return None


def _linked_before(organization: Organization, row: VoucherAttachment, voucher_id: str) -> bool:
    """Whether a link whose answer was lost took effect (GET /attachments/{id})."""
    current = tokens.call(organization, client.get_attachment, row.attachment_id)
    return current.document_id is not None and current.document_id.lower() == voucher_id.lower()


def _linked(row: VoucherAttachment) -> None:
    _save(
        row,
        state=AttachmentState.LINKED,
        link_in_doubt=False,
        upload_in_doubt=False,
        last_error="",
        linked_at=timezone.now(),
    )


# ------------------------------------------------------------------------------ the page


@dataclass(frozen=True)
class AttachmentStatus:
    """What the settlement's page says of its Z-report in Visma."""

    state: str  # linked | waiting | given_up | off
    label: str
    text: str = ""


def status(settlement: Settlement, *, voucher_number: str = "") -> AttachmentStatus | None:
    """None when there is nothing to say (no voucher, or one posted without attachments)."""
    row = attachment_of(settlement)
    if row is None:
        return None
    error = row.last_error.strip().rstrip(".") or "–"  # inside parentheses in a sentence
    if row.state == AttachmentState.LINKED:
        when = date_format(timezone.localtime(row.linked_at), "SHORT_DATETIME_FORMAT")
        return AttachmentStatus(
            "linked",
            _("Z-rapport vedlagt"),
            _("Z-rapporten (PDF) er lagt ved bilag %(number)s i Visma %(when)s.")
            % {"number": voucher_number or "–", "when": when},
        )
    if not enabled(settlement.organization_id):
        return AttachmentStatus(
            "off",
            _("Vedlegg slått av"),
            _(
                "«Legg ved Z-rapport som PDF» er slått av under Oppsett > Integrasjoner; "
                "Z-rapporten er ikke lagt ved bilaget."
            ),
        )
    if row.attempts >= MAX_ATTEMPTS:
        return AttachmentStatus(
            "given_up",
            _("Vedlegg feilet"),
            _(
                "Z-rapporten kunne ikke legges ved bilaget etter %(attempts)s forsøk "
                "(%(error)s). Last ned Z-rapporten her og legg den ved bilag %(number)s i "
                "Visma for hånd."
            )
            % {"attempts": row.attempts, "error": error, "number": voucher_number},
        )
    if row.attempts == 0:
        return AttachmentStatus(
            "waiting",
            _("Vedlegg venter"),
            _("Z-rapporten lastes opp og legges ved bilaget ved neste overføring."),
        )
    text = _(
        "Forsøk %(attempts)s feilet (%(error)s). Bilaget er overført; Z-rapporten prøves "
        "igjen ved neste overføring."
    ) % {"attempts": row.attempts, "error": error}
    return AttachmentStatus("waiting", _("Vedlegg venter, prøves igjen"), text)
