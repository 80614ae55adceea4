"""028_booking_day_index: booking's (unit, date, status) index carries attendance and child too, so that the
day's headcounts (absences, régimes alimentaires) are read from the index instead of every booking row of a
canteen's day (5,000 households: 20,000 rows scattered over the table, 50–100 ms a page)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.drop_index('booking', 'unit', 'date', 'status')
    migrator.add_index('booking', 'unit', 'date', 'status', 'attendance', 'child', unique=False)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.drop_index('booking', 'unit', 'date', 'status', 'attendance', 'child')
    migrator.add_index('booking', 'unit', 'date', 'status', unique=False)
