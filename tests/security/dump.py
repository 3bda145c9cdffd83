"""The whole database as text: `manage.py dumpdata` (every model), every row of every table
through a raw cursor (what an attacker with a backup would read), and the sessions decoded."""

from __future__ import annotations

import io

from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection


def dumpdata() -> str:
    out = io.StringIO()
    call_command("dumpdata", stdout=out)
    return out.getvalue()


def raw_tables() -> str:
    lines = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            lines += [f"{table}: {row!r}" for row in cursor.fetchall()]
            # bytes / memoryview columns as text too
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        lines.append(bytes(value).decode("utf-8", "replace"))
    return "\n".join(lines)


def sessions() -> str:
    """Session data is stored signed and base64-encoded: decoded, or a grep would miss it."""
    return "\n".join(repr(session.get_decoded()) for session in Session.objects.all())


def database_as_text() -> str:
    return "\n".join((dumpdata(), raw_tables(), sessions()))
