"""The product groups and payment methods the kontooppsett page lists come from SeenName,
kept at ingestion (one row per name, whatever the number of settlements), not from a scan of
every sale line and payment; and the migration fills it from what was stored before."""

import copy
import importlib

import pytest
from django.apps import apps

from accounting.services import seen_in_settlements
from settlements.models import Payment, SaleLine, SeenName, Settlement
from settlements.parsing import parse_settlement
from settlements.services import ingest_settlement

fill_migration = importlib.import_module("settlements.migrations.0003_fill_seenname")


@pytest.fixture
def body(worked_example) -> dict:
    return copy.deepcopy(worked_example["settlement"])


def ingest(location, body, **changes):
    return ingest_settlement(location=location, data=parse_settlement({**body, **changes}))


def names(org) -> set[tuple[str, str, str]]:
    return set(SeenName.objects.filter(organization=org).values_list("kind", "name", "rate"))


WORKED_EXAMPLE_NAMES = {
    ("product_group", "Klær", "25"),
    ("product_group", "Mat", "15"),
    ("payment_method", "cash", ""),
    ("payment_method", "card", ""),
    ("payment_method", "vipps", ""),
    ("payment_method", "gift_card", ""),
}


def test_ingestion_records_each_group_at_its_rate_and_each_method_once(org, location, body):
    for z in range(1, 4):
        ingest(location, body, z_number=z)
    ingest(
        location,
        body,
        z_number=4,
        sales=[
            {"product_group": "Mat", "vat_rate": "25.00", "gross_amount": "100.00"},
            {"product_group": "Mat", "vat_rate": "15", "gross_amount": "10670.00"},
        ],
        payments=[{"method": "kupong", "amount": "11420.00"}],
    )

    assert names(org) == WORKED_EXAMPLE_NAMES | {
        ("product_group", "Mat", "25"),
        ("payment_method", "kupong", ""),
    }


def test_a_refused_settlement_records_nothing(org, location, body):
    ingest(location, body)
    new_group = [{"product_group": "Gaver", "vat_rate": "12", "gross_amount": "10670.00"}]

    assert ingest(location, body, sales=new_group).outcome == "conflict"

    assert names(org) == WORKED_EXAMPLE_NAMES


def test_the_page_reads_one_row_per_name_in_one_query(
    org, other_org, location, other_location, body, django_assert_num_queries
):
    for z in range(1, 21):
        ingest(location, body, z_number=z)
    ingest(other_location, body, payments=[{"method": "bakerikort", "amount": "10649.60"}])

    with django_assert_num_queries(1):
        seen = seen_in_settlements(org)

    assert seen.group_rates == {"Klær": {"25"}, "Mat": {"15"}}
    assert seen.rates == {"25", "15"}
    assert seen.methods == ["card", "cash", "gift_card", "vipps"]


def test_the_migration_fills_the_names_of_settlements_stored_before(
    org, other_org, location, other_location, body
):
    ingest(location, body)
    ingest(
        location,
        body,
        z_number=1043,
        sales=[{"product_group": "Gaver", "vat_rate": "12.50", "gross_amount": "10670.00"}],
    )
    ingest(other_location, body, payments=[{"method": "bakerikort", "amount": "10649.60"}])
    first_settlement = Settlement.objects.get(location=location, z_number=1042)
    before = {org.pk: names(org), other_org.pk: names(other_org)}
    SeenName.objects.all().delete()  # as before the table existed
    assert SaleLine.objects.exists() and Payment.objects.exists()

    fill_migration.fill(apps, None)

    assert {org.pk: names(org), other_org.pk: names(other_org)} == before
    assert ("product_group", "Gaver", "12.5") in before[org.pk]
    klaer = SeenName.objects.get(organization=org, name="Klær")
    assert klaer.first_seen == first_settlement.received_at
