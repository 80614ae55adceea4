"""PostgreSQL: a transaction's BEGIN, a draft's SET LOCAL, its row locks and the writes whose answer
nobody reads travel with its next statement (or its COMMIT), and the hot queries are prepared on the server
once per connection (models/postgres.py). Each round trip saved is one a parent no longer waits for at the Thursday rush;
what must not change is that the transaction still begins, holds, commits and rolls back."""
from __future__ import annotations

import datetime as dt
import time
from contextlib import contextmanager

import psycopg2
import psycopg2.extensions
import pytest
from peewee import SQL, IntegrityError, NodeList

from models import Household, ReceiptCounter, ThrottleEvent, db
from models.prepared import Slot, prepared
from services.core.transactions import is_sqlite, lock_rows, write_transaction


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


# --- Locks and unread writes travel with the next statement ---------------------------------------


_add_counter = prepared(lambda year, last: ReceiptCounter.insert(year=year, last=last))
_add_event = prepared(lambda kind, ip: ThrottleEvent.insert(kind=kind, ip=ip, email="", at=dt.datetime(2026, 11, 19)))


def _locked_elsewhere(household_id: int) -> bool:
    """Whether another connection finds the household's row locked."""
    other = psycopg2.connect(dbname=db.obj.database, **db.obj.connect_params)
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT id FROM household WHERE id = %s FOR NO KEY UPDATE NOWAIT", (household_id,))
        return False
    except psycopg2.errors.LockNotAvailable:
        return True
    finally:
        other.close()


def test_a_lock_travels_with_the_next_statement_and_holds_from_then_on(app):
    household = Household.create(name="Famille Test")
    ReceiptCounter.insert(year=2026, last=4).execute()
    with round_trips() as sent:
        with write_transaction():
            lock_rows(Household, [household.id])
            assert not _locked_elsewhere(household.id)  # nothing said yet
            assert [c.last for c in _counter_of(2026)] == [4]
            assert _locked_elsewhere(household.id)  # said with the read, before it
    said = [s for s in sent if not s.startswith("PREPARE")]
    assert len(said) == 2 and said[0].startswith("BEGIN; EXECUTE portail_") and said[0].count("EXECUTE") == 2
    assert said[1] == "COMMIT" and not _locked_elsewhere(household.id)


def test_an_unread_write_travels_with_the_commit(app):
    with round_trips() as sent:
        with write_transaction():
            _add_counter.say(2026, 1)
            _add_counter.say(2027, 1)
    said = [s for s in sent if not s.startswith("PREPARE")]
    assert len(said) == 1 and said[0].startswith("BEGIN; EXECUTE") and said[0].endswith("; COMMIT")
    assert _counter_rows() == 2


def test_a_rollback_drops_what_was_not_said(app):
    with round_trips() as sent:
        with pytest.raises(RuntimeError):
            with write_transaction():
                lock_rows(Household, [1])
                _add_counter.say(2026, 1)
                raise RuntimeError("panne")
    assert [s for s in sent if not s.startswith("PREPARE")] == [] and _counter_rows() == 0
    with write_transaction():  # the connection goes on, outside any transaction
        _add_counter.say(2026, 2)
    assert not db.in_transaction() and [c.last for c in ReceiptCounter.select()] == [2]


def test_an_unread_write_that_fails_fails_the_transaction(app):
    ReceiptCounter.insert(year=2026, last=1).execute()
    with pytest.raises(IntegrityError):
        with write_transaction():
            _add_counter.say(2027, 1)
            _add_counter.say(2026, 2)  # the same series twice: refused at the COMMIT's round trip
    assert [c.year for c in ReceiptCounter.select()] == [2026]  # the 2027 row went with the rest
    with write_transaction():
        _add_counter.say(2027, 1)
        assert _counter_of(2027)[0].last == 1  # said before the read that carries it
    assert _counter_rows() == 2


def test_values_of_unread_writes_keep_their_percent_signs(app):
    with write_transaction():
        _add_event.say("50 %s %%", "10.0.0.1")
        ReceiptCounter.insert(year=2026, last=1).execute()  # a statement with values of its own carries it
        _add_event.say("100%", "10.0.0.2")
    assert sorted(e.kind for e in ThrottleEvent.select()) == ["100%", "50 %s %%"]


def test_a_sign_in_writes_in_one_round_trip(app):
    """Clearing the address's failures and stamping the sign-in answer nothing anyone reads."""
    from models import LoginThrottle, User
    from services.accounts import users

    user = User.create(email="parent@example.fr", password_hash="x", role="parent")
    LoginThrottle.create(email=user.email, failures=3)
    with round_trips() as sent:
        users.sign_in_succeeded(user)
    said = [s for s in sent if not s.startswith("PREPARE")]
    assert len(said) == 1 and said[0].startswith("BEGIN; EXECUTE") and said[0].endswith("; COMMIT")
    assert LoginThrottle.select().count() == 0 and User.get_by_id(user.id).last_login_at == user.last_login_at


# --- The hot queries are prepared on the server, once per connection ------------------------------


@prepared
def _counter_of(year):
    return ReceiptCounter.select().where(ReceiptCounter.year == year)


@prepared
def _year_unless(value):  # the server cannot tell the type of a value it only compares with NULL
    return ReceiptCounter.select(ReceiptCounter.year).where(NodeList((Slot("value"), SQL("IS NULL"))))


def test_a_hot_query_is_planned_once_per_connection(app):
    ReceiptCounter.insert(year=2026, last=4).execute()
    db.close()  # a new connection: nothing prepared on it yet
    with round_trips() as sent:
        with write_transaction():
            assert [c.last for c in _counter_of(2026)] == [4]
        assert [c.last for c in _counter_of(2026)] == [4] and _counter_of(2025) == []
    # PREPARE before the BEGIN: the server is between transactions, and a PREPARE outlives a rollback.
    assert sent[0].startswith("PREPARE portail_") and " AS SELECT " in sent[0] and "$1" in sent[0]
    name = sent[0].split()[1]
    assert sent[1:] == [f"BEGIN; EXECUTE {name} (%s)", "COMMIT", f"EXECUTE {name} (%s)", f"EXECUTE {name} (%s)"]
    with pytest.raises(RuntimeError):
        with write_transaction():
            _counter_of(2026)
            raise RuntimeError("panne")
    assert [c.last for c in _counter_of(2026)] == [4]  # still prepared after the rollback


def test_a_query_the_server_cannot_prepare_runs_as_written_and_the_transaction_goes_on(app):
    ReceiptCounter.insert(year=2026, last=4).execute()
    with round_trips() as sent:
        with write_transaction():
            ReceiptCounter.insert(year=2027, last=1).execute()  # the transaction has begun on the server
            assert _year_unless.scalar(None) == 2026 and _year_unless.scalar("non") is None
            ReceiptCounter.insert(year=2028, last=1).execute()
    assert any(s.startswith("SAVEPOINT portail_prepare; PREPARE") for s in sent)
    assert any(s.startswith("ROLLBACK TO SAVEPOINT portail_prepare") for s in sent)
    assert _counter_rows() == 3
    with round_trips() as sent:
        assert _year_unless.scalar(None) == 2026
    assert len(sent) == 1 and "PREPARE" not in sent[0] and "EXECUTE" not in sent[0]  # not tried again


def _spy_on_idle_connections(sent: list[str]) -> list:
    """Record what the pool's idle connections are sent (the pool's own check uses the raw connection)."""
    class Spy(psycopg2.extensions.cursor):
        def execute(self, sql, params=None):
            sent.append(sql)
            return super().execute(sql, params)

    idle = [conn for _ts, _n, conn in db.obj._connections]
    for conn in idle:
        conn.cursor_factory = Spy
    return idle


def test_a_connection_taken_again_from_the_pool_is_not_pinged():
    """peewee's pool sent SELECT 1 on every connection it handed out: a round trip on every request."""
    db.close()
    db.connect()
    db.execute_sql("SELECT 1 + 1")
    db.close()  # back to the pool
    sent: list[str] = []
    idle = _spy_on_idle_connections(sent)
    try:
        db.connect()
        assert db.connection() in idle and sent == []
    finally:
        for conn in idle:
            conn.cursor_factory = psycopg2.extensions.cursor


def test_a_connection_the_server_ended_is_not_handed_out():
    """A connection the server ended while it rested in the pool (a restart, pg_terminate_backend) is left
    behind: the next request gets a new one and no error."""
    db.close()
    db.connect()
    ended = db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    db.close()
    admin = psycopg2.connect(dbname=db.obj.database, **db.obj.connect_params)
    try:
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", (ended,))
            for _ in range(50):  # the server process is gone once pg_stat_activity no longer shows it
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (ended,))
                if cursor.fetchone()[0] == 0:
                    break
                time.sleep(0.1)
    finally:
        admin.close()
    db.connect()
    assert db.execute_sql("SELECT pg_backend_pid()").fetchone()[0] != ended
