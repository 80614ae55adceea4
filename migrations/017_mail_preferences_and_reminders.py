"""017_mail_preferences_and_reminders: the e-mails a parent chose not to receive (« Préférences de
courriels » on /mon-compte/courriels: no row = received, so existing accounts keep every e-mail), and
the deadline reminders already sent (one per household × unit × week, unique: never twice)."""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator


with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class MailOptOut(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='CASCADE')
        kind = pw.CharField(max_length=40)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "mail_opt_out"
            legacy_table_names = False
            indexes = [(('user', 'kind'), True)]

    @migrator.create_model
    class ReminderSent(pw.Model):
        id = pw.AutoField()
        household = pw.ForeignKeyField(column_name='household_id', field='id', model=migrator.orm['household'], on_delete='CASCADE')
        unit = pw.ForeignKeyField(column_name='unit_id', field='id', model=migrator.orm['unit'], on_delete='CASCADE')
        week_start = pw.DateField()
        sent_at = pw.DateTimeField()

        class Meta:
            table_name = "reminder_sent"
            legacy_table_names = False
            indexes = [(('household', 'unit', 'week_start'), True)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('reminder_sent')

    migrator.remove_model('mail_opt_out')
