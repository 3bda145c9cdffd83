"""Error reports (the e-mail to ADMINS, Django's technical 500 outside DEBUG) never show a
Visma token: the functions that hold one are marked sensitive_variables (issue 17, item 1).
"""

import secrets
import sys

import pytest
import responses
from django.test import RequestFactory
from django.views.debug import ExceptionReporter

from integrations.visma import services, tokens
from tests.visma.conftest import API, TOKEN_URL, make_connection, token_answer

pytestmark = pytest.mark.django_db


def report(exc_info) -> str:
    """The report of the frames below the test (the test's own locals hold the token)."""
    exc_type, exc, tb = exc_info
    request = RequestFactory().get("/oppsett/integrasjoner/visma-eaccounting/")
    reporter = ExceptionReporter(request, exc_type, exc, tb.tb_next)
    return reporter.get_traceback_text() + reporter.get_traceback_html()


def test_an_error_while_calling_visma_shows_no_access_token(org, settings):
    settings.DEBUG = False
    access, refresh = secrets.token_hex(16), secrets.token_hex(16)
    make_connection(org, access=access, refresh=refresh)

    def boom(token, *args):
        raise RuntimeError("Visma answered something unexpected")

    try:
        tokens.call(org, boom)
    except RuntimeError:
        text = report(sys.exc_info())

    assert "Visma answered something unexpected" in text
    assert access not in text
    assert refresh not in text


def test_an_error_after_the_code_exchange_shows_no_token(org, alice, settings, mocked):
    settings.DEBUG = False
    access, refresh = secrets.token_hex(16), secrets.token_hex(16)
    mocked.add(responses.POST, TOKEN_URL, json=token_answer(access=access, refresh=refresh))
    mocked.add(
        responses.GET, f"{API}/companysettings", body=RuntimeError("connection pool exploded")
    )

    try:
        services.complete_connection(
            org, user=alice, code="the-code", code_verifier="v" * 50, redirect_uri="https://x/cb"
        )
    except RuntimeError:
        text = report(sys.exc_info())

    assert "connection pool exploded" in text
    assert access not in text
    assert refresh not in text
