"""024_early_years_and_school_year: crèche pre-registration (/petite-enfance): the structures and the
families' requests (« Demandes d'accueil »); the school year change: Child.certified_year (the school
year a certification of the fiche enfant is for; existing ones count for the year they were made in),
Child.next_class_level and next_class_year (the class confirmed at réinscription)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        'child',

        certified_year=pw.IntegerField(null=True),
        next_class_level=pw.CharField(default='', max_length=255),
        next_class_year=pw.IntegerField(null=True))
    migrator.run(backfill, database)

    @migrator.create_model
    class EarlyYearsStructure(pw.Model):
        id = pw.AutoField()
        name = pw.CharField(max_length=255, unique=True)
        kind = pw.CharField(default='multi-accueil', max_length=255)
        address = pw.CharField(default='', max_length=255)
        position = pw.IntegerField(default=0)
        active = pw.BooleanField(default=True)

        class Meta:
            table_name = "early_years_structure"
            legacy_table_names = False

    @migrator.create_model
    class EarlyYearsRequest(pw.Model):
        id = pw.AutoField()
        household = pw.ForeignKeyField(column_name='household_id', field='id', model=migrator.orm['household'], on_delete='CASCADE')
        child = pw.ForeignKeyField(column_name='child_id', field='id', model=migrator.orm['child'], on_delete='CASCADE')
        structure = pw.ForeignKeyField(column_name='structure_id', field='id', model=migrator.orm['early_years_structure'], on_delete='RESTRICT')
        start_date = pw.DateField()
        schedule = pw.TextField(default='{}')
        situation = pw.CharField(default='', max_length=255)
        comment = pw.TextField(default='')
        status = pw.CharField(default='sent', index=True, max_length=255)
        commission_date = pw.DateField(null=True)
        reason = pw.TextField(default='')
        waiting_rank = pw.IntegerField(null=True)
        created_at = pw.DateTimeField()
        created_by = pw.ForeignKeyField(column_name='created_by_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')
        decided_at = pw.DateTimeField(null=True)
        decided_by = pw.ForeignKeyField(column_name='decided_by_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')

        class Meta:
            table_name = "early_years_request"
            legacy_table_names = False


def backfill(database):
    """A certification already made counts for the school year (September to August) it was made in."""
    rows = database.execute_sql("SELECT id, certified_at FROM child WHERE certified_at IS NOT NULL").fetchall()
    for child_id, certified_at in rows:
        text = str(certified_at)  # a datetime on PostgreSQL, its ISO text on SQLite
        year, month = int(text[:4]), int(text[5:7])
        database.execute_sql("UPDATE child SET certified_year = %s WHERE id = %s" if database.param == "%s"
                             else "UPDATE child SET certified_year = ? WHERE id = ?",
                             (year if month >= 9 else year - 1, child_id))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('early_years_request')
    migrator.remove_model('early_years_structure')
    migrator.remove_fields('child', 'certified_year', 'next_class_level', 'next_class_year')
