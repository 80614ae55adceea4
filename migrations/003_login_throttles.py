"""003_login_throttles: sign-in limits leave user for login_throttle and throttle_event; user gets a session version."""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator


with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        'user',
        password_changed_at=pw.DateTimeField(null=True),
        session_version=pw.IntegerField(default=0))

    @migrator.create_model
    class LoginThrottle(pw.Model):
        id = pw.AutoField()
        email = pw.CharField(max_length=255, unique=True)
        failures = pw.IntegerField(default=0)
        last_failure_at = pw.DateTimeField(null=True)
        locked_until = pw.DateTimeField(null=True)

        class Meta:
            table_name = "login_throttle"
            legacy_table_names = False

    @migrator.create_model
    class ThrottleEvent(pw.Model):
        id = pw.AutoField()
        kind = pw.CharField(max_length=255)
        ip = pw.CharField(default='', max_length=255)
        email = pw.CharField(default='', max_length=255)
        at = pw.DateTimeField()

        class Meta:
            table_name = "throttle_event"
            legacy_table_names = False
            indexes = [(('kind', 'ip', 'at'), False), (('kind', 'email', 'at'), False)]

    # Locks in progress carry over: an upgrade must not unlock an account under attack. The rows of
    # login_failure (a rolling 15-minute window per client address) are simply dropped.
    migrator.sql(
        'INSERT INTO "login_throttle" ("email", "failures", "last_failure_at", "locked_until") '
        'SELECT "email", "failed_logins", "last_failed_login_at", "locked_until" FROM "user" '
        'WHERE "failed_logins" > 0 OR "locked_until" IS NOT NULL')

    migrator.remove_fields('user', 'failed_logins', 'last_failed_login_at', 'locked_until')

    migrator.remove_model('login_failure')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        'user',
        failed_logins=pw.IntegerField(default=0),
        last_failed_login_at=pw.DateTimeField(null=True),
        locked_until=pw.DateTimeField(null=True))

    migrator.remove_fields('user', 'password_changed_at', 'session_version')

    @migrator.create_model
    class LoginFailure(pw.Model):
        id = pw.AutoField()
        ip = pw.CharField(index=True, max_length=255)
        email = pw.CharField(default='', max_length=255)
        at = pw.DateTimeField(index=True)

        class Meta:
            table_name = "login_failure"
            legacy_table_names = False

    migrator.remove_model('throttle_event')

    migrator.remove_model('login_throttle')
