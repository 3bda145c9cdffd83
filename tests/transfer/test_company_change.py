"""A reconnect never silently moves the books to another company: a sign-in that lands in
another Visma company waits for an admin's confirmation on a page that says what happens;
settlements uncertain in the old company are resolved there first; every admin is told;
the connection's history keeps who, when and which company."""

import pytest
from django.core import mail

from integrations.visma import services, transfer
from integrations.visma.models import ConnectionEvent, SettlementExport, VismaConnection
from tests.conftest import status_of
from visma_sandbox import services as sandbox

from .conftest import vouchers_in

pytestmark = pytest.mark.django_db(transaction=True)

State = SettlementExport.State
PAGE = "/oppsett/integrasjoner/visma-eaccounting/bytt-selskap/"


@pytest.fixture
def admin_client(client, alice):
    client.force_login(alice)
    return client


def test_a_reconnect_to_the_same_company_goes_through(org, connect):
    connect(org)
    connect(org)
    actions = list(ConnectionEvent.objects.values_list("action", "company_name"))
    assert actions == [("reconnected", "Fjordkafé AS"), ("connected", "Fjordkafé AS")]


def test_a_sign_in_in_another_company_changes_nothing_until_confirmed(org, connect):
    connect(org)

    with pytest.raises(services.CompanyChangeNeeded):
        connect(org, "Bakeri Nord AS")

    connection = VismaConnection.objects.get(organization=org)
    assert connection.company_name == "Fjordkafé AS" and connection.is_connected
    assert services.pending_change(org).company_name == "Bakeri Nord AS"


def test_the_page_says_what_happens_and_the_admin_confirms(
    org, connect, mapped, ingest, worked_example, admin_client, alice
):
    connect(org)
    ingest(worked_example["settlement"])
    assert transfer.export_organization(organization=org).ok
    with pytest.raises(services.CompanyChangeNeeded):
        connect(org, "Bakeri Nord AS")
    mail.outbox.clear()

    page = admin_client.get(PAGE).content.decode()
    assert "Bakeri Nord AS" in page and "Fjordkafé AS" in page
    assert "Nye bilag går til Bakeri Nord AS" in page
    assert "Bilag som allerede er overført, blir i Fjordkafé AS" in page

    answer = admin_client.post(PAGE, {"decision": "change"}, follow=True)

    assert "Koblet til Bakeri Nord AS" in answer.content.decode()
    connection = VismaConnection.objects.get(organization=org)
    assert (connection.company_name, connection.company_org_number) == (
        "Bakeri Nord AS",
        "923456783",
    )
    assert len(mail.outbox) == 1
    assert "nye bilag går nå til Bakeri Nord AS" in mail.outbox[0].body
    assert alice.email in mail.outbox[0].to
    event = ConnectionEvent.objects.first()
    assert (event.action, event.company_name, event.user) == (
        "company_changed",
        "Bakeri Nord AS",
        alice,
    )
    history = admin_client.get("/oppsett/integrasjoner/visma-eaccounting/").content.decode()
    assert "byttet selskap: Bakeri Nord AS (923456783)" in history
    assert "koblet til: Fjordkafé AS (912345678)" in history
    # The day already in Fjordkafé stays there; nothing is posted again to Bakeri Nord.
    assert transfer.export_organization(organization=org).ok
    assert vouchers_in("Fjordkafé AS").count() == 1
    assert vouchers_in("Bakeri Nord AS").count() == 0


def test_cancel_keeps_the_old_company_and_forgets_the_new_tokens(org, connect, admin_client):
    connect(org)
    with pytest.raises(services.CompanyChangeNeeded):
        connect(org, "Bakeri Nord AS")

    admin_client.post(PAGE, {"decision": "cancel"})

    assert services.pending_change(org) is None
    assert VismaConnection.objects.get(organization=org).company_name == "Fjordkafé AS"
    assert ConnectionEvent.objects.first().action == "change_refused"


def test_uncertain_settlements_are_resolved_in_the_old_company_first(
    org, connect, mapped, ingest, worked_example, admin_client
):
    """A POST to Fjordkafé whose answer was lost is never searched for in, nor posted to,
    Bakeri Nord: the change waits until the next run has found it in Fjordkafé."""
    connect(org)
    settlement = ingest(worked_example["settlement"])
    sandbox.set_fault(lose_after_store=1)
    transfer.export_organization(organization=org)
    assert status_of(settlement).state == State.UNCERTAIN
    with pytest.raises(services.CompanyChangeNeeded):
        connect(org, "Bakeri Nord AS")

    page = admin_client.get(PAGE).content.decode()
    assert "1 dagsoppgjør er usikkert i Fjordkafé AS" in page
    admin_client.post(PAGE, {"decision": "change"})
    assert VismaConnection.objects.get(organization=org).company_name == "Fjordkafé AS"

    assert transfer.export_organization(organization=org).ok  # found in Fjordkafé
    assert status_of(settlement).state == State.POSTED
    admin_client.post(PAGE, {"decision": "change"})
    assert VismaConnection.objects.get(organization=org).company_name == "Bakeri Nord AS"
    assert vouchers_in("Fjordkafé AS").count() == 1
    assert vouchers_in("Bakeri Nord AS").count() == 0


def test_a_disconnect_does_not_forget_where_the_books_are(org, connect):
    connect(org)
    services.disconnect(org)

    with pytest.raises(services.CompanyChangeNeeded):
        connect(org, "Kiosk Vest AS")
    assert ConnectionEvent.objects.filter(action="disconnected").count() == 1
