"""Deployment (issue 17, item 7): the app is published on loopback only, gunicorn believes
X-Forwarded-Proto only from the proxy, Redis wants a password, no .env file goes into the
image, seed_demo refuses production, create_organization takes the password from the
environment or a prompt."""

import fnmatch
import io
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_the_app_is_published_on_loopback_only():
    services = compose()["services"]
    published = [port for service in services.values() for port in service.get("ports", [])]

    assert published == ["127.0.0.1:${WEB_PORT:-8000}:8000"]


def test_redis_wants_the_password_that_redis_url_carries():
    redis = compose()["services"]["redis"]
    assert redis["command"][-2:] == [
        "--requirepass",
        "${REDIS_PASSWORD:?set REDIS_PASSWORD in .env}",
    ]
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    values = dict(
        line.split("=", 1) for line in example.splitlines() if "=" in line and line[0] != "#"
    )
    assert values["REDIS_URL"] == f"redis://:{values['REDIS_PASSWORD']}@redis:6379/0"


def dockerignored(name: str) -> bool:
    """Docker's rule: the last pattern that matches decides; `!` lets a file in again."""
    ignored = False
    for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        if fnmatch.fnmatchcase(name, pattern.lstrip("!")):
            ignored = not negated
    return ignored


@pytest.mark.parametrize("name", [".env", ".env.production", ".env.local", ".env.bak"])
def test_no_env_file_goes_into_the_image(name):
    assert dockerignored(name)


def test_the_example_env_file_does():
    assert not dockerignored(".env.example")


# ------------------------------------------------------------------------------ gunicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_answer(tmp_path, *, forwarded_allow_ips: str) -> int:
    """Start the production app under gunicorn (as the image does) and ask for /healthz as
    if through a TLS proxy; the status it answers (301: it took the request for HTTP)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH")}
    env.update(
        DJANGO_SETTINGS_MODULE="backoffice.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="127.0.0.1",
        VAR_DIR=str(tmp_path),
        FORWARDED_ALLOW_IPS=forwarded_allow_ips,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "backoffice.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    opener = urllib.request.build_opener(NoRedirect)
    try:
        deadline = time.monotonic() + 30
        while True:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/healthz", headers={"X-Forwarded-Proto": "https"}
            )
            try:
                return opener.open(request, timeout=2).status
            except urllib.error.HTTPError as exc:
                return exc.code
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_x_forwarded_proto_is_believed_from_the_proxy(tmp_path):
    assert gunicorn_answer(tmp_path, forwarded_allow_ips="127.0.0.1") == 200


def test_x_forwarded_proto_from_anyone_else_is_not(tmp_path):
    # The request comes from 127.0.0.1, which is not the proxy here: plain HTTP, redirected.
    assert gunicorn_answer(tmp_path, forwarded_allow_ips="192.0.2.1") == 301


# ------------------------------------------------------------------------------ commands


@pytest.mark.django_db
def test_seed_demo_refuses_production(monkeypatch):
    monkeypatch.setenv("DEBUG", "0")

    with pytest.raises(CommandError, match="development only"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not User.objects.exists()


def create(**env) -> None:
    call_command(
        "create_organization",
        "kaffebaren",
        "Kaffebaren AS",
        "--admin-email",
        "eier@kaffebaren.no",
        stdout=io.StringIO(),
    )


@pytest.mark.django_db
def test_create_organization_reads_the_password_from_the_environment(monkeypatch, client):
    monkeypatch.setenv("BACKOFFICE_ADMIN_PASSWORD", "en-lang-hemmelighet")

    create()

    assert User.objects.get(username="eier@kaffebaren.no").check_password("en-lang-hemmelighet")


@pytest.mark.django_db
def test_create_organization_asks_at_a_terminal(monkeypatch):
    monkeypatch.delenv("BACKOFFICE_ADMIN_PASSWORD", raising=False)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    answers = iter(["en-lang-hemmelighet", "en-lang-hemmelighet"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))

    create()

    assert User.objects.get(username="eier@kaffebaren.no").check_password("en-lang-hemmelighet")


@pytest.mark.django_db
def test_create_organization_without_any_password_says_how_to_give_one(monkeypatch):
    monkeypatch.delenv("BACKOFFICE_ADMIN_PASSWORD", raising=False)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)

    with pytest.raises(CommandError, match="BACKOFFICE_ADMIN_PASSWORD"):
        create()
    assert not User.objects.exists()
