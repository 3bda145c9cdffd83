"""The voucher preview shown on a settlement's page: the rows the transfer would post, or
what must be mapped first, or why the settlement cannot be posted at all."""

from .builder import MappingIncomplete, UnbalancedSettlement, build_voucher
from .services import load_mapping


def voucher_preview(*, settlement) -> dict:
    """For a `settlements.models.Settlement`: {"voucher": Voucher}, or {"missing": [messages],
    "missing_items": [MissingMapping]}, or {"unbalanced": difference}. Render it with
    `{% include "accounting/_voucher_preview.html" with preview=... %}`."""
    try:
        voucher = build_voucher(settlement.as_data(), load_mapping(settlement.organization_id))
    except UnbalancedSettlement as exc:
        return {"unbalanced": exc.difference}
    except MappingIncomplete as exc:
        return {"missing": exc.messages, "missing_items": exc.items}
    return {"voucher": voucher}
