"""The configuration kept in memory by each process: services, units, deadline policies, tariffs, unit
rules, calendars (holidays, closures, extra days, capacity overrides) and closed periods. An entry holds
as long as the configuration's token (models.base.config_token, one query a request) is the one it was
read under; every write to those tables replaces the token (models.base.ConfigModel). Callers get
shared, read-only rows: they never change or save them."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from models.base import config_token, config_token_read_again, config_token_remembered, remember_config_token

T = TypeVar("T")
_entries: dict[str, tuple[str, object]] = {}
_lock = threading.Lock()


def cached(key: str, load: Callable[[], T]) -> T:
    """The value of `key` read under the current token, loading it when the token moved (or is unknown)."""
    token = config_token()  # before loading: an entry is never older than its token says
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
def committed() -> Iterator[None]:
    """Inside this block the cache answers with the committed configuration: the token is read again.
    Placement calls it under its write lock: every change to the configuration replaces the token in its
    own transaction, so a token still equal to an entry's means nothing was committed since it was read."""
    with config_token_read_again():
        yield


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
