"""(8) SAF-T import (issue 16): a generated file of a year for 5 registers (bench/saft_file.py)
at about 20 MB and about 200 MB, imported through saft.services.import_file (XSD validation
while streaming, the reader, parse_settlement + ingest_settlement into PostgreSQL).

Figures: peak memory of the 200 MB import over that of the 20 MB one (target ≤ 1.2: flat
within 20 %), and the 200 MB import's time over a bare lxml iterparse of the same file
(every element's end event, cleared as it comes; target ≤ 3). Each run is its own process,
so its peak resident size (ru_maxrss, which sees libxml2's memory too) is its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import figure, result

ROOT = Path(__file__).resolve().parent.parent
# Transactions a day per register for a year of 5 registers of about 20 and 200 MB.
SIZES = (("20 MB", 5), ("200 MB", 56))


def _child(*args: str) -> tuple[float, int]:
    """Run `python -m bench.saft_import ARGS` alone; its seconds and peak RSS (KiB)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.saft_import", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"},
    )
    out = proc.stdout.read().decode()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"bench child {args} failed: {out}")
    return float(out.strip().splitlines()[-1]), usage.ru_maxrss


def run() -> dict:
    from backoffice.models import Location, Organization

    from .saft_file import generate

    org, _ = Organization.objects.get_or_create(slug="saft-bench", defaults={"name": "SAF-T AS"})
    measured = {}
    with tempfile.TemporaryDirectory(prefix="saft-bench-") as tmp:
        for label, per_day in SIZES:
            path = generate(Path(tmp) / f"{per_day}.xml", registers=5, days=365, per_day=per_day)
            location = Location.objects.create(organization=org, code=f"s{per_day}", name=label)
            bare, _ = min((_child("bare", str(path)) for _ in range(2)), key=lambda r: r[0])
            read, _ = _child("read", str(path))
            seconds, rss = _child("import", str(path), str(location.pk))
            measured[label] = {
                "bytes": path.stat().st_size,
                "bare": bare,
                "read": read,
                "seconds": seconds,
                "rss_kib": rss,
            }
            path.unlink()
    small, big = measured["20 MB"], measured["200 MB"]
    memory_ratio = big["rss_kib"] / small["rss_kib"]
    time_ratio = big["seconds"] / big["bare"]
    figures = [
        figure(
            "peak memory 200 MB / 20 MB file", round(memory_ratio, 2), "≤ 1.2", memory_ratio <= 1.2
        ),
        figure("import / bare iterparse (200 MB)", round(time_ratio, 2), "≤ 3", time_ratio <= 3),
    ]
    for label, m in measured.items():
        figures.append(figure(f"{label} file", round(m["bytes"] / 1e6, 1), unit="MB"))
        figures.append(figure(f"{label}: import", round(m["seconds"], 1), unit="s"))
        figures.append(figure(f"{label}: bare iterparse", round(m["bare"], 1), unit="s"))
        figures.append(
            figure(f"{label}: validate + read only (no storing)", round(m["read"], 1), unit="s")
        )
        figures.append(figure(f"{label}: peak RSS", round(m["rss_kib"] / 1024), unit="MiB"))
    return result(
        8,
        "SAF-T import: flat memory, time against a bare iterparse",
        figures,
        notes=[
            "5 registers x 365 Z reports per file; each file imported once into a new store",
            "import = XSD validation and reading, then 1 825 settlements through "
            "parse_settlement + ingest_settlement (the same for both sizes)",
        ],
        context=measured,
    )


def _bare(path: str) -> None:
    from lxml import etree

    start = time.perf_counter()
    with open(path, "rb") as handle:
        for _event, el in etree.iterparse(handle, events=("end",)):
            el.clear()
    print(time.perf_counter() - start)


def _read(path: str) -> None:
    import django

    django.setup()
    from django.conf import settings

    from saft.reader import load_schema, read_saft

    schema = load_schema(settings.SAFT_XSD_PATH)
    start = time.perf_counter()
    read_saft(Path(path), schema=schema)
    print(time.perf_counter() - start)


def _import(path: str, location_id: str) -> None:
    import django

    django.setup()
    from backoffice.models import Location
    from saft.services import import_file

    location = Location.objects.get(pk=location_id)
    start = time.perf_counter()
    report = import_file(location=location, path=Path(path))
    elapsed = time.perf_counter() - start
    if report.errors or not all(line.outcome == "stored" for line in report.lines):
        raise SystemExit(f"unexpected report: {report.errors or report.lines[:3]}")
    print(len(report.lines))
    print(elapsed)


if __name__ == "__main__":
    kind, *rest = sys.argv[1:]
    if kind == "bare":
        _bare(*rest)
    elif kind == "read":
        _read(*rest)
    else:
        _import(*rest)
