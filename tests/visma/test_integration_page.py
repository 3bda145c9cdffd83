"""Oppsett > Integrasjoner > Visma eAccounting: the states of the connection block, the
transfer settings, disconnect, the chart button; admins change, staff look, and another
organisation's admin sees only their own."""

import re
from datetime import time, timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from backoffice.models import AuditEvent
from integrations.visma import services
from integrations.visma.models import (
    TransferSettings,
    VismaAccount,
    VismaConnection,
    VismaVatCode,
)
from integrations.visma.schedule import OSLO

from .conftest import API, REVOCATION_URL, add_chart, make_connection

PAGE = "/oppsett/integrasjoner/visma-eaccounting/"


def texts(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def html(client) -> str:
    response = client.get(PAGE)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_not_connected_offers_the_connect_button(alice_client):
    page = html(alice_client)
    assert "ikke tilkoblet" in page
    button = re.search(r"<button[^>]*>Connect Visma eAccounting</button>", page).group(0)
    assert "disabled" not in button
    assert 'action="/oppsett/integrasjoner/visma-eaccounting/koble-til/"' in page
    assert "Visma Account connected" not in page
    assert "VISMA_CLIENT_ID" not in page


@pytest.mark.django_db
def test_connected_shows_the_company_above_the_buttons(alice_client, org, connected):
    page = html(alice_client)
    assert "Visma Account connected" in page
    assert "Fjordkafé AS" in page and "912345678" in page and "alice" in page
    when = timezone.localtime(connected.connected_at)
    assert f"{when.day}." in page and when.strftime("%H:%M") in page
    position = page.index("Visma Account connected")
    assert position < page.index("Oppdater kontoplan fra Visma") < page.index("Koble fra")
    assert "Connect Visma eAccounting" not in page


@pytest.mark.django_db
def test_reconnect_required_shows_the_reason_the_button_and_the_banner(
    alice_client, org, connected
):
    VismaConnection.objects.filter(pk=connected.pk).update(
        status=VismaConnection.Status.RECONNECT_REQUIRED,
        reason="Visma godtar ikke lenger tilgangen (invalid_grant).",
    )
    page = html(alice_client)
    assert "må kobles til på nytt" in page
    assert "Visma godtar ikke lenger tilgangen (invalid_grant)." in page
    assert "Connect Visma eAccounting" in page
    assert "Visma-tilkoblingen må kobles til på nytt: Visma godtar" in page  # the banner
    assert "Visma Account connected" not in page


@pytest.mark.django_db
def test_the_seed_words_stay_english_in_english(alice_client, org, connected):
    alice_client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    page = html(alice_client)
    assert 'lang="en"' in page
    assert "Visma Account connected" in page
    assert "Update chart of accounts from Visma" in page
    VismaConnection.objects.all().delete()
    assert "Connect Visma eAccounting" in html(alice_client)


@pytest.mark.django_db
def test_admin_saves_interval_lookback_and_time(alice_client, org):
    response = alice_client.post(
        PAGE, {"interval": "weekly", "lookback_days": "60", "run_time": "07:30"}, follow=True
    )
    assert ("success", "Innstillingene for overføring er lagret.") in texts(response)
    saved = TransferSettings.objects.get(organization=org)
    assert (saved.interval, saved.lookback_days, saved.run_time) == ("weekly", 60, time(7, 30))
    next_run = saved.next_run_at.astimezone(OSLO)
    assert next_run.weekday() == 0 and (next_run.hour, next_run.minute) == (7, 30)
    assert next_run > timezone.now()
    page = response.content.decode()
    assert "mandag" in page and "07:30" in page


@pytest.mark.django_db
def test_the_defaults_are_daily_30_days_at_six(alice_client, org):
    page = html(alice_client)
    saved = TransferSettings.objects.get(organization=org)
    assert (saved.interval, saved.lookback_days, saved.run_time) == ("daily", 30, time(6))
    assert re.search(r'value="daily"[^>]*checked', page)
    assert "Daglig" in page and "Ukentlig" in page and "Månedlig" in page and "Aldri" in page


@pytest.mark.django_db
def test_a_lookback_outside_the_choices_is_refused(alice_client, org):
    response = alice_client.post(
        PAGE, {"interval": "daily", "lookback_days": "45", "run_time": "06:00"}
    )
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert TransferSettings.objects.get(organization=org).lookback_days == 30


@pytest.mark.django_db
def test_never_has_no_next_transfer(alice_client, org):
    alice_client.post(PAGE, {"interval": "never", "lookback_days": "30", "run_time": "06:00"})
    assert TransferSettings.objects.get(organization=org).next_run_at is None
    assert "automatisk overføring er slått av" in html(alice_client)


@pytest.mark.django_db
def test_last_transfer_is_shown(alice_client, org, connected):
    transfer = TransferSettings.for_organization(org)
    transfer.last_run_at = timezone.now() - timedelta(hours=2)
    transfer.last_run_summary = {"posted": 3, "needs_action": 1, "failed": 0}
    transfer.save()
    page = html(alice_client)
    assert "3 overført" in page and "1 trenger handling" in page and "0 feilet" in page
    assert "lagt som kladd" not in page  # only when some went as drafts


@pytest.mark.django_db
def test_staff_see_everything_but_change_nothing(bob_client, org, connected):
    page = html(bob_client)
    assert "Visma Account connected" in page and "Fjordkafé AS" in page
    assert "Koble fra" not in page and "Oppdater kontoplan fra Visma" not in page
    assert "Lagre" not in page
    assert re.search(r'name="lookback_days"[^>]*disabled', page)
    for url, data in [
        (PAGE, {"interval": "never", "lookback_days": "30", "run_time": "06:00"}),
        (reverse("visma:disconnect"), {}),
        (reverse("visma:refresh_chart"), {}),
        (reverse("visma:connect"), {}),
    ]:
        assert bob_client.post(url, data).status_code == 403
    assert TransferSettings.objects.get(organization=org).interval == "daily"
    assert VismaConnection.objects.get(organization=org).is_connected


@pytest.mark.django_db
def test_another_organisations_admin_sees_and_touches_only_their_own(
    charlie_client, org, connected, mocked
):
    page = html(charlie_client)
    assert "Bakeri Nord AS" in page
    assert "Fjordkafé AS" not in page and "912345678" not in page
    assert "ikke tilkoblet" in page
    charlie_client.post(reverse("visma:disconnect"))
    charlie_client.post(PAGE, {"interval": "never", "lookback_days": "7", "run_time": "06:00"})
    assert VismaConnection.objects.get(organization=org).refresh_token == "refresh-1"
    assert TransferSettings.for_organization(org).interval == "daily"
    assert len(mocked.calls) == 0


@pytest.mark.django_db
def test_disconnect_revokes_and_forgets(alice_client, org, connected, mocked):
    add_chart(mocked)
    services.refresh_company_data(org)
    mocked.post(REVOCATION_URL, status=200)
    response = alice_client.post(reverse("visma:disconnect"), follow=True)
    assert ("success", "Visma eAccounting er koblet fra.") in texts(response)
    [revocation] = [c for c in mocked.calls if c.request.url == REVOCATION_URL]
    assert "token=refresh-1" in revocation.request.body
    assert "token_type_hint=refresh_token" in revocation.request.body
    assert revocation.request.headers["Authorization"].startswith("Basic ")
    connection = VismaConnection.objects.get(organization=org)
    assert connection.status == VismaConnection.Status.NOT_CONNECTED
    assert connection.access_token_encrypted == "" and connection.refresh_token_encrypted == ""
    assert not VismaAccount.objects.filter(organization=org).exists()
    assert "Connect Visma eAccounting" in response.content.decode()


@pytest.mark.django_db
def test_disconnect_goes_through_when_revocation_fails(
    alice_client, org, connected, mocked, caplog
):
    mocked.post(REVOCATION_URL, status=500, body="oops")
    response = alice_client.post(reverse("visma:disconnect"), follow=True)
    assert response.status_code == 200
    assert VismaConnection.objects.get(organization=org).status == "not_connected"
    assert "revocation failed" in caplog.text and "refresh-1" not in caplog.text


@pytest.mark.django_db
def test_the_chart_button_refreshes_the_cache(alice_client, org, connected, mocked):
    add_chart(mocked)
    response = alice_client.post(reverse("visma:refresh_chart"), follow=True)
    [(level, text)] = texts(response)
    assert level == "success" and "4 aktive kontoer" in text and "2 mva-koder" in text
    assert VismaVatCode.objects.filter(organization=org).count() == 2
    page = response.content.decode()
    assert "Kontoplan fra Visma" in page and "31. desember 2025" in page  # AccountingLockedTo


@pytest.mark.django_db
def test_the_chart_button_reports_a_visma_failure(alice_client, org, connected, mocked):
    mocked.get(
        f"{API}/companysettings",
        status=500,
        json={"ErrorCode": 5000, "DeveloperErrorMessage": "Internal error"},
    )
    response = alice_client.post(reverse("visma:refresh_chart"), follow=True)
    [(level, text)] = texts(response)
    assert level == "error" and "Internal error" in text


@pytest.mark.django_db
def test_the_chart_button_without_a_connection(alice_client, org):
    response = alice_client.post(reverse("visma:refresh_chart"), follow=True)
    [(level, text)] = texts(response)
    assert level == "error" and "ikke tilkoblet" in text


@pytest.mark.django_db
def test_the_page_needs_a_login(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_the_connection_repr_never_shows_tokens(org, alice):
    connection = make_connection(org, alice)
    assert "access-1" not in repr(connection) and connection.access_token_encrypted not in repr(
        connection
    )


@pytest.mark.django_db
def test_the_z_report_is_attached_by_default(alice_client, org):
    page = html(alice_client)

    assert TransferSettings.for_organization(org).attach_zreport
    assert re.search(r'<input type="checkbox" name="attach_zreport"[^>]*checked', page)
    assert "Legg ved Z-rapport som PDF" in page
    assert "overføres bilaget likevel" in page


@pytest.mark.django_db
def test_admin_switches_the_z_report_off_and_on(alice_client, org):
    settings_ = {"interval": "daily", "lookback_days": "30", "run_time": "06:00"}

    alice_client.post(PAGE, settings_)  # an unticked box is not sent
    assert not TransferSettings.objects.get(organization=org).attach_zreport
    assert not re.search(r'name="attach_zreport"[^>]*checked', html(alice_client))

    alice_client.post(PAGE, {**settings_, "attach_zreport": "on"})
    assert TransferSettings.objects.get(organization=org).attach_zreport
    changes = [
        line
        for event in AuditEvent.objects.filter(organization=org).order_by("at", "id")
        for line in event.details
    ]
    assert changes == [
        "Legg ved Z-rapport som PDF: på → av",
        "Legg ved Z-rapport som PDF: av → på",
    ]


@pytest.mark.django_db
def test_staff_cannot_switch_the_z_report_off(bob_client, org):
    page = html(bob_client)
    assert re.search(r'name="attach_zreport"[^>]*disabled', page)

    response = bob_client.post(
        PAGE, {"interval": "daily", "lookback_days": "30", "run_time": "06:00"}
    )

    assert response.status_code == 403
    assert TransferSettings.for_organization(org).attach_zreport


def test_admin_switches_draft_mode_on_and_off(alice_client, org, alice):
    from backoffice.models import AuditEvent

    page = html(alice_client)
    assert "Send som kladd (bilagsforslag) til regnskapsfører" in page
    assert not re.search(r'name="send_as_draft"[^>]*checked', page)
    assert not TransferSettings.objects.get(organization=org).send_as_draft

    # The Z-report box stays ticked (its default), as the browser sends it.
    settings_ = {
        "interval": "daily",
        "lookback_days": "30",
        "run_time": "06:00",
        "attach_zreport": "on",
    }
    response = alice_client.post(PAGE, {**settings_, "send_as_draft": "on"}, follow=True)

    assert ("success", "Innstillingene for overføring er lagret.") in texts(response)
    assert TransferSettings.objects.get(organization=org).send_as_draft
    page = response.content.decode()
    assert re.search(r'name="send_as_draft"[^>]*checked', page)
    assert "kladd (bilagsforslag) til regnskapsfører" in page
    [event] = AuditEvent.objects.filter(organization=org)
    assert event.details == ["Send som kladd (bilagsforslag) til regnskapsfører: av → på"]

    alice_client.post(PAGE, settings_)  # an unchecked box is not sent
    assert not TransferSettings.objects.get(organization=org).send_as_draft


@pytest.mark.django_db
def test_the_last_reconciliation_and_its_avvik_are_shown(
    alice_client, org, connected, location, worked_example
):
    from settlements.parsing import parse_settlement
    from settlements.services import ingest_settlement
    from tests.conftest import set_transfer

    settlement = ingest_settlement(
        location=location, data=parse_settlement(worked_example["settlement"])
    ).settlement
    set_transfer(settlement, "avvik", "deleted_in_visma", "Bilaget er slettet i Visma")
    transfer = TransferSettings.for_organization(org)
    transfer.last_run_at = transfer.reconciled_at = timezone.now() - timedelta(hours=2)
    transfer.last_run_summary = {"posted": 3, "draft": 1, "reconcile_message": "Noe gikk galt."}
    transfer.save()

    page = html(alice_client)

    assert "Siste avstemming mot Visma" in page
    assert "1 lagt som kladd i Visma" in page and "Noe gikk galt." in page
    assert re.search(r'href="/dagsoppgjor/\?state=avvik">1 avvik</a>', page)
