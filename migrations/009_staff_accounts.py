"""009_staff_accounts: a staff account can be deactivated by an administrator (/gestion/equipe):
`user.deactivated_at` is set, sign-in is refused and every session ends (issue 12, staff accounts).
Existing accounts stay active (the column is empty)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields('user', deactivated_at=pw.DateTimeField(null=True))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields('user', 'deactivated_at')
