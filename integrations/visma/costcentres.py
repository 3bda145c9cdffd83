"""Cost centre per store (issue 18, 5).

Where the company uses cost centres (companysettings UsesCostCenter), the chart refresh
caches its items (GET /costcenters, VismaCostCenterItem), the integration page lets the
admin pick one item per store (StoreCostCenter), and every row of that store's vouchers
carries it as CostCenterItemId1 (client.voucher_body; the voucher builder stays pure and
knows nothing of it). Pre-flight refuses an inactive or vanished item with a sentence
(preflight.cost_center_problem). A company without cost centres gets no section on the
page and no field on its rows.

https://eaccountingapi.vismaonline.com/swagger/ui/index#!/CostCenters/CostCenters_Get
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django import forms
from django.db import transaction
from django.utils.translation import gettext as _

from backoffice import audit
from backoffice.models import Location, Organization
from settlements.models import Settlement

from . import client
from .models import StoreCostCenter, VismaConnection, VismaCostCenterItem
from .preflight import Company


def item_for(settlement: Settlement, company: Company) -> str | None:
    """The cost centre item for every row of the settlement's voucher, or None (the company
    does not use cost centres, or no item is chosen for its store)."""
    if not company.uses_cost_center:
        return None
    return company.store_cost_centers.get(settlement.location_id) or None


def replace_cache(organization: Organization, items: list[client.CostCenterItem]) -> None:
    """The company's cost centre items as the chart refresh read them (in its transaction).
    The stores' choices are kept by Visma's id: an item that is gone is refused by
    pre-flight, not silently dropped."""
    VismaCostCenterItem.objects.filter(organization=organization).delete()
    VismaCostCenterItem.objects.bulk_create(
        VismaCostCenterItem(
            organization=organization,
            visma_id=item.id,
            name=item.name[:50],
            short_name=item.short_name[:9],
            is_active=item.is_active and item.cost_center_active,
            cost_center_id=item.cost_center_id,
            cost_center_name=item.cost_center_name[:50],
        )
        for item in {item.id: item for item in items}.values()
    )


def uses_cost_centers(organization: Organization) -> bool:
    return VismaConnection.objects.filter(
        organization=organization,
        status=VismaConnection.Status.CONNECTED,
        uses_cost_center=True,
    ).exists()


# ------------------------------------------------------------------------------ the page


def _label(item: VismaCostCenterItem) -> str:
    short = f" ({item.short_name})" if item.short_name else ""
    return f"{item.cost_center_name}: {item.name}{short}"


class CostCentreForm(forms.Form):
    """One choice per store: an active item of the company's cost centres, or none. A store
    whose chosen item is inactive (or gone) shows it as chosen, marked, until changed."""

    def __init__(self, *args, organization: Organization, editable: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        items = list(VismaCostCenterItem.objects.filter(organization=organization))
        by_id = {str(item.visma_id): item for item in items}
        active = [(str(item.visma_id), _label(item)) for item in items if item.is_active]
        chosen = {
            location_id: str(item_id)
            for location_id, item_id in StoreCostCenter.objects.filter(
                location__organization=organization
            ).values_list("location_id", "item_visma_id")
        }
        self.stores = list(Location.objects.filter(organization=organization).order_by("name"))
        for store in self.stores:
            choices = [("", _("Ingen kostnadssted"))] + active
            current = chosen.get(store.pk, "")
            if current and current not in dict(active):
                item = by_id.get(current)
                shown = _label(item) if item else current
                # Shown so the admin sees what is wrong; not accepted when saved.
                choices.append((current, _("%(item)s (ikke aktivt i Visma)") % {"item": shown}))
            refused = self.refusal(store)
            self.fields[self.key(store)] = forms.ChoiceField(
                label=store.name,
                choices=choices,
                required=False,
                initial=current,
                disabled=not editable,
                # Django formats it with the value: any "%" of the store's name is kept.
                error_messages={"invalid_choice": refused.replace("%", "%%")},
            )
        self._active = {value for value, _label_ in active}

    @staticmethod
    def key(store: Location) -> str:
        return f"store_{store.pk}"

    @staticmethod
    def refusal(store: Location) -> str:
        return _("Kostnadsstedet er ikke aktivt i Visma; velg et annet for butikken %(store)s.") % {
            "store": store.name
        }

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        for store in self.stores:
            value = cleaned.get(self.key(store)) or ""
            if value and value not in self._active:
                self.add_error(self.key(store), self.refusal(store))
        return cleaned

    def rows(self) -> list[tuple[Location, forms.BoundField]]:
        return [(store, self[self.key(store)]) for store in self.stores]


@dataclass
class Section:
    form: CostCentreForm
    items: int


def section(organization: Organization, *, editable: bool, data=None) -> Section | None:
    """The integration page's section, only when the company uses cost centres."""
    if not uses_cost_centers(organization):
        return None
    form = CostCentreForm(data, organization=organization, editable=editable)
    return Section(
        form=form,
        items=VismaCostCenterItem.objects.filter(organization=organization).count(),
    )


def save_choices(organization: Organization, form: CostCentreForm, *, user) -> int:
    """Store the admin's choice per store (a valid `form`); returns how many changed. The
    audit log says which store got which item."""
    items = {
        str(item.visma_id): item
        for item in VismaCostCenterItem.objects.filter(organization=organization)
    }
    changes = []
    with transaction.atomic():
        existing = {
            row.location_id: row
            for row in StoreCostCenter.objects.select_for_update().filter(
                location__organization=organization
            )
        }
        for store in form.stores:
            value = form.cleaned_data.get(form.key(store)) or ""
            row = existing.get(store.pk)
            before = str(row.item_visma_id) if row else ""
            if value == before:
                continue
            if value:
                StoreCostCenter.objects.update_or_create(
                    location=store,
                    defaults={"item_visma_id": uuid.UUID(value), "updated_by": user},
                )
            elif row is not None:
                row.delete()
            old = _label(items[before]) if before in items else (before or "–")
            new = _label(items[value]) if value in items else "–"
            changes.append(f"{store.name}: {old} → {new}")
        if changes:
            audit.record(
                organization=organization,
                action=audit.Action.COST_CENTRES,
                actor=user,
                details=changes,
            )
    return len(changes)
