"""The audit chain moves from the events to a link table keyed with a secret outside the database (docs/audit.md).

Existing events keep their content; their unkeyed SHA-256 hashes are dropped (anyone could recompute them). The
sequencer links every existing event, in id order, on its first run. Like the events, links refuse UPDATE and DELETE
on PostgreSQL.
"""

import django.db.models.deletion
from django.db import migrations, models

CREATE = """
CREATE OR REPLACE FUNCTION core_auditchainlink_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'core_auditchainlink is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_auditchainlink_append_only
    BEFORE UPDATE OR DELETE ON core_auditchainlink
    FOR EACH ROW EXECUTE FUNCTION core_auditchainlink_refuse_change();
"""

DROP = """
DROP TRIGGER IF EXISTS core_auditchainlink_append_only ON core_auditchainlink;
DROP FUNCTION IF EXISTS core_auditchainlink_refuse_change();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0003_heartbeat'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='auditevent',
            name='hash',
        ),
        migrations.RemoveField(
            model_name='auditevent',
            name='previous_hash',
        ),
        migrations.CreateModel(
            name='AuditChainLink',
            fields=[
                ('position', models.BigIntegerField(primary_key=True, serialize=False)),
                ('previous_hash', models.CharField(max_length=64)),
                ('hash', models.CharField(max_length=64, unique=True)),
                ('linked_at', models.DateTimeField()),
                ('event', models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='chain_link', to='core.auditevent')),
            ],
            options={
                'ordering': ['position'],
            },
        ),
        migrations.RunPython(create_trigger, drop_trigger),
    ]
