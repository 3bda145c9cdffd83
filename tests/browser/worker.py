"""A real Celery worker (a separate process) for browser tests against the live server.

The worker must see what the test sees: the live server's TEST database (pytest-django
renamed it, e.g. test_bo_x on PostgreSQL; on SQLite settings put it in a file so another
process can open it), the same broker (REDIS_URL, or the filesystem broker under VAR_DIR,
both inherited from this process), and the simulator mounted on the live server.

    with celery_worker(visma_env(live_server.url)):
        ...  # tasks sent from the test or from the live server's views run in the worker

Live-server tests use a transactional database, so what a test writes is committed and
visible to the worker, and what the worker writes is visible to the test.

Module `tests.browser.worker` is also imported by the worker (`--include`), which registers
the test-only task below in it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlencode

from celery import shared_task

ROOT = Path(__file__).resolve().parent.parent.parent
CALLBACK_PATH = "/oppsett/integrasjoner/visma-eaccounting/callback/"
TEST_CLIENT_ID = "backoffice-browser-test"
# "+", "%" and "/": the client must form-urlencode them before Basic (RFC 6749 §2.3.1),
# and the simulator decodes them so, as Visma does.
TEST_CLIENT_SECRET = "browser-test+secret%2F/x"
READY_TIMEOUT_SECONDS = 60


def database_url_of_test_db() -> str:
    """DATABASE_URL for the database this test process uses now (the test database)."""
    from django.db import connection

    conf = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(conf["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            raise RuntimeError("an in-memory SQLite test database cannot be shared with a worker")
        return f"sqlite:///{Path(name).resolve()}"
    if connection.vendor != "postgresql":
        raise RuntimeError(f"no DATABASE_URL form for {connection.vendor}")
    auth = quote(conf["USER"] or "", safe="")
    if conf["PASSWORD"]:
        auth += ":" + quote(conf["PASSWORD"], safe="")
    host = conf["HOST"] or "localhost"
    port = f":{conf['PORT']}" if conf["PORT"] else ""
    options = {k: v for k, v in (conf.get("OPTIONS") or {}).items() if isinstance(v, str)}
    query = f"?{urlencode(options)}" if options else ""
    return f"postgres://{auth}@{host}{port}/{quote(conf['NAME'], safe='')}{query}"


def visma_env(live_server_url: str) -> dict[str, str]:
    """The VISMA_* settings that point the app at the simulator on the live server.

    The same values serve the worker's environment and, through pytest-django's
    `settings` fixture, the live server itself (see `apply_to_settings`).
    """
    return {
        "VISMA_SANDBOX": "1",
        "VISMA_IDENTITY_URL": f"{live_server_url}/visma-sandbox/identity",
        "VISMA_API_URL": f"{live_server_url}/visma-sandbox/api/v2",
        "VISMA_CLIENT_ID": TEST_CLIENT_ID,
        "VISMA_CLIENT_SECRET": TEST_CLIENT_SECRET,
        "VISMA_REDIRECT_URI": f"{live_server_url}{CALLBACK_PATH}",
    }


def apply_to_settings(settings, env: dict[str, str]) -> None:
    """Give the live server (this process) the same VISMA_* values as the worker."""
    for name, value in env.items():
        if name != "VISMA_SANDBOX":  # fixed at start-up: tests.settings switches it on
            setattr(settings, name, value)


@contextmanager
def celery_worker(
    extra_env: dict[str, str] | None = None, *, beat: bool = False, beat_dir: Path | None = None
) -> Iterator[subprocess.Popen]:
    """Run one Celery worker (solo pool) until the block ends; ready when it answers a ping.

    beat=True embeds Celery beat too (its schedule file in beat_dir), for tests that let the
    scheduled transfer run by itself.
    """
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        DATABASE_URL=database_url_of_test_db(),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra_env or {})
    argv = [
        sys.executable, "-m", "celery", "-A", "backoffice", "worker",
        "--pool=solo", "--loglevel=INFO", "--without-gossip", "--without-mingle",
        "--without-heartbeat", f"--hostname=browser-test-{os.getpid()}@%h",
        "--include=tests.browser.worker",
    ]  # fmt: skip
    if beat:
        if beat_dir is None:
            raise ValueError("beat=True needs beat_dir for the schedule file")
        argv += ["--beat", f"--schedule={beat_dir / 'celerybeat-schedule'}"]
    # Its own process group: stopping it also stops the embedded beat.
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, start_new_session=True)
    try:
        wait_until_ready(proc)
        yield proc
    finally:
        stop(proc)


def wait_until_ready(proc: subprocess.Popen) -> None:
    from celery.exceptions import TimeoutError as CeleryTimeout

    from backoffice.tasks import ping

    result = ping.delay("ready")
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the Celery worker exited with {proc.returncode} (output above)")
        try:
            result.get(timeout=1)
            return
        except CeleryTimeout:
            continue
    raise RuntimeError(f"the Celery worker did not answer within {READY_TIMEOUT_SECONDS} s")


def stop(proc: subprocess.Popen) -> None:
    for sig, grace in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=grace)
            break
        except subprocess.TimeoutExpired:
            continue
    # Anything left in the group (an embedded beat) goes too.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


@shared_task(name="tests.browser.worker.organization_name")
def organization_name(slug: str) -> str | None:
    """Test-only: what the worker's database says about an organisation (None: not there)."""
    from backoffice.models import Organization

    return Organization.objects.filter(slug=slug).values_list("name", flat=True).first()
