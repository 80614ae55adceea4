"""006_audit_household: each audit entry knows the household of its object, so a family's history
(/gestion/journal?foyer=…, the family's staff page) is one indexed query; existing entries are
filled in from their object where it holds a household (issue 12, audit)."""

import peewee as pw
from peewee_migrate import Migrator

# (object_type written by services/core/audit.py, its table): tables with a household_id column.
OWNED = [("Guardian", "guardian"), ("Child", "child"), ("FamilyDocument", "family_document"),
         ("ChangeRequest", "change_request"), ("Booking", "booking"), ("Invoice", "invoice"),
         ("Payment", "payment"), ("Order", "order"), ("AbsenceDeclaration", "absence_declaration"),
         ("Attendance", "attendance"), ("User", "user")]


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        "audit_log",
        household=pw.ForeignKeyField(column_name="household_id", field="id", model=migrator.orm["household"],
                                     null=True, on_delete="SET NULL"),
    )
    migrator.run(backfill, database)


def backfill(database):
    """Existing entries: the household of their object, where the object still exists."""
    database.execute_sql("UPDATE audit_log SET household_id = object_id WHERE object_type = 'Household' "
                         "AND object_id IN (SELECT id FROM household)")
    for object_type, table in OWNED:
        database.execute_sql(f'UPDATE audit_log SET household_id = (SELECT t.household_id FROM "{table}" t '
                             "WHERE t.id = audit_log.object_id) "
                             f"WHERE object_type = {database.param} AND household_id IS NULL", (object_type,))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("audit_log", "household")
