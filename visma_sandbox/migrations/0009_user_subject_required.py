from django.db import migrations, models
import uuid


class Migration(migrations.Migration):
    dependencies = [
        ("visma_sandbox", "0008_user_subject"),
    ]

    operations = [
        migrations.AlterField(
            model_name="sandboxuser",
            name="subject",
            field=models.UUIDField(default=uuid.uuid4, unique=True),
        ),
    ]
