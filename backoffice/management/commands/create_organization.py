"""`manage.py create_organization SLUG "Name" --admin-email E [--admin-password P]` (../shared/DESIGN.md 4.4).

The password comes from --admin-password, else the environment variable
BACKOFFICE_ADMIN_PASSWORD, else a prompt (asked twice) when a person is at the terminal:
on the command line it would stay in the shell's history and in `ps` for everyone.
"""

import getpass
import os
import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email, validate_slug
from django.db import transaction

from backoffice.models import Membership, Organization

PASSWORD_VARIABLE = "BACKOFFICE_ADMIN_PASSWORD"


class Command(BaseCommand):
    help = "Creates an organisation and its first admin (username = e-mail)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("name")
        parser.add_argument("--admin-email", required=True)
        parser.add_argument(
            "--admin-password",
            help="avoid: prefer BACKOFFICE_ADMIN_PASSWORD or the prompt (not in shell history)",
        )

    def handle(self, *args, slug, name, admin_email, admin_password, **options):
        admin_password = admin_password or self.password_from_environment_or_prompt()
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

    def password_from_environment_or_prompt(self) -> str:
        password = os.environ.get(PASSWORD_VARIABLE, "")
        if password:
            return password
        if not sys.stdin.isatty():
            raise CommandError(
                f"No password: set {PASSWORD_VARIABLE}, run it at a terminal to be asked, "
                "or give --admin-password."
            )
        first = getpass.getpass("Password for the admin: ")
        if first != getpass.getpass("Password again: "):
            raise CommandError("The two passwords differ; nothing changed.")
        return first
