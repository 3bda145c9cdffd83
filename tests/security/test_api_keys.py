"""API keys are stored only as their hash (issue 8, part 3): the key printed by
create_location works, and appears nowhere in a dump of the database or in the logs."""

from __future__ import annotations

import io
import logging

from django.core.management import call_command

from backoffice.models import ApiKey, hash_api_key

from .dump import database_as_text


def test_the_printed_api_key_is_nowhere_in_the_database(org, client, caplog):
    caplog.set_level(logging.DEBUG)
    out = io.StringIO()

    call_command("create_location", org.slug, "bryggen", "Fjordkafé Bryggen", stdout=out)

    raw = out.getvalue().strip().splitlines()[-1]
    secret = raw.split("_", 2)[2]  # bo_<prefix>_<secret>
    assert len(secret) >= 40
    # The key works ...
    response = client.post(
        "/api/v1/settlements",
        data=b"{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code == 400
    # ... and only its hash is kept.
    dump = database_as_text()
    assert hash_api_key(raw) in dump  # the dump holds the key table
    assert raw not in dump and secret not in dump
    assert ApiKey.objects.get().key_hash == hash_api_key(raw)
    assert secret not in caplog.text


def test_a_key_is_never_shown_again(org, location, api_key, alice):
    """Not in its admin, not in its string form: the prefix names it, nothing more."""
    key = ApiKey.objects.get()
    secret = api_key.split("_", 2)[2]

    assert secret not in str(key) and secret not in repr(key)
    assert str(key).startswith(key.prefix)
