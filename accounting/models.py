"""An organisation's kontooppsett (../shared/DESIGN.md 4.2) and the log of its changes.

One `AccountMapping` per organisation holds the single accounts; the keyed categories are
rows of their own. A row exists only when it is complete: unmapped is simply absent.
`accounting.services.load_mapping` turns all of it into a `MappingData`.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backoffice.models import DecimalShape, Organization

RATE: DecimalShape = {"max_digits": 5, "decimal_places": 2}


def account_field(verbose_name, **kwargs):
    return models.PositiveIntegerField(verbose_name, **kwargs)


class AccountMapping(models.Model):
    organization = models.OneToOneField(
        Organization, models.CASCADE, related_name="account_mapping"
    )
    tips = account_field(_("tips"), null=True, blank=True)
    gift_cards_sold = account_field(_("gavekort solgt"), null=True, blank=True)
    rounding = account_field(_("øreavrunding"), null=True, blank=True)
    cash = account_field(_("kasse"), null=True, blank=True)
    cash_difference = account_field(_("kassedifferanse"), null=True, blank=True)
    pay_ins = account_field(_("innskudd kasse"), null=True, blank=True)
    pay_outs = account_field(_("uttak kasse"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("kontooppsett")
        verbose_name_plural = _("kontooppsett")

    def __str__(self) -> str:
        return f"{self.organization}"


class SalesRateMapping(models.Model):
    """Sales at one VAT rate: the sales account and the output VAT code."""

    organization = models.ForeignKey(
        Organization, models.CASCADE, related_name="sales_rate_mappings"
    )
    rate = models.DecimalField(_("mva-sats"), **RATE)
    account = account_field(_("konto"))
    vat_code = models.CharField(_("MVA-kode"), max_length=20)

    class Meta:
        ordering = ["-rate"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "rate"], name="one_sales_mapping_per_rate"
            )
        ]


class ProductGroupMapping(models.Model):
    """An override: sales of one product group go to their own account / VAT code."""

    organization = models.ForeignKey(
        Organization, models.CASCADE, related_name="product_group_mappings"
    )
    product_group = models.CharField(_("varegruppe"), max_length=100)
    account = account_field(_("konto"))
    vat_code = models.CharField(_("MVA-kode"), max_length=20)

    class Meta:
        ordering = ["product_group"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "product_group"], name="one_mapping_per_product_group"
            )
        ]


class OutputVatMapping(models.Model):
    """The account that receives the output VAT (utgående mva) of one rate."""

    organization = models.ForeignKey(
        Organization, models.CASCADE, related_name="output_vat_mappings"
    )
    rate = models.DecimalField(_("mva-sats"), **RATE)
    account = account_field(_("konto"))

    class Meta:
        ordering = ["-rate"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "rate"], name="one_output_vat_mapping_per_rate"
            )
        ]


class PaymentMethodMapping(models.Model):
    """One payment method as the tills name it (cash, card, vipps, gift_card, ...)."""

    organization = models.ForeignKey(Organization, models.CASCADE, related_name="payment_mappings")
    method = models.CharField(_("betalingsmåte"), max_length=100)
    account = account_field(_("konto"))

    class Meta:
        ordering = ["method"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "method"], name="one_mapping_per_payment_method"
            )
        ]


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
