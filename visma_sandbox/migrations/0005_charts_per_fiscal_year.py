"""Charts per fiscal year (Visma's GET /accounts/{fiscalyearId}) and the accounts' rules
for manual vouchers. The data (0004) and the required year (0005) follow in migrations of
their own: PostgreSQL neither indexes nor alters a table with pending trigger events."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("visma_sandbox", "0004_costcentres"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="sandboxaccount",
            name="sandbox_account_unique",
        ),
        migrations.AddField(
            model_name="sandboxaccount",
            name="fiscal_year",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="accounts",
                to="visma_sandbox.sandboxfiscalyear",
            ),
        ),
        migrations.AddField(
            model_name="sandboxaccount",
            name="blocked_for_manual_booking",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="sandboxaccount",
            name="first_cost_center_mandatory",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="sandboxaccount",
            name="allow_transaction_text",
            field=models.BooleanField(default=True),
        ),
    ]
