"""007_sepa_creditor: the SEPA creditor of each régie (name, ICS, IBAN, BIC), entered by staff on the
régie's settings; the pain.008 export refuses until they are filled in (issue 11; they were app
settings with made-up defaults before). Existing régies get empty values."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        "regie",
        sepa_creditor_name=pw.CharField(default="", max_length=255),
        sepa_creditor_id=pw.CharField(default="", max_length=255),
        sepa_iban=pw.CharField(default="", max_length=255),
        sepa_bic=pw.CharField(default="", max_length=255),
    )


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("regie", "sepa_creditor_name", "sepa_creditor_id", "sepa_iban", "sepa_bic")
