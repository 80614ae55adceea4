"""025_shared_custody: garde alternée. A child may be shared with a second household (the other
parent's), which has the child on odd or even ISO weeks or on the weeks of a calendar entered by staff;
nothing changes for existing children."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class CustodyShare(pw.Model):
        id = pw.AutoField()
        child = pw.ForeignKeyField(column_name='child_id', field='id', model=migrator.orm['child'], on_delete='CASCADE', unique=True)
        household = pw.ForeignKeyField(column_name='household_id', field='id', model=migrator.orm['household'], on_delete='CASCADE')
        pattern = pw.CharField(default='odd', max_length=255)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "custody_share"
            legacy_table_names = False

    @migrator.create_model
    class CustodyWeek(pw.Model):
        id = pw.AutoField()
        share = pw.ForeignKeyField(column_name='share_id', field='id', model=migrator.orm['custody_share'], on_delete='CASCADE')
        monday = pw.DateField()

        class Meta:
            table_name = "custody_week"
            legacy_table_names = False
            indexes = [(('share', 'monday'), True)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('custody_week')
    migrator.remove_model('custody_share')
