"""Production settings refuse the development secrets, and `check --deploy` is clean with
production values. Each case runs in its own Python, as a deployment would start."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml  # installed with responses
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
# Variables that would change what the settings see; everything else of the environment
# (PATH, locale) is kept.
CONTROLLED = (
    "DEBUG",
    "SECRET_KEY",
    "FIELD_ENCRYPTION_KEY",
    "ALLOWED_HOSTS",
    "DJANGO_SETTINGS_MODULE",
    "VISMA_SANDBOX",
    "VISMA_SANDBOX_FORCE",
    "DATABASE_URL",
    "REDIS_URL",
)


def run(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in CONTROLLED}
    environment.update(VAR_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production(**overrides: str) -> dict:
    values = {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "backoffice.example.no",
        "DJANGO_SETTINGS_MODULE": "backoffice.settings",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def test_it_refuses_production_without_a_secret_key(tmp_path):
    result = run(tmp_path, "-c", "import backoffice.settings", **production(SECRET_KEY=None))

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_it_refuses_production_with_the_development_secret_key(tmp_path):
    from backoffice.settings import DEV_SECRET_KEY

    result = run(
        tmp_path, "-c", "import backoffice.settings", **production(SECRET_KEY=DEV_SECRET_KEY)
    )

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_it_refuses_production_without_an_encryption_key(tmp_path):
    result = run(
        tmp_path, "-c", "import backoffice.settings", **production(FIELD_ENCRYPTION_KEY=None)
    )

    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY" in result.stderr


@pytest.mark.parametrize("value", ["perhaps", "2"])
def test_it_refuses_a_boolean_that_is_neither_on_nor_off(tmp_path, value):
    result = run(tmp_path, "-c", "import backoffice.settings", **production(DEBUG=value))

    assert result.returncode != 0
    assert "DEBUG" in result.stderr


def test_it_passes_the_deployment_checks_with_production_values(tmp_path):
    result = run(
        tmp_path, "manage.py", "check", "--deploy", "--fail-level", "WARNING", **production()
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_it_refuses_to_start_with_no_environment_at_all(tmp_path):
    # Production is the default: with DEBUG unset there are no development keys.
    result = run(
        tmp_path,
        "-c",
        "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'backoffice.settings'; "
        "import django; django.setup()",
    )

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_it_starts_in_development_with_debug_on_and_nothing_else(tmp_path):
    result = run(
        tmp_path,
        "-c",
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'backoffice.settings'; "
        "django.setup(); from django.conf import settings; "
        "print(settings.DEBUG, settings.DATABASES['default']['ENGINE'], settings.CELERY_BROKER_URL)",
        DEBUG="1",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "django.db.backends.sqlite3", "filesystem://"]


@pytest.mark.parametrize(
    "weak",
    [
        "x" * 60,  # long, but one character (Django: 5+ different ones)
        "a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-q-r-s",  # 37 characters (Django: 50+)
        "django-insecure-" + secrets.token_urlsafe(50),  # startproject's throwaway key
    ],
)
def test_it_refuses_a_secret_key_that_fails_djangos_strength_check(tmp_path, weak):
    result = run(tmp_path, "-c", "import backoffice.settings", **production(SECRET_KEY=weak))

    assert result.returncode != 0
    assert "SECRET_KEY is too weak" in result.stderr
    assert weak not in result.stderr


@pytest.mark.parametrize(
    "keys",
    [
        "not-a-fernet-key",
        f"{Fernet.generate_key().decode()},c2hvcnQ=",  # the second one is 5 bytes
    ],
)
def test_it_refuses_an_encryption_key_that_is_no_fernet_key(tmp_path, keys):
    result = run(
        tmp_path, "-c", "import backoffice.settings", **production(FIELD_ENCRYPTION_KEY=keys)
    )

    assert result.returncode != 0
    assert "is not a Fernet key" in result.stderr
    for key in keys.split(","):
        assert key not in result.stderr


def test_it_runs_without_the_simulator_or_the_debug_page_by_default(tmp_path):
    result = run(
        tmp_path,
        "-c",
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'backoffice.settings'; "
        "django.setup(); from django.conf import settings; "
        "print(settings.DEBUG, 'visma_sandbox' in settings.INSTALLED_APPS, "
        "settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE)",
        **production(DEBUG=None),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "True", "True"]


def test_it_documents_every_variable_in_the_env_example():
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    names = {
        line.split("=", 1)[0]
        for line in example.splitlines()
        if "=" in line and not line.startswith("#")
    }

    # ../shared/DESIGN.md 4.3, every one of them.
    assert {
        "DATABASE_URL",
        "REDIS_URL",
        "SECRET_KEY",
        "DEBUG",
        "ALLOWED_HOSTS",
        "FIELD_ENCRYPTION_KEY",
        "VISMA_CLIENT_ID",
        "VISMA_CLIENT_SECRET",
        "VISMA_REDIRECT_URI",
        "VISMA_IDENTITY_URL",
        "VISMA_API_URL",
        "VISMA_RATE_LIMIT_PER_MINUTE",
    } <= names


def test_it_composes_the_services_of_a_deployment():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))

    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
    assert "gunicorn" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "backoffice", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "backoffice", "beat"]
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    for name in ("web", "worker", "beat"):
        assert services[name]["env_file"] == ".env"
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
