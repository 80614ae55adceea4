"""The database proxy every model is bound to, the base model, and the list of all models."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from peewee import DatabaseProxy, Model

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


def all_models() -> list[type[BaseModel]]:
    """Every concrete model, found by walking BaseModel's subclasses."""
    seen: list[type[BaseModel]] = []
    stack = list(BaseModel.__subclasses__())
    while stack:
        model = stack.pop(0)
        if model not in seen:
            seen.append(model)
            stack.extend(model.__subclasses__())
    return seen
