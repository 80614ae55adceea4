"""Write transactions, the database kind and gapless counters: the one module that knows how to lock.

On SQLite every write transaction begins IMMEDIATE: it takes the write lock first, so it never has
to upgrade a read snapshot to a write (SQLITE_BUSY_SNAPSHOT, which busy_timeout cannot wait out).
Writers wait for SQLite's lock at a gate first (an flock on `<database>-gate`): the kernel wakes the
next writer the moment the lock is free, where SQLite's busy handler sleeps 10–100 ms between tries.
On PostgreSQL a plain transaction, with rows locked FOR UPDATE where an order matters.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import itertools
import operator
import os
import threading
from collections.abc import Iterable
from functools import reduce

from peewee import SqliteDatabase

from models import db
from models.prepared import PreparedQuery, prepared_for

_local = threading.local()  # peewee's connection state is per thread, so is the nesting depth
DRAFT = "SET LOCAL synchronous_commit TO OFF"  # PostgreSQL commits a draft without waiting for the disk


class NestedTransactionRefused(RuntimeError):
    """A write transaction was opened inside a plain one: it would silently lose its lock."""


def is_sqlite() -> bool:
    """Whether the models are bound to SQLite (else PostgreSQL)."""
    return isinstance(db.obj, SqliteDatabase)


def _depth() -> int:
    return getattr(_local, "depth", 0)


@contextlib.contextmanager
def write_transaction(*, draft: bool = False, savepoint: bool = True):
    """A write transaction: BEGIN IMMEDIATE on SQLite, a plain one on PostgreSQL; nested use is a savepoint,
    or with `savepoint=False` the caller's transaction itself (an error then undoes all of it).

    Refuses to nest inside a transaction it did not open (db.atomic() by hand): SQLite would make it a
    savepoint of a deferred transaction, and the IMMEDIATE lock would be silently lost.
    `draft`: what it writes may be lost in a power cut (a basket's ticks, never an order or a payment):
    PostgreSQL then commits without waiting for the disk (3 ms a commit here), as SQLite's WAL with
    synchronous=NORMAL always does."""
    outermost = not db.in_transaction()
    if db.in_transaction():
        if _depth() == 0:
            raise NestedTransactionRefused(
                "write_transaction() dans une transaction ouverte par db.atomic() : ouvrez-la avec write_transaction().")
        # A savepoint is two more round trips on PostgreSQL: worth it only to a caller that goes on after an error.
        context = db.atomic() if savepoint else contextlib.nullcontext()
    elif is_sqlite():
        context = _immediate()
    else:
        context = db.atomic()
    _local.depth = _depth() + 1
    try:
        with context:
            if draft and outermost and not is_sqlite():
                _say(DRAFT)
            yield
    finally:
        _local.depth -= 1


def _say(sql: str) -> None:
    """A statement that answers nothing: with the transaction's first one on PostgreSQL (models/postgres.py)."""
    say_with_next = getattr(db.obj, "say_with_next", None)
    if say_with_next is not None:
        say_with_next(sql)
    else:
        db.execute_sql(sql)


@contextlib.contextmanager
def _immediate():
    """BEGIN IMMEDIATE … COMMIT, entered through the database's gate."""
    gate = _gate()
    if gate is not None:
        # Blocks in the kernel (the GIL released) for as long as the writer before holds it; gunicorn's
        # timeout bounds a request. Writers that skip the gate (the sqlite3 shell) still meet busy_timeout.
        fcntl.flock(gate, fcntl.LOCK_EX)
    try:
        with db.atomic(lock_type="IMMEDIATE"):
            yield
    finally:
        if gate is not None:
            fcntl.flock(gate, fcntl.LOCK_UN)


def _gate() -> int | None:
    """This thread's descriptor of the gate file of the SQLite database in use; None in memory."""
    path = db.obj.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    # One descriptor per thread and process: an flock belongs to an open file, which threads sharing a
    # descriptor, or processes forked after it was opened, would share — and all hold the gate at once.
    key = (os.getpid(), path)
    opened = getattr(_local, "gate", None)
    if opened is None or opened[0] != key:
        if opened is not None and opened[0][0] == key[0]:
            os.close(opened[1])
        _local.gate = opened = (key, os.open(f"{path}-gate", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600))
    return opened[1]


def in_write_transaction() -> bool:
    """Whether the current thread is inside write_transaction()."""
    return _depth() > 0 and db.in_transaction()


def lock_rows(model, ids: Iterable[int], *, share: Iterable[int] = ()) -> set[int]:
    """SELECT … FOR NO KEY UPDATE on the rows `ids`, and FOR SHARE on the rows `share`, in one id order so
    that two transactions never deadlock; returns the ids this transaction now holds alone. Nothing to do
    on SQLite, where the IMMEDIATE transaction already holds the database's write lock (every row alone)."""
    # One locker at a time per row, but rows that only point to these (a foreign key takes KEY SHARE) can
    # still be written meanwhile: FOR UPDATE on a unit held every family's tick (its basket line points
    # to the unit) behind each « Valider » counting that unit's places. No locker deletes the row or
    # changes its id, which is all FOR UPDATE would add.
    # FOR SHARE: a caller that only needs the row unchanged (a unit whose places nobody counts) does not wait
    # for another such caller, and still waits for, and holds off, every FOR NO KEY UPDATE and UPDATE.
    exclusive = set(ids)
    rows = sorted(exclusive | set(share))
    if is_sqlite():
        return set(rows)
    for alone, run in itertools.groupby(rows, key=exclusive.__contains__):  # runs of one mode, in id order
        # Nobody reads a lock's answer: it travels with the transaction's next statement, which runs after it.
        _locker(model, "FOR NO KEY UPDATE" if alone else "FOR SHARE").say(list(run))
    return exclusive


def _locker(model, mode: str) -> PreparedQuery:
    """lock_rows' query, its SQL composed once per process and mode (it runs in every placement and in
    every household of an invoicing run)."""
    def lock(ids):
        return model.select(model.id).where(model.id.in_(ids)).order_by(model.id).for_update(mode)
    return prepared_for(("lock", model, mode), lock, ["ids"])


def lock_name(name: str) -> None:
    """Serialise the write transactions about one thing that may have no row yet (an e-mail address)."""
    if not in_write_transaction():
        raise NestedTransactionRefused("Un verrou nommé se prend dans une transaction d'écriture.")
    if not is_sqlite():  # SQLite's IMMEDIATE transaction already serialises every writer
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (key,))  # released at commit or rollback


def next_in_series(counter_model, **key) -> int:
    """Bump a gapless counter row (one per series, e.g. year or régie × kind × year) and return the new value.

    Call inside the write transaction that uses the number: a rollback gives the number back, so
    numbers have no gap and are never reused. One UPDATE … RETURNING bumps and reads the row (on
    PostgreSQL it holds the row's lock until commit, so the next caller waits and reads our number);
    a series' first number creates the row race-safely (INSERT … ON CONFLICT DO NOTHING) first."""
    if not in_write_transaction():
        raise NestedTransactionRefused("Un numéro se prend dans la transaction d'écriture qui l'utilise.")
    bump = _bumper(counter_model, tuple(key))
    last = bump.scalar(**key)
    if last is None:
        counter_model.insert(**key, last=0).on_conflict_ignore().execute()
        last = bump.scalar(**key)
    return last


def _bumper(counter_model, names: tuple[str, ...]) -> PreparedQuery:
    """next_in_series' UPDATE … RETURNING for a counter model and key, its SQL composed once per process."""
    def bump(*values):
        where = reduce(operator.and_, [getattr(counter_model, n) == v for n, v in zip(names, values)])
        return counter_model.update(last=counter_model.last + 1).where(where).returning(counter_model.last).tuples()
    return prepared_for(("bump", counter_model, names), bump, names)


# --- Values read back from either database ----------------------------------------------------
# SQLite hands back dates and datetimes of raw queries (tuples, aggregates) as ISO strings.


def as_date(value) -> dt.date:
    """A date from what the database returned (date, datetime or ISO string)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


def as_datetime(value) -> dt.datetime:
    """A datetime from what the database returned (datetime or ISO string)."""
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value
