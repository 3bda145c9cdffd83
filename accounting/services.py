"""Business actions on the kontooppsett: load, save (with its change log), import, export,
"Bruk standard kontoplan"."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import translation

from backoffice import audit
from backoffice.models import Organization
from settlements.domain import normalize_rate, rate_key
from settlements.models import SeenName

from .catalog import company_catalog
from .mapping import (
    SINGLE_FIELDS,
    MappingData,
    SalesAccount,
    diff,
    mapping_from_json,
    mapping_to_json,
)
from .models import (
    AccountMapping,
    MappingChange,
    OutputVatMapping,
    PaymentMethodMapping,
    ProductGroupMapping,
    SalesRateMapping,
)
from .signals import mapping_saved


def load_mapping(organization: Organization | int) -> MappingData:
    """The organisation's kontooppsett as plain values (five queries). Takes the
    organisation or its id."""
    single = AccountMapping.objects.filter(organization=organization).first()
    return MappingData(
        sales_by_vat_rate={
            rate_key(row.rate): SalesAccount(row.account, row.vat_code)
            for row in SalesRateMapping.objects.filter(organization=organization)
        },
        sales_by_product_group={
            row.product_group: SalesAccount(row.account, row.vat_code)
            for row in ProductGroupMapping.objects.filter(organization=organization)
        },
        output_vat_by_rate={
            rate_key(row.rate): row.account
            for row in OutputVatMapping.objects.filter(organization=organization)
        },
        payments={
            row.method: row.account
            for row in PaymentMethodMapping.objects.filter(organization=organization)
        },
        **{name: getattr(single, name) if single else None for name in SINGLE_FIELDS},
    )


def export_mapping(*, organization: Organization) -> dict:
    return mapping_to_json(load_mapping(organization))


def _write(organization: Organization, mapping: MappingData) -> None:
    AccountMapping.objects.update_or_create(
        organization=organization,
        defaults={name: getattr(mapping, name) for name in SINGLE_FIELDS},
    )
    # The keyed categories are small (a handful of rows): replace them wholesale.
    for model in (SalesRateMapping, ProductGroupMapping, OutputVatMapping, PaymentMethodMapping):
        model.objects.filter(organization=organization).delete()
    SalesRateMapping.objects.bulk_create(
        SalesRateMapping(
            organization=organization,
            rate=normalize_rate(key),
            account=entry.account,
            vat_code=entry.vat_code,
        )
        for key, entry in mapping.sales_by_vat_rate.items()
    )
    ProductGroupMapping.objects.bulk_create(
        ProductGroupMapping(
            organization=organization,
            product_group=name,
            account=entry.account,
            vat_code=entry.vat_code,
        )
        for name, entry in mapping.sales_by_product_group.items()
    )
    OutputVatMapping.objects.bulk_create(
        OutputVatMapping(organization=organization, rate=normalize_rate(key), account=account)
        for key, account in mapping.output_vat_by_rate.items()
    )
    PaymentMethodMapping.objects.bulk_create(
        PaymentMethodMapping(organization=organization, method=method, account=account)
        for method, account in mapping.payments.items()
    )


def save_mapping(
    *,
    organization: Organization,
    mapping: MappingData,
    user=None,
    note: str = "",
    action: str = MappingChange.Action.EDIT,
) -> MappingChange | None:
    """Replace the kontooppsett with `mapping` (all or nothing), record what changed, and
    release the settlements that only waited for it. Returns the change (None: no change)."""
    with transaction.atomic():
        # Serialize concurrent saves of one organisation on its AccountMapping row.
        AccountMapping.objects.get_or_create(organization=organization)
        AccountMapping.objects.select_for_update().get(organization=organization)
        changes = diff(load_mapping(organization), mapping)
        change = None
        if changes:
            _write(organization, mapping)
            change = MappingChange.objects.create(
                organization=organization,
                user=user if user is not None and user.is_authenticated else None,
                action=action,
                note=note[:200],
                changes=changes,
            )
            with translation.override("nb"):  # the log is kept in the site's own language
                details = change.descriptions()[:50]
            audit.record(
                organization=organization,
                action=audit.Action.MAPPING_CHANGED,
                actor=user,
                via="manage.py account_mapping" if action == MappingChange.Action.IMPORT else "",
                details=details,
            )
    # Whatever waited for the kontooppsett may go now (an integration listens).
    mapping_saved.send(sender=AccountMapping, organization=organization)
    return change


@dataclass
class SeenInSettlements:
    """What the organisation's tills have sent: product groups (with their rates), payment
    methods and VAT rates. The kontooppsett page lists every one of them."""

    group_rates: dict[str, set[str]] = field(default_factory=dict)
    methods: list[str] = field(default_factory=list)
    rates: set[str] = field(default_factory=set)


def seen_in_settlements(organization: Organization) -> SeenInSettlements:
    # From the SeenName rows ingestion keeps (one per product group and rate, one per
    # method), not from the sale lines and payments: constant in the organisation's history.
    seen = SeenInSettlements()
    methods = []
    for kind, name, rate in SeenName.objects.filter(organization=organization).values_list(
        "kind", "name", "rate"
    ):
        if kind == SeenName.Kind.PAYMENT_METHOD:
            methods.append(name)
        else:
            seen.rates.add(rate)
            seen.group_rates.setdefault(name, set()).add(rate)
    seen.methods = sorted(methods)
    return seen


_LOOK_UP = object()


def validate_mapping_data(
    *, organization: Organization, data, catalog=_LOOK_UP, seen: SeenInSettlements | None = None
) -> MappingData:
    """Everything the JSON form must satisfy for this organisation: structure, account numbers,
    SAF-T codes, the company's catalog (when connected) and the rates product groups are sold
    at. Raises MappingValidationError listing every problem."""
    if catalog is _LOOK_UP:
        catalog = company_catalog(organization)
    if seen is None:
        seen = seen_in_settlements(organization)
    return mapping_from_json(data, catalog=catalog, group_rates=seen.group_rates)


def import_mapping(*, organization: Organization, data, user=None, note: str = "") -> MappingData:
    """Validate the whole file and replace the kontooppsett with it, or change nothing."""
    mapping = validate_mapping_data(organization=organization, data=data)
    save_mapping(
        organization=organization,
        mapping=mapping,
        user=user,
        note=note,
        action=MappingChange.Action.IMPORT,
    )
    return mapping
