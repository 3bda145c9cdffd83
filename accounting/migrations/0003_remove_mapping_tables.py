"""The single accounts and the four tables of keyed entries are in AccountMapping.mapping
now (0002)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounting", "0002_accountmapping_mapping"),
    ]

    operations = [
        *(
            migrations.RemoveField(model_name="accountmapping", name=name)
            for name in (
                "tips",
                "gift_cards_sold",
                "rounding",
                "cash",
                "cash_difference",
                "pay_ins",
                "pay_outs",
            )
        ),
        migrations.DeleteModel(name="SalesRateMapping"),
        migrations.DeleteModel(name="ProductGroupMapping"),
        migrations.DeleteModel(name="OutputVatMapping"),
        migrations.DeleteModel(name="PaymentMethodMapping"),
    ]
