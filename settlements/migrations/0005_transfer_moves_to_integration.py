"""A settlement keeps what the till said and whether it balances; its transfer state now
lives with the integration (visma 0004 moved it there before this runs)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("settlements", "0004_settlementrevision"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="settlement",
            name="settlements_organiz_582b3c_idx",
        ),
        migrations.RemoveField(model_name="settlement", name="state"),
        migrations.RemoveField(model_name="settlement", name="problem_code"),
        migrations.RemoveField(model_name="settlement", name="state_reason"),
    ]
