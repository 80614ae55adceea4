"""022_attendance_billing: units « sans réservation » billed on attendance (issue 15). Unit gets
attendance_only, attendance_pricing (presence, slot, quarter_hour) and slot_minutes; Attendance gets
status (present, absent) and the arrival and departure times (HH:MM). Existing rows are presences
without booking: status "present", no times."""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator


with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        'unit',

        attendance_only=pw.BooleanField(default=False),
        attendance_pricing=pw.CharField(default="presence", max_length=255),
        slot_minutes=pw.IntegerField(default=60))
    migrator.add_fields(
        'attendance',

        status=pw.CharField(default="present", max_length=255),
        arrived_at=pw.CharField(default="", max_length=255),
        left_at=pw.CharField(default="", max_length=255))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields('attendance', 'status', 'arrived_at', 'left_at')
    migrator.remove_fields('unit', 'attendance_only', 'attendance_pricing', 'slot_minutes')
