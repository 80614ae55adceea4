"""Queries whose SQL text is composed once per process, then run with new values at each call.

Peewee composes a SELECT of a wide table in about half a millisecond (a node per column, quoted and
aliased): on the pages of the Thursday rush that was half the time of a cell toggle. A hot query is
written once as a function of its values (`Slot`s) and decorated with `@prepared`; each call binds the
values into the SQL kept for that shape (database kind and the length of each list value).

    @prepared
    def bookings_of(children, start, end):
        return Booking.select().where(Booking.child.in_(children) & Booking.date.between(start, end))

    rows = bookings_of([3, 4], monday, friday)     # a list of Booking, as list(query) would give

Only reads: a write to a configuration table must go through peewee (it replaces the config token)."""
from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from peewee import Node

from models.base import db

_LIST_TYPES = (list, tuple, set, frozenset)


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

    def __sql__(self, ctx):
        converter = ctx.state.converter  # the field's db_value, when compared with a field
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
    """A SELECT built by `build(*slots)`, composed once per shape and run with the call's values."""

    def __init__(self, build: Callable[..., Any]):
        self.build = build
        self.names = list(inspect.signature(build).parameters)
        self.__doc__, self.__name__ = build.__doc__, build.__name__
        self._shapes: dict[tuple, tuple[Any, str, list]] = {}
        self._lock = threading.Lock()

    def _compiled(self, values: dict[str, Any]) -> tuple[Any, str, list]:
        lengths = tuple(len(values[n]) if isinstance(values[n], _LIST_TYPES) else None for n in self.names)
        key = (type(db.obj), lengths)
        found = self._shapes.get(key)
        if found is None:
            query = self.build(*(Slot(n, length) for n, length in zip(self.names, lengths)))
            sql, params = db.get_sql_context().sql(query).query()
            found = (query, sql, params)
            with self._lock:
                self._shapes[key] = found
        return found

    def _execute(self, args: Sequence[Any], kwargs: dict[str, Any]):
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
        return query, db.execute_sql(sql, params)

    def __call__(self, *args, **kwargs) -> list:
        """Every row, as the query's row type (model instances, tuples or dicts)."""
        query, cursor = self._execute(args, kwargs)
        return list(query._get_cursor_wrapper(cursor))

    def first(self, *args, **kwargs):
        """The first row or None (write the LIMIT in the query when it matters)."""
        rows = self(*args, **kwargs)
        return rows[0] if rows else None

    def scalar(self, *args, **kwargs):
        """The first column of the first row, or None."""
        _query, cursor = self._execute(args, kwargs)
        row = cursor.fetchone()
        return row[0] if row else None


def prepared(build: Callable[..., Any]) -> PreparedQuery:
    """Decorate a function of Slots returning a peewee SELECT: calling it runs the query."""
    return PreparedQuery(build)
