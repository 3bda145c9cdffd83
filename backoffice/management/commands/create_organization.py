"""`manage.py create_organization SLUG "Name" --admin-email E --admin-password P` (DESIGN.md 4.4)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email, validate_slug
from django.db import transaction

from backoffice.models import Membership, Organization


class Command(BaseCommand):
    help = "Creates an organisation and its first admin (username = e-mail)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("name")
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-password", required=True)

    def handle(self, *args, slug, name, admin_email, admin_password, **options):
        try:
            validate_slug(slug)
            validate_email(admin_email)
            # With the user-to-be, so the similarity check compares it with the e-mail.
            validate_password(
                admin_password, user=get_user_model()(username=admin_email, email=admin_email)
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        if not name.strip():
            raise CommandError("The name cannot be empty.")
        # Refuse rather than change anything that exists: running it twice is harmless.
        if Organization.objects.filter(slug=slug).exists():
            raise CommandError(f"Organisation {slug!r} exists already; nothing changed.")
        User = get_user_model()
        if User.objects.filter(username=admin_email).exists():
            raise CommandError(f"User {admin_email!r} exists already; nothing changed.")
        with transaction.atomic():
            org = Organization.objects.create(slug=slug, name=name.strip())
            user = User.objects.create_user(admin_email, admin_email, admin_password)
            Membership.objects.create(user=user, organization=org, role=Membership.Role.ADMIN)
        self.stdout.write(
            f"Created organisation {org.slug} ({org.name}) with admin {user.username}"
        )
