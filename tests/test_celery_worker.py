"""A real Celery worker (a separate process) takes a task from the configured broker:
Redis when REDIS_URL is set (as in CI), the filesystem broker otherwise."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from backoffice.tasks import ping

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def worker():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "backoffice",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            f"--hostname=test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
    )
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_it_runs_a_task_through_a_real_worker(worker):
    if os.environ.get("REDIS_URL"):
        assert settings.CELERY_BROKER_URL.startswith("redis://")
    started = time.monotonic()
    result = ping.delay("hei")
    assert result.get(timeout=60) == "pong:hei"
    assert worker.poll() is None, "the worker died"
    assert time.monotonic() - started < 60
