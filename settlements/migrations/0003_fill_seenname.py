"""Fill SeenName from the sale lines and payments stored before it existed (one row per
organisation and product group + rate / payment method, first seen = its first settlement)."""

from django.db import migrations
from django.db.models import Min

from settlements.domain import rate_key

BATCH = 1000


def fill(apps, schema_editor):
    SaleLine = apps.get_model("settlements", "SaleLine")
    Payment = apps.get_model("settlements", "Payment")
    SeenName = apps.get_model("settlements", "SeenName")

    def rows():
        # .order_by(): group by exactly these columns, nothing from the models' ordering.
        groups = (
            SaleLine.objects.values_list("settlement__organization_id", "product_group", "vat_rate")
            .annotate(first=Min("settlement__received_at"))
            .order_by()
        )
        for organization_id, name, rate, first in groups:
            yield SeenName(
                organization_id=organization_id,
                kind="product_group",
                name=name,
                rate=rate_key(rate),
                first_seen=first,
            )
        methods = (
            Payment.objects.values_list("settlement__organization_id", "method")
            .annotate(first=Min("settlement__received_at"))
            .order_by()
        )
        for organization_id, name, first in methods:
            yield SeenName(
                organization_id=organization_id,
                kind="payment_method",
                name=name,
                rate="",
                first_seen=first,
            )

    # Few rows (distinct names, not lines): read whole, written in batches.
    SeenName.objects.bulk_create(list(rows()), batch_size=BATCH, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("settlements", "0002_seenname"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
