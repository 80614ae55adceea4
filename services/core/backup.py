"""Online backups and restores: the database (SQLite backup API or pg_dump) and the uploads.

A backup is one folder, DIR/portail-2026-11-29T1030/, holding `portail.db` (SQLite) or
`portail.dump` (pg_dump's custom format) and `uploads/`, readable by its owner only. It is written
under a hidden name and renamed when complete, so a folder named portail-… is never half-made.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from peewee import PostgresqlDatabase

from services.core import clock, permissions

SQLITE_FILE = "portail.db"
POSTGRES_FILE = "portail.dump"
UPLOADS = "uploads"


class BackupError(RuntimeError):
    """A backup or restore that could not be made; the message is in French."""


@dataclass(frozen=True)
class DatabaseLocation:
    """Where DATABASE_URL points: a SQLite file, or a PostgreSQL database and how to reach it."""

    kind: str  # sqlite, postgres
    path: Path | None = None
    name: str = ""
    host: str = ""
    port: str = ""
    user: str = ""
    password: str = ""
    options: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_url(cls, url: str) -> "DatabaseLocation":
        parts = urlsplit(url)
        scheme = parts.scheme.split("+")[0]
        if scheme == "sqlite":
            # sqlite:///relative/path or sqlite:////absolute/path, as playhouse.db_url reads them.
            path = parts.path[1:] if parts.path.startswith("/") else parts.path
            if not path or path == ":memory:":
                raise BackupError("Une base SQLite en mémoire ne se sauvegarde pas.")
            return cls("sqlite", path=Path(path))
        if scheme in ("postgres", "postgresql"):
            return cls("postgres", name=unquote(parts.path.lstrip("/")), host=parts.hostname or "",
                       port=str(parts.port or ""), user=unquote(parts.username or ""),
                       password=unquote(parts.password or ""), options=tuple(parse_qsl(parts.query)))
        raise BackupError(f"Base non prise en charge pour les sauvegardes : {scheme or url}")

    def pg_arguments(self) -> list[str]:
        """Connection arguments for pg_dump and pg_restore (the password goes in PGPASSWORD)."""
        args = []
        if self.host:
            args += ["--host", self.host]
        if self.port:
            args += ["--port", self.port]
        if self.user:
            args += ["--username", self.user]
        conninfo = " ".join(f"{key}={_quote(value)}" for key, value in (("dbname", self.name), *self.options))
        return args + ["--dbname", conninfo]

    def pg_environment(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env


def backup(database_url: str, upload_dir: Path, destination: Path) -> Path:
    """Copy the database and the uploads into a new folder under `destination`; returns it."""
    database = DatabaseLocation.from_url(database_url)
    previous = os.umask(0o077)  # everything this process creates from here is private
    try:
        permissions.private_dir(destination)
        final = _new_name(Path(destination))
        partial = final.with_name(f".{final.name}.partiel")
        permissions.private_dir(partial)
        try:
            if database.kind == "sqlite":
                _sqlite_copy(database.path, partial / SQLITE_FILE)
            else:
                _pg_dump(database, partial / POSTGRES_FILE)
            if Path(upload_dir).is_dir():
                shutil.copytree(upload_dir, partial / UPLOADS)
            else:
                (partial / UPLOADS).mkdir()
            permissions.private_tree(partial)
            partial.rename(final)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
    finally:
        os.umask(previous)
    return final


def restore(source: Path, database_url: str, upload_dir: Path, *, force: bool = False) -> list[str]:
    """Put a backup folder back: the database, then the uploads; returns what was done, in French.

    A database that already holds tables is only overwritten with `force`."""
    source = Path(source)
    database = DatabaseLocation.from_url(database_url)
    expected = SQLITE_FILE if database.kind == "sqlite" else POSTGRES_FILE
    if not (source / expected).is_file():
        other = POSTGRES_FILE if expected == SQLITE_FILE else SQLITE_FILE
        if (source / other).is_file():
            raise BackupError(f"Cette sauvegarde contient {other}, mais DATABASE_URL désigne une base "
                              f"{'SQLite' if database.kind == 'sqlite' else 'PostgreSQL'} : rien n'est restauré.")
        raise BackupError(f"{source} n'est pas une sauvegarde du portail ({expected} introuvable).")
    tables = _tables(database)
    if tables and not force:
        raise BackupError(f"La base contient déjà des données ({len(tables)} tables) : restauration "
                          "refusée. Arrêtez le portail et relancez avec --force pour l'écraser.")
    previous = os.umask(0o077)
    try:
        if database.kind == "sqlite":
            _sqlite_restore(source / SQLITE_FILE, database.path)
        else:
            _pg_restore(database, source / POSTGRES_FILE, tables)
        done = [f"base restaurée depuis {source / expected}"]
        if (source / UPLOADS).is_dir():
            permissions.private_dir(upload_dir)
            shutil.copytree(source / UPLOADS, upload_dir, dirs_exist_ok=True)
            permissions.private_tree(Path(upload_dir))
            count = sum(len(files) for _, _, files in os.walk(source / UPLOADS))
            done.append(f"documents restaurés : {count} fichier(s) dans {upload_dir}")
    finally:
        os.umask(previous)
    return done


def _new_name(destination: Path) -> Path:
    stamp = clock.local_now().strftime("%Y-%m-%dT%H%M")
    candidate, n = destination / f"portail-{stamp}", 2
    while candidate.exists() or candidate.with_name(f".{candidate.name}.partiel").exists():
        candidate, n = destination / f"portail-{stamp}-{n}", n + 1
    return candidate


def _sqlite_copy(path: Path, target: Path) -> None:
    """One backup step copies the whole file from one read snapshot, whatever writers do meanwhile."""
    if not path.is_file():
        raise BackupError(f"Base SQLite introuvable : {path}")
    source = sqlite3.connect(path, timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        result = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise BackupError(f"La copie de la base est abîmée ({result}) : sauvegarde annulée.")
    finally:
        copy.close()
        source.close()


def _sqlite_restore(backup_file: Path, path: Path) -> None:
    """Write the backup into the live file through SQLite, which keeps its -wal file coherent
    (copying the file over it would not)."""
    permissions.sqlite_database(path)
    source = sqlite3.connect(backup_file)
    target = sqlite3.connect(path, timeout=30)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=WAL")
    finally:
        target.close()
        source.close()


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} est introuvable : installez le paquet postgresql-client, de la même "
                          "version majeure que le serveur PostgreSQL (apt install postgresql-client).")
    return found


def _pg_dump(database: DatabaseLocation, target: Path) -> None:
    _run([_tool("pg_dump"), "--format=custom", "--file", str(target), *database.pg_arguments()],
         database, "pg_dump")


def _pg_restore(database: DatabaseLocation, dump: Path, tables: list[str]) -> None:
    pg_restore = _tool("pg_restore")
    _run([pg_restore, "--list", str(dump)], database, "pg_restore")  # a readable dump, before dropping
    if tables:
        # The restored base is the backup exactly: tables made since (a newer migration) go too.
        _drop_tables(database, tables)
    _run([pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
          *database.pg_arguments(), str(dump)], database, "pg_restore")


def _run(command: list[str], database: DatabaseLocation, name: str) -> None:
    result = subprocess.run(command, env=database.pg_environment(), capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{name} a échoué : {result.stderr.strip() or result.stdout.strip()}")


def _tables(database: DatabaseLocation) -> list[str]:
    """The tables already in the database (none for a missing SQLite file)."""
    if database.kind == "sqlite":
        if not database.path.is_file() or database.path.stat().st_size == 0:
            return []
        connection = sqlite3.connect(database.path, timeout=30)
        try:
            rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                      "AND name NOT LIKE 'sqlite_%'").fetchall()
        finally:
            connection.close()
        return [row[0] for row in rows]
    connection = _pg_connection(database)
    try:
        return connection.get_tables()
    finally:
        connection.close()


def _drop_tables(database: DatabaseLocation, tables: list[str]) -> None:
    connection = _pg_connection(database)
    try:
        with connection.atomic():
            for table in tables:
                connection.execute_sql(f'DROP TABLE IF EXISTS "{table}" CASCADE')
    finally:
        connection.close()


def _pg_connection(database: DatabaseLocation):
    connection = PostgresqlDatabase(database.name, host=database.host or None,
                                       port=int(database.port) if database.port else None,
                                       user=database.user or None, password=database.password or None,
                                       **dict(database.options))
    connection.connect()
    return connection


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
