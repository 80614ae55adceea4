"""019_unit_rules: exclusive and dependent units (issue 15): a unit excludes or requires other units of
its activity on the same day (« Journée » excludes « Matin »; « Repas » requires « Matin » or « Journée »)."""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator


with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class UnitRule(pw.Model):
        id = pw.AutoField()
        unit = pw.ForeignKeyField(column_name='unit_id', field='id', model=migrator.orm['unit'], on_delete='CASCADE')
        other = pw.ForeignKeyField(column_name='other_id', field='id', model=migrator.orm['unit'], on_delete='CASCADE')
        kind = pw.CharField(max_length=255)

        class Meta:
            table_name = "unit_rule"
            legacy_table_names = False
            indexes = [(('unit', 'other'), True)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('unit_rule')
