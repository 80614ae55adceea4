"""The configuration kept in memory by each process: services, units, deadline policies, tariffs, unit
rules, calendars (holidays, closures, extra days, capacity overrides) and closed periods. An entry holds
as long as the configuration's token (models.base.config_token, one query a request) is the one it was
read under; every write to those tables replaces the token (models.base.ConfigModel). Callers get
shared, read-only rows: they never change or save them."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from models.base import config_token, config_token_remembered, remember_config_token

T = TypeVar("T")
_entries: dict[str, tuple[str, object]] = {}
_lock = threading.Lock()
_bypass: ContextVar[bool] = ContextVar("config_cache_bypass", default=False)


def cached(key: str, load: Callable[[], T]) -> T:
    """The value of `key` read under the current token, loading it when the token moved (or is unknown)."""
    if _bypass.get():
        return load()
    token = config_token()  # before loading: an entry is never newer than its token says
    if token is None:
        return load()
    entry = _entries.get(key)
    if entry is not None and entry[0] == token:
        return entry[1]  # type: ignore[return-value]
    value = load()
    with _lock:
        _entries[key] = (token, value)
    return value


def clear() -> None:
    """Forget every entry (tests, after a restore of a backup)."""
    with _lock:
        _entries.clear()


@contextmanager
def bypassed() -> Iterator[None]:
    """Read the configuration from the database inside this block (placement, inside its write
    transaction, decides on what is committed, not on what this process read earlier)."""
    previous = _bypass.set(True)
    try:
        yield
    finally:
        _bypass.reset(previous)


@contextmanager
def one_token() -> Iterator[None]:
    """Read the token once for the whole block (a grid outside a request: the worker, the CLI, tests);
    inside a request it is already read once."""
    if config_token_remembered():
        yield
        return
    remember_config_token(True)
    try:
        yield
    finally:
        remember_config_token(False)
