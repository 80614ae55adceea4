"""PostgreSQL: a transaction's BEGIN, and a draft's SET LOCAL, travel with its first statement
(models/postgres.py). Each round trip saved is one a parent no longer waits for at the Thursday rush;
what must not change is that the transaction still begins, holds, commits and rolls back."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from peewee import IntegrityError

from models import ReceiptCounter, db
from services.core.transactions import is_sqlite, write_transaction


@pytest.fixture(autouse=True)
def _postgres_only(app):
    if is_sqlite():
        pytest.skip("PostgreSQL only: SQLite has no round trips")


@contextmanager
def round_trips():
    """Every string sent to the server, BEGIN and COMMIT included (peewee logs neither)."""
    sent: list[str] = []
    database, cursor = db.obj, db.obj.cursor

    def spying_cursor(*args, **kwargs):
        real = cursor(*args, **kwargs)

        class Spy:
            def __getattr__(self, name):
                return getattr(real, name)

            def __iter__(self):
                return iter(real)

            def execute(self, sql, params=None):
                sent.append(sql)
                return real.execute(sql, params)
        return Spy()

    database.cursor = spying_cursor
    try:
        yield sent
    finally:
        del database.cursor


def _counter_rows() -> int:
    return ReceiptCounter.select().count()


def test_begin_travels_with_the_first_statement(app):
    with round_trips() as sent:
        with write_transaction():
            ReceiptCounter.insert(year=2026, last=1).execute()
            ReceiptCounter.insert(year=2027, last=1).execute()
    assert sent[0].startswith("BEGIN; INSERT") and sent[-1] == "COMMIT" and len(sent) == 3
    assert _counter_rows() == 2


def test_a_transaction_that_says_nothing_sends_nothing(app):
    with round_trips() as sent:
        with write_transaction():
            pass
    assert sent == []
    with write_transaction():  # the connection is not left in a transaction
        ReceiptCounter.insert(year=2026, last=1).execute()
    assert not db.in_transaction() and _counter_rows() == 1


def test_an_error_after_the_first_statement_undoes_it(app):
    with pytest.raises(RuntimeError):
        with write_transaction():
            ReceiptCounter.insert(year=2026, last=1).execute()
            raise RuntimeError("panne")
    assert _counter_rows() == 0  # the BEGIN was said: the insert was not committed on its own


def test_an_error_in_the_first_statement_rolls_back_and_the_connection_goes_on(app):
    ReceiptCounter.insert(year=2026, last=1).execute()
    with pytest.raises(IntegrityError):
        with write_transaction():
            ReceiptCounter.insert(year=2026, last=2).execute()  # the same series twice
    with write_transaction():
        ReceiptCounter.insert(year=2027, last=1).execute()
    assert _counter_rows() == 2


def test_a_transaction_opened_on_a_closed_connection_still_commits(app):
    db.close()
    with write_transaction():
        ReceiptCounter.insert(year=2026, last=1).execute()
    assert not db.in_transaction()
    db.close()
    assert _counter_rows() == 1
