"""Versioned migrations: they build exactly the models' schema (drift test), upgrade a database made
by the old init-db without losing a row or a constraint, and a second upgrade does nothing."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import peewee as pw
import pytest
from peewee_migrate import Migrator

import models
from models import db
from services.core import migrations
from tests import conftest as shared

FIXTURE = Path(__file__).parent / "fixtures" / "baseline_demo.json"
FAMILIES = {"character varying": "varchar", "int": "integer", "bigint": "integer", "serial": "integer",
            "timestamp without time zone": "datetime", "timestamp": "datetime", "bool": "boolean",
            "double precision": "real", "float": "real", "numeric": "decimal"}
# Tables of the baseline that a later migration drops with their rows, knowingly (and which one).
DROPPED_ON_PURPOSE = {"login_failure": "003_login_throttles"}
PG_ON_DELETE = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


@pytest.fixture
def bare(app):
    """The test's database with no table at all (for PostgreSQL, put back for the next test)."""
    _drop_all()
    yield app
    _drop_all()
    shared._pg_tables_ready = False  # conftest creates the tables again for the next test


def _drop_all() -> None:
    if isinstance(db.obj, pw.SqliteDatabase):
        db.pragma("foreign_keys", 0)
        for table in db.get_tables():
            db.execute_sql(f'DROP TABLE "{table}"')
        db.pragma("foreign_keys", 1)
    else:
        for table in db.get_tables():
            db.execute_sql(f'DROP TABLE IF EXISTS "{table}" CASCADE')


def describe() -> dict:
    """The schema as the database reports it: per table, columns, indexes and foreign keys."""
    schema = {}
    for table in sorted(set(db.get_tables()) - {migrations.HISTORY_TABLE}):
        columns = {c.name: (_family(c.data_type), "NULL" if c.null else "NOT NULL") for c in db.get_columns(table)}
        indexes = {(tuple(i.columns), "unique" if i.unique else "index"): i.name for i in db.get_indexes(table)}
        schema[table] = {"columns": columns, "indexes": indexes, "foreign keys": _foreign_keys(table)}
    return schema


def _family(data_type: str) -> str:
    name = re.sub(r"\(.*\)", "", data_type.lower()).strip()
    return FAMILIES.get(name, name)


def _foreign_keys(table: str) -> dict:
    if isinstance(db.obj, pw.SqliteDatabase):
        rows = db.execute_sql(f'PRAGMA foreign_key_list("{table}")').fetchall()
        return {row[3]: (row[2], row[4], row[6].upper()) for row in rows}
    rows = db.execute_sql(
        "SELECT a.attname, target.relname, af.attname, c.confdeltype FROM pg_constraint c "
        "JOIN pg_class source ON source.oid = c.conrelid JOIN pg_class target ON target.oid = c.confrelid "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = c.confkey[1] "
        "WHERE c.contype = 'f' AND source.relname = %s AND source.relnamespace = current_schema()::regnamespace",
        (table,)).fetchall()
    return {row[0]: (row[1], row[2], PG_ON_DELETE[row[3]]) for row in rows}


def differences(expected: dict, actual: dict) -> list[str]:
    """What the migrated schema (actual) lacks or has more than the models' schema (expected)."""
    found = [f"table {table} is missing" for table in sorted(expected.keys() - actual.keys())]
    found += [f"table {table} is made by the migrations but no model has it"
              for table in sorted(actual.keys() - expected.keys())]
    for table in sorted(expected.keys() & actual.keys()):
        for part, what in (("columns", "column"), ("indexes", "index"), ("foreign keys", "foreign key")):
            want, have = expected[table][part], actual[table][part]
            for key in sorted(want.keys() - have.keys(), key=str):
                found.append(f"{what} {table}.{_show(key)} ({_show(want[key])}) is missing")
            for key in sorted(have.keys() - want.keys(), key=str):
                found.append(f"{what} {table}.{_show(key)} ({_show(have[key])}) is not in the models")
            for key in sorted(want.keys() & have.keys(), key=str):
                if want[key] != have[key]:
                    found.append(f"{what} {table}.{_show(key)}: the models say {_show(want[key])}, "
                                 f"the migrations give {_show(have[key])}")
    return found


def _show(value) -> str:
    if isinstance(value, tuple) and value and isinstance(value[0], tuple):  # an index key
        return f"({', '.join(value[0])}) {value[1]}"
    return " ".join(value) if isinstance(value, tuple) else str(value)


def test_migrations_build_the_models_schema(bare):
    db.create_tables(models.all_models())
    expected = describe()
    _drop_all()

    migrations.upgrade()

    found = differences(expected, describe())
    assert not found, ("The migrations do not build the schema of the models:\n  - " + "\n  - ".join(found)
                       + "\nA model changed without a migration: write a migration in migrations/ "
                         "(flask --app app make-migration NAME; README, section Upgrades).")


def test_make_migration_finds_nothing_to_write(tmp_path):
    folder = _copy_migrations(tmp_path)
    name = migrations.make("drift", models.all_models(), folder)
    written = (folder / f"{name}.py").read_text(encoding="utf-8").split("def migrate")[-1] if name else ""
    assert name is None, ("peewee-migrate sees model changes that no migration makes; write a migration in "
                          f"migrations/ (flask --app app make-migration NAME). It would write:\n{written}")


def test_upgrade_keeps_every_row_and_constraint_of_a_database_made_by_the_old_init_db(bare):
    counts = load_legacy_database()
    assert migrations.HISTORY_TABLE not in db.get_tables()
    assert migrations.pending() == [name for name in migrations.available() if name != migrations.BASELINE]

    done = migrations.upgrade()

    assert done[0].startswith(f"base existante reconnue : {migrations.BASELINE}")
    assert not [line for line in done if line.startswith(("table créée", "colonne ajoutée", "index ajouté"))]
    tables = set(db.get_tables())
    for table, count in counts.items():
        if table in DROPPED_ON_PURPOSE:
            assert table not in tables, f"{DROPPED_ON_PURPOSE[table]} drops {table}"
        else:
            assert pw.Table(table).select().bind(db).count() == count, table
    assert migrations.applied() == migrations.available()
    assert models.User.get(models.User.email == "famille.martin@example.fr").household.name == "Famille Martin"
    _assert_unique(models.NumberCounter, "regie", "kind", "year")
    _assert_unique(models.OrderCounter, "year")
    _assert_unique(models.InvoicePeriodLock, "regie", "household", "period_start")
    _assert_unique(models.Invoice, "number", "legacy_series")  # 004: unique across the commune
    _assert_unique(models.Order, "number")
    _assert_unique(models.Booking, "child", "unit", "date")
    transaction = models.OnlineTransaction.create(
        household=models.Household.select().first(), backend="dummy", transaction_id="T-1", amount=100,
        created_at="2026-11-29 10:00:00")
    _assert_unique(models.OnlineTransaction, "transaction_id", row=transaction)


def test_upgrade_carries_sign_in_locks_over(bare):
    load_legacy_database()
    db.execute_sql('UPDATE "user" SET "failed_logins" = 7, "locked_until" = \'2026-11-29 10:15:00\' '
                   "WHERE \"email\" = 'famille.martin@example.fr'")

    migrations.upgrade()

    throttle = models.LoginThrottle.get(models.LoginThrottle.email == "famille.martin@example.fr")
    assert (throttle.failures, str(throttle.locked_until)) == (7, "2026-11-29 10:15:00")
    assert models.LoginThrottle.select().count() == 1


def test_second_upgrade_does_nothing(bare):
    assert migrations.upgrade() == [f"migration appliquée : {name}" for name in migrations.available()]
    before = describe()
    assert migrations.pending() == []
    assert migrations.upgrade() == []
    assert describe() == before


def test_old_database_gets_what_it_lacks_of_the_baseline(bare):
    load_legacy_database()
    linked = models.OrderLine.select().where(models.OrderLine.booking.is_null(False)).count()
    db.execute_sql('DROP INDEX "number_counter_regie_id_kind_year"')
    db.execute_sql('ALTER TABLE "booking" DROP COLUMN "prepaid"')
    db.execute_sql('DROP TABLE "absence_declaration"')

    done = migrations.upgrade()

    assert "index ajouté : number_counter_regie_id_kind_year" in done
    assert "colonne ajoutée : booking.prepaid" in done
    assert "table créée : absence_declaration" in done
    assert models.Booking.select().where(models.Booking.prepaid == False).count() == 245  # noqa: E712
    # SQLite rebuilt booking to make prepaid NOT NULL: the order lines still point to their bookings.
    assert models.OrderLine.select().where(models.OrderLine.booking.is_null(False)).count() == linked > 0
    _assert_unique(models.NumberCounter, "regie", "kind", "year")


def test_duplicates_stop_the_upgrade_with_a_message_and_change_nothing(bare):
    load_legacy_database()
    db.execute_sql('DROP INDEX "order_counter_year"')
    db.execute_sql('INSERT INTO "order_counter" ("year", "last") SELECT "year", 0 FROM "order_counter"')

    with pytest.raises(migrations.MigrationError, match="des lignes en double existent"):
        migrations.upgrade()

    assert migrations.HISTORY_TABLE not in db.get_tables()
    assert "order_counter_year" not in {index.name for index in db.get_indexes("order_counter")}


def test_a_failing_migration_changes_nothing(bare, tmp_path):
    migrations.upgrade()
    folder = _copy_migrations(tmp_path)
    (folder / "900_broken.py").write_text(
        "import peewee as pw\n\n\n"
        "def migrate(migrator, database, *, fake=False):\n"
        "    migrator.add_fields('regie', prefix=pw.CharField(default=''))\n"
        "    migrator.sql('UPDATE nowhere SET x = 1')\n")

    with pytest.raises(migrations.MigrationError, match="La migration 900_broken a échoué .* rien n'a été modifié"):
        migrations.upgrade(folder)

    assert "prefix" not in {column.name for column in db.get_columns("regie")}
    assert migrations.pending(folder) == ["900_broken"]


def test_sqlite_table_rebuild_cascades_nothing(bare, tmp_path):
    """Changing a column of a parent table (SQLite copies the table) keeps the rows that point to it."""
    counts = load_legacy_database()
    folder = _copy_migrations(tmp_path)
    (folder / "900_wider_household_name.py").write_text(
        "import peewee as pw\n\n\n"
        "def migrate(migrator, database, *, fake=False):\n"
        "    migrator.change_fields('household', name=pw.TextField(default=''))\n")

    assert "migration appliquée : 900_wider_household_name" in migrations.upgrade(folder)

    for table in ("guardian", "child", "booking", "invoice", "user"):
        assert pw.Table(table).select().bind(db).count() == counts[table], table
    if isinstance(db.obj, pw.SqliteDatabase):
        assert db.pragma("foreign_keys") == 1


def test_make_migration_writes_a_migration_that_builds_the_new_model(bare, tmp_path):
    class MailOutboxProbe(pw.Model):
        recipient = pw.CharField(index=True)
        household = pw.ForeignKeyField(models.Household, null=True, on_delete="CASCADE", backref="+")
        sent = pw.BooleanField(default=False)

        class Meta:
            database = db
            legacy_table_names = False
            indexes = ((("recipient", "sent"), True),)

    folder = _copy_migrations(tmp_path)
    name = migrations.make("mail_outbox_probe", [*models.all_models(), MailOutboxProbe], folder)
    assert name == f"{len(migrations.available()) + 1:03}_mail_outbox_probe"
    db.create_tables([*models.all_models(), MailOutboxProbe])
    expected = describe()
    _drop_all()

    migrations.upgrade(folder)

    assert differences(expected, describe()) == []


def test_upgrade_db_and_init_db_commands(bare):
    runner = bare.test_cli_runner()
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert f"migration appliquée : {migrations.BASELINE}" in result.output
    assert "Base créée avec la commune de démo." in result.output
    again = runner.invoke(args=["init-db"])
    assert "Base prête (données existantes conservées)." in again.output
    assert "Schéma à jour" in runner.invoke(args=["upgrade-db"]).output
    assert models.User.select().count() == 8  # the demo accounts (README « Demo accounts »)


def test_upgrade_db_command_recognises_an_old_database(bare):
    load_legacy_database()
    result = bare.test_cli_runner().invoke(args=["upgrade-db"])
    assert result.exit_code == 0, result.output
    assert "base existante reconnue : 001_baseline enregistrée comme déjà appliquée" in result.output


def load_legacy_database() -> dict[str, int]:
    """Build what the old init-db left at commit 8045535: the baseline's tables (created from its
    models, as create_tables did), no migration history, and that commit's demo commune."""
    baseline = Migrator(db)
    migrations.router().run_one(migrations.BASELINE, baseline, fake=True)
    tables = {model._meta.table_name: model for model in baseline.orm}
    db.create_tables(list(tables.values()))
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    with db.atomic():
        for model in pw.sort_models(list(tables.values())):
            table = data[model._meta.table_name]
            fields = [model._meta.columns[column] for column in table["columns"]]
            if table["rows"]:
                model.insert_many(table["rows"], fields=fields).execute()
    if not isinstance(db.obj, pw.SqliteDatabase):
        for name, table in data.items():
            if table["rows"]:
                db.execute_sql(f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                               f"(SELECT MAX(id) FROM \"{name}\"))")
    return {name: len(table["rows"]) for name, table in data.items()}


def _assert_unique(model, *names: str, row=None) -> None:
    """A unique index on exactly these fields exists, and inserting a copy of a row breaks it."""
    table = model._meta.table_name
    columns = [model._meta.fields[name].column_name for name in names]
    assert any(index.unique and index.columns == columns for index in db.get_indexes(table)), (
        f"no unique index on {table}({', '.join(columns)})")
    row = row or model.select().first()
    assert row is not None, f"no {model.__name__} row to copy"
    with pytest.raises(pw.IntegrityError):
        with db.atomic():
            model.insert({k: v for k, v in row.__data__.items() if k != "id"}).execute()


def _copy_migrations(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir()
    for path in migrations.MIGRATIONS_DIR.glob("[0-9][0-9][0-9]_*.py"):
        shutil.copy(path, folder / path.name)
    return folder


def test_production_never_loads_the_demo_and_its_public_passwords(bare):
    """init-db on a new production server creates the tables only: the demo accounts' password is in
    the README, so loading them would open the portal to anyone."""
    from app import create_app
    production = create_app({**bare.config, "PORTAIL_ENV": "production", "PORTAIL_NOW": "", "SECRET_KEY": "x" * 32})
    runner = production.test_cli_runner()
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "Base prête" in result.output and "démo" not in result.output
    assert models.Commune.table_exists() and not models.User.select().exists()
    for command in (["seed-demo"], ["init-db", "--demo"]):
        refused = runner.invoke(args=command)
        assert refused.exit_code == 1 and "production" in refused.output, command
        assert not models.User.select().exists()
