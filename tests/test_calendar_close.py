"""POST /dagsoppgjor/kalender/kasse/<register>/stengt/: an admin marks a register closed
for a day ("Stengt denne dagen") or for good ("Stengt for godt"); it stops warning."""

import pytest

from backoffice.models import Register
from settlements.models import RegisterClosure
from tests.clock import days_ago
from tests.register_days import calendar_cells, send_days, span

CALENDAR = "/dagsoppgjor/kalender/"


@pytest.fixture
def kasse(location, worked_example) -> Register:
    """KASSE-1 sent every day of the last two weeks but yesterday."""
    send_days(location, worked_example, span(days_ago(14), days_ago(2)), first_z=1)
    return Register.objects.get(location=location, code="KASSE-1")


def close_url(register: Register) -> str:
    return f"/dagsoppgjor/kalender/kasse/{register.pk}/stengt/"


def test_an_admin_marks_a_register_closed_for_the_day_and_the_warning_goes(client, alice, kasse):
    client.force_login(alice)
    assert "har ingen Z-rapport for 27.11.2026" in client.get(CALENDAR).content.decode()

    response = client.post(
        close_url(kasse),
        {"scope": "day", "day": days_ago(1).isoformat(), "note": "Julebord", "next": CALENDAR},
        follow=True,
    )

    assert response.redirect_chain == [(CALENDAR, 302)]
    html = response.content.decode()
    assert "KASSE-1 i Fjordkafé Sentrum er merket stengt 27.11.2026." in html
    assert "har ingen Z-rapport" not in html
    assert calendar_cells(html)["KASSE-1"][days_ago(1)] == "closed"
    closure = RegisterClosure.objects.get()
    assert (closure.register, closure.day, closure.note, closure.closed_by) == (
        kasse,
        days_ago(1),
        "Julebord",
        alice,
    )


def test_an_admin_marks_a_register_closed_for_good(client, alice, kasse):
    client.force_login(alice)

    response = client.post(close_url(kasse), {"scope": "for_good"}, follow=True)

    html = response.content.decode()
    assert "KASSE-1 i Fjordkafé Sentrum er merket stengt for godt og varsles ikke mer." in html
    assert '<span class="closed-note">stengt for godt</span>' in html
    assert "har ingen Z-rapport" not in html
    assert RegisterClosure.objects.get().day is None


def test_marking_it_twice_keeps_one_closure(client, alice, kasse):
    client.force_login(alice)
    form = {"scope": "day", "day": days_ago(1).isoformat()}

    client.post(close_url(kasse), form)
    response = client.post(close_url(kasse), form, follow=True)

    assert "Det var allerede merket" in response.content.decode()
    assert RegisterClosure.objects.count() == 1


@pytest.mark.parametrize(
    ("form", "problem"),
    [
        ({"day": "2026-11-27"}, "Velg om kassen var stengt denne dagen eller for godt."),
        ({"scope": "day"}, "Velg dagen kassen var stengt."),
        ({"scope": "day", "day": "27.13.2026"}, "Dagen må være en dato (dd.mm.åååå)."),
        ({"scope": "for_good", "note": "x" * 201}, "Notatet kan være høyst 200 tegn."),
    ],
)
def test_a_form_that_does_not_say_enough_is_refused_with_why(client, alice, kasse, form, problem):
    client.force_login(alice)

    response = client.post(close_url(kasse), form, follow=True)

    assert f"KASSE-1 ble ikke merket stengt: {problem}" in response.content.decode()
    assert not RegisterClosure.objects.exists()


def test_it_accepts_a_norwegian_date(client, alice, kasse):
    client.force_login(alice)

    client.post(close_url(kasse), {"scope": "day", "day": "27.11.2026"})

    assert RegisterClosure.objects.get().day == days_ago(1)


def test_staff_cannot_mark_a_register_closed(client, bob, kasse):
    client.force_login(bob)

    response = client.post(close_url(kasse), {"scope": "for_good"})

    assert response.status_code == 403
    assert not RegisterClosure.objects.exists()


def test_another_organisations_admin_does_not_find_the_register(client, charlie, kasse):
    client.force_login(charlie)

    response = client.post(close_url(kasse), {"scope": "for_good"})

    assert response.status_code == 404
    assert not RegisterClosure.objects.exists()


def test_it_goes_back_only_to_a_page_of_this_site(client, alice, kasse):
    client.force_login(alice)

    response = client.post(
        close_url(kasse),
        {"scope": "day", "day": "2026-11-27", "next": "https://evil.example/"},
    )

    assert response["Location"] == "/dagsoppgjor/kalender/?month=2026-11"
