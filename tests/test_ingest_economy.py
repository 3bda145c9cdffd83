"""What one accepted settlement costs the database (bench/README.md, figure 5): no read
before the INSERTs, the register added in one insert-if-missing, the key's last use written
at most once a minute; and still exactly once per Z-number when two requests race."""

import copy
import datetime as dt
import re
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backoffice.models import ApiKey, Register
from settlements import services
from settlements.models import Payment, SaleLine, SeenName, Settlement
from settlements.parsing import parse_settlement
from settlements.services import ingest_settlement
from tests.test_settlement_api import post

SAVEPOINTS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


@pytest.fixture
def body(worked_example) -> dict:
    return copy.deepcopy(worked_example["settlement"])


def statements(queries) -> list[str]:
    """The captured SQL without the savepoints the test's own transaction adds."""
    return [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(SAVEPOINTS)]


def verbs(sql: list[str]) -> list[str]:
    return [s.split()[0].upper() for s in sql]


def test_a_new_settlement_is_stored_without_a_single_read(location, body):
    with CaptureQueriesContext(connection) as queries:
        result = ingest_settlement(location=location, data=parse_settlement(body))

    assert result.outcome == "created"
    # Each statement as the tables it inserts into, or the table it counts. Cash
    # movements: none in the worked example, so no INSERT for them. A new register and new
    # names each cost one COUNT: the store's allowance of new ones per day
    # (settlements.limits); a known register and known names cost nothing (below).
    described = [
        re.findall(r'INSERT (?:OR IGNORE )?INTO "(\w+)"', sql)
        or re.findall(r'SELECT COUNT\(\*\) AS "__count" FROM "(\w+)"', sql)
        for sql in statements(queries)
    ]
    inserts = [
        "backoffice_register",
        "settlements_settlement",
        "settlements_saleline",
        "settlements_payment",
        "settlements_seenname",
    ]
    counts = [["backoffice_register"], ["settlements_seenname"]]
    if connection.vendor == "postgresql":
        # One statement of data-modifying CTEs (settlements.services._insert_at_once).
        assert described == [inserts, *counts]
    else:
        assert described == [[table] for table in inserts] + counts
    assert SaleLine.objects.filter(settlement=result.settlement).count() == 2
    assert Payment.objects.filter(settlement=result.settlement).count() == 4


def test_a_known_register_is_not_read_and_not_added_twice(location, body):
    ingest_settlement(location=location, data=parse_settlement(body))
    with CaptureQueriesContext(connection) as queries:
        result = ingest_settlement(
            location=location, data=parse_settlement({**body, "z_number": 1043})
        )

    assert result.outcome == "created"
    assert "SELECT" not in verbs(statements(queries))
    assert list(Register.objects.values_list("code", flat=True)) == ["KASSE-1"]
    assert Settlement.objects.count() == 2


def test_a_resent_settlement_is_answered_from_the_unique_constraint(location, body):
    first = ingest_settlement(location=location, data=parse_settlement(body))
    other = {**body, "tips": "151.00", "rounding": "-1.40"}

    same = ingest_settlement(location=location, data=parse_settlement(body))
    different = ingest_settlement(location=location, data=parse_settlement(other))

    assert (same.outcome, same.settlement.pk) == ("unchanged", first.settlement.pk)
    assert (different.outcome, different.settlement.pk) == ("conflict", first.settlement.pk)
    # The refused INSERTs left nothing behind.
    assert Settlement.objects.count() == 1
    assert SaleLine.objects.count() == 2
    assert Payment.objects.count() == 4
    assert Register.objects.count() == 1


def test_the_api_answers_201_200_and_409_as_before(client, api_key, body):
    assert post(client, body, api_key).status_code == 201
    assert post(client, body, api_key).status_code == 200
    assert post(client, {**body, "tips": "151.00", "rounding": "-1.40"}, api_key).status_code == 409


def test_a_request_reads_the_key_once_and_writes_its_last_use_at_most_once_a_minute(
    client, api_key, location, body
):
    assert post(client, body, api_key).status_code == 201
    first_use = ApiKey.objects.get(location=location).last_used_at
    assert first_use is not None

    with CaptureQueriesContext(connection) as queries:
        assert post(client, {**body, "z_number": 1043}, api_key).status_code == 201

    sql = statements(queries)
    assert verbs(sql).count("SELECT") == 1  # the key
    assert not any("backoffice_apikey" in s for s in sql if s.startswith("UPDATE"))
    assert ApiKey.objects.get(location=location).last_used_at == first_use


def test_a_key_last_used_more_than_a_minute_ago_gets_its_time_written(client, api_key, body):
    long_ago = timezone.now() - dt.timedelta(minutes=2)
    ApiKey.objects.update(last_used_at=long_ago)

    assert post(client, body, api_key).status_code == 201

    assert ApiKey.objects.get().last_used_at > long_ago + dt.timedelta(minutes=1)


# -- two requests for one Z-number at the same moment, on two connections -------------------


def race(location, bodies: list[dict], monkeypatch) -> list[str]:
    """Ingest the bodies in threads started together; the one that stores first keeps its
    transaction open a moment, so the other's INSERT meets it in the unique constraint."""
    real_check = services.limits.check_new_registers

    def slow_check(location):
        # The register is new: the first request checks its daily allowance after its
        # inserts, inside its transaction.
        real_check(location)
        threading.Event().wait(0.3)

    monkeypatch.setattr(services.limits, "check_new_registers", slow_check)
    barrier = threading.Barrier(len(bodies))
    outcomes, errors = [], []

    def request(body):
        try:
            barrier.wait()
            outcomes.append(
                ingest_settlement(location=location, data=parse_settlement(body)).outcome
            )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=request, args=(b,)) for b in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    return sorted(outcomes)


@pytest.mark.django_db(transaction=True)
def test_two_requests_with_one_body_at_once_store_it_once(location, body, monkeypatch):
    assert race(location, [body, body], monkeypatch) == ["created", "unchanged"]

    assert Settlement.objects.count() == 1
    assert SaleLine.objects.count() == 2
    assert Register.objects.count() == 1
    assert SeenName.objects.count() == 6


@pytest.mark.django_db(transaction=True)
def test_two_requests_with_one_z_number_and_other_content_at_once(location, body, monkeypatch):
    other = {**body, "tips": "151.00", "rounding": "-1.40"}

    assert race(location, [body, other], monkeypatch) == ["conflict", "created"]

    assert Settlement.objects.count() == 1
    assert SaleLine.objects.count() == 2
