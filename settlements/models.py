"""A till's daily settlement (dagsoppgjør, the Z-report) and its lines (../shared/DESIGN.md 4.1)."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backoffice.models import DecimalShape, Location, Organization

from .domain import (
    CashCount,
    CashMovementData,
    PaymentData,
    SaleLineData,
    SettlementData,
    normalize_rate,
)

MONEY: DecimalShape = {"max_digits": 14, "decimal_places": 2}
ZERO = Decimal("0.00")

# The settlements that may be transferred (Settlement.is_postable), for .filter(**POSTABLE).
POSTABLE = {"balance_difference": 0, "hold_code": ""}


class SettlementQuerySet(models.QuerySet):
    def current(self) -> "SettlementQuerySet":
        """Each register's Z-report once: the latest version, not one a correction replaced
        (Settlement.corrects)."""
        return self.filter(corrected_by__isnull=True)


class Settlement(models.Model):
    """What the till said, and whether it balances. Its transfer to an accounting system
    (state, problem, voucher) belongs to the integration that makes it (settlements.transfer)."""

    organization = models.ForeignKey(Organization, models.CASCADE, related_name="settlements")
    location = models.ForeignKey(Location, models.PROTECT, related_name="settlements")
    register_id = models.CharField(_("kasse"), max_length=64)
    z_number = models.PositiveBigIntegerField(_("Z-nummer"))
    business_date = models.DateField(_("forretningsdato"))
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    currency = models.CharField(max_length=3, default="NOK")

    tips = models.DecimalField(_("tips"), default=ZERO, **MONEY)
    gift_cards_sold = models.DecimalField(_("gavekort solgt"), default=ZERO, **MONEY)
    rounding = models.DecimalField(_("øreavrunding"), default=ZERO, **MONEY)
    cash_opening_float = models.DecimalField(null=True, blank=True, **MONEY)
    cash_counted = models.DecimalField(null=True, blank=True, **MONEY)
    counters = models.JSONField(default=dict, blank=True)

    # Derived at ingestion. A settlement is immutable afterwards, except that the till may
    # replace one that does not balance (services._resent; the old one is a revision).
    total_sales = models.DecimalField(default=ZERO, **MONEY)
    total_vat = models.DecimalField(default=ZERO, **MONEY)
    total_payments = models.DecimalField(default=ZERO, **MONEY)
    # Σ payments − (Σ sales + tips + gift cards sold + rounding); must be 0 to be posted.
    balance_difference = models.DecimalField(default=ZERO, **MONEY)
    # counted − (opening float + cash payments + pay-ins − pay-outs); None without a count.
    cash_difference = models.DecimalField(null=True, blank=True, **MONEY)
    # Besides not balancing, what the till said may hold a settlement back until the till
    # sends it corrected: its VAT disagrees with its rate beyond rounding (DESIGN.md 4.1),
    # or its source's own totals disagree (a SAF-T file, 4.6): texts.VAT_MISMATCH,
    # texts.SOURCE_MISMATCH, or "" when nothing holds it. The reason is the Norwegian
    # sentence naming the disagreement and what to do.
    hold_code = models.CharField(max_length=20, blank=True, default="")
    hold_reason = models.TextField(_("årsak"), blank=True, default="")

    # The canonical parsed body and its hash: "the same body again" compares these.
    payload = models.JSONField()
    content_hash = models.CharField(max_length=64)

    # A settlement that may be in the books is never changed: the till (or an admin) sends
    # a correction ("correction": true), stored as the next version of the same register
    # and Z-number, linked to the version it corrects. The accounting integration reverses
    # what it posted of that one and posts this one (services._corrected_version).
    version = models.PositiveSmallIntegerField(_("versjon"), default=1)
    corrects = models.OneToOneField(
        "self", models.PROTECT, null=True, blank=True, related_name="corrected_by"
    )

    received_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SettlementQuerySet.as_manager()

    class Meta:
        verbose_name = _("dagsoppgjør")
        verbose_name_plural = _("dagsoppgjør")
        ordering = ["-business_date", "location__name", "register_id", "-z_number", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["location", "register_id", "z_number", "version"],
                name="one_z_version_per_register",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "-business_date"]),
        ]

    def __str__(self) -> str:
        return f"{self.location} {self.register_id} Z{self.z_number} {self.business_date}"

    @property
    def reference(self) -> str:
        """Stable reference carried in the voucher text, found again when searching Visma."""
        return f"BO-{self.pk}"

    @property
    def is_superseded(self) -> bool:
        """A later version (a correction) replaced this one."""
        try:
            return self.corrected_by is not None
        except Settlement.DoesNotExist:
            return False

    @property
    def is_balanced(self) -> bool:
        return self.balance_difference == 0

    @property
    def is_postable(self) -> bool:
        """May be transferred: it balances and nothing the till said holds it back (in SQL,
        POSTABLE). One that is not waits for the till's corrected settlement, and only such
        a one may be replaced by it (services._resent)."""
        return self.is_balanced and not self.hold_code

    def as_data(self) -> SettlementData:
        """The settlement as plain values (for the voucher builder). Prefetch
        `sales`, `payments` and `cash_movements` (and select `location`) to avoid queries."""
        cash_count = None
        if self.cash_counted is not None:
            cash_count = CashCount(
                opening_float=self.cash_opening_float or ZERO, counted=self.cash_counted
            )
        movements = list(self.cash_movements.all())
        return SettlementData(
            register_id=self.register_id,
            z_number=self.z_number,
            business_date=self.business_date,
            opened_at=self.opened_at,
            closed_at=self.closed_at,
            currency=self.currency,
            sales=tuple(
                SaleLineData(
                    product_group=line.product_group,
                    vat_rate=normalize_rate(line.vat_rate),
                    gross_amount=line.gross_amount,
                    vat_amount=line.vat_amount,
                    count=line.count,
                )
                for line in self.sales.all()
            ),
            payments=tuple(PaymentData(p.method, p.amount) for p in self.payments.all()),
            tips=self.tips,
            gift_cards_sold=self.gift_cards_sold,
            rounding=self.rounding,
            cash_count=cash_count,
            pay_ins=tuple(
                CashMovementData(m.reason, m.amount)
                for m in movements
                if m.kind == CashMovement.Kind.PAY_IN
            ),
            pay_outs=tuple(
                CashMovementData(m.reason, m.amount)
                for m in movements
                if m.kind == CashMovement.Kind.PAY_OUT
            ),
            counters=self.counters or {},
            location_name=self.location.name,
            reference=self.reference,
        )


class SaleLine(models.Model):
    settlement = models.ForeignKey(Settlement, models.CASCADE, related_name="sales")
    product_group = models.CharField(_("varegruppe"), max_length=100)
    vat_rate = models.DecimalField(_("mva-sats"), max_digits=5, decimal_places=2)
    gross_amount = models.DecimalField(_("brutto"), **MONEY)
    vat_amount = models.DecimalField(_("mva"), **MONEY)
    count = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    @property
    def net_amount(self) -> Decimal:
        return self.gross_amount - self.vat_amount


class Payment(models.Model):
    settlement = models.ForeignKey(Settlement, models.CASCADE, related_name="payments")
    method = models.CharField(_("betalingsmåte"), max_length=100)
    amount = models.DecimalField(_("beløp"), **MONEY)

    class Meta:
        ordering = ["id"]


class CashMovement(models.Model):
    class Kind(models.TextChoices):
        PAY_IN = "in", _("innskudd")
        PAY_OUT = "out", _("uttak")

    settlement = models.ForeignKey(Settlement, models.CASCADE, related_name="cash_movements")
    kind = models.CharField(max_length=3, choices=Kind.choices)
    reason = models.CharField(_("årsak"), max_length=200, blank=True)
    amount = models.DecimalField(_("beløp"), **MONEY)

    class Meta:
        ordering = ["id"]


class SeenName(models.Model):
    """A product group (at one VAT rate) or a payment method an organisation's tills have
    sent, recorded once at ingestion. The kontooppsett page lists these instead of reading
    every sale line and payment of the organisation's history (constant in history size).

    Only inserted, never updated: a `last_seen` would turn every ingestion into row updates
    that serialize the tills of one organisation on these rows until commit."""

    class Kind(models.TextChoices):
        PRODUCT_GROUP = "product_group", _("varegruppe")
        PAYMENT_METHOD = "payment_method", _("betalingsmåte")

    organization = models.ForeignKey(Organization, models.CASCADE, related_name="seen_names")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=100)
    # A product group's rate as its mapping key (settlements.domain.rate_key: "25", "12.5");
    # empty for a payment method. Text, not NULL, so the unique constraint holds for both.
    rate = models.CharField(max_length=8, blank=True)
    first_seen = models.DateTimeField(default=timezone.now)
    # The store whose till sent it first: a store may add only so many new names a day
    # (settlements.limits.check_new_names).
    first_location = models.ForeignKey(
        Location, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "name", "rate"], name="one_seen_name"
            )
        ]
        indexes = [models.Index(fields=["first_location", "first_seen"])]

    def __str__(self) -> str:
        return f"{self.name} {self.rate}".strip()


class SettlementRevision(models.Model):
    """A version of a settlement that the till replaced with a corrected one.

    Only a settlement that does not balance (so was never posted, ../shared/DESIGN.md 4.1: "never
    posted until fixed") can be replaced, by the till sending the same register and
    Z-number again with corrected content. The replaced version is kept here, so the
    shop owner and the accountant see what came first and when it was corrected."""

    settlement = models.ForeignKey(Settlement, models.CASCADE, related_name="revisions")
    payload = models.JSONField()
    content_hash = models.CharField(max_length=64)
    balance_difference = models.DecimalField(**MONEY)
    received_at = models.DateTimeField()
    replaced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["replaced_at", "id"]


# ---------------------------------------------------------------- the calendar (issue 18.4)


class RegisterClosure(models.Model):
    """A register marked closed, for one day or (day None) for good: no Z-report is
    expected of it then, so the calendar and the daily e-mail stop naming it
    (settlements.missing). Undone by deleting the row."""

    register = models.ForeignKey(
        "backoffice.Register", models.CASCADE, related_name="closures", verbose_name=_("kasse")
    )
    day = models.DateField(_("dag"), null=True, blank=True)
    note = models.CharField(_("notat"), max_length=200, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Kept when the user is deleted: who marked it stays readable.
    closed_by_label = models.CharField(_("hvem"), max_length=200, blank=True)
    closed_at = models.DateTimeField(_("når"), default=timezone.now)

    class Meta:
        verbose_name = _("stengt kasse")
        verbose_name_plural = _("stengte kasser")
        ordering = ["register_id", "day"]
        constraints = [
            models.UniqueConstraint(
                fields=["register", "day"], name="one_closure_per_register_day"
            ),
            models.UniqueConstraint(
                fields=["register"],
                condition=models.Q(day__isnull=True),
                name="one_closure_for_good_per_register",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.register} {self.day or 'for good'}"

    @property
    def for_good(self) -> bool:
        return self.day is None


class MissingDaysNotice(models.Model):
    """When the organisation's admins were last e-mailed about missing Z-reports: at most
    one such e-mail a day (settlements.missing.notify_missing_days)."""

    organization = models.OneToOneField(
        Organization, models.CASCADE, related_name="missing_days_notice"
    )
    sent_on = models.DateField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
