"""020_outings: outings and youth activities (/activites, /gestion/sorties): the dated event that an
activity with one unit becomes (days, place, programme, age group, published); nothing changes for
existing rows."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class Outing(pw.Model):
        id = pw.AutoField()
        activity = pw.ForeignKeyField(column_name='activity_id', field='id', model=migrator.orm['activity'], on_delete='CASCADE', unique=True)
        unit = pw.ForeignKeyField(column_name='unit_id', field='id', model=migrator.orm['unit'], on_delete='CASCADE', unique=True)
        starts_on = pw.DateField(index=True)
        ends_on = pw.DateField()
        place = pw.CharField(default='', max_length=255)
        programme = pw.TextField(default='')
        min_age = pw.IntegerField(null=True)
        max_age = pw.IntegerField(null=True)
        published = pw.BooleanField(default=True)

        class Meta:
            table_name = "outing"
            legacy_table_names = False


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('outing')
