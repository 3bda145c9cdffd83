"""manage.py sandbox_setup and sandbox_fault."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from visma_sandbox import services
from visma_sandbox.models import SandboxAccount, SandboxClient, SandboxCompany


def _run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_it_sets_up_companies_and_a_client_idempotently(db, settings):
    settings.VISMA_CLIENT_ID = ""
    first = _run("sandbox_setup")
    second = _run("sandbox_setup")
    assert SandboxCompany.objects.count() == 3
    # One inactive account per company, in each of its fiscal years' charts (4 + 4 + 3).
    inactive = SandboxAccount.objects.filter(is_active=False)
    assert inactive.count() == 11
    assert {a.company.name: a.number for a in inactive} == {
        "Fjordkafé AS": 1950,
        "Bakeri Nord AS": 3200,
        "Kiosk Vest AS": 7500,
    }
    assert "client_id: backoffice-sandbox" in first
    secret = first.split("client_secret: ")[1].strip()
    assert len(secret) > 20
    assert f"client_secret: {secret}" in second  # kept on a second run
    assert "demo@visma.example / demo" in first


def test_it_registers_a_given_client(db):
    out = _run(
        "sandbox_setup",
        "--client-id",
        "x-client",
        "--client-secret",
        "y-secret",
        "--redirect-uri",
        "http://127.0.0.1:8000/cb/",
        "--redirect-uri",
        "http://localhost:8000/cb/",
        "--token-lifetime",
        "90",
    )
    client = SandboxClient.objects.get(client_id="x-client")
    assert client.client_secret == "y-secret"
    assert client.redirect_uri_list == ["http://127.0.0.1:8000/cb/", "http://localhost:8000/cb/"]
    assert client.access_token_lifetime == 90
    assert "client_secret: y-secret" in out


def test_it_takes_the_client_from_the_settings(db, settings):
    settings.VISMA_CLIENT_ID = "from-settings"
    settings.VISMA_CLIENT_SECRET = "settings-secret"
    settings.VISMA_REDIRECT_URI = (
        "http://127.0.0.1:8000/oppsett/integrasjoner/visma-eaccounting/callback/"
    )
    _run("sandbox_setup")
    client = SandboxClient.objects.get(client_id="from-settings")
    assert client.client_secret == "settings-secret"
    assert client.redirect_uri_list == [settings.VISMA_REDIRECT_URI]


def test_it_arms_and_clears_fault_switches(db):
    services.setup_demo()
    out = _run("sandbox_fault", "5xx", "3", "--company", "912345678")
    assert "5xx 3 set for Fjordkafé AS" in out
    assert services.fault_switch("912345678").fail_5xx == 3
    _run("sandbox_fault", "lose", "2", "--mode", "504")
    assert services.fault_switch(None).lose_after_store == 2
    assert services.fault_switch(None).lose_mode == "504"
    _run("sandbox_fault", "429", "1", "--retry-after", "9")
    assert services.fault_switch(None).retry_after_seconds == 9
    _run("sandbox_fault", "latency", "150")
    assert services.fault_switch(None).latency_ms == 150
    assert "quota 5 per minute" in _run("sandbox_fault", "quota", "5")
    shown = _run("sandbox_fault", "show")
    assert shown.splitlines()[0].startswith("global: lose=2 (504)")
    _run("sandbox_fault", "clear")
    assert services.fault_switch("912345678").fail_5xx == 0
    assert "0 access token(s) expired" in _run("sandbox_fault", "expire-tokens")
    assert "0 refresh token(s) revoked" in _run("sandbox_fault", "revoke-refresh")
    assert "simulator reset" in _run("sandbox_fault", "reset")
    with pytest.raises(CommandError):
        _run("sandbox_fault", "5xx")
    with pytest.raises(CommandError):
        _run("sandbox_fault", "5xx", "1", "--company", "000000000")


def test_it_arms_the_attachment_upload_switches(db):
    services.setup_demo()

    out = _run("sandbox_fault", "attachment-5xx", "2", "--company", "912345678")
    _run("sandbox_fault", "attachment-lose", "1", "--mode", "504")

    assert "attachment-5xx=2" in out
    switch = services.fault_switch("912345678")
    assert switch.fail_attachment_upload == 2
    everywhere = services.fault_switch(None)
    assert (everywhere.lose_attachment_after_store, everywhere.lose_mode) == (1, "504")
    _run("sandbox_fault", "clear")
    assert services.fault_switch("912345678").is_quiet and services.fault_switch(None).is_quiet
