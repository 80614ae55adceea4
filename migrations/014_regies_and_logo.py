"""014_regies_and_logo: a régie's own PayFiP client number and the payment modes it accepts
(/gestion/regies: existing régies accept every mode and use the commune's PayFiP number, as before),
and the commune's logo (/gestion/parametres: none until an administrator sends one)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        "regie",
        payfip_client=pw.CharField(default="", max_length=255),
        payment_modes=pw.CharField(default="carte,prelevement,cheque,especes,cesu,virement", max_length=255))
    migrator.add_fields("commune", logo=pw.CharField(default="", max_length=255))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("commune", "logo")
    migrator.remove_fields("regie", "payfip_client", "payment_modes")
