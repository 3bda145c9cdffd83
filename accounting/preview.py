"""The voucher preview shown on a settlement's page (filled in by the kontooppsett issue)."""


def voucher_preview(*, settlement) -> dict | None:
    """{"voucher": Voucher} when the settlement can be mapped, {"missing": [...]} when not;
    None while there is no kontooppsett at all."""
    return None
