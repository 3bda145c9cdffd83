"""A simulated user's id at the identity server (the tokens' `sub`), stable per e-mail."""

import uuid

from django.db import migrations, models

NAMESPACE = uuid.UUID("6b0f4c52-6d0a-4a5e-9a1c-2d7f0e3b5a11")  # chart.NAMESPACE


def stable_subjects(apps, schema_editor):
    User = apps.get_model("visma_sandbox", "SandboxUser")
    for user in User.objects.all():
        user.subject = uuid.uuid5(NAMESPACE, f"user:user:{user.email}")  # chart.stable_id
        user.save(update_fields=["subject"])


class Migration(migrations.Migration):
    dependencies = [
        ("visma_sandbox", "0007_charts_per_fiscal_year_required"),
    ]

    operations = [
        migrations.AddField(
            model_name="sandboxuser",
            name="subject",
            field=models.UUIDField(null=True),
        ),
        migrations.RunPython(stable_subjects, migrations.RunPython.noop),
    ]
