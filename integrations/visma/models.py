"""What the Backoffice keeps about an organisation's Visma eAccounting company.

- `TransferSettings`: how often settlements go to Visma, how far back, at what time, and
  the dispatcher's bookkeeping (`next_run_at`, `last_run_at`, `last_run_summary`).
- `VismaConnection`: the OAuth connection (state, company, encrypted token pair).
- `VismaAccount`, `VismaVatCode`, `VismaFiscalYear`: the company's chart, cached so the
  kontooppsett and the export can check entries without asking Visma every time
  (refreshed on connect, with a button, and before every transfer run).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backoffice.models import Organization

from . import crypto
from .client import ExactJSONDecoder, ExactJSONEncoder

DEFAULT_RUN_TIME = time(6, 0)
# An access token that expires within this margin is refreshed before use: a request that
# starts with 5 seconds left may arrive after expiry.
REFRESH_MARGIN = timedelta(seconds=60)


class TransferSettings(models.Model):
    class Interval(models.TextChoices):
        DAILY = "daily", _("Daglig")
        WEEKLY = "weekly", _("Ukentlig")
        MONTHLY = "monthly", _("Månedlig")
        NEVER = "never", _("Aldri")

    LOOKBACK_CHOICES = [
        (7, _("7 dager")),
        (14, _("14 dager")),
        (30, _("30 dager")),
        (60, _("60 dager")),
        (90, _("90 dager")),
    ]

    organization = models.OneToOneField(
        Organization, models.CASCADE, related_name="visma_transfer_settings"
    )
    interval = models.CharField(
        _("hvor ofte"), max_length=10, choices=Interval.choices, default=Interval.DAILY
    )
    lookback_days = models.PositiveSmallIntegerField(
        _("hent oppgjør bakover"), choices=LOOKBACK_CHOICES, default=30
    )
    run_time = models.TimeField(_("klokkeslett"), default=DEFAULT_RUN_TIME)
    # Issue 18, item 1: every voucher gets its Z-report PDF attached (attachments.py).
    attach_zreport = models.BooleanField(_("legg ved Z-rapport som PDF"), default=True)
    # Draft mode (issue 18, item 6): the vouchers go to POST /voucherdrafts for the
    # accountant to approve in Visma (drafts.py); the settlement shows "kladd i Visma".
    send_as_draft = models.BooleanField(
        _("Send som kladd (bilagsforslag) til regnskapsfører"), default=False
    )
    # The last reconciliation with what is in Visma (reconcile.py, after a scheduled run).
    reconciled_at = models.DateTimeField(null=True, blank=True)
    # The dispatcher (scheduled-transfer issue) claims organisations whose next_run_at has
    # come; saving the settings recomputes it with schedule.next_run_after.
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    # e.g. {"posted": 3, "already_posted": 1, "failed": 0, "needs_action": 1, "message": "…"}
    last_run_summary = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("overføringsinnstillinger")
        verbose_name_plural = _("overføringsinnstillinger")

    def __str__(self) -> str:
        return f"{self.organization}: {self.get_interval_display()}"

    @classmethod
    def for_organization(cls, organization: Organization) -> TransferSettings:
        """The organisation's settings, created with the defaults on first use."""
        found = cls.objects.filter(organization=organization).first()
        if found is not None:
            return found
        from .schedule import next_run_after

        obj, _created = cls.objects.get_or_create(
            organization=organization,
            defaults={
                "next_run_at": next_run_after(timezone.now(), cls.Interval.DAILY, DEFAULT_RUN_TIME)
            },
        )
        return obj


class VismaConnection(models.Model):
    class Status(models.TextChoices):
        NOT_CONNECTED = "not_connected", _("ikke tilkoblet")
        CONNECTED = "connected", _("tilkoblet")
        RECONNECT_REQUIRED = "reconnect_required", _("må kobles til på nytt")

    organization = models.OneToOneField(
        Organization, models.CASCADE, related_name="visma_connection"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NOT_CONNECTED
    )
    reason = models.TextField(_("årsak"), blank=True)

    company_name = models.CharField(_("selskap"), max_length=200, blank=True)
    company_org_number = models.CharField(_("organisasjonsnummer"), max_length=40, blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    connected_at = models.DateTimeField(null=True, blank=True)
    # The Visma user who granted the access (the tokens' `sub`; "" when unknown). Visma's
    # identity server revokes all of a user's grants to this client at once, so a
    # disconnect revokes only when no other organisation here holds one of theirs.
    visma_user_id = models.CharField(max_length=100, blank=True)

    # Fernet tokens (see crypto.py); never the plain text. Use the properties below.
    access_token_encrypted = models.TextField(blank=True)
    refresh_token_encrypted = models.TextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    scope = models.CharField(max_length=500, blank=True)
    token_refreshed_at = models.DateTimeField(null=True, blank=True)
    reconnect_notified_at = models.DateTimeField(null=True, blank=True)

    # The company's lock date (AccountingLockedTo) and when the chart cache was refreshed.
    accounting_locked_to = models.DateField(null=True, blank=True)
    # CompanySettingsApi.UsesCostCenter: the company books on cost centres (costcentres.py).
    uses_cost_center = models.BooleanField(default=False)
    company_refreshed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Visma-tilkobling")
        verbose_name_plural = _("Visma-tilkoblinger")

    def __str__(self) -> str:
        return f"{self.organization}: {self.get_status_display()}"

    def __repr__(self) -> str:
        # Never the tokens, not even encrypted.
        return f"<VismaConnection org={self.organization_id} status={self.status}>"

    @property
    def access_token(self) -> str:
        return crypto.decrypt(self.access_token_encrypted)

    @property
    def refresh_token(self) -> str:
        return crypto.decrypt(self.refresh_token_encrypted)

    @property
    def has_tokens(self) -> bool:
        return bool(self.refresh_token_encrypted)

    @property
    def is_connected(self) -> bool:
        return self.status == self.Status.CONNECTED

    def set_tokens(
        self, *, access_token: str, refresh_token: str, expires_in: int, scope: str = ""
    ) -> None:
        now = timezone.now()
        self.access_token_encrypted = crypto.encrypt(access_token)
        self.refresh_token_encrypted = crypto.encrypt(refresh_token)
        self.expires_at = now + timedelta(seconds=expires_in)
        self.scope = scope[:500]
        self.token_refreshed_at = now

    def clear_tokens(self) -> None:
        self.access_token_encrypted = ""
        self.refresh_token_encrypted = ""
        self.expires_at = None
        self.token_refreshed_at = None

    def access_token_expires_soon(self, now: datetime | None = None) -> bool:
        if not self.access_token_encrypted or self.expires_at is None:
            return True
        return self.expires_at - REFRESH_MARGIN <= (now or timezone.now())


class ConnectionEvent(models.Model):
    """The connection's history (append-only): who connected, reconnected, changed or
    disconnected which Visma company, and when. The last company the books went to is the
    one a reconnect must land in, unless an admin confirms a change of company."""

    class Action(models.TextChoices):
        CONNECTED = "connected", _("koblet til")
        RECONNECTED = "reconnected", _("koblet til på nytt")
        COMPANY_CHANGED = "company_changed", _("byttet selskap")
        CHANGE_REFUSED = "change_refused", _("bytte av selskap avvist")
        DISCONNECTED = "disconnected", _("koblet fra")

    organization = models.ForeignKey(
        Organization, models.CASCADE, related_name="visma_connection_events"
    )
    at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    company_name = models.CharField(_("selskap"), max_length=200, blank=True)
    company_org_number = models.CharField(_("organisasjonsnummer"), max_length=40, blank=True)
    # Visma's CompanyIdentifier (companysettings), else empty.
    company_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["organization", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.company_name}"


class PendingCompanyChange(models.Model):
    """A sign-in at Visma that landed in another company than the books are in: the new
    tokens wait here (encrypted, for PENDING_CHANGE_MINUTES) until an admin confirms the
    change of company on its page, or cancels it."""

    organization = models.OneToOneField(
        Organization, models.CASCADE, related_name="visma_pending_change"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    company_name = models.CharField(max_length=200)
    company_org_number = models.CharField(max_length=40, blank=True)
    company_id = models.CharField(max_length=64, blank=True)
    access_token_encrypted = models.TextField()
    refresh_token_encrypted = models.TextField()
    expires_in = models.PositiveIntegerField()
    scope = models.CharField(max_length=500, blank=True)
    visma_user_id = models.CharField(max_length=100, blank=True)

    def __repr__(self) -> str:
        return f"<PendingCompanyChange org={self.organization_id} to={self.company_org_number}>"


class VismaAccount(models.Model):
    """An account of the company's chart of one fiscal year: Visma keeps a chart per year
    (GET /accounts/{fiscalyearId}), and a voucher meets the chart of its date's year."""

    organization = models.ForeignKey(Organization, models.CASCADE, related_name="visma_accounts")
    # Empty only for a chart read from GET /accounts while the company had no fiscal year.
    fiscal_year = models.ForeignKey(
        "VismaFiscalYear", models.CASCADE, null=True, blank=True, related_name="accounts"
    )
    number = models.PositiveBigIntegerField(_("kontonummer"))
    name = models.CharField(_("navn"), max_length=200)
    is_active = models.BooleanField(_("aktiv"), default=True)
    vat_code_visma_id = models.UUIDField(null=True, blank=True)
    # AccountApi's rules for manual vouchers (IsBlockedForManualBooking,
    # IsFirstCostCenterMandatory, AllowTransactionText).
    blocked_for_manual_booking = models.BooleanField(default=False)
    first_cost_center_mandatory = models.BooleanField(default=False)
    allows_transaction_text = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("Visma-konto")
        verbose_name_plural = _("Visma-kontoer")
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "fiscal_year", "number"],
                condition=models.Q(fiscal_year__isnull=False),
                name="visma_account_number_per_year",
            ),
            models.UniqueConstraint(
                fields=["organization", "number"],
                condition=models.Q(fiscal_year__isnull=True),
                name="visma_account_number_without_year",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class VismaVatCode(models.Model):
    organization = models.ForeignKey(Organization, models.CASCADE, related_name="visma_vat_codes")
    visma_id = models.UUIDField()
    code = models.CharField(_("kode"), max_length=20)
    description = models.CharField(_("beskrivelse"), max_length=300, blank=True)
    # Visma's VatRate as given: a fraction (0.25 for 25 %).
    rate = models.DecimalField(max_digits=9, decimal_places=6, default=Decimal("0"))
    related_accounts = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("Visma-mva-kode")
        verbose_name_plural = _("Visma-mva-koder")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "visma_id"], name="visma_vat_code_id_per_org"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"

    @property
    def percent(self) -> Decimal | None:
        """The rate in percent. Visma's VatCodeApi.VatRate is documented as "the VAT rate as
        a percentage" and has been seen as a fraction (0.25): both are taken."""
        from accounting.mapping import catalog_rate_percent

        return catalog_rate_percent(self.rate)


class VismaFiscalYear(models.Model):
    organization = models.ForeignKey(
        Organization, models.CASCADE, related_name="visma_fiscal_years"
    )
    visma_id = models.UUIDField()
    start_date = models.DateField()
    end_date = models.DateField()
    is_locked = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("Visma-regnskapsår")
        verbose_name_plural = _("Visma-regnskapsår")
        ordering = ["start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "visma_id"], name="visma_fiscal_year_id_per_org"
            )
        ]

    def __str__(self) -> str:
        return f"{self.start_date}–{self.end_date}"


# ------------------------------------------------------------------------------ transfer


class ExportRun(models.Model):
    """One transfer run for an organisation (scheduled, "Overfør nå" or the command)."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("planlagt")
        MANUAL = "manual", _("Overfør nå")
        COMMAND = "command", _("kommando")

    class Status(models.TextChoices):
        QUEUED = "queued", _("i kø")
        RUNNING = "running", _("pågår")
        DONE = "done", _("ferdig")
        ABORTED = "aborted", _("avbrutt")
        # Broke off for a reason that no retry fixes (Visma refused access, a defect):
        # the summary's message says why, and the admins got one e-mail.
        FAILED = "failed", _("feilet")

    organization = models.ForeignKey(Organization, models.CASCADE, related_name="visma_runs")
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # "Overfør nå" / "Prøv igjen" on one settlement: the run covers only that one.
    settlement = models.ForeignKey(
        "settlements.Settlement", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # When its task was last handed to the broker. A run still queued and never started
    # long after that lost its task (a broker restart without persistence, a broker that
    # was down at the tick): the dispatcher sends it again (dispatch.claim_stalled_runs).
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    # {"posted", "already_posted", "needs_action", "failed", "waiting": int, "message": str}
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "-created_at"]),
            models.Index(fields=["status", "enqueued_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.trigger} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


class Problem:
    """Why a transfer needs action (SettlementExport.problem_code), as a code the software
    acts on. All but UNBALANCED heal by themselves on a later run once the cause is fixed;
    UNBALANCED (the settlement itself, never stored here) needs a corrected settlement."""

    UNBALANCED = "unbalanced"
    MAPPING_MISSING = "mapping_missing"
    CONNECTION = "connection"
    PERIOD_LOCKED = "period_locked"
    FISCAL_YEAR_MISSING = "fiscal_year_missing"
    ACCOUNT_MISSING = "account_missing"
    # The account's rules in Visma refuse our voucher: blocked for manual booking, or a
    # first cost centre is mandatory (we send none).
    ACCOUNT_BLOCKED = "account_blocked"
    VAT_CODE_MISSING = "vat_code_missing"
    REJECTED = "rejected"
    TRANSIENT = "transient"
    # Uncertain, and the POST may still be under way at Visma (selectors.waiting_for_answer).
    IN_FLIGHT = "in_flight"
    # Uncertain, and the search of Visma for it failed run after run: a person looks.
    SEARCH_FAILED = "search_failed"
    # The cost centre item chosen for the store is inactive or gone in Visma.
    COST_CENTER = "cost_center"
    # Visma answered 403 (access.py): the company or the user may not post; the admin
    # fixes it in Visma.
    ACCESS_DENIED = "access_denied"
    # The reconciliation (reconcile.py) found the posted voucher deleted, or changed, in
    # Visma: "avvik" until the admin chooses (never re-posted by itself).
    DELETED_IN_VISMA = "deleted_in_visma"
    CHANGED_IN_VISMA = "changed_in_visma"
    # The draft (drafts.py) was deleted in Visma: back to "venter" with this note.
    DRAFT_DELETED = "draft_deleted"


class SettlementExport(models.Model):
    """The transfer of one settlement to Visma, and its only owner: its state, the problem
    that stops it, the voucher Visma made of it (id and number, the exact payload sent and
    Visma's answer) and its retry bookkeeping. Written only by `state.py`; read through
    `selectors.py`. A settlement without a row has not been touched by a transfer yet."""

    class State(models.TextChoices):
        # Waiting for its transfer run (or for the business day to end).
        PENDING = "pending", _("venter")
        # Claimed by an export run; the POST to Visma is under way.
        POSTING = "posting", _("overføres")
        POSTED = "posted", _("overført")
        # A POST whose outcome is unknown (timeout, reset, 5xx after sending): the next
        # attempt searches Visma for the reference before it posts again.
        UNCERTAIN = "uncertain", _("usikker")
        FAILED = "failed", _("feilet")
        NEEDS_ACTION = "needs_action", _("trenger handling")
        # Sent to POST /voucherdrafts (draft mode): waits for the accountant to approve it
        # in Visma; the reconciliation sees it converted (→ posted) or deleted (→ venter).
        DRAFT = "draft", _("kladd i Visma")
        # The reconciliation found the voucher deleted or changed in Visma; the admin
        # chooses on the settlement's page: post again as a new voucher, or accept Visma's.
        AVVIK = "avvik", _("avvik")

    settlement = models.OneToOneField(
        "settlements.Settlement", models.CASCADE, related_name="visma_export"
    )
    state = models.CharField(
        _("status"), max_length=20, choices=State.choices, default=State.PENDING, db_index=True
    )
    # Why it needs action, as a Problem code and as a Norwegian sentence the shop owner
    # reads (what is wrong and what to do).
    problem_code = models.CharField(max_length=40, blank=True, db_index=True)
    reason = models.TextField(_("årsak"), blank=True)
    # The last change of state: the claim compares it (compare-and-set), and a claim or an
    # unanswered POST older than STALE_CLAIM is taken as a dead worker's.
    updated_at = models.DateTimeField(default=timezone.now)
    visma_voucher_id = models.CharField(max_length=64, blank=True)
    voucher_number = models.CharField(_("bilagsnummer"), max_length=64, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    # found = recorded from a search of Visma after an answer was lost, not from a 201.
    found_by_search = models.BooleanField(default=False)
    # Exactly as sent: amounts as JSON numbers with their digits, read back as Decimal.
    payload = models.JSONField(
        null=True, blank=True, encoder=ExactJSONEncoder, decoder=ExactJSONDecoder
    )
    response = models.JSONField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Write-ahead flag: set before a POST is sent, cleared by a definite answer. While set,
    # the outcome of a POST is unknown (lost answer, 5xx, worker killed mid-request), so
    # the next attempt searches Visma for the reference before it posts again.
    in_doubt = models.BooleanField(default=False)
    # Searches of Visma for an in-doubt voucher that failed in a row (reset by one that
    # answers): after transfer.SEARCH_GIVE_UP the settlement needs a person's look.
    failed_searches = models.PositiveSmallIntegerField(default=0)
    # The problem the admins were last told about by e-mail (one e-mail per new problem).
    notified_problem = models.CharField(max_length=40, blank=True)

    # --- reconciliation and drafts (issue 18, items 3 and 6: reconcile.py, drafts.py)
    # The draft Visma made of it while it is "kladd i Visma" (VoucherDraftApi.Id).
    visma_draft_id = models.CharField(max_length=64, blank=True)
    # The last POST went to /voucherdrafts: a search after a lost answer looks among the
    # drafts too (the switch may have been turned off since).
    sent_as_draft = models.BooleanField(default=False)
    # Which voucher of the settlement this is: 2 and up after "Send på nytt som nytt
    # bilag", whose voucher carries the reference BO-17-2 (the old one BO-17 is kept in
    # `previous_vouchers`), so a search never takes the old voucher for the new one.
    generation = models.PositiveSmallIntegerField(default=1)
    reconciled_at = models.DateTimeField(null=True, blank=True)
    # Visma's voucher as the reconciliation last read it when it differed
    # ({"deleted": true} when it is gone), and what differs ([{"kind", "account", …}]).
    visma_version = models.JSONField(
        null=True, blank=True, encoder=ExactJSONEncoder, decoder=ExactJSONDecoder
    )
    differences = models.JSONField(default=list, blank=True)
    # "Godta Vismas versjon": the version the admin accepted, compared from then on
    # instead of the payload sent.
    accepted_version = models.JSONField(
        null=True, blank=True, encoder=ExactJSONEncoder, decoder=ExactJSONDecoder
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The vouchers this settlement had before it was sent again as a new voucher:
    # [{"number", "id", "reference", "reason", "at", "by"}], oldest first.
    previous_vouchers = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"{self.settlement_id} → {self.voucher_number or '–'}"


class ExportAttempt(models.Model):
    """One try at one settlement, with its time and result, shown on the settlement page."""

    class Result(models.TextChoices):
        POSTED = "posted", _("overført")
        FOUND = "found", _("funnet i Visma")
        NEEDS_ACTION = "needs_action", _("trenger handling")
        FAILED = "failed", _("feilet")
        UNCERTAIN = "uncertain", _("usikker")
        DRAFT = "draft", _("kladd i Visma")
        AVVIK = "avvik", _("avvik")
        # The reconciliation's and the admin's steps (converted, accepted, sent again).
        RECONCILED = "reconciled", _("avstemt")

    settlement = models.ForeignKey(
        "settlements.Settlement", models.CASCADE, related_name="visma_attempts"
    )
    run = models.ForeignKey(ExportRun, models.SET_NULL, null=True, blank=True, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=20, choices=Result.choices)
    message = models.TextField(blank=True)
    error_code = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.settlement_id} {self.result}"


# ------------------------------------------------------------------------------ attachments


class VoucherAttachment(models.Model):
    """The Z-report PDF that documents a posted voucher (issue 18, item 1): uploaded with
    POST /attachments, then linked to the voucher with POST /attachmentlinks, after the
    voucher is in Visma, so an upload that fails never holds the voucher back. Written only
    by attachments.py; a row exists for every voucher posted while the switch
    (TransferSettings.attach_zreport) was on."""

    class State(models.TextChoices):
        # Waiting for its upload (the first one, or another try after a failure).
        PENDING = "pending", _("venter")
        # In Visma (attachment_id known), not yet linked to the voucher.
        UPLOADED = "uploaded", _("lastet opp")
        LINKED = "linked", _("vedlagt")
        # The last try failed (last_error says why); later runs try again.
        FAILED = "failed", _("feilet")

    settlement = models.OneToOneField(
        "settlements.Settlement", models.CASCADE, related_name="visma_attachment"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    file_name = models.CharField(max_length=200)
    # Visma's id of the uploaded attachment, kept as soon as it is known: it is never
    # uploaded again after that.
    attachment_id = models.CharField(max_length=64, blank=True)
    # Write-ahead flags, as SettlementExport.in_doubt: set before the request, cleared by a
    # definite answer. Set, the next try first looks in Visma for what the lost answer did.
    upload_in_doubt = models.BooleanField(default=False)
    link_in_doubt = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    linked_at = models.DateTimeField(null=True, blank=True)
    # A run's lease on the row (attachments.claim): two runs never send it at once.
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["state"])]

    def __str__(self) -> str:
        return f"{self.settlement_id} {self.state} {self.attachment_id or '–'}"


# ------------------------------------------------------------------------------ corrections


class Reversal(models.Model):
    """The reversal (motpostering) in Visma of the voucher of a settlement version that a
    correction replaced (settlements.Settlement.corrects): every row of what was posted
    (SettlementExport.payload, the audit copy of what Visma has) on the other side, under
    the text "Korrigering av bilag A12 …" and its own reference ("[BO-17-K]", found again
    after a lost answer like a settlement's). Posted exactly once, before the corrected
    version's voucher, by corrections.py, its only writer; the same guarantees as a
    settlement's transfer (claim, write-ahead doubt, search before posting again)."""

    settlement = models.OneToOneField(
        "settlements.Settlement", models.CASCADE, related_name="visma_reversal"
    )
    state = models.CharField(
        _("status"),
        max_length=20,
        choices=SettlementExport.State.choices,
        default=SettlementExport.State.PENDING,
    )
    problem_code = models.CharField(max_length=40, blank=True)
    reason = models.TextField(_("årsak"), blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    # The date it is (or was last) sent with: the reversed voucher's own date, or the first
    # open date when that period is locked in Visma (date_moved).
    voucher_date = models.DateField(null=True, blank=True)
    date_moved = models.BooleanField(default=False)
    # The company's lock date that moved it, for the page ("låst til 30.11.2026").
    locked_to = models.DateField(null=True, blank=True)
    visma_voucher_id = models.CharField(max_length=64, blank=True)
    voucher_number = models.CharField(_("bilagsnummer"), max_length=64, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    found_by_search = models.BooleanField(default=False)
    payload = models.JSONField(
        null=True, blank=True, encoder=ExactJSONEncoder, decoder=ExactJSONDecoder
    )
    response = models.JSONField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    in_doubt = models.BooleanField(default=False)
    failed_searches = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("motpostering")
        verbose_name_plural = _("motposteringer")

    def __str__(self) -> str:
        return f"{self.reference} → {self.voucher_number or '–'}"

    @property
    def reference(self) -> str:
        """The reversal's own reference in its voucher text: never the reversed settlement's
        "[BO-17]", so a search for either finds only its own voucher."""
        return f"BO-{self.settlement_id}-K"


# ------------------------------------------------------------------------------ cost centres


class VismaCostCenterItem(models.Model):
    """An item of one of the company's cost centres (GET /costcenters), cached with the
    chart when the company uses cost centres (companysettings UsesCostCenter)."""

    organization = models.ForeignKey(
        Organization, models.CASCADE, related_name="visma_cost_center_items"
    )
    visma_id = models.UUIDField()
    name = models.CharField(_("navn"), max_length=50)
    short_name = models.CharField(_("kortnavn"), max_length=9, blank=True)
    # The item's own IsActive, and its cost centre's (an inactive centre's items cannot be
    # used either).
    is_active = models.BooleanField(_("aktiv"), default=True)
    cost_center_id = models.UUIDField()
    cost_center_name = models.CharField(_("kostnadssted"), max_length=50)

    class Meta:
        verbose_name = _("kostnadssted i Visma")
        verbose_name_plural = _("kostnadssteder i Visma")
        ordering = ["cost_center_name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "visma_id"], name="visma_cost_center_item_per_org"
            )
        ]

    def __str__(self) -> str:
        return f"{self.cost_center_name}: {self.name}"


class StoreCostCenter(models.Model):
    """The cost centre item the admin chose for a store (Oppsett > Integrasjoner): every row
    of that store's vouchers carries it (CostCenterItemId1). Kept by Visma's id, so it
    survives a refresh of the cache; pre-flight refuses it while it is inactive or gone."""

    location = models.OneToOneField(
        "backoffice.Location", models.CASCADE, related_name="visma_cost_center"
    )
    item_visma_id = models.UUIDField()
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.location_id} → {self.item_visma_id}"
