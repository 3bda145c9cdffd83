"""manage.py sandbox_setup [--client-id X --client-secret Y --redirect-uri U ...]

Creates the simulated companies and users (idempotent) and registers a client with the
simulated identity server, printing its id and secret. Without options the client is the
settings' VISMA_CLIENT_ID / VISMA_CLIENT_SECRET / VISMA_REDIRECT_URI where set, else
"backoffice-sandbox" with a new secret (kept on later runs) and the dev server's callbacks.
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from visma_sandbox import chart, services


class Command(BaseCommand):
    help = "Set up the Visma sandbox simulator: demo companies, users and a client."

    def add_arguments(self, parser):
        parser.add_argument("--client-id", default="")
        parser.add_argument("--client-secret", default="")
        parser.add_argument(
            "--redirect-uri",
            action="append",
            default=[],
            help="exact redirect URI (repeat for several); replaces the client's list",
        )
        parser.add_argument("--name", default="Backoffice", help="shown on the consent page")
        parser.add_argument(
            "--token-lifetime", type=int, default=None, help="access token seconds (0: default)"
        )

    def handle(self, *args, **options):
        companies = services.setup_demo()
        client_id = options["client_id"] or settings.VISMA_CLIENT_ID or services.DEFAULT_CLIENT_ID
        secret = options["client_secret"] or (
            settings.VISMA_CLIENT_SECRET if client_id == settings.VISMA_CLIENT_ID else ""
        )
        redirect_uris = options["redirect_uri"] or (
            [settings.VISMA_REDIRECT_URI] if settings.VISMA_REDIRECT_URI else []
        )
        client, secret = services.register_client(
            client_id=client_id,
            client_secret=secret or None,
            redirect_uris=redirect_uris or None,
            name=options["name"],
            access_token_lifetime=options["token_lifetime"],
        )
        for company in companies:
            self.stdout.write(f"company: {company.name} ({company.org_number})")
        self.stdout.write(f"user: {chart.DEMO_USER_EMAIL} / {chart.DEMO_USER_PASSWORD}")
        for uri in client.redirect_uri_list:
            self.stdout.write(f"redirect_uri: {uri}")
        self.stdout.write(f"client_id: {client.client_id}")
        self.stdout.write(f"client_secret: {secret}")
