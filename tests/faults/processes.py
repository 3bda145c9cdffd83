"""The processes the fault matrix starts, kills and restarts.

- `fault_worker(...)`: a real Celery worker process (tests.browser.worker's recipe) with
  its own node name and queue, so a test can run two at once and kill one by its process
  group; optionally with embedded beat, or with another broker than this process's.
- A redis-server of our own on port 6390 (the `throwaway_redis` fixture), to be stopped
  and started at will; the shared server on 6379 is never touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from pathlib import Path

from celery import Celery

from tests.browser.worker import ROOT, database_url_of_test_db, stop
from tests.clock import machine_clock_env

# FAULT_REDIS_PORT: another port, so two checkouts can run their suites side by side.
REDIS_PORT = int(os.environ.get("FAULT_REDIS_PORT", "6390"))
THROWAWAY_REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"


# --------------------------------------------------------------------------- workers

_names = count(1)


def broker_app(broker_url: str) -> Celery:
    """A Celery app of this process that talks to another broker than settings say."""
    return Celery("faults", broker=broker_url, backend=broker_url, set_as_current=False)


@contextmanager
def fault_worker(
    extra_env: dict[str, str],
    *,
    beat: bool = False,
    broker_url: str | None = None,
    ready_timeout: float = 60.0,
) -> Iterator[subprocess.Popen]:
    """One Celery worker process (solo pool, its own process group) until the block ends.

    Ready when it has answered a ping sent to its own queue. beat=True embeds beat with
    a schedule file of its own. broker_url: the broker (and result backend) of the worker
    and of the ping, instead of this process's settings."""
    name = f"faults-{os.getpid()}-{next(_names)}"
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        DATABASE_URL=database_url_of_test_db(),
        PYTHONUNBUFFERED="1",
    )
    if broker_url:
        env["REDIS_URL"] = broker_url
    env.update(extra_env)
    beat_dir = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    argv = [
        sys.executable, "-m", "celery", "-A", "backoffice", "worker",
        "--pool=solo", "--loglevel=WARNING", "--without-gossip", "--without-mingle",
        "--without-heartbeat", f"--hostname={name}@%h", f"--queues=celery,{name}",
    ]  # fmt: skip
    if beat:
        argv += ["--beat", f"--schedule={beat_dir / 'celerybeat-schedule'}"]
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, start_new_session=True)
    try:
        _wait_until_ready(proc, name, broker_url, ready_timeout)
        yield proc
    finally:
        stop(proc)
        shutil.rmtree(beat_dir, ignore_errors=True)


def _wait_until_ready(proc, queue: str, broker_url: str | None, timeout: float) -> None:
    from celery.exceptions import TimeoutError as CeleryTimeout

    from backoffice.celery import app as default_app

    app = broker_app(broker_url) if broker_url else default_app
    result = app.send_task("backoffice.tasks.ping", args=("ready",), queue=queue)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the Celery worker exited with {proc.returncode}")
        try:
            result.get(timeout=1)
            return
        except CeleryTimeout:
            continue
    raise RuntimeError(f"the Celery worker did not answer within {timeout:.0f} s")


# --------------------------------------------------------------------------- redis


def redis_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["redis-cli", "-p", str(REDIS_PORT), *args],
        capture_output=True, text=True, timeout=10, env=machine_clock_env(),
    )  # fmt: skip


def start_throwaway_redis() -> None:
    subprocess.run(
        ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--daemonize", "yes"],
        check=True, capture_output=True, timeout=10, env=machine_clock_env(),
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while redis_cli("ping").stdout.strip() != "PONG":
        if time.monotonic() > deadline:
            raise RuntimeError(f"redis-server on port {REDIS_PORT} did not start")
        time.sleep(0.05)


def stop_throwaway_redis() -> None:
    redis_cli("shutdown", "nosave")
    deadline = time.monotonic() + 10
    while redis_cli("ping").returncode == 0:
        if time.monotonic() > deadline:
            raise RuntimeError(f"redis-server on port {REDIS_PORT} did not stop")
        time.sleep(0.05)
