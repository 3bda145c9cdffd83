"""Security headers and cookie flags (issue 8, part 3).

`manage.py check --deploy` with production settings is tests/test_settings.py's
test_it_passes_the_deployment_checks_with_production_values (not repeated here). These
tests look at what the responses really carry: in development on every page, and with the
production settings in a process of their own (as a deployment starts) for HSTS, the
HTTPS redirect and Secure cookies.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from .routes import routes

ROOT = Path(__file__).resolve().parent.parent.parent
HOST = "backoffice.example.no"


def assert_page_headers(response, where: str) -> None:
    assert response["X-Frame-Options"] == "DENY", where
    assert response["X-Content-Type-Options"] == "nosniff", where
    assert response["Referrer-Policy"] == "same-origin", where


def test_every_page_carries_the_security_headers(alice_client, fjord):
    seen = 0
    for route in routes("page", "public", "api"):
        response = alice_client.get(route.url(fjord))
        if response.status_code >= 500:
            pytest.fail(f"{route.name}: {response.status_code}")
        assert_page_headers(response, route.name)
        seen += response.status_code == 200
    assert seen >= 6


def test_the_session_cookie_is_http_only(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": "pw-alice"})

    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


# Runs with the production settings against the test database, inside a transaction it
# rolls back. Static files: a deployment serves them from collectstatic's manifest, which
# a test run does not build, so the plain storage stands in for rendering the login page.
PRODUCTION_SCRIPT = r"""
import json, django
django.setup()
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client, override_settings

HOST = "%(host)s"
# Over HTTPS as gunicorn reports it (wsgi.url_scheme) for a request from the proxy: Django
# itself believes no X-Forwarded-Proto header (tests/test_deployment.py).
HTTPS = {"HTTP_HOST": HOST, "secure": True}
found = {}

class Rollback(Exception):
    pass

def headers(response):
    return {key: response.headers.get(key) for key in (
        "Strict-Transport-Security", "X-Frame-Options", "X-Content-Type-Options",
        "Referrer-Policy", "Cross-Origin-Opener-Policy")}

def cookie(response, name):
    morsel = response.cookies[name]
    return {"secure": bool(morsel["secure"]), "httponly": bool(morsel["httponly"]),
            "samesite": morsel["samesite"]}

try:
    with transaction.atomic():
        client = Client()
        plain = client.get("/accounts/login/", HTTP_HOST=HOST)
        found["http"] = [plain.status_code, plain.get("Location")]
        storages = {"staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
        with override_settings(STORAGES=storages):
            page = client.get("/accounts/login/", **HTTPS)
        found["login_page"] = [page.status_code, headers(page), cookie(page, "csrftoken")]
        health = client.get("/healthz", **HTTPS)
        found["healthz"] = [health.status_code, headers(health)]
        User.objects.create_user("prod-check", password="prod-check-password-1")
        login = client.post("/accounts/login/",
                            {"username": "prod-check", "password": "prod-check-password-1"},
                            **HTTPS)
        found["login"] = [login.status_code, cookie(login, "sessionid")]
        found["sandbox"] = client.get("/visma-sandbox/", **HTTPS).status_code
        raise Rollback
except Rollback:
    pass
print(json.dumps(found))
"""


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] or "postgres"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{user}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


# transaction=True: no transaction of this test holds the database (SQLite would be locked
# for the other process).
@pytest.mark.django_db(transaction=True)
def test_production_sends_hsts_and_secure_cookies(tmp_path):
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH")
    env = {key: value for key, value in os.environ.items() if key in keep}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        ALLOWED_HOSTS=HOST,
        DJANGO_SETTINGS_MODULE="backoffice.settings",
        DATABASE_URL=database_url(),
        VAR_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_SCRIPT % {"host": HOST}],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])

    # Plain HTTP is sent to HTTPS.
    assert found["http"] == [301, f"https://{HOST}/accounts/login/"]
    for name in ("login_page", "healthz"):
        status, headers = found[name][:2]
        assert status == 200, name
        assert headers["Strict-Transport-Security"] == (
            "max-age=31536000; includeSubDomains; preload"
        )
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert found["login_page"][2]["secure"] is True  # the CSRF cookie
    status, session = found["login"]
    assert status == 302
    assert session == {"secure": True, "httponly": True, "samesite": "Lax"}
    # The simulator is not part of a production deployment.
    assert found["sandbox"] == 404
