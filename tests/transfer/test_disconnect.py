"""Oppsett > Integrasjoner > Visma eAccounting > "Koble fra", against the simulator's
identity server, which revokes as Visma's does: every refresh token the same Visma user
holds for the client goes with the one revoked. Disconnecting one organisation must not
cut off another that the same Visma user connected."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from accounting.services import import_mapping
from integrations.visma import services, transfer
from integrations.visma.models import VismaConnection
from visma_sandbox import services as sandbox
from visma_sandbox.models import RefreshToken, SandboxUser

from .conftest import vouchers_in

pytestmark = pytest.mark.django_db(transaction=True)

BAKERI = "Bakeri Nord AS"
KEPT_AT_VISMA = "tilgangen er ikke trukket tilbake hos Visma"


def _disconnect(user) -> list[tuple[str, str]]:
    browser = Client()
    browser.force_login(user)
    response = browser.post(reverse("visma:disconnect"), follow=True)
    assert response.status_code == 200
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def _live_refresh_tokens(company: str) -> int:
    return RefreshToken.objects.filter(
        company=sandbox.get_company(company), revoked_at__isnull=True, used_at__isnull=True
    ).count()


@pytest.fixture
def bakeri_ready(other_org, other_location, worked_example, ingest):
    """Bakeri Nord's organisation mapped, with yesterday's settlement waiting."""
    import_mapping(organization=other_org, data=worked_example["mapping"])
    return ingest(worked_example["settlement"], loc=other_location)


def test_it_keeps_the_other_organisation_connected_by_the_same_visma_user(
    org, other_org, alice, charlie, connect, bakeri_ready
):
    # Demo Demosen connected both organisations, each to its own company.
    connect(org)
    connect(other_org, BAKERI, user=charlie)
    demo = str(SandboxUser.objects.get(email="demo@visma.example").subject)
    assert {c.visma_user_id for c in VismaConnection.objects.all()} == {demo}

    messages = _disconnect(alice)

    assert ("success", "Visma eAccounting er koblet fra.") in messages
    [(level, warning)] = [m for m in messages if m[0] == "warning"]
    assert KEPT_AT_VISMA in warning
    assert "Innstillinger > Apper og utvidelser" in warning
    assert BAKERI not in warning  # the other organisation is another customer's business
    connection = VismaConnection.objects.get(organization=org)
    assert connection.status == VismaConnection.Status.NOT_CONNECTED
    assert not connection.has_tokens
    # Bakeri Nord's organisation refreshes its token and posts, as if nothing happened.
    sandbox.expire_access_tokens()
    result = transfer.export_organization(organization=other_org)
    assert [o.result for o in result.outcomes] == ["posted"]
    assert vouchers_in(BAKERI).count() == 1


def test_it_revokes_the_grant_when_no_other_organisation_holds_one_from_that_visma_user(
    org, other_org, alice, charlie, connect, bakeri_ready
):
    connect(org, visma_user="kafe@visma.example")
    connect(other_org, BAKERI, user=charlie, visma_user="bakeri@visma.example")
    assert _live_refresh_tokens("Fjordkafé AS") == 1

    messages = _disconnect(alice)

    assert messages == [("success", "Visma eAccounting er koblet fra.")]
    assert _live_refresh_tokens("Fjordkafé AS") == 0  # revoked at Visma
    assert _live_refresh_tokens(BAKERI) == 1  # another user's grant
    result = transfer.export_organization(organization=other_org)
    assert [o.result for o in result.outcomes] == ["posted"]


def test_it_does_not_revoke_a_refused_connects_tokens_while_that_user_connects_another(
    org, other_org, charlie, connect, bakeri_ready
):
    connect(other_org, BAKERI, user=charlie)
    # The same Visma user connects a company without the API module: the connect is
    # refused, and giving its tokens back must not end Bakeri Nord's grant with them.
    sandbox.set_fault(company="Fjordkafé AS", access_error=4002)
    with pytest.raises(services.ConnectFailed):
        connect(org)

    sandbox.expire_access_tokens()
    result = transfer.export_organization(organization=other_org)
    assert [o.result for o in result.outcomes] == ["posted"]
