"""manage.py account_mapping export|import --org SLUG FILE.json (../shared/DESIGN.md 4.4).

The file holds the kontooppsett in the form of `mapping` in the worked example. Import
validates everything first and writes all or nothing; every error is printed with its path.
A file that is a whole worked example (with a "mapping" key) is accepted too.
"""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounting.mapping import MappingValidationError
from accounting.services import export_mapping, import_mapping
from backoffice.models import Organization


class Command(BaseCommand):
    help = "Eksporter eller importer kontooppsettet til en organisasjon som JSON."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["export", "import"])
        parser.add_argument("--org", required=True, help="organisasjonens slug")
        parser.add_argument("file", help="JSON-fil (export: - for standard ut)")

    def handle(self, *args, action, org, file, **options):
        try:
            organization = Organization.objects.get(slug=org)
        except Organization.DoesNotExist as exc:
            raise CommandError(f"Fant ingen organisasjon med slug «{org}».") from exc
        if action == "export":
            self.export(organization, file)
        else:
            self.import_(organization, file)

    def export(self, organization, file):
        text = json.dumps(export_mapping(organization=organization), ensure_ascii=False, indent=2)
        if file == "-":
            self.stdout.write(text)
            return
        Path(file).write_text(text + "\n", encoding="utf-8")
        self.stdout.write(f"Kontooppsettet til {organization.slug} er skrevet til {file}.")

    def import_(self, organization, file):
        try:
            raw = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Kan ikke lese {file}: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{file}: ikke gyldig UTF-8 (byte {exc.start})") from exc
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise CommandError(
                f"{file}: ugyldig JSON (linje {exc.lineno}, kolonne {exc.colno}): {exc.msg}"
            ) from exc
        except (ValueError, RecursionError) as exc:
            # An integer of over 4300 digits, or nesting deeper than Python recurses.
            raise CommandError(f"{file}: ugyldig JSON: {exc}") from exc
        if isinstance(data, dict) and "mapping" in data and "sales_by_vat_rate" not in data:
            data = data["mapping"]
        try:
            import_mapping(
                organization=organization,
                data=data,
                note=f"{Path(file).name} (manage.py account_mapping)",
            )
        except MappingValidationError as exc:
            for error in exc.errors:
                self.stderr.write(f"{error.path_text or '(roten)'}: {error.message}")
            raise CommandError(
                f"Kontooppsettet ble ikke importert: {len(exc.errors)} feil. Ingenting er endret."
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(f"Kontooppsettet til {organization.slug} er importert fra {file}.")
        )
