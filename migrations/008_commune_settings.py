"""008_commune_settings: what an administrator now enters on /gestion/parametres instead of in Python
or the environment — the main colour, the e-mails' sender, PayFiP's client number and mode, the legal
texts and the deadline reminders switch (issue 12). Empty values keep the environment's settings."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        "commune",
        main_color=pw.CharField(default="#1d4f91", max_length=255),
        mail_sender=pw.CharField(default="", max_length=255),
        payfip_client=pw.CharField(default="", max_length=255),
        payfip_mode=pw.CharField(default="", max_length=255),
        legal_notice=pw.TextField(default=""),
        accessibility_statement=pw.TextField(default=""),
        reminders_enabled=pw.BooleanField(default=True),
    )


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("commune", "main_color", "mail_sender", "payfip_client", "payfip_mode", "legal_notice",
                           "accessibility_statement", "reminders_enabled")
