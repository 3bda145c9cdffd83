"""`make bench`: run every benchmark of issue 7, print the table, write bench/results.json.

    .venv/bin/python bench/run.py [--only 3,5,7]

PostgreSQL and Redis come from DATABASE_URL / REDIS_URL (defaults: a dedicated
`backoffice_bench` database and Redis db 15 on 127.0.0.1); a local service that does not
answer is started the way .ci/run starts it. The bench database is created and migrated
here (bench.settings = the test settings, so the simulator's tables exist too) and emptied
before each benchmark.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/backoffice_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
RESULTS = ROOT / "bench" / "results.json"

# (number, module): the order of the issue; each module has run() -> dict (bench/common.py).
BENCHMARKS = (
    (1, "bench.api_economy"),
    (2, "bench.db_economy"),
    (3, "bench.builder_cost"),
    (4, "bench.quota_use"),
    (5, "bench.ingestion"),
    (6, "bench.dispatcher"),
    (7, "bench.page_cost"),
    (8, "bench.saft_import"),
)
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "")


def _answers(command: list[str]) -> bool:
    return subprocess.run(command, capture_output=True).returncode == 0


def ensure_services(database_url: str, redis_url: str) -> None:
    """Start a local PostgreSQL / Redis that does not answer, as .ci/run does."""
    db, rd = urlsplit(database_url), urlsplit(redis_url)
    pg = ["pg_isready", "-q", "-h", db.hostname or "127.0.0.1", "-p", str(db.port or 5432)]
    redis_ping = ["redis-cli", "-h", rd.hostname or "127.0.0.1", "-p", str(rd.port or 6379), "ping"]
    if not _answers(pg) and (db.hostname or "") in LOCAL_HOSTS:
        version = sorted(os.listdir("/etc/postgresql"))[0]
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=False
        )
    if not _answers(redis_ping) and (rd.hostname or "") in LOCAL_HOSTS:
        subprocess.run(
            ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1"]
            + ["--port", str(rd.port or 6379), "--save", "", "--appendonly", "no"],
            check=False,
        )
    for _ in range(30):
        if _answers(pg) and _answers(redis_ping):
            return
        time.sleep(1)
    if not _answers(pg):
        sys.exit("PostgreSQL is not answering")
    sys.exit("Redis is not answering")


def ensure_database(database_url: str) -> None:
    """CREATE DATABASE for the bench database when it does not exist yet."""
    import psycopg2

    parts = urlsplit(database_url)
    name = unquote(parts.path[1:])
    connection = psycopg2.connect(
        dbname="postgres",
        user=unquote(parts.username or "") or None,
        password=unquote(parts.password or "") or None,
        host=parts.hostname or None,
        port=parts.port or None,
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def clean() -> None:
    """An empty bench database (every table, the simulator's too) and no limiter state."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from bench.views import PING_TABLE

    call_command("flush", interactive=False, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {PING_TABLE}")
    if settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5)
        keys = list(client.scan_iter("ratelimit:*"))
        if keys:
            client.delete(*keys)
        client.close()


def _cell(value, unit: str) -> str:
    if isinstance(value, float):
        text = f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    else:
        text = str(value)
    return f"{text} {unit}".strip() if unit and not isinstance(value, str) else text


def _status(figure: dict, verdict: str) -> str:
    if figure["ok"] is True:
        return "ok"
    if figure["ok"] is False:
        return "GAP"
    return "pending" if verdict == "pending" else ""


def print_table(results: list[dict]) -> None:
    rows = [("#", "figure", "value", "target", "ok/gap")]
    for res in results:
        for fig in res["figures"]:
            rows.append(
                (
                    str(res["id"]),
                    fig["figure"],
                    _cell(fig["value"], fig["unit"]),
                    fig["target"],
                    _status(fig, res["verdict"]),
                )
            )
    widths = [
        min(max(len(row[i]) for row in rows), limit) for i, limit in enumerate((2, 62, 48, 22, 7))
    ]
    line = "  ".join("-" * w for w in widths)
    print(line)
    for index, row in enumerate(rows):
        print(
            "  ".join(
                cell.ljust(w) if len(cell) <= w else cell
                for cell, w in zip(row, widths, strict=True)
            )
        )
        if index == 0:
            print(line)
    print(line)
    for res in results:
        extra = f", {res['seconds']:.1f} s" if "seconds" in res else ""
        print(f"({res['id']}) {res['title']}: {res['verdict']}{extra}")
        for note in res["notes"]:
            print(f"    {note}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated benchmark numbers, e.g. 3,5,7")
    args = parser.parse_args()
    only = {int(n) for n in args.only.split(",")} if args.only else None

    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    database_url, redis_url = os.environ["DATABASE_URL"], os.environ["REDIS_URL"]
    if not database_url.startswith(("postgres://", "postgresql://")):
        sys.exit("bench needs PostgreSQL: DATABASE_URL=postgres://...")

    started = time.perf_counter()
    ensure_services(database_url, redis_url)
    ensure_database(database_url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench.views import CREATE_PING_TABLE

    call_command("migrate", interactive=False, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(CREATE_PING_TABLE)
    print(f"bench database {connection.settings_dict['NAME']} ready, Redis {redis_url}")

    results = []
    for number, module_name in BENCHMARKS:
        if only and number not in only:
            continue
        clean()
        print(f"({number}) {module_name} ...", flush=True)
        begin = time.perf_counter()
        try:
            res = importlib.import_module(module_name).run()
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            res = {
                "id": number,
                "title": module_name,
                "figures": [
                    {
                        "figure": "error",
                        "value": repr(exc)[:200],
                        "unit": "",
                        "target": "",
                        "ok": False,
                    }
                ],
                "verdict": "error",
                "notes": [repr(exc)],
                "context": {},
            }
        res["seconds"] = round(time.perf_counter() - begin, 1)
        results.append(res)
    clean()

    total = time.perf_counter() - started
    print_table(results)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"total {total:.0f} s on {os.cpu_count()} CPUs, load average {load}")
    if only and RESULTS.exists():
        # A partial run (--only) keeps the other benchmarks' last figures in the file.
        earlier = json.loads(RESULTS.read_text(encoding="utf-8")).get("results", [])
        fresh = {r["id"] for r in results}
        results = sorted(
            [r for r in earlier if r["id"] not in fresh] + results, key=lambda r: r["id"]
        )
    report = {
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "total_seconds": round(total, 1),
        "only": sorted(only) if only else None,
        "machine": {"cpus": os.cpu_count(), "load_average": list(os.getloadavg())},
        "results": results,
    }
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
    tmp.replace(RESULTS)
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 1 if any(r["verdict"] == "error" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
