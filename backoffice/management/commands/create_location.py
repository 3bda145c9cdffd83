"""`manage.py create_location ORG_SLUG CODE "Name"`: a store and its first API key (../shared/DESIGN.md 4.4).

The key is shown once, alone on the last line (scripts take `| tail -n1`); only its hash is
stored.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_slug
from django.db import transaction

from backoffice.models import Location, Organization
from backoffice.services import issue_api_key


class Command(BaseCommand):
    help = "Creates a store (location) and prints its new API key once, alone on the last line."

    def add_arguments(self, parser):
        parser.add_argument("org_slug")
        parser.add_argument("code")
        parser.add_argument("name")

    def handle(self, *args, org_slug, code, name, **options):
        org = Organization.objects.filter(slug=org_slug).first()
        if org is None:
            raise CommandError(f"No organisation {org_slug!r}.")
        try:
            validate_slug(code)
        except ValidationError as exc:
            raise CommandError(f"CODE: {' '.join(exc.messages)}") from None
        if not name.strip():
            raise CommandError("The name cannot be empty.")
        if Location.objects.filter(organization=org, code=code).exists():
            raise CommandError(f"Store {code!r} exists already in {org_slug}; nothing changed.")
        with transaction.atomic():
            location = Location.objects.create(organization=org, code=code, name=name.strip())
            _key, raw = issue_api_key(location=location, via="manage.py create_location")
        self.stdout.write(f"Created store {location.code} ({location.name}) in {org.name}.")
        self.stdout.write("API key (shown once, store it in the till now):")
        self.stdout.write(raw)
