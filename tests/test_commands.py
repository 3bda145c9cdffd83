"""The operators' commands of ../shared/DESIGN.md 4.4: create_organization, create_location, seed_demo."""

import json
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from backoffice.models import ApiKey, Location, Membership, Organization, Register
from settlements.models import Settlement
from tests.conftest import status_of


def run(name: str, *args, **options) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out, **options)
    return out.getvalue()


# --------------------------------------------------------------------------- create_organization


@pytest.mark.django_db
def test_it_creates_an_organisation_with_its_first_admin(client):
    out = run(
        "create_organization",
        "kaffebaren",
        "Kaffebaren AS",
        "--admin-email",
        "eier@kaffebaren.no",
        "--admin-password",
        "en-lang-hemmelighet",
    )

    org = Organization.objects.get(slug="kaffebaren")
    assert org.name == "Kaffebaren AS"
    membership = Membership.objects.get(organization=org)
    assert membership.role == Membership.Role.ADMIN
    assert membership.user.username == membership.user.email == "eier@kaffebaren.no"
    assert "kaffebaren" in out
    assert signs_in(client, "eier@kaffebaren.no", "en-lang-hemmelighet")


@pytest.mark.django_db
def test_it_refuses_an_organisation_that_exists_and_changes_nothing(org):
    with pytest.raises(CommandError, match="exists already"):
        run(
            "create_organization",
            "fjordkafe",
            "Noe annet AS",
            "--admin-email",
            "ny@example.org",
            "--admin-password",
            "en-lang-hemmelighet",
        )

    org.refresh_from_db()
    assert org.name == "Fjordkafé AS"
    assert not User.objects.filter(username="ny@example.org").exists()


@pytest.mark.django_db
def test_it_refuses_a_user_that_exists():
    User.objects.create_user("eier@example.org", "eier@example.org", "pw")

    with pytest.raises(CommandError, match="exists already"):
        run(
            "create_organization",
            "ny",
            "Ny AS",
            "--admin-email",
            "eier@example.org",
            "--admin-password",
            "en-lang-hemmelighet",
        )
    assert not Organization.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "slug, email, password",
    [
        ("ikke gyldig", "a@b.no", "en-lang-hemmelighet"),
        ("ok", "ikke-epost", "en-lang-hemmelighet"),
        ("ok", "a@b.no", "kort"),
    ],
)
def test_it_refuses_bad_input(slug, email, password):
    with pytest.raises(CommandError):
        run(
            "create_organization",
            slug,
            "Navn AS",
            "--admin-email",
            email,
            "--admin-password",
            password,
        )
    assert not Organization.objects.exists()


# --------------------------------------------------------------------------- create_location


def test_it_creates_a_store_and_prints_a_key_that_works_alone_on_the_last_line(
    client, org, worked_example
):
    out = run("create_location", "fjordkafe", "torget", "Fjordkafé Torget")

    key = out.splitlines()[-1]
    assert key == key.strip() and " " not in key and len(key) > 40
    location = Location.objects.get(organization=org, code="torget")
    assert location.name == "Fjordkafé Torget"
    # Stored hashed: the key itself is nowhere in the database.
    stored = ApiKey.objects.get(location=location)
    assert key not in (stored.key_hash, stored.prefix)

    response = client.post(
        "/api/v1/settlements",
        data=json.dumps(worked_example["settlement"]),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )

    assert response.status_code == 201
    assert Settlement.objects.get().location == location


def test_it_refuses_a_store_that_exists(location):
    with pytest.raises(CommandError, match="exists already"):
        run("create_location", "fjordkafe", "sentrum", "Annen")
    assert ApiKey.objects.count() == 0


@pytest.mark.django_db
def test_it_refuses_an_unknown_organisation():
    with pytest.raises(CommandError, match="No organisation"):
        run("create_location", "finnes-ikke", "torget", "Torget")


# --------------------------------------------------------------------------- seed_demo


@pytest.mark.django_db
def test_it_seeds_the_demo_and_a_second_run_changes_nothing(client):
    out = run("seed_demo")

    org = Organization.objects.get(slug="fjordkafe")
    assert org.name == "Fjordkafé AS"
    assert "admin@fjordkafe.no / fjordkafe" in out
    assert signs_in(client, "admin@fjordkafe.no", "fjordkafe")
    assert Membership.objects.get(user__username="admin@fjordkafe.no").role == "admin"
    assert Membership.objects.filter(organization=org, role="staff").exists()
    assert sorted(org.locations.values_list("name", flat=True)) == [
        "Fjordkafé Bryggen",
        "Fjordkafé Torget",
    ]
    assert Register.objects.filter(location__organization=org).count() == 3
    settlements = Settlement.objects.filter(organization=org)
    days = settlements.order_by().values_list("business_date", flat=True).distinct()
    assert len(days) == 30
    assert settlements.count() > 60
    # Realistic and balanced: every one is waiting for its transfer, some cash is off.
    assert {status_of(s).state for s in settlements} == {"pending"}
    assert settlements.exclude(cash_difference=0).exists()
    assert set(settlements.values_list("sales__vat_rate", flat=True)) == {15, 25}

    before = list(settlements.order_by("pk").values_list("pk", "content_hash", "updated_at"))
    users = User.objects.count()
    keys = ApiKey.objects.count()

    out = run("seed_demo")

    assert (
        list(settlements.order_by("pk").values_list("pk", "content_hash", "updated_at")) == before
    )
    assert User.objects.count() == users
    assert ApiKey.objects.count() == keys
    assert "0 created" in out


def signs_in(client, username: str, password: str) -> bool:
    """Through the sign-in page, as a person would (the lock-out counts sign-ins there)."""
    response = client.post("/accounts/login/", {"username": username, "password": password})
    return response.status_code == 302 and response["Location"] == "/dagsoppgjor/"
