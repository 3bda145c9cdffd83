"""What the management commands share: the store named on the command line."""

from __future__ import annotations

from django.core.management.base import CommandError

from backoffice.models import Location


def store_or_fail(org_slug: str, code: str) -> Location:
    """The store `code` of organisation `org_slug` (with its organisation), or the
    command's error naming both."""
    location = (
        Location.objects.select_related("organization")
        .filter(organization__slug=org_slug, code=code)
        .first()
    )
    if location is None:
        raise CommandError(f"No store {code!r} in organisation {org_slug!r}.")
    return location
