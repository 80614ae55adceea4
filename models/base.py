"""The database proxy every model is bound to, the base model, and the list of all models."""
from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from peewee import SQL, CharField, DatabaseProxy, Model, ModelDelete, ModelInsert, ModelUpdate, fn

db = DatabaseProxy()
_clock: Callable[[], dt.datetime] = dt.datetime.now  # replaced by services.core.clock at import


def set_clock(local_now: Callable[[], dt.datetime]) -> None:
    """Let model defaults read the app's clock (services.core.clock registers itself; models never import services)."""
    global _clock
    _clock = local_now


def now() -> dt.datetime:
    """The app's Paris wall-clock time, for model defaults such as created_at."""
    return _clock()


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


# --- The configuration's version ------------------------------------------------------------------
# Services, units, calendars, tariffs, rules… change rarely and are read by every grid: each process keeps
# them in memory (services/core/config_cache.py) as long as this row's random token stays the same. Every
# write to a ConfigModel (insert, update, delete, whatever the path: save, create, bulk) replaces the
# token in the same transaction, so the next request of every process reads them again.

_request_token: ContextVar[dict | None] = ContextVar("request_config_token", default=None)


class ConfigVersion(BaseModel):
    """One row (id 1): a token that every change to the configuration replaces."""

    token = CharField(default="")


def config_token() -> str | None:
    """The configuration's current token (read once per request when remembered); None: no row yet."""
    memo = _request_token.get()
    if memo is not None and "token" in memo:
        return memo["token"]
    # Written out: it runs on every request, and peewee would compose the same text each time.
    row = db.execute_sql('SELECT "token" FROM "config_version" WHERE "id" = 1').fetchone()
    token = row[0] if row else None
    if memo is not None:
        memo["token"] = token
    return token


def remember_config_token(on: bool) -> None:
    """Read the token once until `remember_config_token(False)` (the web layer, around each request)."""
    _request_token.set({} if on else None)


def config_token_seen(token: str | None) -> None:
    """The token as another of the request's queries read it (the signed-in user's): remembered, if the
    request remembers it and has not read it yet."""
    memo = _request_token.get()
    if memo is not None and "token" not in memo:
        memo["token"] = token


@contextmanager
def config_token_read_again() -> Iterator[None]:
    """Inside the block the token is read again (once, then remembered), whatever the request remembered."""
    reset = _request_token.set({})
    try:
        yield
    finally:
        _request_token.reset(reset)


def config_token_remembered() -> bool:
    return _request_token.get() is not None


def bump_config() -> None:
    """A new token, in the caller's transaction (an upsert: the row may not exist yet)."""
    token = secrets.token_hex(8)
    ConfigVersion.insert(id=1, token=token).on_conflict(
        conflict_target=[ConfigVersion.id], update={ConfigVersion.token: token}).execute()
    memo = _request_token.get()
    if memo is not None:
        memo["token"] = token  # this request's later reads see its own change


class _ConfigWrite:
    """A write query on a ConfigModel: runs, then replaces the configuration's token."""

    def _execute(self, database):
        result = super()._execute(database)
        bump_config()
        return result


class _ConfigInsert(_ConfigWrite, ModelInsert):
    pass


class _ConfigUpdate(_ConfigWrite, ModelUpdate):
    pass


class _ConfigDelete(_ConfigWrite, ModelDelete):
    pass


def _as(query, kind):
    query.__class__ = kind  # same state, one more step after executing
    return query


class ConfigModel(BaseModel):
    """A table of the configuration: every write replaces the configuration's token (see above)."""

    __abstract__ = True

    @classmethod
    def insert(cls, *args, **kwargs):
        return _as(super().insert(*args, **kwargs), _ConfigInsert)

    @classmethod
    def insert_many(cls, *args, **kwargs):
        return _as(super().insert_many(*args, **kwargs), _ConfigInsert)

    @classmethod
    def insert_from(cls, *args, **kwargs):
        return _as(super().insert_from(*args, **kwargs), _ConfigInsert)

    @classmethod
    def update(cls, *args, **kwargs):
        return _as(super().update(*args, **kwargs), _ConfigUpdate)

    @classmethod
    def delete(cls):
        return _as(super().delete(), _ConfigDelete)


def count_rows():
    """COUNT(*), for counts of a big table's rows."""
    # Not COUNT(id): PostgreSQL then counts from an index alone, where the id sends it to every row (a
    # canteen's day of bookings at 5,000 households: 115 ms against 4). SQLite's indexes carry the id anyway.
    return fn.COUNT(SQL("*"))


def all_models() -> list[type[BaseModel]]:
    """Every concrete model, found by walking BaseModel's subclasses (ConfigModel is only a base)."""
    seen: list[type[BaseModel]] = []
    stack = list(BaseModel.__subclasses__())
    while stack:
        model = stack.pop(0)
        if model not in seen:
            seen.append(model)
            stack.extend(model.__subclasses__())
    return [model for model in seen if not model.__dict__.get("__abstract__")]
