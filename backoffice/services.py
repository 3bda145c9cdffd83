"""Business actions of the tenancy core: API keys issued and revoked (issue 17, item 4),
each with its line in the audit log."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from . import audit
from .models import ApiKey, Location


@sensitive_variables("raw")
def issue_api_key(*, location: Location, actor=None, via: str = "") -> tuple[ApiKey, str]:
    """A new key beside the store's others (a till switches over, then the old one is
    revoked). Returns the key and its text, which is shown once and never stored."""
    with transaction.atomic():
        key, raw = ApiKey.issue(location)
        audit.record(
            organization=location.organization_id,
            action=audit.Action.API_KEY_ISSUED,
            actor=actor,
            via=via,
            details=[f"{location.name} ({location.code}): {key.prefix}…"],
        )
    return key, raw


def revoke_api_key(*, key: ApiKey, actor=None, via: str = "") -> bool:
    """Revoke a key at once; False when it was revoked already (nothing changes)."""
    with transaction.atomic():
        changed = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if changed:
            location = key.location
            audit.record(
                organization=location.organization_id,
                action=audit.Action.API_KEY_REVOKED,
                actor=actor,
                via=via,
                details=[f"{location.name} ({location.code}): {key.prefix}…"],
            )
    key.refresh_from_db(fields=["revoked_at"])
    return bool(changed)
