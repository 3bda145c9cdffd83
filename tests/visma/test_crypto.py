"""Tokens at rest: Fernet with several keys (newest first) so keys can be rotated."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from integrations.visma import crypto
from integrations.visma.models import VismaConnection

from .conftest import TEST_KEY, make_connection


def test_it_encrypts_and_decrypts():
    secret = crypto.encrypt("refresh-abc")
    assert "refresh-abc" not in secret
    assert crypto.decrypt(secret) == "refresh-abc"
    assert crypto.encrypt("refresh-abc") != secret  # random IV: equal tokens look different
    assert crypto.encrypt("") == "" and crypto.decrypt("") == ""


def test_an_older_key_still_decrypts_after_a_new_one_is_put_first(settings):
    old = crypto.encrypt("refresh-abc")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), TEST_KEY]
    assert crypto.decrypt(old) == "refresh-abc"
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.InvalidToken):
        crypto.decrypt(old)


@pytest.mark.django_db
def test_rotation_reencrypts_the_stored_tokens_with_the_newest_key(settings, org, alice):
    make_connection(org, alice)
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, TEST_KEY]
    call_command("rotate_visma_tokens", stdout=open("/dev/null", "w"))
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone
    connection = VismaConnection.objects.get(organization=org)
    assert (connection.access_token, connection.refresh_token) == ("access-1", "refresh-1")
