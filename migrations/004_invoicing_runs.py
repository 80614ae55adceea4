"""004_invoicing_runs: invoicing runs as jobs, closed months, régie codes in unique invoice numbers (issue 9).

New tables invoicing_run and closed_period; invoice gets run_id and legacy_series. Before the unique
indexes are built: every régie without a valid code gets one made from its name, a number that two
régies both issued (« F2026-11-00002 ») is kept as printed and marked with its régie in
legacy_series, and every month already invoiced is closed. Then regie.code becomes required and
unique, and invoice numbers unique across the commune: (number, legacy_series) replaces (regie, number).
"""
import re
import unicodedata
from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator

from services.core import clock

with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext  # noqa: F401 - as written by make-migration

CODE = re.compile(r"[A-Z0-9]{2,8}")
SMALL_WORDS = {"REGIE", "DE", "DU", "DES", "LA", "LE", "LES", "L", "D", "ET", "A", "AU", "AUX"}


def code_from_name(name, taken):
    """A free code from a régie's name: « Régie périscolaire » → PERI, « Régie accueil de loisirs » → ACLO."""
    plain = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode().upper()
    words = [w for w in re.findall(r"[A-Z0-9]+", plain) if w not in SMALL_WORDS] or ["REGIE"]
    base = words[0][:4] if len(words) == 1 else words[0][:2] + words[1][:2]
    base = base if len(base) >= 2 else (base + "RG")[:4]
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base[:8 - len(str(n))]}{n}"
    return code


def prepare_data(database):
    """Codes, legacy numbers and closed months, in the upgrade's transaction (plain SQL: this step
    must not depend on what the models become later)."""
    regies = database.execute_sql('SELECT "id", "name", "code" FROM "regie" ORDER BY "id"').fetchall()
    valid = [code for _id, _name, code in regies if CODE.fullmatch(code or "")]
    taken = set(valid)
    numbers = database.execute_sql('SELECT DISTINCT "number" FROM "invoice"').fetchall()
    taken |= {number.split("-")[0] for (number,) in numbers if "-" in number}  # codes already printed
    for regie_id, name, code in regies:
        if CODE.fullmatch(code or "") and valid.count(code) == 1:
            continue
        if code in valid:
            valid.remove(code)  # the first régie keeps a shared code, the others get new ones
        new = code_from_name(name, taken)
        taken.add(new)
        database.execute_sql('UPDATE "regie" SET "code" = %s WHERE "id" = %s' % (database.param, database.param),
                             (new, regie_id))
    database.execute_sql(
        'UPDATE "invoice" SET "legacy_series" = CAST("regie_id" AS VARCHAR(20)) WHERE "number" IN '
        '(SELECT "number" FROM "invoice" GROUP BY "number" HAVING COUNT(DISTINCT "regie_id") > 1)')
    database.execute_sql(
        'INSERT INTO "closed_period" ("regie_id", "period_start", "closed_at") '
        f'SELECT DISTINCT "regie_id", "period_start", {database.param} FROM "invoice_period_lock"', (clock.local_now(),))


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class InvoicingRun(pw.Model):
        id = pw.AutoField()
        regie = pw.ForeignKeyField(column_name='regie_id', field='id', model=migrator.orm['regie'], on_delete='CASCADE')
        period_start = pw.DateField()
        requested_by = pw.ForeignKeyField(column_name='requested_by_id', field='id', model=migrator.orm['user'],
                                          null=True, on_delete='SET NULL')
        origin = pw.CharField(default='web', max_length=255)
        requested_at = pw.DateTimeField()
        status = pw.CharField(default='queued', index=True, max_length=255)
        households_total = pw.IntegerField(default=0)
        households_done = pw.IntegerField(default=0)
        invoices_issued = pw.IntegerField(default=0)
        amount_issued = pw.IntegerField(default=0)
        skipped = pw.IntegerField(default=0)
        cursor = pw.IntegerField(default=0)
        attempt = pw.IntegerField(default=0)
        error = pw.TextField(default='')
        started_at = pw.DateTimeField(null=True)
        finished_at = pw.DateTimeField(null=True)
        heartbeat_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "invoicing_run"
            legacy_table_names = False
            indexes = [(('regie', 'period_start'), False)]

    @migrator.create_model
    class ClosedPeriod(pw.Model):
        id = pw.AutoField()
        regie = pw.ForeignKeyField(column_name='regie_id', field='id', model=migrator.orm['regie'], on_delete='CASCADE')
        period_start = pw.DateField()
        closed_at = pw.DateTimeField()
        closed_by = pw.ForeignKeyField(column_name='closed_by_id', field='id', model=migrator.orm['user'], null=True,
                                       on_delete='SET NULL')

        class Meta:
            table_name = "closed_period"
            legacy_table_names = False
            indexes = [(('regie', 'period_start'), True)]

    migrator.add_fields(
        'invoice',
        legacy_series=pw.CharField(default='', max_length=255),
        run=pw.ForeignKeyField(column_name='run_id', field='id', model=migrator.orm['invoicing_run'], null=True,
                               on_delete='SET NULL'))

    migrator.run(prepare_data, database)

    # Required (no default any more) and unique: change_fields also builds the unique index.
    migrator.change_fields('regie', code=pw.CharField(max_length=255, unique=True))

    migrator.drop_index('invoice', 'regie', 'number')
    migrator.add_index('invoice', 'number', 'legacy_series', unique=True)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.drop_index('invoice', 'number', 'legacy_series')
    migrator.add_index('invoice', 'regie', 'number', unique=True)
    migrator.change_fields('regie', code=pw.CharField(default='', max_length=255))
    migrator.remove_fields('invoice', 'legacy_series', 'run')
    migrator.remove_model('closed_period')
    migrator.remove_model('invoicing_run')
