"""Backups and restores: a consistent online copy while the portal writes, a restore read back in a
fresh instance, PostgreSQL through pg_dump/pg_restore, and files private to their owner."""
from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import peewee as pw
import pytest

from app import create_app
from models import AuditLog, Household, User, db
from services.core import backup as backups
from tests.conftest import PG_URL, USE_PG

sqlite_only = pytest.mark.skipif(USE_PG, reason="SQLite backup API (this run is on PostgreSQL)")


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def assert_private(folder: Path) -> None:
    assert mode(folder) == 0o700, folder
    for path in folder.rglob("*"):
        assert mode(path) == (0o700 if path.is_dir() else 0o600), path


@sqlite_only
def test_sqlite_backup_is_consistent_while_the_portal_writes(app, demo, tmp_path):
    households = Household.select().count()
    committed = []
    stop = threading.Event()

    def writer():
        # Each transaction writes a pair of rows: a copy holding half a pair was not a point in time.
        n = 0
        while not stop.is_set():
            with db.atomic():
                for half in ("a", "b"):
                    AuditLog.create(at="2026-11-29 10:00:00", action="test.pair", object_id=n, detail=half)
            committed.append(n)
            n += 1
        db.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(committed) < 20:
            time.sleep(0.01)
        before = len(committed)
        folder = backups.backup(app.config["DATABASE_URL"], Path(app.config["UPLOAD_DIR"]), tmp_path / "sauvegardes")
        after = len(committed)
    finally:
        stop.set()
        thread.join()

    copy = sqlite3.connect(folder / backups.SQLITE_FILE)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
        pairs = copy.execute("SELECT object_id, COUNT(*) FROM audit_log WHERE action = 'test.pair' "
                             "GROUP BY object_id ORDER BY object_id").fetchall()
        assert copy.execute("SELECT COUNT(*) FROM household").fetchone()[0] == households
    finally:
        copy.close()
    assert all(count == 2 for _, count in pairs)
    assert [n for n, _ in pairs] == list(range(len(pairs)))  # a prefix of the commits, no hole
    assert before <= len(pairs) <= after + 1  # +1: a pair committed but not yet counted by the writer


@sqlite_only
def test_backup_then_restore_into_a_fresh_instance(app, demo, tmp_path):
    uploads = files_under(Path(app.config["UPLOAD_DIR"]))
    assert uploads, "the demo commune has documents"
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "sauvegardes")])
    assert result.exit_code == 0, result.output
    folder = Path(result.output.strip().split(" : ", 1)[1])
    assert folder.parent == tmp_path / "sauvegardes" and folder.name.startswith("portail-20")
    assert (folder / "portail.db").is_file() and len(files_under(folder / "uploads")) == len(uploads)
    assert_private(tmp_path / "sauvegardes")

    fresh = tmp_path / "fresh"
    other = create_app({"TESTING": True, "SECRET_KEY": "x", "PORTAIL_NOW": "", "MAIL_SERVER": "",
                        "DATABASE_URL": f"sqlite:///{fresh / 'portail.db'}", "UPLOAD_DIR": str(fresh / "uploads"),
                        "OUTBOX_DIR": str(fresh / "outbox")})
    runner = other.test_cli_runner()
    result = runner.invoke(args=["restore", str(folder)])
    assert result.exit_code == 0, result.output
    assert "base restaurée" in result.output and f"{len(uploads)} fichier(s)" in result.output
    with db.connection_context():
        assert User.get(User.email == "famille.martin@example.fr").household.name == "Famille Martin"
        assert Household.select().count() == 3
    assert len(files_under(fresh / "uploads")) == len(uploads)
    assert mode(fresh / "portail.db") == 0o600
    assert_private(fresh / "uploads")

    refused = runner.invoke(args=["restore", str(folder)])
    assert refused.exit_code != 0 and "contient déjà des données" in refused.output
    forced = runner.invoke(args=["restore", str(folder), "--force"])
    assert forced.exit_code == 0, forced.output
    db.close_all()


@pytest.mark.skipif(not (USE_PG and shutil.which("pg_dump")), reason="needs PostgreSQL and pg_dump")
def test_postgresql_backup_then_restore_into_another_database(app, demo, tmp_path):
    folder = backups.backup(PG_URL, Path(app.config["UPLOAD_DIR"]), tmp_path / "sauvegardes")
    assert (folder / "portail.dump").is_file()
    assert_private(tmp_path / "sauvegardes")
    db.close_all()

    target = PG_URL.rsplit("/", 1)[0] + "/" + PG_URL.rsplit("/", 1)[1].split("?")[0] + "_restore"
    _recreate_database(target)
    try:
        other = create_app({"TESTING": True, "SECRET_KEY": "x", "PORTAIL_NOW": "", "MAIL_SERVER": "",
                            "DATABASE_URL": target, "UPLOAD_DIR": str(tmp_path / "fresh" / "uploads"),
                            "OUTBOX_DIR": str(tmp_path / "fresh" / "outbox")})
        runner = other.test_cli_runner()
        result = runner.invoke(args=["restore", str(folder)])
        assert result.exit_code == 0, result.output
        with db.connection_context():
            assert User.get(User.email == "famille.martin@example.fr").household.name == "Famille Martin"
            assert Household.select().count() == 3
        refused = runner.invoke(args=["restore", str(folder)])
        assert refused.exit_code != 0 and "contient déjà des données" in refused.output
        forced = runner.invoke(args=["restore", str(folder), "--force"])
        assert forced.exit_code == 0, forced.output
        with db.connection_context():
            assert Household.select().count() == 3
        db.close_all()
    finally:
        _drop_database(target)


def test_new_instance_files_are_private(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    (instance / "secret_key").write_text("ancienne-clé")
    os.chmod(instance / "secret_key", 0o644)  # as the old code left it
    monkeypatch.setenv("INSTANCE_PATH", str(instance))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    create_app({"TESTING": True, "PORTAIL_NOW": "", "MAIL_SERVER": "",
                "DATABASE_URL": f"sqlite:///{instance / 'portail.db'}", "UPLOAD_DIR": str(instance / "uploads")})
    assert mode(instance) == 0o700
    assert mode(instance / "secret_key") == 0o600
    assert mode(instance / "portail.db") == 0o600  # created before SQLite opens it
    assert mode(instance / "uploads") == 0o700

    (instance / "secret_key").unlink()
    create_app({"TESTING": True, "PORTAIL_NOW": "", "MAIL_SERVER": "",
                "DATABASE_URL": f"sqlite:///{instance / 'portail.db'}", "UPLOAD_DIR": str(instance / "uploads")})
    assert mode(instance / "secret_key") == 0o600
    db.close_all()


def test_database_url_becomes_pg_dump_arguments():
    location = backups.DatabaseLocation.from_url(
        "postgresql://portail:s%40cret@db.example.fr:5433/portail?sslmode=require")
    assert location.pg_arguments() == ["--host", "db.example.fr", "--port", "5433", "--username", "portail",
                                       "--dbname", "dbname='portail' sslmode='require'"]
    assert location.pg_environment()["PGPASSWORD"] == "s@cret"
    assert backups.DatabaseLocation.from_url("sqlite:////srv/portail/portail.db").path == Path("/srv/portail/portail.db")
    assert backups.DatabaseLocation.from_url("sqlite:///instance/portail.db").path == Path("instance/portail.db")
    with pytest.raises(backups.BackupError, match="en mémoire"):
        backups.DatabaseLocation.from_url("sqlite:///:memory:")


def test_missing_pg_dump_is_said_in_french_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(backups.shutil, "which", lambda name: None)
    with pytest.raises(backups.BackupError, match="pg_dump est introuvable : installez le paquet postgresql-client"):
        backups.backup("postgresql://portail@127.0.0.1/portail", tmp_path / "uploads", tmp_path / "sauvegardes")
    assert list((tmp_path / "sauvegardes").iterdir()) == []


def test_restore_refuses_what_is_not_a_backup_of_this_kind(tmp_path):
    (tmp_path / "dump").mkdir()
    (tmp_path / "dump" / "portail.dump").write_bytes(b"PGDMP")
    with pytest.raises(backups.BackupError, match="contient portail.dump, mais DATABASE_URL désigne une base SQLite"):
        backups.restore(tmp_path / "dump", f"sqlite:///{tmp_path / 'x.db'}", tmp_path / "uploads")
    with pytest.raises(backups.BackupError, match="n'est pas une sauvegarde du portail"):
        backups.restore(tmp_path, f"sqlite:///{tmp_path / 'x.db'}", tmp_path / "uploads")


def _maintenance(url: str) -> pw.PostgresqlDatabase:
    location = backups.DatabaseLocation.from_url(url)
    return pw.PostgresqlDatabase("postgres", host=location.host or None, port=int(location.port or 5432),
                                 user=location.user or None, password=location.password or None)


def _recreate_database(url: str) -> None:
    name = backups.DatabaseLocation.from_url(url).name
    server = _maintenance(url)
    with server.connection_context():
        server.execute_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.execute_sql(f'CREATE DATABASE "{name}"')


def _drop_database(url: str) -> None:
    db.close_all()
    server = _maintenance(url)
    with server.connection_context():
        server.execute_sql(f'DROP DATABASE IF EXISTS "{backups.DatabaseLocation.from_url(url).name}" WITH (FORCE)')
