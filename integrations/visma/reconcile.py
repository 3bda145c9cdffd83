"""Reconciliation with what is in Visma (issue 18, item 3), and what becomes of drafts
(item 6, drafts.py).

After each scheduled run (tasks.export_organization_task) the vouchers of the settlements
posted in the look-back window are read back from Visma (GET /vouchers by date range, every
page; GET /voucherdrafts for the drafts) and compared with what was sent (the stored
payload, exact decimals), or with the version the admin accepted:

- matched by Visma's voucher id, else by our reference in the text ("[BO-17]"); one that
  is in neither is looked up by id (GET /vouchers/{fiscalyearId}/{id}) and, before it is
  called deleted, in all of the company's vouchers (its date may have been moved);
- compared by voucher date and by the debit and credit per account;
- deleted → "avvik" with "Bilaget er slettet i Visma"; changed → "avvik" naming what
  differs ("Konto 3000: sendt 4 800,00, i Visma 4 700,00"). The admins get one e-mail.

An avvik is never sent again by itself (selectors.due_settlements never takes one). The
admin chooses on the settlement's page (reconcile_views.py):

- "Send på nytt som nytt bilag" (`send_again`): the settlement waits again as its next
  voucher, with its own reference ("[BO-17-2]", `for_generation`) so the exactly-once
  search after a lost answer never takes the old voucher for the new one; the old number
  and reference stay in its history (SettlementExport.previous_vouchers);
- "Godta Vismas versjon" (`accept`): "overført" again; Visma's figures are stored and
  compared from then on (a deleted voucher is no longer looked for).

An avvik that Visma puts right again (the voucher restored) goes back to "overført" by
itself. If Visma cannot be read, nothing changes: the run's summary says why, and the next
scheduled run reconciles again.
https://eaccountingapi.vismaonline.com/swagger/ui/index#!/Vouchers/Vouchers_Get
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounting.builder import VOUCHER_TEXT_MAX, Voucher
from backoffice.models import Organization
from backoffice.templatetags.money import format_money
from settlements.models import Settlement

from . import client, drafts, state, tokens
from .models import (
    ExportRun,
    Problem,
    SettlementExport,
    TransferSettings,
    VismaConnection,
    VismaFiscalYear,
)

logger = logging.getLogger(__name__)

State = SettlementExport.State
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# "[BO-17]" and "[BO-17-2]" in a voucher's text.
REFERENCE = re.compile(r"\[(BO-\d+(?:-\d+)?)\]")


# ------------------------------------------------------------------------------ references


def reference_of(settlement: Settlement, generation: int) -> str:
    """The reference in the text of the settlement's voucher number `generation`."""
    return settlement.reference if generation <= 1 else f"{settlement.reference}-{generation}"


def for_generation(voucher: Voucher, generation: int) -> Voucher:
    """The voucher as the settlement's voucher number `generation` (sent again after an
    avvik): "[BO-17]" becomes "[BO-17-2]" in its text and reference."""
    if generation <= 1:
        return voucher
    reference = f"{voucher.reference}-{generation}"
    old, new = f"[{voucher.reference}]", f"[{reference}]"
    text = voucher.text.replace(old, new) if old in voucher.text else f"{voucher.text} {new}"
    if len(text) > VOUCHER_TEXT_MAX:
        text = text.replace(new, "")[: VOUCHER_TEXT_MAX - len(new) - 1].rstrip() + " " + new
    return replace(voucher, reference=reference, text=text)


# ------------------------------------------------------------------------------ comparing


def _amount(value: Any) -> Decimal:
    if value in (None, ""):
        return ZERO
    try:
        return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return ZERO


def version_of(item: dict) -> dict:
    """What is compared of a voucher (Visma's VoucherApi, or our payload): its id and
    number, its date, and its rows' accounts and amounts (exact)."""
    return {
        "Id": str(item.get("Id") or ""),
        "NumberAndNumberSeries": str(item.get("NumberAndNumberSeries") or ""),
        "VoucherDate": str(item.get("VoucherDate") or "")[:10],
        "Rows": [
            {
                "AccountNumber": int(row.get("AccountNumber") or 0),
                "DebitAmount": _amount(row.get("DebitAmount")),
                "CreditAmount": _amount(row.get("CreditAmount")),
            }
            for row in item.get("Rows") or []
        ],
    }


def _per_account(version: dict) -> dict[int, tuple[Decimal, Decimal]]:
    totals: dict[int, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for row in version.get("Rows") or []:
        account = int(row.get("AccountNumber") or 0)
        totals[account][0] += _amount(row.get("DebitAmount"))
        totals[account][1] += _amount(row.get("CreditAmount"))
    return {account: (debit, credit) for account, (debit, credit) in totals.items()}


def _sides(amounts: tuple[Decimal, Decimal] | None) -> dict | None:
    if amounts is None:
        return None
    return {"debit": str(amounts[0]), "credit": str(amounts[1])}


def compare(sent: dict, visma: dict) -> list[dict]:
    """What differs between what was sent (or accepted) and Visma's voucher, as JSON:
    [{"kind": "date", "sent": "2026-11-27", "visma": "2026-11-28"},
     {"kind": "account", "account": 3000, "sent": {"debit", "credit"} | None, "visma": …}]
    (amounts as exact text; None: no row on that account). Empty when they agree."""
    differences: list[dict] = []
    sent_day, visma_day = str(sent.get("VoucherDate") or "")[:10], visma["VoucherDate"]
    if sent_day != visma_day:
        differences.append({"kind": "date", "sent": sent_day, "visma": visma_day})
    ours, theirs = _per_account(sent), _per_account(visma)
    for account in sorted(set(ours) | set(theirs)):
        if ours.get(account) != theirs.get(account):
            differences.append(
                {
                    "kind": "account",
                    "account": account,
                    "sent": _sides(ours.get(account)),
                    "visma": _sides(theirs.get(account)),
                }
            )
    return differences


def _side_text(sides: dict | None, *, with_side: bool) -> str:
    if sides is None:
        return _("ingen føring")
    debit, credit = Decimal(sides["debit"]), Decimal(sides["credit"])
    if not with_side:
        return format_money(debit or credit)
    parts = []
    if debit or not credit:
        parts.append(_("%(amount)s debet") % {"amount": format_money(debit)})
    if credit:
        parts.append(_("%(amount)s kredit") % {"amount": format_money(credit)})
    return " + ".join(parts)


def _one_sided(sides: dict | None) -> str:
    """ "debit" or "credit" when the account has an amount on one side only, else ""."""
    if sides is None:
        return ""
    debit, credit = Decimal(sides["debit"]), Decimal(sides["credit"])
    if debit and not credit:
        return "debit"
    if credit and not debit:
        return "credit"
    return ""


def difference_parts(difference: dict) -> tuple[str, str, str]:
    """(what, sent, in Visma) of one difference, in the reader's language."""
    if difference["kind"] == "deleted":
        return _("Bilaget"), _("sendt"), _("slettet")
    if difference["kind"] == "date":

        def day(text: str) -> str:
            try:
                return date_format(date.fromisoformat(text), "d.m.Y")
            except ValueError:
                return text or "–"

        return _("Bilagsdato"), day(difference["sent"]), day(difference["visma"])
    sent, visma = difference["sent"], difference["visma"]
    # The side is said only where it is not plain: both on one and the same side reads
    # "sendt 4 800,00, i Visma 4 700,00".
    ours, theirs = _one_sided(sent), _one_sided(visma)
    plain = (
        (sent is None or ours != "")
        and (visma is None or theirs != "")
        and (sent is None or visma is None or ours == theirs)
    )
    return (
        _("Konto %(account)s") % {"account": difference["account"]},
        _side_text(sent, with_side=not plain),
        _side_text(visma, with_side=not plain),
    )


def describe(differences: list[dict]) -> str:
    """ "Konto 3000: sendt 4 800,00, i Visma 4 700,00; Konto 1920: …"."""
    lines = []
    for difference in differences:
        if difference["kind"] == "deleted":
            lines.append(_("Bilaget er slettet i Visma"))
            continue
        what, sent, visma = difference_parts(difference)
        lines.append(
            _("%(what)s: sendt %(sent)s, i Visma %(visma)s")
            % {"what": what, "sent": sent, "visma": visma}
        )
    return "; ".join(lines)


# ------------------------------------------------------------------------------ the check


@dataclass
class ReconcileResult:
    checked: int = 0
    deleted: int = 0
    changed: int = 0
    restored: int = 0
    open_avvik: int = 0
    drafts_waiting: int = 0
    drafts_approved: int = 0
    drafts_deleted: int = 0
    message: str = ""
    # (settlement, reason) of every new avvik, for the e-mail.
    new_avvik: list[tuple[Settlement, str]] = field(default_factory=list)

    def summary(self) -> dict:
        return {
            "reconciled": self.checked,
            "avvik": self.open_avvik,
            "drafts_waiting": self.drafts_waiting,
            "drafts_approved": self.drafts_approved,
            "drafts_deleted": self.drafts_deleted,
            "reconcile_message": self.message,
        }


def rows_to_check(organization: Organization, *, today: date) -> list[SettlementExport]:
    """The transfers to compare: posted (with a voucher), avvik and drafts of settlements
    in the look-back window. A deleted voucher whose deletion was accepted is not looked
    for any more."""
    lookback = TransferSettings.for_organization(organization).lookback_days
    rows = SettlementExport.objects.filter(
        settlement__organization=organization,
        settlement__business_date__gte=today - timedelta(days=lookback),
        settlement__business_date__lte=today,
        state__in=[State.POSTED, State.AVVIK, State.DRAFT],
    ).select_related("settlement")
    wanted = []
    for row in rows.order_by("settlement__business_date", "pk"):
        if row.state == State.DRAFT and not row.visma_draft_id:
            continue
        if row.state == State.POSTED and not row.visma_voucher_id:
            continue  # a day with no takings: no voucher was sent
        if row.state == State.POSTED and (row.accepted_version or {}).get("deleted"):
            continue
        wanted.append(row)
    return wanted


def _day(row: SettlementExport) -> date:
    sent = drafts.day_of(row.payload or {})
    return sent or row.settlement.business_date


class _Books:
    """What one reconciliation reads of the company in Visma: the vouchers (and drafts) of
    the window, and, only when needed, single vouchers and all of them."""

    def __init__(self, organization: Organization, rows: list[SettlementExport]):
        self.organization = organization
        days = [_day(row) for row in rows]
        self.first, self.last = min(days) - timedelta(days=1), max(days) + timedelta(days=1)
        self.vouchers = self._list(client.list_vouchers)
        self.by_id, self.by_reference = _index(self.vouchers)
        self.drafts: dict[str, dict] = {}
        if any(row.state == State.DRAFT for row in rows):
            self.drafts = {
                str(item["Id"]).lower(): item for item in self._list(client.list_voucher_drafts)
            }
        self.years = list(VismaFiscalYear.objects.filter(organization=organization))
        self._all: tuple[dict, dict] | None = None

    def _list(self, endpoint) -> list[dict]:
        filter = client.voucher_date_filter(self.first, self.last)
        try:
            return tokens.call(self.organization, endpoint, filter=filter)
        except client.VismaError as exc:
            if exc.status != 400:
                raise
            # As the exactly-once search does (transfer.find_posted): page without it.
            logger.warning("Visma refused the reconciliation's filter (%s); paging without it", exc)
            return tokens.call(self.organization, endpoint)

    def everything(self) -> tuple[dict, dict]:
        """Every voucher of the company, indexed (read once, when a voucher is missing)."""
        if self._all is None:
            self._all = _index(tokens.call(self.organization, client.list_vouchers))
        return self._all

    def one(self, voucher_id: str, day: date) -> dict | None:
        year = next((y for y in self.years if y.start_date <= day <= y.end_date), None)
        if year is None or not voucher_id:
            return None
        return tokens.call(self.organization, client.get_voucher, str(year.visma_id), voucher_id)


def _index(vouchers: list[dict]) -> tuple[dict[str, dict], dict[str, list[dict]]]:
    by_id: dict[str, dict] = {}
    by_reference: dict[str, list[dict]] = defaultdict(list)
    for item in vouchers:
        by_id[str(item.get("Id") or "").lower()] = item
        for reference in REFERENCE.findall(str(item.get("VoucherText") or "")):
            by_reference[reference].append(item)
    return by_id, by_reference


def _near(items: list[dict] | None, day: date | None) -> dict | None:
    for item in items or []:
        found = drafts.day_of(item)
        if day is None or (found is not None and abs((found - day).days) <= 1):
            return item
    return None


def reconcile_organization(
    *, organization: Organization, today: date | None = None
) -> ReconcileResult:
    """Compare the organisation's posted vouchers and drafts in the look-back window with
    Visma (see the module's docstring). Never sends anything."""
    today = today or timezone.localdate()
    result = ReconcileResult()
    rows = rows_to_check(organization, today=today)
    if not rows:
        return result
    # The reasons are kept in the site's own language, as the transfer's.
    with translation.override(settings.LANGUAGE_CODE):
        try:
            books = _Books(organization, rows)
            matched: list[int] = []
            for row in rows:
                if row.state == State.DRAFT:
                    _draft(row, books, result)
                else:
                    _voucher(row, books, result, matched)
            state.mark_reconciled(matched)
        except tokens.TokenUnavailable as exc:
            result.message = _(
                "Avstemmingen mot Visma ble ikke gjort (%(error)s); den gjøres ved neste "
                "planlagte overføring."
            ) % {"error": str(exc) or type(exc).__name__}
        except client.VismaError as exc:
            logger.warning("Reconciliation of organisation %s stopped: %s", organization.pk, exc)
            result.message = _(
                "Avstemmingen mot Visma ble ikke gjort ferdig (%(error)s); den gjøres ved "
                "neste planlagte overføring. Ingenting er endret av den."
            ) % {"error": exc.detail or str(exc)}
    result.open_avvik = SettlementExport.objects.filter(
        pk__in=[row.pk for row in rows], state=State.AVVIK
    ).count()
    return result


def _baseline(row: SettlementExport) -> dict:
    """What Visma's voucher should be: the version the admin accepted, else what was sent."""
    return row.accepted_version or row.payload or {}


def _voucher(row: SettlementExport, books: _Books, result: ReconcileResult, matched: list[int]):
    result.checked += 1
    day = _day(row)
    reference = reference_of(row.settlement, row.generation)
    item = books.by_id.get(row.visma_voucher_id.lower()) or _near(
        books.by_reference.get(reference), day
    )
    if item is None:
        item = books.one(row.visma_voucher_id, day)
    if item is None and row.state == State.POSTED:
        # About to call it deleted: it may only have moved (another date, another year).
        by_id, by_reference = books.everything()
        item = by_id.get(row.visma_voucher_id.lower()) or _near(by_reference.get(reference), None)
    if item is None:
        differences = [{"kind": "deleted"}]
        version: dict = {
            "deleted": True,
            "Id": row.visma_voucher_id,
            "NumberAndNumberSeries": row.voucher_number,
        }
        code = Problem.DELETED_IN_VISMA
        reason = _(
            "Bilaget er slettet i Visma (bilag %(number)s). Velg her om oppgjøret skal "
            "sendes på nytt som nytt bilag, eller om Vismas versjon skal godtas; det sendes "
            "ikke på nytt av seg selv."
        ) % {"number": row.voucher_number or "–"}
    else:
        version = version_of(item)
        differences = compare(_baseline(row), version)
        code = Problem.CHANGED_IN_VISMA
        reason = _(
            "Bilag %(number)s er endret i Visma: %(differences)s. Velg her om oppgjøret skal "
            "sendes på nytt som nytt bilag, eller om Vismas versjon skal godtas."
        ) % {
            "number": version["NumberAndNumberSeries"] or row.voucher_number or "–",
            "differences": describe(differences),
        }
    if not differences:
        if row.state == State.AVVIK:
            if state.clear_avvik(row, _("Bilaget i Visma stemmer igjen med det som ble sendt.")):
                result.restored += 1
        else:
            matched.append(row.pk)
        return
    if row.state == State.AVVIK and row.problem_code == code and row.differences == differences:
        matched.append(row.pk)  # the same avvik as before: nothing new to tell
        return
    if state.mark_avvik(
        row, code=code, reason=reason, differences=differences, visma_version=version
    ):
        if code == Problem.DELETED_IN_VISMA:
            result.deleted += 1
        else:
            result.changed += 1
        if row.state != State.AVVIK:
            result.new_avvik.append((row.settlement, reason))


def _draft(row: SettlementExport, books: _Books, result: ReconcileResult) -> None:
    result.checked += 1
    if row.visma_draft_id.lower() in books.drafts:
        result.drafts_waiting += 1
        return
    day = _day(row)
    reference = reference_of(row.settlement, row.generation)
    # Converted: "the voucher draft will be removed and a new voucher will be created with
    # the same transaction data" (Visma's description); our reference links the two.
    item = _near(books.by_reference.get(reference), day)
    if item is None and tokens.call(
        books.organization, client.get_voucher_draft, row.visma_draft_id
    ):
        result.drafts_waiting += 1  # outside the window read (its date was changed)
        return
    if item is None:
        _by_id, by_reference = books.everything()
        item = _near(by_reference.get(reference), None)
    if item is None:
        if state.draft_deleted(
            row,
            _(
                "Kladden ble slettet i Visma. Oppgjøret venter og sendes på nytt ved neste "
                "overføring."
            ),
        ):
            result.drafts_deleted += 1
        return
    version = version_of(item)
    message = _("Kladden er godkjent i Visma: bilag %(number)s") % {
        "number": version["NumberAndNumberSeries"] or "–"
    }
    if not state.draft_converted(row, item, message):
        return
    result.drafts_approved += 1
    # The accountant may have changed the draft before approving it: compared as any
    # voucher from here on.
    posted = SettlementExport.objects.select_related("settlement").get(pk=row.pk)
    matched: list[int] = []
    _voucher(posted, books, result, matched)
    result.checked -= 1


# ------------------------------------------------------------------------------ the hook


def after_run(
    *, organization: Organization, run: ExportRun | None = None
) -> ReconcileResult | None:
    """The reconciliation at the end of a scheduled run: its counts join the run's summary
    (and the integration page's "Siste overføring"); new avvik are e-mailed once."""
    if not VismaConnection.objects.filter(
        organization=organization, status=VismaConnection.Status.CONNECTED
    ).exists():
        return None  # the run has said so already
    result = reconcile_organization(organization=organization)
    summary = result.summary()
    if run is not None:
        current = ExportRun.objects.filter(pk=run.pk).values_list("summary", flat=True).first()
        merged = {**(current if isinstance(current, dict) else {}), **summary}
        ExportRun.objects.filter(pk=run.pk).update(summary=merged)
    settings_ = TransferSettings.for_organization(organization)
    last = settings_.last_run_summary if isinstance(settings_.last_run_summary, dict) else {}
    TransferSettings.objects.filter(pk=settings_.pk).update(
        last_run_summary={**last, **summary}, reconciled_at=timezone.now()
    )
    notify_avvik(organization, result.new_avvik)
    return result


def notify_avvik(organization: Organization, found: list[tuple[Settlement, str]]) -> None:
    """One e-mail to the admins about the avvik this reconciliation found."""
    recipients = organization.admin_emails()
    if not found or not recipients:
        return
    with translation.override("nb"):
        url = settings.SITE_URL.rstrip("/") + reverse("settlements:list") + "?state=avvik"
        lines = [
            f"- {date_format(s.business_date, 'd.m.Y')} {s.register_id} Z{s.z_number}: {reason}"
            for s, reason in found
        ]
        send_mail(
            _("Avvik mellom Backoffice og Visma eAccounting"),
            _("Disse bilagene er slettet eller endret i Visma etter at de ble overført:")
            + "\n\n"
            + "\n".join(lines)
            + "\n\n"
            + _("Velg på hvert oppgjørs side hva som skal skje: %(url)s") % {"url": url},
            None,
            recipients,
            fail_silently=True,
        )


# ------------------------------------------------------------------------------ the admin


class Refused(Exception):
    """The admin's choice cannot be carried out; `level` and the text say why."""

    def __init__(self, text: str, level: int = messages.WARNING):
        super().__init__(text)
        self.level = level


def _avvik_row(settlement: Settlement) -> SettlementExport:
    row = SettlementExport.objects.filter(settlement=settlement).first()
    if row is None or row.state != State.AVVIK:
        raise Refused(_("Oppgjøret har ikke (lenger) avvik mot Visma."), messages.INFO)
    return row


def _who(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user else "–"


def accept(settlement: Settlement, *, user: Any) -> str:
    """ "Godta Vismas versjon". Returns what the admin is told."""
    row = _avvik_row(settlement)
    deleted = (row.visma_version or {}).get("deleted")
    with translation.override(settings.LANGUAGE_CODE):
        when = date_format(timezone.localdate(), "d.m.Y")
        if deleted:
            note = _(
                "Slettingen i Visma er godtatt av %(user)s %(when)s: bilag %(number)s er ikke "
                "lenger i regnskapet, og oppgjøret sendes ikke på nytt."
            ) % {"user": _who(user), "when": when, "number": row.voucher_number or "–"}
        else:
            note = _(
                "Vismas versjon av bilag %(number)s er godtatt av %(user)s %(when)s "
                "(%(differences)s). Avstemmingen sammenligner med den fra nå av."
            ) % {
                "number": row.voucher_number or "–",
                "user": _who(user),
                "when": when,
                "differences": describe(row.differences or []),
            }
    if not state.accept_visma_version(row, user=user, note=note):
        raise Refused(_("Oppgjøret ble endret samtidig; se siden på nytt."), messages.INFO)
    if deleted:
        return _("Slettingen i Visma er godtatt. Oppgjøret sendes ikke på nytt.")
    return _("Vismas versjon er godtatt.")


def send_again(settlement: Settlement, *, user: Any) -> None:
    """ "Send på nytt som nytt bilag": the settlement waits again as its next voucher
    (the caller enqueues its run). Exactly once: a second click finds no avvik."""
    row = _avvik_row(settlement)
    if not VismaConnection.objects.filter(
        organization_id=settlement.organization_id, status=VismaConnection.Status.CONNECTED
    ).exists():
        raise Refused(_("Koble til Visma eAccounting før du overfører."))
    lookback = TransferSettings.for_organization(settlement.organization).lookback_days
    if settlement.business_date < timezone.localdate() - timedelta(days=lookback):
        raise Refused(
            _(
                "Oppgjøret er eldre enn %(days)s dager, som er så langt bakover overføringen "
                "henter. Øk «Hent oppgjør bakover» under Oppsett > Integrasjoner for å "
                "overføre det."
            )
            % {"days": lookback}
        )
    old = reference_of(settlement, row.generation)
    new = reference_of(settlement, row.generation + 1)
    previous = {
        "number": row.voucher_number,
        "id": row.visma_voucher_id,
        "reference": old,
        "deleted": bool((row.visma_version or {}).get("deleted")),
        "reason": row.reason,
        "at": timezone.now().isoformat(),
        "by": _who(user),
    }
    with translation.override(settings.LANGUAGE_CODE):
        note = _(
            "Sendes på nytt som nytt bilag med referansen %(new)s (valgt av %(user)s). "
            "Tidligere bilag %(number)s med referansen %(old)s er tatt vare på i historikken."
        ) % {"new": new, "user": _who(user), "number": row.voucher_number or "–", "old": old}
    if not state.send_again(row, previous=previous, note=note):
        raise Refused(_("Oppgjøret ble endret samtidig; se siden på nytt."), messages.INFO)


def panel_context(export: SettlementExport | None, *, is_admin: bool) -> dict:
    """The reconciliation's part of the settlement's Visma section."""
    if export is None:
        return {}
    avvik = export.state == State.AVVIK
    differences = (export.differences or []) if avvik else []
    return {
        "avvik": avvik,
        "avvik_deleted": avvik and bool((export.visma_version or {}).get("deleted")),
        "avvik_rows": [difference_parts(d) for d in differences if d["kind"] != "deleted"],
        "avvik_choose": avvik and is_admin,
        "draft": export if export.state == State.DRAFT else None,
        "previous_vouchers": export.previous_vouchers or [],
        "accepted": export.accepted_at is not None and export.state == State.POSTED,
    }
