"""The kontooppsett in one row: AccountMapping.mapping holds its JSON form (DESIGN.md 4.4),
filled here from the single accounts and the four tables of keyed entries (0003 removes
them). Backwards, the tables are filled again from the JSON form."""

from collections import defaultdict
from decimal import Decimal

from django.db import migrations, models

from settlements.domain import rate_key

SINGLE_FIELDS = (
    "tips",
    "gift_cards_sold",
    "rounding",
    "cash",
    "cash_difference",
    "pay_ins",
    "pay_outs",
)
KEYED = ("SalesRateMapping", "ProductGroupMapping", "OutputVatMapping", "PaymentMethodMapping")


def to_json(apps, schema_editor):
    AccountMapping = apps.get_model("accounting", "AccountMapping")
    tables = {name: apps.get_model("accounting", name) for name in KEYED}
    mappings: dict[int, dict] = defaultdict(
        lambda: {
            "sales_by_vat_rate": {},
            "sales_by_product_group": {},
            "output_vat_by_rate": {},
            "payments": {},
            **dict.fromkeys(SINGLE_FIELDS),
        }
    )
    for row in tables["SalesRateMapping"].objects.order_by("-rate"):
        mappings[row.organization_id]["sales_by_vat_rate"][rate_key(row.rate)] = {
            "account": row.account,
            "vat_code": row.vat_code,
        }
    for row in tables["ProductGroupMapping"].objects.order_by("product_group"):
        mappings[row.organization_id]["sales_by_product_group"][row.product_group] = {
            "account": row.account,
            "vat_code": row.vat_code,
        }
    for row in tables["OutputVatMapping"].objects.order_by("-rate"):
        mappings[row.organization_id]["output_vat_by_rate"][rate_key(row.rate)] = row.account
    for row in tables["PaymentMethodMapping"].objects.order_by("method"):
        mappings[row.organization_id]["payments"][row.method] = row.account
    for row in AccountMapping.objects.all():
        mappings[row.organization_id].update(
            {name: getattr(row, name) for name in SINGLE_FIELDS}
        )
    # Few organisations, one row each.
    for organization_id, mapping in mappings.items():
        AccountMapping.objects.update_or_create(
            organization_id=organization_id, defaults={"mapping": mapping}
        )


def to_tables(apps, schema_editor):
    AccountMapping = apps.get_model("accounting", "AccountMapping")
    tables = {name: apps.get_model("accounting", name) for name in KEYED}
    for row in AccountMapping.objects.all():
        mapping = row.mapping or {}
        for name in SINGLE_FIELDS:
            setattr(row, name, mapping.get(name))
        row.save()
        org = row.organization_id
        tables["SalesRateMapping"].objects.bulk_create(
            tables["SalesRateMapping"](
                organization_id=org, rate=Decimal(key), account=e["account"], vat_code=e["vat_code"]
            )
            for key, e in (mapping.get("sales_by_vat_rate") or {}).items()
        )
        tables["ProductGroupMapping"].objects.bulk_create(
            tables["ProductGroupMapping"](
                organization_id=org, product_group=key, account=e["account"], vat_code=e["vat_code"]
            )
            for key, e in (mapping.get("sales_by_product_group") or {}).items()
        )
        tables["OutputVatMapping"].objects.bulk_create(
            tables["OutputVatMapping"](organization_id=org, rate=Decimal(key), account=account)
            for key, account in (mapping.get("output_vat_by_rate") or {}).items()
        )
        tables["PaymentMethodMapping"].objects.bulk_create(
            tables["PaymentMethodMapping"](organization_id=org, method=key, account=account)
            for key, account in (mapping.get("payments") or {}).items()
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounting", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="accountmapping",
            name="mapping",
            field=models.JSONField(default=dict, verbose_name="kontooppsett"),
        ),
        migrations.RunPython(to_json, to_tables),
    ]
