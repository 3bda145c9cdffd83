"""The tenancy core: organisations (one Visma company each), their stores and members."""

import hashlib
import secrets
from datetime import timedelta
from typing import TypedDict

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DecimalShape(TypedDict):
    """A DecimalField's size, kept in one place per kind of number (settlements.models.MONEY,
    accounting.models.RATE) and passed as **kwargs; typed so the field's arguments check."""

    max_digits: int
    decimal_places: int


class Organization(models.Model):
    """A Backoffice customer; posts to exactly one Visma eAccounting company."""

    slug = models.SlugField(unique=True)
    name = models.CharField(_("navn"), max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("organisasjon")
        verbose_name_plural = _("organisasjoner")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def admin_emails(self) -> list[str]:
        return list(
            self.memberships.filter(role=Membership.Role.ADMIN, user__is_active=True)
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", _("administrator")
        STAFF = "staff", _("ansatt")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, models.CASCADE, related_name="memberships")
    role = models.CharField(_("rolle"), max_length=10, choices=Role.choices, default=Role.STAFF)

    class Meta:
        verbose_name = _("medlemskap")
        verbose_name_plural = _("medlemskap")
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="one_membership_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class Location(models.Model):
    """A store (butikk) with its tills; tills authenticate with the store's API keys."""

    organization = models.ForeignKey(Organization, models.CASCADE, related_name="locations")
    code = models.SlugField(_("kode"), max_length=50)
    name = models.CharField(_("navn"), max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("butikk")
        verbose_name_plural = _("butikker")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="location_code_per_org")
        ]

    def __str__(self) -> str:
        return self.name


class Register(models.Model):
    """A till (kasse) of a store, registered the first time it sends a settlement."""

    location = models.ForeignKey(Location, models.CASCADE, related_name="registers")
    code = models.CharField(_("kasse-id"), max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("kasse")
        verbose_name_plural = _("kasser")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["location", "code"], name="register_code_per_location")
        ]

    def __str__(self) -> str:
        return self.code


# How precisely ApiKey.last_used_at follows the key's use (the admin shows it).
API_KEY_USE_RESOLUTION = timedelta(minutes=1)


def hash_api_key(raw: str) -> str:
    # The keys are 256-bit random tokens, so a plain SHA-256 is enough (no stretching needed).
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKey(models.Model):
    """A location's key for the ingestion API. Only its hash is stored; shown once."""

    location = models.ForeignKey(Location, models.CASCADE, related_name="api_keys")
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API-nøkkel")
        verbose_name_plural = _("API-nøkler")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.location})"

    @classmethod
    def issue(cls, location: Location) -> tuple["ApiKey", str]:
        prefix = secrets.token_hex(4)
        raw = f"bo_{prefix}_{secrets.token_urlsafe(32)}"
        key = cls.objects.create(location=location, prefix=prefix, key_hash=hash_api_key(raw))
        return key, raw

    @classmethod
    def authenticate(cls, raw: str) -> Location | None:
        # [:1], not .first(): no ORDER BY to compile and sort for a unique key.
        found = list(
            cls.objects.select_related("location__organization").filter(
                key_hash=hash_api_key(raw), revoked_at__isnull=True
            )[:1]
        )
        if not found:
            return None
        key = found[0]
        now = timezone.now()
        stale = now - API_KEY_USE_RESOLUTION
        # Written at most once a minute: on every request it cost each ingestion an UPDATE
        # of its own, committed (and flushed to disk) apart from the settlement. The time
        # just read decides whether to write; the condition in the UPDATE makes one of
        # several concurrent requests that all read a stale time do it.
        if key.last_used_at is None or key.last_used_at < stale:
            cls.objects.filter(
                models.Q(last_used_at__isnull=True) | models.Q(last_used_at__lt=stale), pk=key.pk
            ).update(last_used_at=now)
        return key.location


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("The audit log is append-only: its entries are never changed.")

    def delete(self):
        raise TypeError("The audit log is append-only: its entries are never deleted.")


class AuditEvent(models.Model):
    """One line of the organisation's audit trail (who, when, what): connection changes,
    transfer settings, kontooppsett changes, API keys issued and revoked.

    Append-only: the model and its queryset refuse to change or delete an entry, and on
    PostgreSQL a trigger refuses UPDATE and DELETE of the table (migration 0002)."""

    class Action(models.TextChoices):
        VISMA_CONNECTED = "visma_connected", _("Visma koblet til")
        VISMA_DISCONNECTED = "visma_disconnected", _("Visma koblet fra")
        VISMA_RECONNECT_REQUIRED = "visma_reconnect", _("Visma må kobles til på nytt")
        TRANSFER_SETTINGS = "transfer_settings", _("Overføringsinnstillinger endret")
        MAPPING_CHANGED = "mapping_changed", _("Kontooppsett endret")
        API_KEY_ISSUED = "api_key_issued", _("API-nøkkel laget")
        API_KEY_REVOKED = "api_key_revoked", _("API-nøkkel trukket tilbake")
        SETTLEMENT_CORRECTED = "settlement_corrected", _("Dagsoppgjør korrigert")
        COST_CENTRES = "cost_centres", _("Kostnadssteder endret")

    organization = models.ForeignKey(Organization, models.PROTECT, related_name="audit_events")
    at = models.DateTimeField(_("tidspunkt"), default=timezone.now)
    # No foreign key constraint: deleting a user must not rewrite the log (the label stays).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(_("hvem"), max_length=200)
    action = models.CharField(_("hva"), max_length=32, choices=Action.choices)
    # Short lines for the page, in bokmål, e.g. ["Hvor ofte: Daglig → Ukentlig"].
    details = models.JSONField(default=list, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("logglinje")
        verbose_name_plural = _("logg")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["organization", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label}: {self.get_action_display()}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("The audit log is append-only: its entries are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The audit log is append-only: its entries are never deleted.")
