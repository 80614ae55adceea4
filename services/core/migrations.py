"""Versioned schema migrations: the peewee-migrate router over migrations/, upgrade and pending.

Each file migrations/NNN_name.py changes the schema one step and is recorded in the
`migratehistory` table once applied. 001_baseline is the schema as it stood when migrations began;
a database made before then by the old `init-db` (tables, no history) gets 001 recorded without
running it, plus whatever of 001 it lacks (a table, a column, an index), then the later steps.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

import peewee as pw
from peewee_migrate import Router
from playhouse.migrate import SchemaMigrator

from models import db
from services.core.transactions import is_sqlite, write_transaction

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
HISTORY_TABLE = "migratehistory"
BASELINE = "001_baseline"
UPGRADE_LOCK = 8045535  # PostgreSQL advisory lock key: one upgrade at a time


class MigrationError(RuntimeError):
    """An upgrade that needs the administrator; the message is in French and nothing was changed."""


def router(directory: Path = MIGRATIONS_DIR) -> Router:
    """The peewee-migrate router over a migrations folder, bound to the application's database."""
    return Router(db, migrate_dir=Path(directory), migrate_table=HISTORY_TABLE)


def available(directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Every migration in the folder, in order ("001_baseline", "002_…")."""
    return router(directory).todo


def applied() -> list[str]:
    """Migrations recorded in the database (read only: the history table is not created)."""
    if HISTORY_TABLE not in db.get_tables():
        return []
    cursor = db.execute_sql(f'SELECT "name" FROM "{HISTORY_TABLE}" ORDER BY "id"')
    return [row[0] for row in cursor.fetchall()]


def is_legacy() -> bool:
    """A database made by the old init-db: application tables but no baseline in the history."""
    return BASELINE not in applied() and bool(set(db.get_tables()) - {HISTORY_TABLE})


def pending(directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Migrations `upgrade` would run (an old database's baseline is only recorded, not run)."""
    done = set(applied())
    if is_legacy():
        done.add(BASELINE)
    return [name for name in available(directory) if name not in done]


def upgrade(directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Bring the database to the newest migration; returns what was done, in French.

    Everything happens in one write transaction (IMMEDIATE on SQLite, an advisory lock on
    PostgreSQL: two upgrades at once wait for each other): if a step fails, nothing is changed."""
    done: list[str] = []
    with _foreign_keys_deferred(), write_transaction():
        if not is_sqlite():
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (UPGRADE_LOCK,))
        legacy = is_legacy()
        migrations = router(directory)
        migrator = migrations.migrator  # replays the recorded migrations (fake) to know the schema
        if legacy:
            migrations.run_one(BASELINE, migrator, fake=True, force=True)
            done.append(f"base existante reconnue : {BASELINE} enregistrée comme déjà appliquée")
            done += _complete_baseline(migrator.orm)
        for name in migrations.diff:
            try:
                migrations.run_one(name, migrator, fake=False)
            except pw.DatabaseError as error:
                reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                raise MigrationError(f"La migration {name} a échoué ({reason}) : rien n'a été modifié.") from error
            done.append(f"migration appliquée : {name}")
        _check_foreign_keys()
    return done


def make(name: str, models: list[type[pw.Model]], directory: Path = MIGRATIONS_DIR) -> str | None:
    """Write migrations/NNN_name.py from the difference between the migrations and the models.

    The models are compared with the schema the migrations describe, not with a database, so the
    result is the same for SQLite and PostgreSQL. Returns the new migration's name, or None."""
    scratch = pw.SqliteDatabase(":memory:")
    migrations = Router(scratch, migrate_dir=Path(directory), migrate_table=HISTORY_TABLE)
    created = migrations.create(name, auto=list(models))
    if created:
        _tidy(Path(directory) / f"{created}.py")
    return created


def _tidy(path: Path) -> None:
    """Give the written migration a one-line docstring, and each model `legacy_table_names = False`.

    Without the latter, peewee names a new table's indexes after the class ("basketline_…") rather
    than after the table ("basket_line_…") as BaseModel does, and the drift test would fail."""
    text = re.sub(r"[ \t]+\n", "\n", path.read_text(encoding="utf-8"))
    text = re.sub(r'\A""".*?"""', f'"""{path.stem}: (say what changes and why; README, section Upgrades)."""',
                  text, count=1, flags=re.S)
    text = text.replace('    """Write your migrations here."""\n', "").replace(
        '    """Write your rollback migrations here."""\n', "")
    text = re.sub(r"^(def (?:migrate|rollback)\(.*\):\n)\n", r"\1", text, flags=re.M)
    text = re.sub(r'^(\s+)(table_name = "\w+")$', r"\1\2\n\1legacy_table_names = False", text, flags=re.M)
    path.write_text(text, encoding="utf-8")


def _complete_baseline(baseline) -> list[str]:
    """Add what an old database lacks of the baseline: tables, columns, indexes (never drops)."""
    done: list[str] = []
    tables = set(db.get_tables())
    migrator = SchemaMigrator.from_database(db.obj)
    for model in pw.sort_models(list(baseline)):
        table = model._meta.table_name
        if table not in tables:
            model.create_table(safe=True)
            done.append(f"table créée : {table}")
            continue
        columns = {column.name for column in db.get_columns(table)}
        for field in model._meta.sorted_fields:
            if field.column_name in columns:
                continue
            if not field.null and field.default is None:
                field = field.clone()  # existing rows have no value to give it
                field.null = True
            migrator.add_column(table, field.column_name, field).run()
            done.append(f"colonne ajoutée : {table}.{field.column_name}")
        existing = {index.name for index in db.get_indexes(table)}
        for index in model._meta.fields_to_index():
            if index._name in existing:
                continue
            try:
                with db.atomic():
                    db.execute(index.safe(True))
            except pw.IntegrityError as error:
                columns = ", ".join(getattr(e, "column_name", str(e)) for e in index._expressions)
                raise MigrationError(
                    f"Impossible d'ajouter l'index unique {index._name} ({table} : {columns}) : des "
                    "lignes en double existent. Corrigez-les puis relancez upgrade-db ; rien n'a été "
                    "modifié.") from error
            done.append(f"index ajouté : {index._name}")
    return done


@contextmanager
def _foreign_keys_deferred():
    """Turn SQLite's foreign keys off while migrating.

    SQLite alters a column by copying the table and dropping the old one; with foreign keys on,
    that drop deletes every row that points to it through ON DELETE CASCADE. The pragma only
    takes effect outside a transaction, hence here, around it; _check_foreign_keys runs inside."""
    if not is_sqlite():
        yield
        return
    enabled = bool(db.pragma("foreign_keys"))
    db.pragma("foreign_keys", 0)
    try:
        yield
    finally:
        if enabled:
            db.pragma("foreign_keys", 1)


def _check_foreign_keys() -> None:
    if not is_sqlite():
        return  # PostgreSQL checks every constraint as it goes
    broken = db.execute_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = ", ".join(sorted({row[0] for row in broken}))
        raise MigrationError(f"Migration refusée : des références seraient cassées ({tables}) ; "
                             "rien n'a été modifié.")


