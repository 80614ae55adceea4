"""Migration 004 on a database made by the old init-db (the 8045535 demo, whose two régies both
issued « F2026-11-00001 » and « F2026-11-00002 »): régies get codes, old numbers are kept as printed,
invoiced months are closed, and the new unique constraints hold. SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt

import peewee as pw
import pytest

from models import ClosedPeriod, Invoice, NumberCounter, Regie, db
from services.billing import invoice_numbers
from services.core import migrations
from services.core.transactions import write_transaction
from tests.test_migrations import bare, load_legacy_database  # noqa: F401 - the fixture and its loader


def test_upgrade_gives_codes_keeps_old_numbers_and_closes_invoiced_months(bare):  # noqa: F811
    load_legacy_database()
    db.execute_sql("UPDATE \"regie\" SET \"code\" = ''")  # the old default: no code at all
    before = dict(db.execute_sql('SELECT "id", "number" FROM "invoice"').fetchall())
    assert len(set(before.values())) == 2 and len(before) == 4

    migrations.upgrade()

    assert {r.name: r.code for r in Regie.select()} == {"Régie périscolaire": "PERI", "Régie accueil de loisirs": "ACLO"}
    assert {i.id: i.number for i in Invoice.select()} == before  # never renumbered
    assert {i.legacy_series for i in Invoice.select()} == {"1", "2"}  # marked with their régie
    assert sorted((c.regie_id, c.period_start) for c in ClosedPeriod.select()) == [(1, dt.date(2026, 10, 1)),
                                                                                    (2, dt.date(2026, 10, 1))]
    loisirs = Regie.get(Regie.code == "ACLO")
    with write_transaction():  # its series goes on where it was, with the code
        assert invoice_numbers.next_number(loisirs, "F", dt.date(2026, 12, 1)) == "ACLO-2026-12-00003"
    assert NumberCounter.get(NumberCounter.regie == loisirs, NumberCounter.kind == "F").last == 3
    with pytest.raises(pw.IntegrityError), db.atomic():  # a code is required…
        db.execute_sql('INSERT INTO "regie" ("name", "prepayment", "payment_days", "treasury_days") '
                       "VALUES ('Sans code', false, 30, 0)")
    with pytest.raises(pw.IntegrityError), db.atomic():  # … and unique
        Regie.create(name="Autre", code="PERI")
    data = {f.name: getattr(Invoice.get(), f.name) for f in Invoice._meta.sorted_fields if f.name not in ("id",)}
    Invoice.create(**dict(data, number="PERI-2026-12-00001", legacy_series=""))
    with pytest.raises(pw.IntegrityError), db.atomic():  # one number, one invoice, whatever the régie
        Invoice.create(**dict(data, number="PERI-2026-12-00001", legacy_series="", regie=loisirs))
