"""PostgreSQL with fewer round trips and less planning.

A transaction's BEGIN, and what it sets for itself, travel with its first statement instead of each
waiting for its own answer; so do its row locks and the writes whose answer nobody reads
(say_with_next), or with its COMMIT when nothing follows. Each statement is a round trip to the server
(about 0.1 ms here, more on a busy machine): a cell toggle made 12 of them on PostgreSQL against 8
statements on SQLite, where a call costs microseconds. A multi-statement string is one round trip (psycopg2 sends it as a simple query, every
statement in turn); an error in any of them still leaves the transaction begun, so peewee's rollback
still applies. A connection taken from the pool is checked on its socket, not with peewee's SELECT 1.

The hot queries (models/prepared.py) are prepared on the server, once per connection: planning them took
twice as long as running them (pg_stat_statements at 5,000 households: 0.3 ms to plan the signed-in user,
0.04 ms to read it), at every request."""
from __future__ import annotations

import itertools
import re
import select
import time
import weakref

import psycopg2
from peewee import __exception_wrapper__
from playhouse.db_url import register_database
from playhouse.pool import PooledPostgresqlDatabase

_PLACEHOLDER = re.compile(r"%[s%]")
_names: dict[str, str] = {}  # a prepared query's SQL → its statement's name, the same on every connection
_numbers = itertools.count(1)
_not_preparable: set[str] = set()  # SQL the server could not prepare (a value whose type it cannot infer)


class PostgresDatabase(PooledPostgresqlDatabase):
    """A pooled PostgreSQL whose BEGIN waits for the transaction's first statement, and whose hot queries
    are prepared on the server."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._ready = weakref.WeakKeyDictionary()  # connection → the statements prepared on it

    def _is_closed(self, conn) -> bool:
        # peewee's pool sent SELECT 1 on every connection it handed out: a round trip on every request. A
        # server that ended a resting connection (a restart, an idle timeout) said so on its socket before
        # closing it; a healthy idle connection has nothing to read. Only then is the server asked.
        if conn.closed or conn.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
            return super()._is_closed(conn)
        readable, _, _ = select.select([conn], [], [], 0)
        return bool(readable) and super()._is_closed(conn)

    def begin(self, isolation_level=None):
        if isolation_level or self._isolation_level:  # never asked for here; kept as peewee does it
            return super().begin(isolation_level)
        if self.is_closed():  # as peewee's BEGIN would: connecting later would empty the transaction stack
            self.connect()
        self._state.unsaid, self._state.unbegun, self._state.writes = [("BEGIN", "BEGIN")], True, False
        return None

    def say_with_next(self, sql: str, params=(), *, prepared: bool = False, writes: bool = False) -> None:
        """Send `sql`, a statement whose answer nobody reads (a setting, a lock, a write whose count is not
        needed), with the transaction's next statement or its COMMIT; a rollback drops it. At once outside
        a transaction. `writes`: it changes rows, so a transaction with nothing else still sends it."""
        if not self.in_transaction():
            (self.execute_prepared if prepared else self.execute_sql)(sql, params)
            return
        name = self._prepared_name(sql) if prepared else None
        sent = sql
        if name is not None:
            sent = f"EXECUTE {name} ({', '.join(['%s'] * len(params))})" if params else f"EXECUTE {name}"
        if params:  # psycopg2's quoting, as execute would do it; the log shows the SQL, not the EXECUTE
            cursor = self.cursor()
            sql, sent = cursor.mogrify(sql, params).decode(), cursor.mogrify(sent, params).decode()
        unsaid = getattr(self._state, "unsaid", None)
        if unsaid is None:
            unsaid = self._state.unsaid = []
        unsaid.append((sql, sent))
        self._state.writes = getattr(self._state, "writes", False) or writes

    def execute_prepared(self, sql: str, params) -> object:
        """Run a prepared query's SQL (models/prepared.py) as this connection's prepared statement, preparing
        it on first use; peewee's log still shows the SQL."""
        name = self._prepared_name(sql)
        if name is None:
            return self.execute_sql(sql, params)
        sent = f"EXECUTE {name} ({', '.join(['%s'] * len(params))})" if params else f"EXECUTE {name}"
        return self._execute_cursor(sql, params, sent=sent)

    def _prepared_name(self, sql: str) -> str | None:
        if sql in _not_preparable or "%%" in sql:  # a literal % would need psycopg2's escaping: left as it is
            return None
        name = _names.get(sql)
        if name is None:
            name = _names.setdefault(sql, f"portail_{next(_numbers)}")
        connection = self.connection()
        ready = self._ready.get(connection)
        if ready is None:
            ready = self._ready[connection] = set()
        if name in ready:
            return name
        numbers = itertools.count(1)
        statement = f"PREPARE {name} AS " + _PLACEHOLDER.sub(lambda found: f"${next(numbers)}", sql)
        # PREPARE outlives a rollback, and a failed one must not fail the transaction: sent before an unsaid
        # BEGIN (the server is between transactions), or inside a savepoint.
        inside = self.in_transaction() and not getattr(self._state, "unbegun", False)
        try:
            self._send(f"SAVEPOINT portail_prepare; {statement}; RELEASE SAVEPOINT portail_prepare"
                       if inside else statement)
        except psycopg2.Error:
            if inside:
                self._send("ROLLBACK TO SAVEPOINT portail_prepare; RELEASE SAVEPOINT portail_prepare")
            _not_preparable.add(sql)
            return None
        ready.add(name)
        return name

    def _send(self, sql: str) -> None:
        """A statement of the database's own housekeeping: sent alone, never logged."""
        cursor = self.cursor()
        try:
            cursor.execute(sql)
        finally:
            cursor.close()

    def _execute_cursor(self, sql, params, sent=None, **cursor_options):
        # Peewee's own, sending `sent` (a prepared statement's EXECUTE) where given and logging `sql`.
        unsaid = self._take_unsaid()
        if unsaid:
            # psycopg2 reads % in the whole string as the next statement's placeholders: the unsaid ones,
            # their values already quoted in, keep theirs doubled.
            sent = "; ".join([*(said.replace("%", "%%") for _shown, said in unsaid), sent or sql])
            sql = "; ".join([*(shown for shown, _said in unsaid), sql])
        self._log_query(sql, params)
        start = time.perf_counter() if self.query_hooks else None
        try:
            with __exception_wrapper__:
                cursor = self.cursor(**cursor_options)
                cursor.execute(sent or sql, params or ())
        except Exception as exc:
            if start is not None:
                self._notify_hooks(sql, params, start, exc)
            raise
        if start is not None:
            self._notify_hooks(sql, params, start, None)
        return cursor

    def commit(self):
        unbegun, writes = getattr(self._state, "unbegun", False), getattr(self._state, "writes", False)
        unsaid = self._take_unsaid()
        if unbegun and not writes:  # the transaction never began on the server: nothing to commit
            return None
        if not unsaid:
            self._log_query("COMMIT", None)  # a round trip as any statement is: counted with them (peewee logs none)
            return super().commit()
        self._log_query("; ".join([*(shown for shown, _said in unsaid), "COMMIT"]), None)
        with __exception_wrapper__:  # sent without values: its % stay as they are
            self.cursor().execute("; ".join([*(said for _shown, said in unsaid), "COMMIT"]))
        return None

    def rollback(self):
        unbegun = getattr(self._state, "unbegun", False)
        self._take_unsaid()
        if unbegun:
            return None
        return super().rollback()

    def _take_unsaid(self) -> list[tuple[str, str]] | None:
        """The statements waiting for the next one (as logged, as sent), now said or dropped."""
        unsaid = getattr(self._state, "unsaid", None)
        self._state.unsaid, self._state.unbegun, self._state.writes = None, False, False
        return unsaid

    def close(self):
        self._take_unsaid()
        return super().close()


register_database(PostgresDatabase, "postgres+pool", "postgresql+pool")
