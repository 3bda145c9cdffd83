"""`manage.py issue_api_key ORG_SLUG LOCATION_CODE`: one more API key for a store.

The store's other keys keep working, so a till switches to the new key without downtime;
then `revoke_api_key` retires the old one. The key is shown once, alone on the last line.
"""

from django.core.management.base import BaseCommand

from backoffice.management.stores import store_or_fail
from backoffice.services import issue_api_key


class Command(BaseCommand):
    help = "Issues another API key for a store; prints it once, alone on the last line."

    def add_arguments(self, parser):
        parser.add_argument("org_slug")
        parser.add_argument("location_code")

    def handle(self, *args, org_slug, location_code, **options):
        location = store_or_fail(org_slug, location_code)
        key, raw = issue_api_key(location=location, via="manage.py issue_api_key")
        active = location.api_keys.filter(revoked_at__isnull=True).count()
        self.stdout.write(
            f"New key {key.prefix}… for {location.name} ({active} active keys; revoke the old "
            f"one with revoke_api_key {org_slug} {location_code} PREFIX once the till uses this)."
        )
        self.stdout.write("API key (shown once, store it in the till now):")
        self.stdout.write(raw)
