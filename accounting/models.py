"""An organisation's kontooppsett (../shared/DESIGN.md 4.2) and the log of its changes.

One `AccountMapping` per organisation holds the whole kontooppsett in its JSON form
(accounting.mapping.mapping_to_json: rates and names as keys, accounts as numbers, VAT codes
as text; nothing a float could spoil). It is written whole on every save and read back
through the same validation as an import (`accounting.services.load_mapping`).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backoffice.models import Organization


class AccountMapping(models.Model):
    organization = models.OneToOneField(
        Organization, models.CASCADE, related_name="account_mapping"
    )
    # {"sales_by_vat_rate": {"25": {"account": 3000, "vat_code": "3"}}, "payments": {...},
    #  "tips": 2910, ...}: complete entries only, unmapped ones are absent or null.
    mapping = models.JSONField(_("kontooppsett"), default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("kontooppsett")
        verbose_name_plural = _("kontooppsett")

    def __str__(self) -> str:
        return f"{self.organization}"


class MappingChange(models.Model):
    """Who changed the kontooppsett, when, and what (old and new value of every entry)."""

    class Action(models.TextChoices):
        EDIT = "edit", _("endret")
        IMPORT = "import", _("importert")
        STANDARD = "standard", _("standard kontoplan")

    organization = models.ForeignKey(Organization, models.CASCADE, related_name="mapping_changes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=10, choices=Action.choices, default=Action.EDIT)
    note = models.CharField(_("merknad"), max_length=200, blank=True)
    # [{"path": ["payments", "vipps"], "old": 1902, "new": null}, ...]
    changes = models.JSONField(default=list)

    class Meta:
        verbose_name = _("endring i kontooppsett")
        verbose_name_plural = _("endringer i kontooppsett")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.organization} {self.created_at:%Y-%m-%d %H:%M} {self.action}"

    def descriptions(self) -> list[str]:
        """One line per changed entry: "Betalingsmåten vipps: 1902 → –"."""
        from .mapping import describe_change

        return [describe_change(change) for change in self.changes or []]
