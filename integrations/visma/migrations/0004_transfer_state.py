"""The transfer's state moves from settlements.Settlement to SettlementExport (issue 14).

Runs before settlements 0005 drops the old columns: every settlement a transfer had
touched (any state but "venter", or a SettlementExport row) gets its state, problem and
reason here. An unbalanced settlement needs no row: its state follows from its balance."""

import django.utils.timezone
from django.db import migrations, models

import integrations.visma.client


def forwards(apps, schema_editor):
    Settlement = apps.get_model("settlements", "Settlement")
    SettlementExport = apps.get_model("visma", "SettlementExport")
    touched = (
        Settlement.objects.exclude(state="pending", visma_export__isnull=True)
        .exclude(problem_code="unbalanced")
        .values_list("pk", "state", "problem_code", "state_reason", "updated_at")
    )
    for pk, state, code, reason, updated_at in touched.iterator():
        SettlementExport.objects.update_or_create(
            settlement_id=pk,
            defaults={
                "state": state,
                "problem_code": code,
                "reason": reason,
                "updated_at": updated_at,
            },
        )


def backwards(apps, schema_editor):
    Settlement = apps.get_model("settlements", "Settlement")
    SettlementExport = apps.get_model("visma", "SettlementExport")
    rows = SettlementExport.objects.values_list(
        "settlement_id", "state", "problem_code", "reason", "updated_at"
    )
    for pk, state, code, reason, updated_at in rows.iterator():
        Settlement.objects.filter(pk=pk).update(
            state=state, problem_code=code, state_reason=reason, updated_at=updated_at
        )


class Migration(migrations.Migration):

    dependencies = [
        ("settlements", "0004_settlementrevision"),
        ("visma", "0003_exportrun_requeue"),
    ]
    run_before = [("settlements", "0005_transfer_moves_to_integration")]

    operations = [
        migrations.AddField(
            model_name="settlementexport",
            name="state",
            field=models.CharField(
                choices=[
                    ("pending", "venter"),
                    ("posting", "overføres"),
                    ("posted", "overført"),
                    ("uncertain", "usikker"),
                    ("failed", "feilet"),
                    ("needs_action", "trenger handling"),
                ],
                db_index=True,
                default="pending",
                max_length=20,
                verbose_name="status",
            ),
        ),
        migrations.AddField(
            model_name="settlementexport",
            name="problem_code",
            field=models.CharField(blank=True, db_index=True, max_length=40),
        ),
        migrations.AddField(
            model_name="settlementexport",
            name="reason",
            field=models.TextField(blank=True, verbose_name="årsak"),
        ),
        migrations.AddField(
            model_name="settlementexport",
            name="updated_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name="settlementexport",
            name="payload",
            field=models.JSONField(
                blank=True,
                decoder=integrations.visma.client.ExactJSONDecoder,
                encoder=integrations.visma.client.ExactJSONEncoder,
                null=True,
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
