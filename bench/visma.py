"""Shared by (1) and (4): the Visma simulator under gunicorn (bench settings) and
organisations connected to it through the production OAuth code, each with due
settlements, plus a count of the requests the production client sends."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import requests
from django.test.utils import override_settings

from integrations.visma.models import SettlementExport

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("BENCH_VISMA_PORT", "8107"))
BASE = f"http://127.0.0.1:{PORT}"
COMPANY = "Fjordkafé AS"


def visma_settings() -> dict[str, str]:
    from tests.browser.worker import visma_env

    return {k: v for k, v in visma_env(BASE).items() if k != "VISMA_SANDBOX"}


@contextmanager
def simulator(workers: int = 2):
    """gunicorn serving the simulator (bench.wsgi_bench, which has every URL) on PORT,
    and the exporter's VISMA_* settings pointing at it."""
    from visma_sandbox import services as sandbox

    from .ingestion import _server_env, _stop_server

    sandbox.setup_demo()
    env = visma_settings()
    sandbox.register_client(
        client_id=env["VISMA_CLIENT_ID"],
        client_secret=env["VISMA_CLIENT_SECRET"],
        redirect_uris=[env["VISMA_REDIRECT_URI"]],
    )
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    process = subprocess.Popen(
        [gunicorn, "bench.wsgi_bench:application", "--workers", str(workers)]
        + ["--bind", f"127.0.0.1:{PORT}", "--chdir", str(ROOT), "--log-level", "warning"],
        env=_server_env(),
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"simulator gunicorn exited with {process.returncode}")
            try:
                if requests.get(f"{BASE}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"simulator did not answer on {BASE} within 30 s")
            time.sleep(0.3)
        with override_settings(**env):
            yield env
    finally:
        _stop_server(process)


def connect(organization, user, env: dict[str, str], company: str = COMPANY) -> None:
    """What the browser's consent would have produced (as the transfer tests connect)."""
    from tests.simulator import connect as simulated_consent

    simulated_consent(organization, user=user, env=env, company=company)


def connected_orgs(count: int, per_org: int, env: dict[str, str], *, prefix: str) -> list:
    """`count` organisations connected to the demo company, the worked example's
    kontooppsett, `per_org` due (pending) small settlements each over the last days."""
    from accounting.services import import_mapping

    from .data import bulk_settlements, make_member, make_org, standard_mapping_json

    orgs = []
    for i in range(count):
        org, stores = make_org(f"{prefix}-{i:04d}")
        admin = make_member(org, f"{prefix}-admin-{i:04d}")
        import_mapping(organization=org, data=standard_mapping_json())
        bulk_settlements(org, stores, per_org)
        connect(org, admin, env)
        orgs.append(org)
    SettlementExport.objects.filter(settlement__organization__in=orgs).delete()
    return orgs


@contextmanager
def counting_requests():
    """Counter of (method, endpoint) for every request the production client sends (its
    one entry point, client._request), with the HTTP status of errors as their own key
    ("429", endpoint); `counts.stamps` lists (monotonic time, method, endpoint, status)."""
    from integrations.visma import client

    counts: Counter = Counter()
    lock = threading.Lock()
    original = client._request

    def counted(method, path, token, *, endpoint, **kwargs):
        try:
            answer = original(method, path, token, endpoint=endpoint, **kwargs)
        except client.VismaError as exc:
            with lock:
                # A request the limiter refused is not sent: only Visma's answers count.
                if getattr(exc, "status", None) is not None:
                    counts[(method, endpoint)] += 1
                    counts[(str(exc.status), endpoint)] += 1
                    stamps.append((time.monotonic(), method, endpoint, exc.status))
            raise
        with lock:
            counts[(method, endpoint)] += 1
            stamps.append((time.monotonic(), method, endpoint, answer[0]))
        return answer

    stamps: list = []
    counts.stamps = stamps  # type: ignore[attr-defined]
    client._request = counted
    try:
        yield counts
    finally:
        client._request = original
