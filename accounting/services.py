"""Business actions on the kontooppsett: load, save (with its change log), import, export,
"Bruk standard kontoplan"."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import translation

from backoffice import audit
from backoffice.models import Organization
from settlements.models import SeenName

from .catalog import company_catalog
from .mapping import (
    MappingData,
    diff,
    mapping_from_json,
    mapping_from_stored,
    mapping_to_json,
)
from .models import AccountMapping, MappingChange
from .signals import mapping_saved


def load_mapping(organization: Organization | int) -> MappingData:
    """The organisation's kontooppsett as plain values (one query). Takes the organisation
    or its id."""
    stored = (
        AccountMapping.objects.filter(organization=organization)
        .values_list("mapping", flat=True)
        .first()
    )
    return mapping_from_stored(stored or {})


def export_mapping(*, organization: Organization) -> dict:
    return mapping_to_json(load_mapping(organization))


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
        row, _created = AccountMapping.objects.select_for_update().get_or_create(
            organization=organization
        )
        changes = diff(mapping_from_stored(row.mapping), mapping)
        change = None
        if changes:
            row.mapping = mapping_to_json(mapping)
            row.save(update_fields=["mapping", "updated_at"])
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
