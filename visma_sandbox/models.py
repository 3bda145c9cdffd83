"""The simulator's own state: simulated Visma companies (chart, VAT codes, fiscal years,
received vouchers), its identity server (clients, users, codes, tokens), the shared quota
counters and the fault switches. Nothing here is used by the production code."""

import uuid

from django.db import models


class SandboxCompany(models.Model):
    """One simulated Visma eAccounting company (a customer's books)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100)
    org_number = models.CharField(max_length=20, unique=True)
    accounting_locked_to = models.DateField()
    address1 = models.CharField(max_length=40, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    city = models.CharField(max_length=40, blank=True)
    email = models.CharField(max_length=255, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    country_code = models.CharField(max_length=2, default="NO")
    currency_code = models.CharField(max_length=3, default="NOK")
    # CompanySettingsApi.CompanyStatus: 0 inactive, 1 active, 2 read-only.
    company_status = models.PositiveSmallIntegerField(default=1)
    # The last voucher number given per series ({"A": 12}): a deleted voucher's number is
    # never given again.
    last_voucher_numbers = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.org_number})"


class SandboxVatCode(models.Model):
    company = models.ForeignKey(SandboxCompany, on_delete=models.CASCADE, related_name="vat_codes")
    uuid = models.UUIDField(unique=True)
    code = models.CharField(max_length=10)
    description = models.CharField(max_length=200)
    # A fraction, as Visma's VatCodeApi.VatRate: 0.25 is 25 %.
    rate = models.DecimalField(max_digits=6, decimal_places=4)
    related_account1 = models.PositiveBigIntegerField(null=True, blank=True)
    related_account2 = models.PositiveBigIntegerField(null=True, blank=True)
    related_account3 = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["company", "code"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="sandbox_vatcode_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"

    @property
    def percent(self) -> str:
        return f"{(self.rate * 100).normalize():f}"


class SandboxCostCenter(models.Model):
    """A cost centre of a company that uses them (CostCenterApi), e.g. "Avdeling"."""

    company = models.ForeignKey(
        SandboxCompany, on_delete=models.CASCADE, related_name="cost_centers"
    )
    uuid = models.UUIDField(unique=True)
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=20)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["company", "number"]

    def __str__(self) -> str:
        return self.name


class SandboxCostCenterItem(models.Model):
    """An item of a cost centre (CostCenterItemApi), e.g. the store "Torget": what a
    voucher row's CostCenterItemId1 names."""

    cost_center = models.ForeignKey(
        SandboxCostCenter, on_delete=models.CASCADE, related_name="items"
    )
    uuid = models.UUIDField(unique=True)
    name = models.CharField(max_length=50)
    short_name = models.CharField(max_length=9)
    is_active = models.BooleanField(default=True)
    created_utc = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["cost_center", "short_name"]

    def __str__(self) -> str:
        return self.name


class SandboxFiscalYear(models.Model):
    company = models.ForeignKey(
        SandboxCompany, on_delete=models.CASCADE, related_name="fiscal_years"
    )
    uuid = models.UUIDField(unique=True)
    start_date = models.DateField()
    end_date = models.DateField()
    is_locked = models.BooleanField(default=False)

    class Meta:
        ordering = ["company", "start_date"]

    def __str__(self) -> str:
        return f"{self.start_date:%Y}{' (locked)' if self.is_locked else ''}"


class SandboxAccount(models.Model):
    """One account of one fiscal year's chart: Visma keeps a chart per fiscal year
    (GET /accounts/{fiscalyearId}), and a voucher is checked against the chart of the year
    its date falls in."""

    company = models.ForeignKey(SandboxCompany, on_delete=models.CASCADE, related_name="accounts")
    fiscal_year = models.ForeignKey(
        "SandboxFiscalYear", on_delete=models.CASCADE, related_name="accounts"
    )
    number = models.PositiveBigIntegerField()
    name = models.CharField(max_length=100)
    vat_code = models.ForeignKey(
        SandboxVatCode, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(default=True)
    # AccountApi's rules for manual vouchers, which POST /vouchers enforces:
    # IsBlockedForManualBooking, IsFirstCostCenterMandatory, AllowTransactionText.
    blocked_for_manual_booking = models.BooleanField(default=False)
    first_cost_center_mandatory = models.BooleanField(default=False)
    allow_transaction_text = models.BooleanField(default=True)

    class Meta:
        ordering = ["company", "fiscal_year", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["fiscal_year", "number"], name="sandbox_account_unique_per_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class SandboxUser(models.Model):
    """A person who signs in at the simulated Visma login page."""

    email = models.EmailField(unique=True)
    # The user's id at the identity server: the `sub` claim of every token issued to them,
    # the same whichever company they sign in to.
    subject = models.UUIDField(default=uuid.uuid4, unique=True)
    name = models.CharField(max_length=100)
    password = models.CharField(max_length=128)  # a Django password hash
    companies = models.ManyToManyField(SandboxCompany, related_name="users")
    # Visma signs a user straight into the default company unless the client asks for
    # acr_values=forceselectcompany:true.
    default_company = models.ForeignKey(
        SandboxCompany, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return self.email


class SandboxClient(models.Model):
    """An integration registered with the simulated identity server."""

    client_id = models.CharField(max_length=100, unique=True)
    # Fake credentials of test equipment, compared in constant time.
    client_secret = models.CharField(max_length=200)
    name = models.CharField(max_length=100, default="Backoffice")
    redirect_uris = models.TextField(help_text="One exact redirect URI per line")
    access_token_lifetime = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seconds; empty: VISMA_SANDBOX_ACCESS_TOKEN_SECONDS"
    )
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.client_id

    @property
    def redirect_uri_list(self) -> list[str]:
        return [uri.strip() for uri in self.redirect_uris.splitlines() if uri.strip()]


class AuthorizationCode(models.Model):
    code_hash = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(SandboxClient, on_delete=models.CASCADE)
    user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE)
    company = models.ForeignKey(SandboxCompany, on_delete=models.CASCADE)
    redirect_uri = models.TextField()
    scope = models.TextField()
    code_challenge = models.CharField(max_length=128, blank=True)
    code_challenge_method = models.CharField(max_length=10, blank=True)
    # Every token issued from this code (and from its refreshes) shares the grant id, so
    # a replayed code or a revocation can cancel the whole chain.
    grant_id = models.UUIDField(default=uuid.uuid4)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


class AccessToken(models.Model):
    token_hash = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(SandboxClient, on_delete=models.CASCADE)
    user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE)
    company = models.ForeignKey(SandboxCompany, on_delete=models.CASCADE)
    scope = models.TextField()
    grant_id = models.UUIDField(db_index=True)
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)


class RefreshToken(models.Model):
    token_hash = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(SandboxClient, on_delete=models.CASCADE)
    user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE)
    company = models.ForeignKey(SandboxCompany, on_delete=models.CASCADE)
    scope = models.TextField()
    grant_id = models.UUIDField(db_index=True)
    created = models.DateTimeField(auto_now_add=True)
    # Set when the token was exchanged (rotation) or revoked; either way it is spent.
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)


class SandboxVoucher(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey(SandboxCompany, on_delete=models.CASCADE, related_name="vouchers")
    client = models.ForeignKey(SandboxClient, null=True, on_delete=models.SET_NULL)
    series = models.CharField(max_length=10, default="A")
    number = models.PositiveIntegerField()
    voucher_date = models.DateField()
    voucher_text = models.TextField()
    voucher_type = models.PositiveSmallIntegerField(default=2)  # 2 = ManualVoucher
    created_utc = models.DateTimeField(auto_now_add=True)
    # Set when a Visma user changed it in the UI (services.change_voucher); else null and
    # ModifiedUtc is CreatedUtc.
    modified_utc = models.DateTimeField(null=True, blank=True)
    # Which query flags it came with, shown on the simulator page.
    flags = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_utc", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "series", "number"], name="sandbox_voucher_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.series}{self.number}"

    # Sums over the (prefetched) rows, for the simulator page.
    @property
    def debit_total(self):
        return sum((row.debit for row in self.rows.all()), start=0)

    @property
    def credit_total(self):
        return sum((row.credit for row in self.rows.all()), start=0)


class SandboxAttachment(models.Model):
    """A file uploaded with POST /attachments (AttachmentUploadApi), and the document it
    is linked to (POST /attachmentlinks, or a voucher's own Attachments): only vouchers are
    simulated. Unlinked, it sits in the company's document inbox ("unmatched")."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey(
        SandboxCompany, on_delete=models.CASCADE, related_name="attachments"
    )
    client = models.ForeignKey(SandboxClient, null=True, on_delete=models.SET_NULL)
    content_type = models.CharField(max_length=15)
    file_name = models.CharField(max_length=200)
    data = models.BinaryField()
    comment = models.TextField(null=True, blank=True)  # noqa: DJ001  (null: not sent)
    created_utc = models.DateTimeField(auto_now_add=True)
    voucher = models.ForeignKey(
        "SandboxVoucher",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attachments",
    )
    linked_utc = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_utc", "pk"]

    def __str__(self) -> str:
        return self.file_name


class SandboxVoucherRow(models.Model):
    voucher = models.ForeignKey(SandboxVoucher, on_delete=models.CASCADE, related_name="rows")
    position = models.PositiveIntegerField()
    account_number = models.PositiveBigIntegerField()
    account_name = models.CharField(max_length=100)
    debit = models.DecimalField(max_digits=14, decimal_places=2)
    credit = models.DecimalField(max_digits=14, decimal_places=2)
    # null (not sent) and "" are different answers in Visma's JSON.
    transaction_text = models.CharField(max_length=60, null=True, blank=True)  # noqa: DJ001
    vat_code = models.ForeignKey(SandboxVatCode, null=True, on_delete=models.PROTECT)
    cost_center_item1 = models.ForeignKey(
        SandboxCostCenterItem, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["voucher", "position"]


class SandboxVoucherDraft(models.Model):
    """A voucher draft (VoucherDraftApi, POST /voucherdrafts): kept until an accountant
    converts it into a voucher (POST /voucherdrafts/{id}/convert, or the simulator page's
    button) or deletes it."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey(
        SandboxCompany, on_delete=models.CASCADE, related_name="voucher_drafts"
    )
    client = models.ForeignKey(SandboxClient, null=True, on_delete=models.SET_NULL)
    voucher_date = models.DateField()
    voucher_text = models.TextField(null=True, blank=True)  # noqa: DJ001  (null is Visma's)
    number_series = models.CharField(max_length=10, null=True, blank=True)  # noqa: DJ001
    created_utc = models.DateTimeField(auto_now_add=True)
    modified_utc = models.DateTimeField(null=True, blank=True)
    flags = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_utc", "-pk"]

    def __str__(self) -> str:
        return f"draft {self.uuid}"

    @property
    def debit_total(self):
        return sum((row.debit for row in self.rows.all()), start=0)

    @property
    def credit_total(self):
        return sum((row.credit for row in self.rows.all()), start=0)


class SandboxVoucherDraftRow(models.Model):
    draft = models.ForeignKey(SandboxVoucherDraft, on_delete=models.CASCADE, related_name="rows")
    position = models.PositiveIntegerField()
    account_number = models.PositiveBigIntegerField()
    account_name = models.CharField(max_length=100)
    debit = models.DecimalField(max_digits=14, decimal_places=2)
    credit = models.DecimalField(max_digits=14, decimal_places=2)
    transaction_text = models.CharField(max_length=50, null=True, blank=True)  # noqa: DJ001
    vat_code = models.ForeignKey(SandboxVatCode, null=True, on_delete=models.PROTECT)
    cost_center_item1 = models.ForeignKey(
        SandboxCostCenterItem, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["draft", "position"]


class QuotaCounter(models.Model):
    """Requests of one client to one endpoint in one fixed 60-second window (aligned to the
    minute). In the database so that every web worker counts against the same quota."""

    client_id = models.CharField(max_length=100)
    endpoint = models.CharField(max_length=200)
    window_start = models.BigIntegerField()  # epoch seconds, a multiple of 60
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client_id", "endpoint", "window_start"], name="sandbox_quota_unique"
            )
        ]


class SandboxSettings(models.Model):
    """Runtime settings changed from the simulator page or command (one row, pk=1)."""

    quota_per_minute = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: VISMA_SANDBOX_QUOTA_PER_MINUTE (default 600)"
    )


class FaultSwitch(models.Model):
    """Trouble to cause on purpose. `scope` is "global" or "company:<pk>"; a request of a
    company obeys both its company's switch and the global one."""

    class LoseMode(models.TextChoices):
        DROP = "drop", "connection drop"
        GATEWAY_TIMEOUT = "504", "504 Gateway Timeout"

    scope = models.CharField(max_length=40, unique=True)
    company = models.OneToOneField(
        SandboxCompany, null=True, blank=True, on_delete=models.CASCADE, related_name="faults"
    )
    lose_after_store = models.PositiveIntegerField(default=0)
    lose_mode = models.CharField(max_length=4, choices=LoseMode, default=LoseMode.DROP)
    fail_5xx = models.PositiveIntegerField(default=0)
    fail_429 = models.PositiveIntegerField(default=0)
    retry_after_seconds = models.PositiveIntegerField(default=1)
    latency_ms = models.PositiveIntegerField(default=0)
    # Visma's 403 ErrorCode to answer with (0 = off): 4002, 4003, 4004, 4005 and 4011 to
    # every API request, 4019 (read-only user) to writes only.
    access_error = models.PositiveIntegerField(default=0)
    # POST /attachments only: the next N answer 500 (ErrorCode 5000) and store nothing;
    # the next N are stored and their answer lost (lose_mode).
    fail_attachment_upload = models.PositiveIntegerField(default=0)
    lose_attachment_after_store = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.scope

    @property
    def is_quiet(self) -> bool:
        return not (
            self.lose_after_store
            or self.fail_5xx
            or self.fail_429
            or self.latency_ms
            or self.access_error
            or self.fail_attachment_upload
            or self.lose_attachment_after_store
        )
