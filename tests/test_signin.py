"""Signing in (issue 17, item 2): repeated failures lock out the username and the address
at /accounts/login/ and /admin/login/, with a Norwegian page saying when to try again;
passwords of at least 12 characters, not like the user's own name or e-mail; two-factor
sign-in for admins, which the admin site requires."""

import datetime as dt
import io

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import verified_login

LOGIN = "/accounts/login/"
TWO_FACTOR = "/konto/tofaktor/"

pytestmark = pytest.mark.django_db


def sign_in(client, username, password, code="", address="198.51.100.20"):
    return client.post(
        LOGIN,
        {"username": username, "password": password, "otp_token": code},
        REMOTE_ADDR=address,
    )


def signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/dagsoppgjor/"


# ------------------------------------------------------------------------------ lock-out


def test_five_wrong_passwords_lock_the_username_with_a_norwegian_message(client, alice):
    with time_machine.travel(dt.datetime(2026, 11, 30, 13, 0, tzinfo=dt.UTC), tick=False):
        for _ in range(4):
            assert sign_in(client, "alice", "wrong-password").status_code == 200
        # The fifth failure locks.
        assert sign_in(client, "alice", "wrong-password").status_code == 429

        # Locked: even the right password is refused, from another address too.
        response = sign_in(client, "alice", "pw-alice", address="198.51.100.99")

    assert response.status_code == 429
    page = response.content.decode()
    assert "For mange mislykkede innlogginger" in page
    # 15 minutes from the last try, Norwegian time (14:00 in Oslo).
    assert "Prøv igjen etter kl. 14:15." in page


def test_the_lock_lifts_after_the_cool_off(client, alice):
    start = dt.datetime(2026, 11, 30, 13, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            sign_in(client, "alice", "wrong-password")
        assert sign_in(client, "alice", "pw-alice").status_code == 429
    with time_machine.travel(start + dt.timedelta(minutes=16), tick=False):
        assert signed_in(sign_in(client, "alice", "pw-alice"))


def test_failures_from_one_address_lock_that_address_for_every_username(client, alice, bob):
    for i in range(5):
        sign_in(client, f"guess-{i}", "password", address="203.0.113.50")

    assert sign_in(client, "bob", "pw-bob", address="203.0.113.50").status_code == 429
    assert signed_in(sign_in(client, "bob", "pw-bob", address="203.0.113.51"))


def test_the_admin_sign_in_counts_too(client, alice):
    root = User.objects.create_superuser("root", "root@example.org", "root-password-long")
    for _ in range(5):
        client.post(
            "/admin/login/?next=/admin/",
            {"username": root.username, "password": "wrong", "otp_token": "123456"},
            REMOTE_ADDR="198.51.100.30",
        )

    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "root", "password": "root-password-long"},
        REMOTE_ADDR="198.51.100.31",
    )

    assert response.status_code == 429
    assert "For mange mislykkede innlogginger" in response.content.decode()


# ------------------------------------------------------------------------------ passwords


def run_create(password: str, email: str = "eier@kaffebaren.no"):
    call_command(
        "create_organization",
        "kaffebaren",
        "Kaffebaren AS",
        "--admin-email",
        email,
        "--admin-password",
        password,
        stdout=io.StringIO(),
    )


def test_a_password_needs_12_characters():
    with pytest.raises(CommandError, match="at least 12 characters|minst 12 tegn"):
        run_create("kort-passor")  # 11


def test_a_password_may_not_resemble_the_users_email():
    with pytest.raises(CommandError, match="too similar|for likt"):
        run_create("eier@kaffebaren.no1", email="eier@kaffebaren.no")


# ------------------------------------------------------------------------------ two factor


def turn_on_two_factor(client, user) -> TOTPDevice:
    client.force_login(user)
    page = client.get(TWO_FACTOR)
    assert page.status_code == 200
    assert "<svg" in page.content.decode()  # the QR code, drawn on the page
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(TWO_FACTOR, {"otp_token": f"{totp(device.bin_key):06d}"})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    client.logout()
    return device


def test_an_admin_turns_on_two_factor_and_then_needs_the_code(client, alice):
    device = turn_on_two_factor(client, alice)

    without = sign_in(client, "alice", "pw-alice")
    assert without.status_code == 200
    assert "skriv inn koden fra autentiseringsappen" in without.content.decode()

    with time_machine.travel(timezone.now() + dt.timedelta(seconds=60), tick=False):
        code = f"{totp(device.bin_key):06d}"
        assert signed_in(sign_in(client, "alice", "pw-alice", code=code))


def test_a_wrong_code_counts_as_a_failed_sign_in(client, alice):
    turn_on_two_factor(client, alice)

    for _ in range(4):
        response = sign_in(client, "alice", "pw-alice", code="000000")
        assert "Koden fra autentiseringsappen stemmer ikke" in response.content.decode()

    assert sign_in(client, "alice", "pw-alice", code="000000").status_code == 429


def test_a_wrong_code_does_not_turn_it_on(client, alice):
    client.force_login(alice)
    client.get(TWO_FACTOR)

    response = client.post(TWO_FACTOR, {"otp_token": "000000"})

    assert response.status_code == 200
    assert "Koden stemmer ikke" in response.content.decode()
    assert not TOTPDevice.objects.filter(confirmed=True).exists()


def test_staff_have_no_two_factor_page(client, bob):
    client.force_login(bob)

    assert client.get(TWO_FACTOR).status_code == 403


def test_the_admin_site_requires_two_factor(client):
    root = User.objects.create_superuser("root", "root@example.org", "root-password-long")
    client.force_login(root)

    assert client.get("/admin/").status_code == 302  # to its sign-in, which asks for the code

    verified_login(client, root)
    assert client.get("/admin/").status_code == 200


def test_the_lock_out_speaks_english_too(client, alice):
    for _ in range(5):
        client.post(
            LOGIN,
            {"username": "alice", "password": "wrong"},
            HTTP_ACCEPT_LANGUAGE="en",
            REMOTE_ADDR="198.51.100.40",
        )

    response = client.post(
        LOGIN, {"username": "alice", "password": "pw-alice"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
