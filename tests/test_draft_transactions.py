"""Draft write transactions (a basket's ticks) commit without waiting for the disk on PostgreSQL, as
SQLite's WAL with synchronous=NORMAL always does; orders and everything else wait for it."""
from __future__ import annotations

import datetime as dt

import pytest

from models import Household, db
from services.booking import basket
from services.core.transactions import is_sqlite, write_transaction
from tests.test_query_counts import counting_queries

MONDAY = dt.date(2026, 11, 23)


def _synchronous_commit() -> str:
    return db.execute_sql("SHOW synchronous_commit").fetchone()[0]


def test_a_draft_transaction_does_not_wait_for_the_disk_and_others_do(app):
    if is_sqlite():
        pytest.skip("SQLite: WAL with synchronous=NORMAL never waits for the disk at commit")
    with write_transaction(draft=True):
        assert _synchronous_commit() == "off"
        with write_transaction():  # a savepoint inside keeps the outer transaction's setting
            assert _synchronous_commit() == "off"
    with write_transaction():
        assert _synchronous_commit() == "on"
    assert _synchronous_commit() == "on"  # SET LOCAL: nothing outlives the transaction


def test_a_tick_is_a_draft_and_valider_is_not(demo, freeze):
    freeze("2026-11-19T17:55")
    martin = Household.get_by_id(demo["households"]["martin"].id)
    lea, repas = demo["children"]["lea"], demo["units"]["repas_phare"]
    with counting_queries() as tick:
        assert basket.change_cell(martin, lea.id, repas.id, MONDAY, True).changed
    with counting_queries() as validate:
        basket.validate(martin)
    said = "SET LOCAL synchronous_commit TO OFF"
    assert (said in " ".join(map(str, tick.statements))) is not is_sqlite()
    if not is_sqlite():  # with the BEGIN and the basket's lock: one round trip (models/postgres.py)
        assert any(s.startswith(f"BEGIN; {said}; SELECT") and "FOR NO KEY UPDATE" in s for s in tick.statements)
    assert said not in " ".join(map(str, validate.statements))
