"""`manage.py revoke_api_key ORG_SLUG LOCATION_CODE PREFIX`: a store's key stops working now.

PREFIX is the key's first part as the Butikker page and `issue_api_key` show it (the 8
characters after "bo_"); the whole key works too.
"""

from django.core.management.base import BaseCommand, CommandError

from backoffice.management.stores import store_or_fail
from backoffice.models import ApiKey
from backoffice.services import revoke_api_key


def _prefix(value: str) -> str:
    value = value.strip().rstrip("…")
    if value.startswith("bo_"):
        value = value[3:].split("_", 1)[0]
    return value


class Command(BaseCommand):
    help = "Revokes one API key of a store at once."

    def add_arguments(self, parser):
        parser.add_argument("org_slug")
        parser.add_argument("location_code")
        parser.add_argument("prefix")

    def handle(self, *args, org_slug, location_code, prefix, **options):
        location = store_or_fail(org_slug, location_code)
        keys = list(ApiKey.objects.filter(location=location, prefix=_prefix(prefix)))
        if not keys:
            raise CommandError(f"No key {prefix!r} at {location.name}; nothing changed.")
        if len(keys) > 1:
            raise CommandError(f"{len(keys)} keys start with {prefix!r}; nothing changed.")
        [key] = keys
        if not revoke_api_key(key=key, via="manage.py revoke_api_key"):
            self.stdout.write(f"Key {key.prefix}… of {location.name} was revoked already.")
            return
        left = location.api_keys.filter(revoked_at__isnull=True).count()
        self.stdout.write(f"Revoked key {key.prefix}… of {location.name}; {left} active keys left.")
