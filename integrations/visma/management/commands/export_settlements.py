"""manage.py export_settlements --org SLUG [--dry-run]

The transfer now, in the foreground, through the same service as the scheduled task. One
line per settlement; exit 0 when every due settlement is posted (or was already), 1 when
any needs action or failed (../shared/DESIGN.md 4.4)."""

from django.core.management.base import BaseCommand, CommandError

from backoffice.models import Organization
from integrations.visma import transfer
from integrations.visma.models import ExportRun


class Command(BaseCommand):
    help = "Post every due settlement of an organisation to Visma eAccounting now."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="the organisation's slug")
        parser.add_argument(
            "--dry-run", action="store_true", help="check and build, but send nothing"
        )

    def handle(self, *args, org, dry_run, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organisation with slug {org!r}")
        try:
            result = transfer.export_organization(
                organization=organization, trigger=ExportRun.Trigger.COMMAND, dry_run=dry_run
            )
        except transfer.TransientRunError as exc:
            raise CommandError(f"Visma did not answer now, try again later: {exc}") from exc
        for outcome in result.outcomes:
            self.stdout.write(outcome.line())
        summary = result.summary()
        if not result.outcomes:
            self.stdout.write("Ingen dagsoppgjør å overføre.")
        if dry_run:
            self.stdout.write(
                f"{result.count('would_post')} ville blitt overført, {summary['needs_action']} "
                "trenger handling (tørrkjøring: ingenting sendt)"
            )
        else:
            self.stdout.write(
                "{posted} overført, {already_posted} allerede overført, {needs_action} trenger "
                "handling, {failed} feilet".format(**summary)
            )
            if summary["draft"]:
                self.stdout.write(f"{summary['draft']} lagt som kladd i Visma")
        if result.message:
            self.stdout.write(result.message)
        if not result.ok:
            raise SystemExit(1)
