"""Queries whose SQL text is composed once per process, then run with new values at each call.

Peewee composes a SELECT of a wide table in about half a millisecond (a node per column, quoted and
aliased): on the pages of the Thursday rush that was half the time of a cell toggle. A hot query is
written once as a function of its values (`Slot`s) and decorated with `@prepared`; each call binds the
values into the SQL kept for that shape (database kind and the length of each list value).

    @prepared
    def bookings_of(children, start, end):
        return Booking.select().where(Booking.child.in_(children) & Booking.date.between(start, end))

    rows = bookings_of([3, 4], monday, friday)     # a list of Booking, as list(query) would give

A hot INSERT, UPDATE or DELETE is prepared the same way and run with `.execute(…)` (the new row's id, or
how many rows changed); so are create() of a PreparedCreate model and run_insert(Model.insert_many(…)).
Never on a configuration table, whose writes must go through peewee (they replace the config token); an
INSERT names every column whose default is computed (now(): it would be frozen in the SQL)."""
from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from peewee import CursorWrapper, Field, Insert, Model, Node, _WriteQuery

from models.base import ConfigModel, db

_LIST_TYPES = (list, tuple, set, frozenset)
_RUN_STATE = frozenset(vars(CursorWrapper(None)))  # a cursor wrapper's per-run attributes (cursor, row cache…)


@dataclass(frozen=True)
class _Marker:
    """Where a call's value goes in the parameters: argument `name`, element `index` of a list value."""

    name: str
    index: int | None
    converter: Callable[[Any], Any] | None


class Slot(Node):
    """A value given at each call; a list value renders as `(?, ?, …)` (its length is part of the shape)."""

    def __init__(self, name: str, length: int | None = None):
        self.name, self.length = name, length
        self.converter: Callable[[Any], Any] | None = None  # a written column's db_value (see _bind_columns)

    def __sql__(self, ctx):
        converter = self.converter or ctx.state.converter  # the field's db_value, when compared with a field
        if self.length is None:
            return ctx.value(_Marker(self.name, None, converter), converter=False)
        if self.length == 0:
            return ctx.literal("(NULL)")  # IN (NULL) matches nothing, on both databases
        ctx.literal("(")
        for index in range(self.length):
            if index:
                ctx.literal(", ")
            ctx.value(_Marker(self.name, index, converter), converter=False)
        return ctx.literal(")")


class PreparedQuery:
    """A query built by `build(*slots)`, composed once per shape and run with the call's values; `names`
    are the slots' names when build's parameters do not say them (a query made for a model at run time)."""

    def __init__(self, build: Callable[..., Any], names: Sequence[str] | None = None):
        self.build = build
        self.names = list(names) if names is not None else list(inspect.signature(build).parameters)
        self.__doc__, self.__name__ = build.__doc__, build.__name__
        self._shapes: dict[tuple, tuple[Any, str, list]] = {}
        self._readers: dict[int, dict[str, Any]] = {}  # a shape's row reader, once initialised
        self._lock = threading.Lock()

    def _compiled(self, values: dict[str, Any]) -> tuple[Any, str, list]:
        lengths = tuple(len(values[n]) if isinstance(values[n], _LIST_TYPES) else None for n in self.names)
        key = (type(db.obj), lengths)
        found = self._shapes.get(key)
        if found is None:
            query = self.build(*(Slot(n, length) for n, length in zip(self.names, lengths)))
            if isinstance(query, _WriteQuery):
                _bind_columns(query)
            sql, params = db.get_sql_context().sql(query).query()
            found = (query, sql, params)
            with self._lock:
                self._shapes[key] = found
        return found

    def _execute(self, args: Sequence[Any], kwargs: dict[str, Any]):
        query, sql, params = self._bound(args, kwargs)
        run = getattr(db.obj, "execute_prepared", None)  # PostgreSQL prepares it on the server (models/postgres.py)
        return query, (run or db.execute_sql)(sql, params)

    def _bound(self, args: Sequence[Any], kwargs: dict[str, Any]) -> tuple[Any, str, list]:
        """The query of this call's shape, its SQL and this call's values."""
        values = dict(zip(self.names, args), **kwargs)
        for name, value in values.items():
            if isinstance(value, (set, frozenset)):
                values[name] = list(value)
        query, sql, template = self._compiled(values)
        params = []
        for param in template:
            if isinstance(param, _Marker):
                value = values[param.name]
                if param.index is not None:
                    value = value[param.index]
                param = param.converter(value) if param.converter else value
            params.append(param)
        return query, sql, params

    def __call__(self, *args, **kwargs) -> list:
        """Every row, as the query's row type (model instances, tuples or dicts)."""
        query, cursor = self._execute(args, kwargs)
        rows = cursor.fetchall()
        cursor.close()
        if not rows:
            return []
        # Peewee works out from the cursor's columns how to build each row (for a joined query, the
        # graph of its models) at every run, though the shape fixes all of it: kept once.
        reader = query._get_cursor_wrapper(cursor)
        learnt = self._readers.get(id(query))  # a query per shape, kept in _shapes
        if learnt is None:
            reader.initialize()
            learnt = self._readers[id(query)] = {k: v for k, v in vars(reader).items() if k not in _RUN_STATE}
        else:
            reader.__dict__.update(learnt)
        return [reader.process_row(row) for row in rows]

    def first(self, *args, **kwargs):
        """The first row or None (write the LIMIT in the query when it matters)."""
        rows = self(*args, **kwargs)
        return rows[0] if rows else None

    def scalar(self, *args, **kwargs):
        """The first column of the first row, or None."""
        _query, cursor = self._execute(args, kwargs)
        row = cursor.fetchone()
        return row[0] if row else None

    def say(self, *args, **kwargs) -> None:
        """Run a lock, or a write whose count nobody reads: on PostgreSQL it travels with the transaction's
        next statement, or its COMMIT (models/postgres.py say_with_next); at once on SQLite."""
        query, sql, params = self._bound(args, kwargs)
        say = getattr(db.obj, "say_with_next", None)
        if say is None:
            db.execute_sql(sql, params)
        else:
            say(sql, params, prepared=True, writes=isinstance(query, _WriteQuery))

    def execute(self, *args, **kwargs) -> int:
        """Run a prepared write: an INSERT's new id, else how many rows changed."""
        query, cursor = self._execute(args, kwargs)
        if query._returning:  # PostgreSQL's INSERT … RETURNING id
            return cursor.fetchone()[0]
        return cursor.lastrowid if isinstance(query, Insert) else cursor.rowcount


def _bind_columns(query: _WriteQuery) -> None:
    """Give each Slot written to a column that column's conversion (peewee converts only plain values), and
    refuse what a prepared write would get wrong."""
    model = query.model
    if issubclass(model, ConfigModel):
        raise TypeError(f"{model.__name__} is configuration: write it through peewee, which replaces the token.")
    written = getattr(query, "_insert", None) or getattr(query, "_update", None) or {}
    fields = set()
    for row in written if isinstance(written, list) else [written]:  # insert_many: a list of rows
        for key, value in row.items():
            field = key if isinstance(key, Field) else model._meta.fields[key]
            fields.add(field)
            if isinstance(value, Slot):
                value.converter = field.db_value
    if isinstance(query, Insert):
        computed = [f.name for f, default in model._meta.defaults.items() if callable(default) and f not in fields]
        if computed:
            raise TypeError(f"Give {', '.join(computed)}: a computed default would be frozen in the prepared SQL.")


def prepared(build: Callable[..., Any]) -> PreparedQuery:
    """Decorate a function of Slots returning a peewee query: calling it runs a SELECT, .execute() a write."""
    return PreparedQuery(build)


_made: dict[tuple, PreparedQuery] = {}


def prepared_for(key: tuple, build: Callable[..., Any], names: Sequence[str]) -> PreparedQuery:
    """A query a helper makes for the model it is given (`key`: the model and what else shapes the query),
    made once per process: `build(*slots)` with the slots `names`."""
    found = _made.get(key)
    if found is None:
        found = _made.setdefault(key, PreparedQuery(build, names))
    return found


class PreparedCreate:
    """A model mixin for a table written in every household of a run (or every mail): create() runs an
    INSERT composed once per process and set of columns (its defaults must be constants)."""

    @classmethod
    def create(cls, **values):
        if any(_is_expression(value) for value in values.values()):  # peewee writes it
            return super().create(**values)
        primary_key = cls._meta.primary_key.name
        if primary_key in values and values[primary_key] is None:  # as peewee: no id given, the database's
            values = {k: v for k, v in values.items() if k != primary_key}
        row = cls(**values)
        row.id = _insert(cls, tuple(values), 1).execute(*values.values())
        row._dirty.clear()  # as after save(): nothing left to write
        return row

    @classmethod
    def create_unread(cls, **values):
        """create() for a caller that never reads the new row's id (it stays None): on PostgreSQL the
        INSERT travels with the transaction's next statement or its COMMIT (PreparedQuery.say)."""
        row = cls(**values)
        _insert(cls, tuple(values), 1).say(*values.values())
        row._dirty.clear()
        return row


def run_insert(query, *, unread: bool = False) -> None:
    """Run a peewee Model.insert(…) or insert_many(…) of plain values, the same columns in every row, with
    its SQL composed once per model, columns and number of rows; any other insert runs through peewee.
    `unread`: nobody reads the new ids, so on PostgreSQL it travels with the next statement (PreparedQuery.say)."""
    rows = query._insert if isinstance(query._insert, list) else [query._insert]
    shapes = {tuple(k.name if isinstance(k, Field) else k for k in row) for row in rows if isinstance(row, dict)}
    if (len(shapes) != 1 or not all(isinstance(row, dict) for row in rows) or query._on_conflict or query._columns
            or any(_is_expression(value) for row in rows for value in row.values())):
        query.execute()
        return
    (names,) = shapes
    insert = _insert(query.model, names, len(rows))
    (insert.say if unread else insert.execute)(*[value for row in rows for value in row.values()])


def _is_expression(value) -> bool:
    """An SQL expression or subquery, not a value (a model instance is a Node too: a foreign key's value)."""
    return isinstance(value, Node) and not isinstance(value, Model)


def _insert(model: type, names: tuple[str, ...], count: int) -> PreparedQuery:
    def build(*slots):
        rows = [dict(zip(names, slots[i * len(names):(i + 1) * len(names)])) for i in range(count)]
        return model.insert_many(rows) if count > 1 else model.insert(**rows[0])
    return prepared_for(("insert", model, names, count), build, [f"{i}:{n}" for i in range(count) for n in names])
