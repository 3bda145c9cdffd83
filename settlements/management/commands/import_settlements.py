"""`manage.py import_settlements --org SLUG --location CODE FILE.json…` (../shared/DESIGN.md 4.4).

The same validation and storage as the API (parse_settlement + ingest_settlement). A file
holds one settlement or a list of them; each is reported on its own line. Exit 1 when any
was invalid or conflicted with one stored before (a corrected version of a stored
settlement that did not balance replaces it, as through the API; one marked
"correction": true is stored as the next version of a balanced one).
"""

from pathlib import Path

from django.core.management.base import BaseCommand

from backoffice.management.stores import store_or_fail
from backoffice.models import Location
from settlements.limits import SettlementRefused
from settlements.parsing import SettlementInvalid, decode_body, parse_settlement
from settlements.services import ingest_settlement
from settlements.transfer import provider


class Command(BaseCommand):
    help = "Imports settlements from JSON files, validated exactly as the API validates them."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organisation slug")
        parser.add_argument("--location", required=True, help="store code")
        parser.add_argument("files", nargs="+", metavar="FILE.json")

    def handle(self, *args, org, location, files, **options):
        store = store_or_fail(org, location)
        counts = {
            "created": 0,
            "unchanged": 0,
            "corrected": 0,
            "correction": 0,
            "conflict": 0,
            "invalid": 0,
        }
        for name in files:
            for label, outcome, detail in self._import_file(store, Path(name)):
                counts[outcome] += 1
                line = f"{label}: {outcome}{detail}"
                if outcome in ("created", "unchanged", "corrected", "correction"):
                    self.stdout.write(line)
                else:
                    self.stdout.write(self.style.ERROR(line))
        # "corrected" and "correction" are named only when they happened, so the usual line
        # stays as it was.
        self.stdout.write(
            ", ".join(
                f"{n} {outcome}"
                for outcome, n in counts.items()
                if n or outcome not in ("corrected", "correction")
            )
        )
        if counts["invalid"] or counts["conflict"]:
            raise SystemExit(1)

    def _import_file(self, store: Location, path: Path):
        try:
            raw = path.read_bytes()
        except OSError as exc:
            yield str(path), "invalid", f"\n  {exc.strerror}"
            return
        try:
            decoded = decode_body(raw)
        except SettlementInvalid as exc:
            yield str(path), "invalid", _errors(exc)
            return
        bodies = decoded if isinstance(decoded, list) else [decoded]
        for index, body in enumerate(bodies):
            label = f"{path}[{index}]" if isinstance(decoded, list) else str(path)
            try:
                data = parse_settlement(body)
            except SettlementInvalid as exc:
                yield label, "invalid", _errors(exc)
                continue
            try:
                result = ingest_settlement(location=store, data=data)
            except SettlementRefused as exc:
                yield label, "invalid", f"\n  {exc.path}: {exc.message}"
                continue
            settlement = result.settlement
            detail = (
                f" {settlement.register_id} Z{settlement.z_number} "
                f"{settlement.business_date.isoformat()} (id {settlement.pk}, {provider().status(settlement).state})"
            )
            if result.outcome == "conflict":
                detail += " - stored before with other content; not overwritten"
            elif result.outcome == "corrected":
                detail += " - replaces the stored version, which did not balance"
            elif result.outcome == "correction":
                detail += (
                    f" - corrects version {settlement.version - 1} (id {settlement.corrects_id}),"
                    " whose voucher is reversed"
                )
            yield label, result.outcome, detail


def _errors(exc: SettlementInvalid) -> str:
    return "".join(f"\n  {e['path'] or '(body)'}: {e['message']}" for e in exc.errors)
