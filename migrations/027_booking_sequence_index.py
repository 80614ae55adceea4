"""027_booking_sequence_index: (unit, date, sequence) on booking, so that placement reads a day's last
arrival number from the index alone instead of every booking of that canteen's day."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_index('booking', 'unit', 'date', 'sequence', unique=False)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.drop_index('booking', 'unit', 'date', 'sequence')
