"""021_subscriptions: abonnements (issue 15). Unit.subscription (parents may choose fixed weekdays for the
year at enrolment) and Unit.monthly_fee (a monthly forfait for subscribers, in cents; empty: each day is
billed); the table of subscriptions (enrolment × unit → weekdays). Existing units stay without
subscription: nothing changes for existing rows."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        'unit',

        subscription=pw.BooleanField(default=False),
        monthly_fee=pw.IntegerField(null=True))

    @migrator.create_model
    class Subscription(pw.Model):
        id = pw.AutoField()
        enrolment = pw.ForeignKeyField(column_name='enrolment_id', field='id', model=migrator.orm['enrolment'], on_delete='CASCADE')
        unit = pw.ForeignKeyField(column_name='unit_id', field='id', model=migrator.orm['unit'], on_delete='CASCADE')
        weekdays = pw.CharField(max_length=255)
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField(null=True)
        generated_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "subscription"
            legacy_table_names = False
            indexes = [(('enrolment', 'unit'), True)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('subscription')

    migrator.remove_fields('unit', 'subscription', 'monthly_fee')
