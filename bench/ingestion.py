"""(5) Ingestion: settlements accepted per second through POST /api/v1/settlements under
gunicorn (2 sync workers, several concurrent clients, distinct Z-numbers), as a ratio to a
trivial endpoint of the same stack that does one INSERT (target ≥ 0.5).

The baseline endpoint lives only in bench/ (bench/urls.py, served by bench/wsgi_bench.py):
same gunicorn, same middleware, same PostgreSQL, the same body, but it only stores the body
in one INSERT. Both are measured in alternating phases, so a neighbour's load hits both
alike; the ratio is the figure, the rates are context. gunicorn runs with the production
settings that matter here (DEBUG off, DB_CONN_MAX_AGE=60 as in .env.example).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import requests
from django.conf import settings
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext

from .common import figure, result
from .data import business_day, issue_key, make_org

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("BENCH_INGEST_PORT", "8106"))
BASE = f"http://127.0.0.1:{PORT}"
WORKERS = 2
CLIENTS = 4
ROUNDS = 3
PHASE_SECONDS = 4.0
WARMUP_REQUESTS = 20
TARGET_RATIO = 0.5
TIMEOUT = (5, 30)
INGEST = "/api/v1/settlements"
BASELINE = "/bench/insert-one"
WORKED_EXAMPLE = ROOT.parent / "shared" / "domain" / "worked-example.json"


def _body_factory():
    """Bodies of the worked example's settlement, each with the next Z-number."""
    settlement = json.loads(WORKED_EXAMPLE.read_text(encoding="utf-8"))["settlement"]
    day = business_day().isoformat()
    settlement["business_date"] = day
    settlement["opened_at"] = f"{day}T09:58:12+01:00"
    settlement["closed_at"] = f"{day}T21:04:55+01:00"
    lock = threading.Lock()
    counter = iter(range(1, 10**9))

    def body() -> bytes:
        with lock:
            settlement["z_number"] = next(counter)
            return json.dumps(settlement).encode()

    return body


def _server_env() -> dict:
    from cryptography.fernet import Fernet

    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        VISMA_SANDBOX_FORCE="1",
        SECURE_SSL_REDIRECT="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DB_CONN_MAX_AGE="60",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
        # whitenoise warns that staticfiles/ (collectstatic) is missing: no static here.
        PYTHONWARNINGS="ignore:No directory at",
    )
    return env


def _start_server() -> subprocess.Popen:
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    process = subprocess.Popen(
        [
            gunicorn,
            "bench.wsgi_bench:application",
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{PORT}",
            "--chdir",
            str(ROOT),
            "--log-level",
            "warning",
        ],
        env=_server_env(),
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            if requests.get(f"{BASE}/healthz", timeout=2).status_code == 200:
                return process
        except requests.RequestException:
            pass
        time.sleep(0.3)
    _stop_server(process)
    raise RuntimeError(f"gunicorn did not answer on {BASE}/healthz within 30 s")


def _stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # the master stops its own workers
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _phase(path: str, headers: dict, body, seconds: float) -> tuple[Counter, float]:
    """CLIENTS threads POST to path until the deadline; status codes counted."""
    statuses: Counter = Counter()
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client() -> None:
        mine: Counter = Counter()
        with requests.Session() as session:
            while time.perf_counter() < deadline:
                try:
                    response = session.post(
                        BASE + path, data=body(), headers=headers, timeout=TIMEOUT
                    )
                    mine[response.status_code] += 1
                except requests.RequestException as exc:
                    mine[type(exc).__name__] += 1
        with lock:
            statuses.update(mine)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses, time.perf_counter() - start


def _queries_per_ingestion(raw_key: str, body) -> list[str]:
    """In-process, the same view: the statements one accepted settlement costs."""
    client = Client(HTTP_HOST="localhost")
    headers = {"Authorization": f"Bearer {raw_key}"}
    client.post(INGEST, data=body(), content_type="application/json", headers=headers)
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            INGEST, data=body(), content_type="application/json", headers=headers
        )
    if response.status_code != 201:
        raise RuntimeError(f"in-process POST {INGEST}: {response.status_code}")
    return [q["sql"][:90] for q in queries.captured_queries]


def run() -> dict:
    _org, stores = make_org("benk-inntak")
    raw_key = issue_key(stores[0])
    body = _body_factory()
    json_headers = {"Content-Type": "application/json"}
    ingest_headers = {**json_headers, "Authorization": f"Bearer {raw_key}"}

    server = _start_server()
    try:
        for path, headers in ((BASELINE, json_headers), (INGEST, ingest_headers)):
            with requests.Session() as session:
                for _ in range(WARMUP_REQUESTS):
                    session.post(BASE + path, data=body(), headers=headers, timeout=TIMEOUT)
        totals = {BASELINE: Counter(), INGEST: Counter()}
        seconds = {BASELINE: 0.0, INGEST: 0.0}
        for _round in range(ROUNDS):
            for path, headers in ((BASELINE, json_headers), (INGEST, ingest_headers)):
                statuses, elapsed = _phase(path, headers, body, PHASE_SECONDS)
                totals[path].update(statuses)
                seconds[path] += elapsed
    finally:
        _stop_server(server)

    statements = _queries_per_ingestion(raw_key, body)
    baseline_rate = totals[BASELINE][201] / seconds[BASELINE]
    ingest_rate = totals[INGEST][201] / seconds[INGEST]
    ratio = ingest_rate / baseline_rate if baseline_rate else 0.0
    failures = {
        path: {str(k): v for k, v in counts.items() if k != 201} for path, counts in totals.items()
    }
    failed = sum(sum(f.values()) for f in failures.values())
    figures = [
        figure(
            "accepted/s POST /api/v1/settlements ÷ one-INSERT endpoint",
            round(ratio, 2),
            f"≥ {TARGET_RATIO}",
            ratio >= TARGET_RATIO,
        ),
        figure(
            f"settlements accepted/s ({CLIENTS} clients, gunicorn -w {WORKERS})",
            round(ingest_rate, 1),
            unit="/s",
        ),
        figure("one-INSERT endpoint requests/s (same stack)", round(baseline_rate, 1), unit="/s"),
        figure("answers other than 201 (both endpoints)", failed, "= 0", failed == 0),
        figure(
            "SQL statements per accepted settlement, incl. COMMIT (baseline: 1)", len(statements)
        ),
    ]
    notes = []
    if failed:
        notes.append(f"non-201 answers: {failures}")
    return result(
        5,
        "Ingestion",
        figures,
        notes=notes,
        context={
            "accepted": totals[INGEST][201],
            "baseline_inserts": totals[BASELINE][201],
            "seconds": seconds,
            "clients": CLIENTS,
            "workers": WORKERS,
            "database": settings.DATABASES["default"]["NAME"],
            "statements_per_settlement": statements,
        },
    )
