"""005_online_payment_reconciliation: one open card transaction per invoice or order (a unique
open_key), a note for staff and the time of the last check with the bank (issue 9, payments)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        "online_transaction",
        open_key=pw.CharField(max_length=255, null=True, unique=True),
        note=pw.TextField(default=""),
        checked_at=pw.DateTimeField(null=True),
    )


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("online_transaction", "open_key", "note", "checked_at")
