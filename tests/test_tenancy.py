"""Who sees what: sign-in, memberships, roles, the organisation a request works in, API keys."""

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse

from backoffice.models import ApiKey, Membership, Organization, hash_api_key
from backoffice.tenancy import admin_required, member_required


@member_required
def look(request):
    return HttpResponse(f"{request.org.slug}:{request.membership.role}")


@admin_required
def change(request):
    return HttpResponse("changed")


def request_for(rf, user, **session):
    request = rf.get("/somewhere/")
    request.user = user
    request.session = SessionStore()
    request.session.update(session)
    return request


def test_it_sends_a_visitor_to_the_sign_in_page(rf, db):
    response = look(request_for(rf, AnonymousUser()))

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/somewhere/"


def test_it_refuses_a_user_who_belongs_to_no_organisation(rf, client, db):
    loner = User.objects.create_user("loner", password="pw-loner")

    with pytest.raises(PermissionDenied):
        look(request_for(rf, loner))
    client.force_login(loner)
    assert client.get("/dagsoppgjor/").status_code == 403


def test_it_works_in_the_members_organisation(rf, alice, bob):
    assert look(request_for(rf, alice)).content == b"fjordkafe:admin"
    assert look(request_for(rf, bob)).content == b"fjordkafe:staff"


def test_it_lets_only_admins_change(rf, alice, bob):
    assert change(request_for(rf, alice)).content == b"changed"
    with pytest.raises(PermissionDenied):
        change(request_for(rf, bob))


def test_it_follows_the_chosen_organisation_of_a_member_of_two(rf, alice, other_org, org, charlie):
    Membership.objects.create(user=alice, organization=other_org, role=Membership.Role.STAFF)

    # Without a choice, the first by name: "Bakeri Nord AS" before "Fjordkafé AS".
    assert look(request_for(rf, alice)).content == b"bakeri-nord:staff"
    assert look(request_for(rf, alice, org_id=org.pk)).content == b"fjordkafe:admin"


def test_it_ignores_a_chosen_organisation_the_user_is_not_member_of(rf, bob, other_org):
    assert look(request_for(rf, bob, org_id=other_org.pk)).content == b"fjordkafe:staff"


def test_it_signs_in_at_accounts_login_and_lands_on_the_settlements(client, alice):
    assert client.get("/accounts/login/").status_code == 200

    response = client.post("/accounts/login/", {"username": "alice", "password": "pw-alice"})

    assert response.status_code == 302
    assert response["Location"] == "/dagsoppgjor/"


def test_it_refuses_a_wrong_password(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})

    assert response.status_code == 200
    assert "Feil e-post/brukernavn eller passord" in response.content.decode()


def test_it_stores_only_the_hash_of_an_api_key(location):
    key, raw = ApiKey.issue(location)

    key.refresh_from_db()
    assert key.key_hash == hash_api_key(raw)
    assert raw not in (key.key_hash, key.prefix)
    assert raw.startswith(f"bo_{key.prefix}_")


def test_it_authenticates_a_key_to_its_store_and_notes_its_use(location):
    key, raw = ApiKey.issue(location)

    assert ApiKey.authenticate(raw) == location
    key.refresh_from_db()
    assert key.last_used_at is not None
    assert ApiKey.authenticate(raw + "x") is None


def test_it_refuses_a_revoked_key(location):
    key, raw = ApiKey.issue(location)
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=key.created_at)

    assert ApiKey.authenticate(raw) is None


def test_it_tells_the_admins_emails_of_an_organisation(org, alice, bob):
    assert Organization.objects.get(pk=org.pk).admin_emails() == ["alice@example.org"]
