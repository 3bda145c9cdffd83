"""The audit log refuses UPDATE and DELETE in the database itself, not only in the model:
a bug or a raw query cannot rewrite history. PostgreSQL: a trigger on both (TRUNCATE, which
the test database's flush uses, is not a row change). SQLite (development): UPDATE only,
since Django's test flush deletes rows there."""

from django.db import migrations

PG_UP = """
CREATE OR REPLACE FUNCTION backoffice_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'backoffice_auditevent is append-only (%% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER backoffice_auditevent_append_only
    BEFORE UPDATE OR DELETE ON backoffice_auditevent
    FOR EACH ROW EXECUTE FUNCTION backoffice_auditevent_append_only();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS backoffice_auditevent_append_only ON backoffice_auditevent;
DROP FUNCTION IF EXISTS backoffice_auditevent_append_only();
"""
SQLITE_UP = """
CREATE TRIGGER backoffice_auditevent_append_only BEFORE UPDATE ON backoffice_auditevent
BEGIN SELECT RAISE(ABORT, 'backoffice_auditevent is append-only (UPDATE refused)'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS backoffice_auditevent_append_only;"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_UP)  # %% is one % (the SQL goes through the driver)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DOWN)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("backoffice", "0002_auditevent")]

    operations = [migrations.RunPython(forwards, backwards)]
