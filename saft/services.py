"""Importing SAF-T Cash Register files (DESIGN.md 4.6): one report line per Z report.

`import_file` is the one code path of the page (through the Celery task) and of
`manage.py import_saft`: validate and read the file (saft.reader), then hand each Z
report's settlement JSON to the entry the API and import_settlements use,
`settlements.parsing.parse_settlement` and `settlements.services.ingest_settlement`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from backoffice.models import Location
from settlements.parsing import SettlementInvalid, parse_settlement
from settlements.services import ingest_settlement
from settlements.transfer import NEEDS_ACTION, provider, untouched_status

from .models import SaftCode, SaftImport
from .reader import Code, SaftError, SaftInvalid, load_schema, read_saft

logger = logging.getLogger(__name__)

# Outcomes of one Z report; "stored" and "unchanged" are fine, the rest need a look.
OK_OUTCOMES = ("stored", "corrected", "unchanged")
BATCH = 200  # Z reports stored per transaction


@dataclass
class Line:
    register_id: str
    z_number: str
    business_date: str
    outcome: str  # stored | corrected | unchanged | conflict | refused | needs_action
    reason: str = ""
    settlement_id: int | None = None
    file_line: int | None = None


@dataclass
class FileReport:
    name: str
    errors: list[dict] = field(default_factory=list)  # the file was refused whole
    lines: list[Line] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and all(line.outcome in OK_OUTCOMES for line in self.lines)

    def as_json(self) -> dict:
        return {
            "name": self.name,
            "errors": self.errors,
            "lines": [asdict(line) for line in self.lines],
            "gaps": self.gaps,
        }


def import_file(
    *,
    location: Location,
    path: Path,
    name: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> FileReport:
    """Validate and read one SAF-T file and store its Z reports for the store.

    Raises SaftError when the XSD is missing (a setup fault, not the file's)."""
    report = FileReport(name=name or str(path))
    schema = load_schema(settings.SAFT_XSD_PATH)
    # The sentences stored with a settlement are Norwegian whoever reads them.
    with translation.override("nb"):
        try:
            result = read_saft(Path(path), schema=schema, progress=progress)
        except SaftInvalid as exc:
            report.errors = exc.errors
            return report
        except OSError as exc:
            report.errors = [{"line": None, "element": "", "message": exc.strerror or str(exc)}]
            return report
        report.gaps = result.gaps
        _record_codes(location.organization_id, result.codes)
        # In batches of one transaction each (every settlement its own savepoint inside,
        # as ingest_settlement nests): a commit per Z report would cost a disk flush each.
        for start in range(0, len(result.reports), BATCH):
            with transaction.atomic():
                for z in result.reports[start : start + BATCH]:
                    report.lines.append(_store(location, z))
    return report


def _record_codes(organization_id: int, codes: list[Code]) -> None:
    for code in codes:
        SaftCode.objects.update_or_create(
            organization_id=organization_id,
            kind=code.kind,
            key=code.key[:100],
            defaults={
                "till_code": code.till_code[:100],
                "description": code.description[:200],
                "standard_code": code.standard_code[:10],
            },
        )


def _store(location: Location, z) -> Line:
    line = Line(z.register_id, z.report_id, z.business_date, "refused", file_line=z.line)
    if z.refused:
        line.reason = z.refused
        return line
    try:
        data = parse_settlement(z.body)
    except SettlementInvalid as exc:
        line.reason = "; ".join(f"{e['path'] or '(body)'}: {e['message']}" for e in exc.errors)
        return line
    result = ingest_settlement(location=location, data=data, checks=z.checks)
    settlement = result.settlement
    line.settlement_id = settlement.pk
    if result.outcome == "conflict":
        line.outcome = "conflict"
        line.reason = _("lagret før med annet innhold; ikke overskrevet")
        return line
    # Stored (or replaced) just now, it has no transfer yet: its own balance and hold say
    # whether it waits. One stored before: its transfer says (settlements.transfer, the
    # seam; never the integration itself).
    fresh = result.outcome in ("created", "corrected")
    status = untouched_status(settlement) if fresh else provider().status(settlement)
    if status.state == NEEDS_ACTION:
        line.outcome = "needs_action"
        line.reason = status.reason
    else:
        line.outcome = {"created": "stored", "corrected": "corrected"}.get(
            result.outcome, "unchanged"
        )
    return line


# ------------------------------------------------------------------ uploads (the page)


def upload_dir() -> Path:
    path = Path(settings.SAFT_UPLOAD_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def start_import(*, location: Location, user, uploads) -> SaftImport:
    """Write the uploaded files to disk in chunks and queue their import."""
    from .tasks import run_saft_import

    saft_import = SaftImport.objects.create(
        organization_id=location.organization_id, location=location, created_by=user
    )
    files = []
    for index, upload in enumerate(uploads):
        target = upload_dir() / f"{saft_import.pk}-{index}.xml"
        with target.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        files.append(
            {"name": Path(upload.name).name[:200], "path": str(target), "size": upload.size}
        )
    saft_import.files = files
    saft_import.bytes_total = sum(f["size"] for f in files)
    saft_import.save(update_fields=["files", "bytes_total"])
    transaction.on_commit(lambda: run_saft_import.delay(saft_import.pk))
    return saft_import


def run_import(import_id: int) -> None:
    """The worker's part: claim the import (once), read each file, record the report."""
    claimed = SaftImport.objects.filter(pk=import_id, status=SaftImport.Status.QUEUED).update(
        status=SaftImport.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return
    saft_import = SaftImport.objects.select_related("location").get(pk=import_id)
    done_before = 0
    reports = []
    try:
        for entry in saft_import.files:

            def progress(position: int, base=done_before) -> None:
                SaftImport.objects.filter(pk=import_id).update(bytes_done=base + position)

            report = import_file(
                location=saft_import.location,
                path=Path(entry["path"]),
                name=entry["name"],
                progress=progress,
            )
            reports.append(report.as_json())
            done_before += entry["size"]
            SaftImport.objects.filter(pk=import_id).update(
                bytes_done=done_before, report={"files": reports}
            )
        status, error = SaftImport.Status.DONE, ""
    except SaftError as exc:
        status, error = SaftImport.Status.FAILED, str(exc)
    except Exception:
        logger.exception("SAF-T import %s broke off", import_id)
        status, error = SaftImport.Status.FAILED, "Importen stoppet på grunn av en feil."
    finally:
        for entry in saft_import.files:
            Path(entry["path"]).unlink(missing_ok=True)
    SaftImport.objects.filter(pk=import_id).update(
        status=status, error=error, report={"files": reports}, finished_at=timezone.now()
    )
