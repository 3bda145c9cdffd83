"""CSRF on every POST (issue 8, part 3): a POST without the token is refused (403) on every
route of the project, signed in as an admin, except the tills' API (bearer key, no cookie)
and the Visma simulator's own endpoints (Visma's protocol, test equipment)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from .conftest import signed_in
from .routes import all_routes, routes

PROTECTED = [route for route in all_routes() if not route.csrf_exempt]


@pytest.fixture
def strict(alice) -> Client:
    return signed_in(alice, "admin with CSRF checks on", enforce_csrf_checks=True)


def test_only_the_api_and_the_simulator_are_exempt():
    exempt = {route.name for route in all_routes() if route.csrf_exempt}
    allowed = {route.name for route in routes("api", "sandbox")}

    assert exempt <= allowed, f"unexpected csrf_exempt views: {exempt - allowed}"
    assert {route.name for route in routes("api")} <= exempt


@pytest.mark.parametrize("route", PROTECTED, ids=lambda route: route.name)
def test_a_post_without_the_csrf_token_is_refused(strict, fjord, route):
    response = strict.post(route.url(fjord), {"action": "standard", "tips": "2910"})

    assert response.status_code == 403, route.name
    assert b"CSRF" in response.content


def test_the_same_post_with_the_token_goes_through(strict, fjord):
    """The 403s above are the CSRF check's, not something else's."""
    page = strict.get("/oppsett/kontooppsett/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]

    response = strict.post(
        "/oppsett/kontooppsett/", {"csrfmiddlewaretoken": token, "action": "standard"}
    )

    assert response.status_code in (200, 302)


def test_the_api_takes_a_post_without_a_csrf_token(strict, api_key):
    response = strict.post(
        "/api/v1/settlements",
        data=b"{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api_key}",
    )

    assert response.status_code == 400  # refused for its content, not for CSRF
