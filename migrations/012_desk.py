"""012_desk: the desk (guichet) at /gestion/familles/<n> (issue « Le guichet »):
- `order.at_desk`, `order.staff_reason`: an order booked by staff for a family (its `created_by`), with
  the reason given past the parents' deadline; existing orders are the families' own (false, empty);
- `absence_declaration.declared_by`: the staff member who recorded an absence at the desk (empty for
  the parents' declarations, existing ones included);
- `payment.receipt_number` and `receipt_counter`: « Reçu n° R2026-000001 » of manual payments, gapless
  per year; payments recorded before keep no number (their receipt shows « n° <id> » as before)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        'absence_declaration',
        declared_by=pw.ForeignKeyField(column_name='declared_by_id', field='id', model=migrator.orm['user'],
                                       null=True, on_delete='SET NULL'))
    migrator.add_fields('order', at_desk=pw.BooleanField(default=False), staff_reason=pw.TextField(default=''))
    migrator.add_fields('payment', receipt_number=pw.CharField(max_length=255, null=True, unique=True))

    @migrator.create_model
    class ReceiptCounter(pw.Model):
        id = pw.AutoField()
        year = pw.IntegerField(unique=True)
        last = pw.IntegerField(default=0)

        class Meta:
            table_name = "receipt_counter"
            legacy_table_names = False


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('receipt_counter')
    migrator.remove_fields('payment', 'receipt_number')
    migrator.remove_fields('order', 'at_desk', 'staff_reason')
    migrator.remove_fields('absence_declaration', 'declared_by')
