"""The kontooppsett is stored as one row per organisation (AccountMapping.mapping, its JSON
form), and the migration to it from the six tables before it loses nothing, either way."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounting.mapping import MappingData, MappingValidationError, SalesAccount, mapping_from_json
from accounting.models import AccountMapping, MappingChange
from accounting.services import export_mapping, load_mapping, save_mapping

BEFORE = [("accounting", "0001_initial")]


def test_it_keeps_the_whole_kontooppsett_in_one_row(org, worked_example):
    save_mapping(organization=org, mapping=mapping_from_json(worked_example["mapping"]))
    save_mapping(organization=org, mapping=MappingData(tips=2911))

    row = AccountMapping.objects.get(organization=org)
    assert row.mapping == export_mapping(organization=org)
    assert row.mapping["tips"] == 2911 and row.mapping["payments"] == {}
    assert MappingChange.objects.filter(organization=org).count() == 2


def test_a_stored_kontooppsett_is_read_through_the_same_validation(org):
    # The company's own codes ("U9") were checked against its catalog when saved: reading
    # the row back does not ask SAF-T about them again.
    save_mapping(
        organization=org, mapping=MappingData(sales_by_vat_rate={"12": SalesAccount(3050, "U9")})
    )
    assert load_mapping(org).sales_by_vat_rate == {"12": SalesAccount(3050, "U9")}

    AccountMapping.objects.filter(organization=org).update(mapping={"tips": 12})
    with pytest.raises(MappingValidationError, match="tips: Kontonummer"):
        load_mapping(org)


def migrate(executor: MigrationExecutor, targets) -> None:
    executor.loader.build_graph()
    executor.migrate(targets)


# Outside a test transaction: SQLite alters no table inside one (with its foreign keys
# checked), and PostgreSQL none with a deferred foreign key check pending.
@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_every_entry_of_the_old_tables_and_back(org, other_org, worked_example):
    save_mapping(organization=org, mapping=mapping_from_json(worked_example["mapping"]))
    saved = export_mapping(organization=org)
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("accounting")

    migrate(executor, BEFORE)  # backwards: the JSON form into the six tables again
    old = executor.loader.project_state(BEFORE).apps
    model = old.get_model
    single = model("accounting", "AccountMapping").objects.get(organization_id=org.pk)
    assert (single.tips, single.pay_outs) == (2910, 1911)
    sales = model("accounting", "SalesRateMapping").objects.filter(organization_id=org.pk)
    assert {(str(r.rate), r.account, r.vat_code) for r in sales} == {
        ("25.00", 3000, "3"),
        ("15.00", 3030, "31"),
        ("12.00", 3050, "33"),
        ("0.00", 3100, "5"),
    }
    # An organisation whose keyed entries have no AccountMapping row (written before it was
    # always made), with a rate of two decimals and a till's own names.
    other = {"organization_id": other_org.pk}
    model("accounting", "SalesRateMapping").objects.create(
        **other, rate="11.11", account=3060, vat_code="32"
    )
    model("accounting", "ProductGroupMapping").objects.create(
        **other, product_group=" Brød ", account=3040, vat_code="31"
    )
    model("accounting", "OutputVatMapping").objects.create(**other, rate="11.11", account=2702)
    model("accounting", "PaymentMethodMapping").objects.create(
        **other, method="bakerikort", account=1921
    )

    migrate(executor, latest)  # forwards: the six tables into the one row

    assert export_mapping(organization=org) == saved == worked_example["mapping"]
    assert load_mapping(other_org) == MappingData(
        sales_by_vat_rate={"11.11": SalesAccount(3060, "32")},
        sales_by_product_group={" Brød ": SalesAccount(3040, "31")},
        output_vat_by_rate={"11.11": 2702},
        payments={"bakerikort": 1921},
    )
