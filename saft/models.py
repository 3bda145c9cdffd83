"""SAF-T Cash Register imports (DESIGN.md 4.6) and the codes the files bring along."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backoffice.models import Location, Organization


class SaftCode(models.Model):
    """A payment type or article group as a till's SAF-T file describes it: the key the
    settlements carry (payment method, product group), the till's description and
    Skatteetaten's standard code (PredefinedBasicID-12 / -04). The kontooppsett shows
    them, and "Bruk standard kontoplan" fills payment accounts from the standard code."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", _("betalingsmåte")
        ARTICLE_GROUP = "article_group", _("varegruppe")

    organization = models.ForeignKey(Organization, models.CASCADE, related_name="saft_codes")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    key = models.CharField(max_length=100)
    till_code = models.CharField(max_length=100, blank=True)
    description = models.CharField(max_length=200, blank=True)
    standard_code = models.CharField(max_length=10, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "key"], name="one_saft_code_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.standard_code})"


class SaftImport(models.Model):
    """One upload of one or more SAF-T files for a store, read by the Celery worker."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("i kø")
        RUNNING = "running", _("leses")
        DONE = "done", _("ferdig")
        FAILED = "failed", _("feilet")

    organization = models.ForeignKey(Organization, models.CASCADE, related_name="saft_imports")
    location = models.ForeignKey(Location, models.CASCADE, related_name="saft_imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    # [{"name": "kasse.xml", "path": "/…/saft-uploads/12-0.xml", "size": 123}]
    files = models.JSONField(default=list)
    bytes_total = models.BigIntegerField(default=0)
    bytes_done = models.BigIntegerField(default=0)
    # {"files": [{"name", "errors": [...] | [], "lines": [...], "gaps": [...]}]}
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        return f"SAF-T {self.pk} {self.location}"

    @property
    def active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def percent(self) -> int:
        if not self.bytes_total:
            return 0
        return min(100, int(100 * self.bytes_done / self.bytes_total))
