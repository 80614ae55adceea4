"""009_staff_accounts: staff accounts managed by administrators (/gestion/equipe, issue 12):
- `user.deactivated_at`: a deactivated account cannot sign in and its sessions end; existing accounts
  stay active (the column is empty);
- `activity_staff`: the activities an animateur leads (their attendance sheets and lists), one row per
  animateur × activity; empty at first."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields('user', deactivated_at=pw.DateTimeField(null=True))

    @migrator.create_model
    class ActivityStaff(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='CASCADE')
        activity = pw.ForeignKeyField(column_name='activity_id', field='id', model=migrator.orm['activity'],
                                      on_delete='CASCADE')

        class Meta:
            table_name = "activity_staff"
            legacy_table_names = False
            indexes = [(('user', 'activity'), True)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('activity_staff')
    migrator.remove_fields('user', 'deactivated_at')
