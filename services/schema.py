"""Keep an existing database in step with the models: create missing tables, add missing columns.

Not a migration framework: it only adds (tables, columns with their defaults). Changes that alter or
drop a column are listed for the administrator instead of being guessed.
"""
from __future__ import annotations

from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate

import models
from models import db


def upgrade() -> list[str]:
    """Create missing tables and add missing columns; returns what was done, in French."""
    done: list[str] = []
    existing = set(db.get_tables())
    missing_tables = [m for m in models.all_models() if m._meta.table_name not in existing]
    if missing_tables:
        db.create_tables(missing_tables, safe=True)
        done += [f"table créée : {m._meta.table_name}" for m in missing_tables]
    migrator = SqliteMigrator(db.obj) if _is_sqlite() else PostgresqlMigrator(db.obj)
    for model in models.all_models():
        if model in missing_tables:
            continue
        table = model._meta.table_name
        columns = {column.name for column in db.get_columns(table)}
        for field in model._meta.sorted_fields:
            if field.column_name in columns:
                continue
            if not field.null and field.default is None:
                field = _nullable_copy(field)  # existing rows have no value to give it
            with db.atomic():
                migrate(migrator.add_column(table, field.column_name, field))
            done.append(f"colonne ajoutée : {table}.{field.column_name}")
    return done


def _nullable_copy(field):
    clone = field.clone()
    clone.null = True
    return clone


def _is_sqlite() -> bool:
    from peewee import SqliteDatabase
    return isinstance(db.obj, SqliteDatabase)
