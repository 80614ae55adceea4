"""010_personal_data: RGPD (issue 12). The commune's DPO contact and retention periods (months before a
closed household is anonymised, years invoices and payments are kept), shown on /donnees-personnelles;
on households, when staff closed the account and when the retention job anonymised it. Households
already closed get their closure date from their closing request, so the job can count from it."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        "household",
        closed_at=pw.DateTimeField(null=True),
        anonymised_at=pw.DateTimeField(null=True))
    migrator.add_fields(
        "commune",
        dpo_name=pw.CharField(default="", max_length=255),
        dpo_email=pw.CharField(default="", max_length=255),
        retention_identity_months=pw.IntegerField(default=12),
        retention_accounting_years=pw.IntegerField(default=10))
    migrator.run(backfill, database)


def backfill(database):
    """Closed households: closed when they asked (the nearest date known), else when they were created."""
    database.execute_sql("UPDATE household SET closed_at = COALESCE(closing_requested_at, created_at) "
                         "WHERE status = 'closed' AND closed_at IS NULL")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("commune", "dpo_name", "dpo_email", "retention_identity_months",
                           "retention_accounting_years")
    migrator.remove_fields("household", "closed_at", "anonymised_at")
