"""Every page and endpoint (read from the URL resolver, see routes.py) tried signed out, as
a user of another organisation on Fjordkafé's objects, and as staff where admin is needed
(issue 8, part 3): no access, no data, nothing changed."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.sessions.models import Session

from backoffice.models import Organization

from .conftest import fingerprint, leaked
from .routes import (
    ADMIN_ACTIONS,
    ADMIN_PAGES,
    API,
    PUBLIC,
    SAMPLE_KWARGS,
    all_routes,
    routes,
)

PAGES = routes("page")
OWN_OBJECTS = [route for route in PAGES if route.params]
NO_PARAMS = [route for route in PAGES if not route.params]


def ids(route) -> str:
    return route.name


def test_every_page_with_parameters_has_sample_values():
    """A new page with URL parameters must say which object they name (SAMPLE_KWARGS)."""
    missing = [route.name for route in PAGES if route.params and route.name not in SAMPLE_KWARGS]

    assert not missing, f"add these to tests/security/routes.py SAMPLE_KWARGS: {missing}"


def test_the_lists_of_routes_name_routes_that_exist():
    names = {route.name for route in all_routes()}

    assert (ADMIN_ACTIONS | ADMIN_PAGES | PUBLIC | API | set(SAMPLE_KWARGS)) <= names
    assert len(PAGES) >= 10  # the resolver was read, not an empty list


# --------------------------------------------------------------------------- signed out


@pytest.mark.parametrize("route", PAGES, ids=ids)
def test_a_signed_out_visitor_is_sent_to_the_login_page(anonymous, fjord, route):
    url = route.url(fjord)
    before = fingerprint()
    for method in ("get", "post"):
        response = getattr(anonymous, method)(url)

        # 405 where the page does not take the method at all: no access either.
        assert response.status_code in (302, 405), (method, url, response.status_code)
        if response.status_code == 302:
            assert response["Location"].startswith(f"{settings.LOGIN_URL}?next="), url
        assert not leaked(response), (method, url)
    assert fingerprint() == before


@pytest.mark.parametrize("route", routes("api"), ids=ids)
def test_the_api_answers_401_without_a_key(anonymous, fjord, route):
    response = anonymous.post(route.url(fjord), data=b"{}", content_type="application/json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert anonymous.get(route.url(fjord)).status_code in (401, 405)


@pytest.mark.parametrize("route", routes("django-admin"), ids=ids)
def test_django_admin_is_closed_to_visitors_and_to_members(anonymous, alice_client, fjord, route):
    """Django's admin is for is_staff users; none of the organisations' members is one."""
    url = route.url(fjord)
    for client in (anonymous, alice_client):
        response = client.get(url)
        if route.name == "admin:login":
            assert response.status_code in (200, 302)
        else:
            assert response.status_code in (302, 405), (url, response.status_code)
        if response.status_code == 302:
            # Signing out of the admin leads to its front page, which then asks to sign in.
            home = "/admin/" if route.name == "admin:logout" else "/admin/login/"
            assert response["Location"].startswith(home), url
        assert not leaked(response), url


def test_the_public_pages_show_no_organisation_data(anonymous, fjord):
    for route in routes("public"):
        response = anonymous.get(route.url(fjord))

        assert response.status_code < 500, route.name
        assert not leaked(response), route.name


# --------------------------------------------------------------------------- another organisation


@pytest.mark.parametrize("route", OWN_OBJECTS, ids=ids)
def test_another_organisation_does_not_find_fjordkafes_objects(charlie_client, fjord, route):
    url = route.url(fjord)
    before = fingerprint()
    for method in ("get", "post"):
        response = getattr(charlie_client, method)(url)

        assert response.status_code in (404, 405), (method, url, response.status_code)
        assert not leaked(response), (method, url)
    assert fingerprint() == before


def organisation_rows(org: Organization) -> dict[str, list]:
    """Every row that belongs to `org` (through organization, location or settlement)."""
    rows = {}
    for model in apps.get_models():
        if model is Session:
            continue
        fields = {field.name for field in model._meta.get_fields()}
        for path in ("organization", "location__organization", "settlement__organization"):
            if path.split("__")[0] in fields:
                query = model.objects.filter(**{path: org})
                rows[model._meta.label] = sorted(map(repr, query.values_list()))
                break
    return rows


@pytest.mark.parametrize("route", NO_PARAMS, ids=ids)
def test_another_organisation_sees_and_changes_only_its_own(charlie_client, org, fjord, route):
    """Charlie (admin of Bakeri Nord) opens and posts every page: his own organisation's,
    never a word of Fjordkafé's, and Fjordkafé's rows stay as they were."""
    url = route.url(fjord)
    before = organisation_rows(org)
    for method in ("get", "post"):
        response = getattr(charlie_client, method)(url)

        assert response.status_code < 500, (method, url)
        assert not leaked(response), (method, url)
    assert organisation_rows(org) == before


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("visma:transfer_status", {"run": "run"}),
        ("settlements:list", {"location": "location", "register": "register"}),
    ],
)
def test_another_organisation_cannot_reach_objects_by_query(
    charlie_client, fjord, location, name, query
):
    values = {**fjord, "location": str(location.pk), "register": str(location.registers.get().pk)}
    url = next(route for route in PAGES if route.name == name).url(fjord)

    response = charlie_client.get(url, {key: values[value] for key, value in query.items()})

    assert response.status_code in (200, 404)
    assert not leaked(response)


# --------------------------------------------------------------------------- staff


@pytest.mark.parametrize("route", PAGES, ids=ids)
def test_staff_cannot_change_anything(bob_client, fjord, route):
    """Bob (staff of Fjordkafé) may look but not change: every admin action answers 403,
    and no POST anywhere changes a row."""
    url = route.url(fjord)
    before = fingerprint()

    response = bob_client.post(url)

    if route.name in ADMIN_ACTIONS:
        assert response.status_code == 403, url
    else:
        assert response.status_code in (200, 403, 405), (url, response.status_code)
    assert fingerprint() == before


def test_staff_cannot_change_with_a_valid_form_either(bob_client, fjord, worked_example):
    before = fingerprint()
    mapping = {"tips": "2911", "payments-0-key": "cash", "payments-0-account": "1900"}
    settings_form = {"interval": "daily", "lookback_days": "30", "run_time": "06:00"}

    assert bob_client.post("/oppsett/kontooppsett/", mapping).status_code == 403
    assert bob_client.post("/oppsett/kontooppsett/", {"action": "standard"}).status_code == 403
    page = "/oppsett/integrasjoner/visma-eaccounting/"
    assert bob_client.post(page, settings_form).status_code == 403
    assert fingerprint() == before


@pytest.mark.parametrize("name", sorted(ADMIN_PAGES))
def test_staff_cannot_open_admin_pages(bob_client, fjord, name):
    route = next(route for route in PAGES if route.name == name)

    assert bob_client.get(route.url(fjord)).status_code == 403


@pytest.mark.parametrize(
    "name",
    ["settlements:list", "settlements:detail", "accounting:mapping", "visma:integration"],
)
def test_staff_may_look(bob_client, fjord, name):
    route = next(route for route in PAGES if route.name == name)

    response = bob_client.get(route.url(fjord))

    assert response.status_code == 200
    assert leaked(response)  # Fjordkafé's own data, for its own staff
