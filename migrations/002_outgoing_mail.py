"""002_outgoing_mail: the outbox table the worker delivers mail from (issue 9)."""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator


with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class OutgoingMail(pw.Model):
        id = pw.AutoField()
        to = pw.CharField(max_length=320)
        subject = pw.CharField(max_length=500)
        body = pw.TextField()
        message_id = pw.CharField(max_length=255, unique=True)
        status = pw.CharField(default='pending', index=True, max_length=255)
        attempts = pw.IntegerField(default=0)
        last_error = pw.TextField(default='')
        created_at = pw.DateTimeField()
        next_attempt_at = pw.DateTimeField(index=True)
        claimed_at = pw.DateTimeField(null=True)
        sent_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "outgoing_mail"
            legacy_table_names = False


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('outgoing_mail')
