"""/dagsoppgjor/kalender/kasse/<register>/<day>/: one register's day, as a calendar cell
leads to it: what came (or that nothing came though it was expected), and for admins the
buttons to mark the register closed that day or for good, or to undo it."""

import pytest

from backoffice.models import Register
from settlements.missing import close_register
from tests.clock import days_ago
from tests.conftest import set_transfer
from tests.register_days import send, send_days, span


@pytest.fixture
def kasse(location, worked_example) -> Register:
    """KASSE-1 sent every day of the last two weeks but the day before yesterday."""
    send_days(
        location, worked_example, span(days_ago(14), days_ago(1), skip=[days_ago(2)]), first_z=1
    )
    return Register.objects.get(location=location, code="KASSE-1")


def url(register: Register, day) -> str:
    return f"/dagsoppgjor/kalender/kasse/{register.pk}/{day.isoformat()}/"


def test_it_says_that_an_expected_z_report_never_came(client, alice, kasse):
    client.force_login(alice)

    response = client.get(url(kasse, days_ago(2)))

    assert response.status_code == 200
    html = response.content.decode()
    assert "KASSE-1 · Fjordkafé Sentrum" in html
    assert "Torsdag 26.11.2026" in html
    assert "KASSE-1 i Fjordkafé Sentrum har ingen Z-rapport for 26.11.2026" in html
    assert '<button name="scope" value="day" class="primary">Stengt denne dagen</button>' in html
    assert '<button name="scope" value="for_good">Stengt for godt</button>' in html
    assert f'<input type="hidden" name="day" value="{days_ago(2).isoformat()}">' in html


def test_it_lists_the_days_z_reports_with_their_state(client, bob, kasse, location, worked_example):
    settlement = send(location, worked_example, day=days_ago(2), z=500)
    set_transfer(settlement, "posted", voucher_number="A12")
    client.force_login(bob)

    html = client.get(url(kasse, days_ago(2))).content.decode()

    assert "Kassen sendte én Z-rapport denne dagen." in html
    assert f'<a href="/dagsoppgjor/{settlement.pk}/">500</a>' in html
    assert "Bilag A12" in html
    assert "har ingen Z-rapport" not in html


def test_it_shows_who_marked_the_day_closed_and_lets_an_admin_undo_it(client, alice, kasse):
    closure, _ = close_register(register=kasse, day=days_ago(2), user=alice, note="Vannlekkasje")
    client.force_login(alice)

    html = client.get(url(kasse, days_ago(2))).content.decode()

    assert "Merket stengt denne dagen av alice" in html
    assert "Vannlekkasje" in html
    assert f'action="/dagsoppgjor/kalender/stengt/{closure.pk}/angre/"' in html
    assert "Angre: ikke stengt denne dagen" in html
    assert "har ingen Z-rapport" not in html


def test_staff_read_the_day_but_get_no_buttons(client, bob, kasse):
    client.force_login(bob)

    html = client.get(url(kasse, days_ago(2))).content.decode()

    assert "har ingen Z-rapport for 26.11.2026" in html
    assert "Stengt denne dagen" not in html and "Stengt for godt" not in html


def test_a_day_nothing_was_expected_says_so(client, bob, kasse):
    client.force_login(bob)

    html = client.get(url(kasse, days_ago(20))).content.decode()

    assert "Ingen Z-rapport denne dagen, og ingen ventet." in html


def test_another_organisations_register_is_not_found(client, charlie, kasse):
    client.force_login(charlie)

    assert client.get(url(kasse, days_ago(2))).status_code == 404


def test_a_day_that_is_not_a_date_is_not_found(client, bob, kasse):
    client.force_login(bob)

    assert client.get(f"/dagsoppgjor/kalender/kasse/{kasse.pk}/2026-02-30/").status_code == 404
