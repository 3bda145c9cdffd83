"""Re-encrypt every stored Visma token with the newest FIELD_ENCRYPTION_KEY (key rotation:
put the new key first, deploy, run this, then drop the old key)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from integrations.visma import crypto
from integrations.visma.models import VismaConnection


class Command(BaseCommand):
    help = "Re-encrypt the stored Visma tokens with the newest FIELD_ENCRYPTION_KEY."

    def handle(self, *args, **options):
        done = 0
        for pk in VismaConnection.objects.exclude(refresh_token_encrypted="").values_list(
            "pk", flat=True
        ):
            # Under the row lock, like every token write (a refresh may be running).
            with transaction.atomic():
                connection = VismaConnection.objects.select_for_update().get(pk=pk)
                connection.access_token_encrypted = crypto.reencrypt(
                    connection.access_token_encrypted
                )
                connection.refresh_token_encrypted = crypto.reencrypt(
                    connection.refresh_token_encrypted
                )
                connection.save(update_fields=["access_token_encrypted", "refresh_token_encrypted"])
            done += 1
        self.stdout.write(f"{done} connection(s) re-encrypted")
