"""POST /dagsoppgjor/kalender/stengt/<closure>/angre/: an admin undoes a closure; the
register is expected again and warns again."""

import pytest

from backoffice.models import Register
from settlements.missing import close_register
from settlements.models import RegisterClosure
from tests.clock import days_ago
from tests.register_days import send_days, span


@pytest.fixture
def closure(location, worked_example, alice) -> RegisterClosure:
    send_days(location, worked_example, span(days_ago(14), days_ago(2)), first_z=1)
    register = Register.objects.get(location=location, code="KASSE-1")
    return close_register(register=register, day=days_ago(1), user=alice)[0]


def reopen_url(closure: RegisterClosure) -> str:
    return f"/dagsoppgjor/kalender/stengt/{closure.pk}/angre/"


def test_an_admin_undoes_a_closure_and_the_day_is_missing_again(client, alice, closure):
    client.force_login(alice)

    response = client.post(reopen_url(closure), follow=True)

    assert response.redirect_chain == [("/dagsoppgjor/kalender/?month=2026-11", 302)]
    html = response.content.decode()
    assert "KASSE-1 i Fjordkafé Sentrum er ikke lenger merket stengt 27.11.2026." in html
    assert "KASSE-1 i Fjordkafé Sentrum har ingen Z-rapport for 27.11.2026" in html
    assert not RegisterClosure.objects.exists()


def test_undoing_for_good_says_so(client, alice, closure):
    for_good = close_register(register=closure.register, day=None, user=alice)[0]
    client.force_login(alice)

    response = client.post(reopen_url(for_good), follow=True)

    assert "KASSE-1 i Fjordkafé Sentrum er ikke lenger merket stengt for godt." in (
        response.content.decode()
    )
    assert list(RegisterClosure.objects.all()) == [closure]


def test_staff_cannot_undo_a_closure(client, bob, closure):
    client.force_login(bob)

    assert client.post(reopen_url(closure)).status_code == 403
    assert RegisterClosure.objects.filter(pk=closure.pk).exists()


def test_another_organisations_admin_does_not_find_the_closure(client, charlie, closure):
    client.force_login(charlie)

    assert client.post(reopen_url(closure)).status_code == 404
    assert RegisterClosure.objects.filter(pk=closure.pk).exists()
