"""The fiscal year of an account is required (a migration of its own: PostgreSQL does not
alter a table with the pending trigger events of 0004's data migration)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("visma_sandbox", "0006_charts_per_fiscal_year_data"),
    ]

    operations = [
        migrations.AlterField(
            model_name="sandboxaccount",
            name="fiscal_year",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="accounts",
                to="visma_sandbox.sandboxfiscalyear",
            ),
        ),
        migrations.AlterModelOptions(
            name="sandboxaccount",
            options={"ordering": ["company", "fiscal_year", "number"]},
        ),
        migrations.AddConstraint(
            model_name="sandboxaccount",
            constraint=models.UniqueConstraint(
                fields=("fiscal_year", "number"), name="sandbox_account_unique_per_year"
            ),
        ),
    ]
