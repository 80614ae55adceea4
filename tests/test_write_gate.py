"""SQLite's writers queue at a gate (an flock) before BEGIN IMMEDIATE, so that the next one starts the
moment the lock is free instead of when SQLite's busy handler wakes it up 10–100 ms later."""
from __future__ import annotations

import fcntl
import os
import threading

import pytest

from models import School, db
from services.core import transactions
from services.core.transactions import is_sqlite, write_transaction


@pytest.fixture(autouse=True)
def _sqlite_only(app):
    if not is_sqlite():
        pytest.skip("the gate is SQLite's; PostgreSQL locks rows")


def _gate_path() -> str:
    return f"{db.obj.database}-gate"


def _held_by_someone(path: str) -> bool:
    """Whether another open file holds the gate (tried from a descriptor of our own)."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_a_write_transaction_holds_the_gate_until_it_commits(app):
    with write_transaction():
        School.insert(name="École de la porte").execute()
        assert _held_by_someone(_gate_path())
    assert not _held_by_someone(_gate_path())
    assert School.select().where(School.name == "École de la porte").exists()


def test_a_writer_waits_at_the_gate_and_goes_on_when_it_opens(app):
    started, done = threading.Event(), threading.Event()
    db.close()

    def writer():
        with db.connection_context():
            started.set()
            with write_transaction():
                School.insert(name="École qui attend").execute()
        done.set()

    outside = os.open(_gate_path(), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(outside, fcntl.LOCK_EX)  # another process's writer holds the gate
    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert started.wait(5)
        assert not done.wait(0.3)  # queued at the gate, not writing
        with db.connection_context():
            assert not School.select().where(School.name == "École qui attend").exists()
    finally:
        fcntl.flock(outside, fcntl.LOCK_UN)
        os.close(outside)
    assert done.wait(5)
    thread.join(5)
    db.connect(reuse_if_open=True)
    assert School.select().where(School.name == "École qui attend").exists()


def test_a_forked_process_opens_a_gate_of_its_own(app):
    with write_transaction():
        pass
    inherited = transactions._local.gate
    transactions._local.gate = ((-1, inherited[0][1]), inherited[1])  # as a child of another process sees it
    try:
        with write_transaction():
            assert transactions._local.gate[1] != inherited[1]  # a shared open file would exclude no one
    finally:
        os.close(transactions._local.gate[1])
        transactions._local.gate = inherited
