"""The database proxy every model is bound to, the base model, and the list of all models."""
from __future__ import annotations

from peewee import DatabaseProxy, Model

db = DatabaseProxy()


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
