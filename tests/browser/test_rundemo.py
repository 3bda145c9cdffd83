"""`manage.py rundemo` (what `make demo` ends with): starts the web app and a Celery worker
with beat, says where to go, and stops all of it on Ctrl-C or when one part dies.

Run against the test database (the commands never touch the developer's own data)."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from backoffice.management.commands.rundemo import DEMO_CLIENT_ID, demo_environment

from .worker import database_url_of_test_db

ROOT = Path(__file__).resolve().parent.parent.parent


def test_it_points_the_demo_at_the_simulator_unless_a_real_visma_is_configured():
    env, sandbox = demo_environment({"PATH": "/bin"}, host="127.0.0.1", port=8000)
    assert sandbox
    assert env["VISMA_SANDBOX"] == "1"
    assert env["VISMA_CLIENT_ID"] == DEMO_CLIENT_ID
    assert env["VISMA_IDENTITY_URL"] == "http://127.0.0.1:8000/visma-sandbox/identity"
    assert env["VISMA_API_URL"] == "http://127.0.0.1:8000/visma-sandbox/api/v2"
    assert env["VISMA_REDIRECT_URI"] == (
        "http://127.0.0.1:8000/oppsett/integrasjoner/visma-eaccounting/callback/"
    )
    assert env["TRANSFER_TICK_SECONDS"] == "30"

    real = {"VISMA_CLIENT_ID": "ours", "VISMA_CLIENT_SECRET": "s", "TRANSFER_TICK_SECONDS": "300"}
    env, sandbox = demo_environment(real, host="127.0.0.1", port=8000)
    assert not sandbox
    assert env["VISMA_CLIENT_ID"] == "ours"
    assert "VISMA_SANDBOX" not in env and "VISMA_API_URL" not in env
    assert env["TRANSFER_TICK_SECONDS"] == "300"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def descendants(pid: int) -> set[int]:
    """Every living process below pid (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    living = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            living.add(pid)
    return living


@pytest.fixture
def rundemo(transactional_db, tmp_path):
    """Start rundemo on a free port; yields (process, port, log path, read_log)."""
    port = free_port()
    log = tmp_path / "rundemo.log"
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        DATABASE_URL=database_url_of_test_db(),
        # Its own beat schedule file (and filesystem broker when REDIS_URL is unset).
        VAR_DIR=str(tmp_path),
    )
    for name in ("VISMA_CLIENT_ID", "VISMA_CLIENT_SECRET", "VISMA_REDIRECT_URI"):
        env.pop(name, None)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "rundemo", "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        yield proc, port, lambda: log.read_text(errors="replace")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def wait_for_welcome(proc: subprocess.Popen, read_log) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        if "Ctrl-C stops everything" in read_log():
            return
        time.sleep(0.2)
    pytest.fail(f"rundemo did not start (exit code {proc.poll()}); output:\n{read_log()}")


def test_it_runs_the_web_app_and_a_worker_and_stops_both_on_ctrl_c(rundemo):
    proc, port, read_log = rundemo
    wait_for_welcome(proc, read_log)

    output = read_log()
    assert f"http://127.0.0.1:{port}/" in output
    assert "admin@fjordkafe.no / fjordkafe" in output
    assert f"http://127.0.0.1:{port}/visma-sandbox/" in output
    assert "Connect Visma eAccounting" in output and "Overfør nå" in output
    assert "pong:rundemo" in output  # the worker took a task from the broker
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5) as page:
        assert "Logg inn" in page.read().decode()
    children = descendants(proc.pid)
    assert len(children) >= 2, "the web app and the worker run as child processes"

    os.kill(proc.pid, signal.SIGINT)

    assert proc.wait(timeout=40) == 0
    assert "Demo stopped." in read_log()
    assert not alive(children), "a child outlived the demo"


def test_it_stops_everything_and_fails_when_a_part_dies(rundemo):
    proc, port, read_log = rundemo
    wait_for_welcome(proc, read_log)
    children = descendants(proc.pid)
    web = next(pid for pid in children if b"runserver" in Path(f"/proc/{pid}/cmdline").read_bytes())

    os.kill(web, signal.SIGKILL)

    assert proc.wait(timeout=40) == 1
    assert "The web app stopped unexpectedly (was killed by SIGKILL)" in read_log()
    assert not alive(children), "the worker outlived the web app"
