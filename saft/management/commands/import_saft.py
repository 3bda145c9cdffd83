"""`manage.py import_saft --org SLUG --location CODE FILE.xml…` (DESIGN.md 4.4, 4.6).

The same code path as the page (saft.services.import_file): one line per Z report, then
the gaps in each register's Z-numbers. Exit 0 when each Z report is stored or already
there; 1 when any was refused, conflicts or needs action, or a file was refused whole.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from backoffice.management.stores import store_or_fail
from saft.reader import SaftError
from saft.services import OK_OUTCOMES, import_file

LABELS = {
    "stored": "stored",
    "corrected": "stored (replaces the version that needed action)",
    "unchanged": "already there",
    "conflict": "conflict",
    "refused": "refused",
    "needs_action": "trenger handling",
}


class Command(BaseCommand):
    help = "Imports SAF-T Cash Register files (Skatteetaten's XML), one settlement per Z report."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organisation slug")
        parser.add_argument("--location", required=True, help="store code")
        parser.add_argument("files", nargs="+", metavar="FILE.xml")

    def handle(self, *args, org, location, files, **options):
        store = store_or_fail(org, location)
        failed = False
        counts: dict[str, int] = {}
        for name in files:
            try:
                report = import_file(location=store, path=Path(name), name=name)
            except SaftError as exc:
                raise CommandError(str(exc)) from None
            if report.errors:
                failed = True
                counts["refused file"] = counts.get("refused file", 0) + 1
                self.stdout.write(self.style.ERROR(f"{name}: refused, nothing stored"))
                for e in report.errors:
                    where = f"line {e['line']}" if e.get("line") else "line ?"
                    self.stdout.write(f"  {where} <{e['element']}>: {e['message']}")
                continue
            if not report.lines:
                self.stdout.write(f"{name}: no Z reports in the file")
            for line in report.lines:
                counts[line.outcome] = counts.get(line.outcome, 0) + 1
                text = (
                    f"{name}: {line.register_id} Z{line.z_number} {line.business_date}: "
                    f"{LABELS[line.outcome]}"
                )
                if line.settlement_id:
                    text += f" (id {line.settlement_id})"
                if line.reason:
                    text += f" - {line.reason}"
                if line.outcome in OK_OUTCOMES:
                    self.stdout.write(text)
                else:
                    failed = True
                    self.stdout.write(self.style.ERROR(text))
            for gap in report.gaps:
                self.stdout.write(self.style.WARNING(f"{name}: {gap}"))
        self.stdout.write(", ".join(f"{n} {LABELS.get(k, k)}" for k, n in counts.items()) or "0")
        if failed:
            raise SystemExit(1)
