"""The demo commune scaled to N households with a school year of bookings and a parent account each,
built once per size, database kind and schema, kept in bench/.cache/ and restored for each run
(bench/rush.py, bench/pages.py).

SQLite: the database file is copied into the instance folder. PostgreSQL: the database of the URL is
dropped and recreated (its name must contain « bench »), and the cache is a `pg_dump -Fc` file restored
with `pg_restore`. Parents' passwords are hashed with cheap argon2 parameters: a sign-in costs a query,
not 0.4 s of a core (staff keep theirs).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import inspect
import shutil
import subprocess
import sys
import time
from pathlib import Path

import harness
from harness import ROOT

PASSWORD = "Heure-De-Pointe-2026!"
EMAIL = "pointe{}@banc.example.fr"  # one parent account per added household, numbered as they were built
CACHE = ROOT / "bench" / ".cache"
BUILD_VERSION = "2"  # change it when the build below changes


def cache_key(households: int, kind: str) -> str:
    """rush-<kind>-<households>-<digest of the migrations, the demo and this build>."""
    from bench_reservations import scale

    digest = hashlib.sha256(BUILD_VERSION.encode())
    # The schema is the migrations' (init-db runs them): a change to the models' code alone does not
    # change what is built, and must not cost a rebuild.
    for folder in ("migrations", "services/demo"):
        for path in sorted((ROOT / folder).glob("*.py")):
            digest.update(path.name.encode() + path.read_bytes())
    # scale() builds the families; the rest of its file (the reservations bench) does not: a change there
    # must not cost a 10,000-household build (15 min on PostgreSQL).
    digest.update(inspect.getsource(scale).encode())
    return f"rush-{kind}-{households}-{digest.hexdigest()[:12]}"


def build(folder: Path, url: str, households: int) -> None:
    """`flask init-db`, then `households` families (bench_reservations.scale) with a parent account each."""
    from argon2 import PasswordHasher
    from bench_reservations import scale

    from models import Household, User, db
    from services.core import statistics
    from services.core.transactions import write_transaction

    if url.startswith("postgres"):
        harness.reset_postgres(url)
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "init-db"], cwd=ROOT, check=True,
                   env=harness.environment(folder, url), stdout=subprocess.DEVNULL)
    harness.bind_database(folder, url)
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    with db.connection_context():
        scale(harness.demo_context(), households)
        families = list(Household.select(Household.id, Household.name)
                        .where(Household.name.startswith("Famille Banc ")).order_by(Household.id))[:households]
        with write_transaction():
            for start in range(0, len(families), 500):
                User.insert_many([dict(email=EMAIL.format(n), role="parent", household=family.id, activated=True,
                                       password_hash=cheap, first_name="Parent", last_name=family.name[8:],
                                       created_at=dt.datetime(2026, 9, 1, 8, 0))
                                  for n, family in enumerate(families[start:start + 500], start)]).execute()
        statistics.refresh()  # as the worker does every night (PostgreSQL: again after each restore)
        if not url.startswith("postgres"):
            db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # the whole database in the one file copied
    db.close_all()


def prepare(folder: Path, url: str, households: int, rebuild: bool) -> str:
    """The instance in `folder` (and the PostgreSQL database), from the cache or built; says which."""
    kind = "postgresql" if url.startswith("postgres") else "sqlite"
    cached = CACHE / cache_key(households, kind)
    if rebuild:
        shutil.rmtree(cached, ignore_errors=True)
    if not cached.exists():
        started = time.perf_counter()
        build(folder, url, households)
        partial = cached.with_suffix(".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        if kind == "sqlite":
            shutil.copy2(folder / "portail.db", partial / "portail.db")
        else:
            subprocess.run(["pg_dump", "-Fc", "-f", str(partial / "portail.pgdump"), url], check=True)
            subprocess.run(["psql", "-q", "-c", "VACUUM (ANALYZE)", url], check=True)  # as after a restore, below
        if (folder / "uploads").exists():
            shutil.copytree(folder / "uploads", partial / "uploads")
        partial.rename(cached)
        return f"construite en {time.perf_counter() - started:.0f} s, gardée dans {cached}"
    started = time.perf_counter()
    if kind == "sqlite":
        shutil.copy2(cached / "portail.db", folder / "portail.db")
    else:
        harness.reset_postgres(url)
        subprocess.run(["pg_restore", "--no-owner", "-d", url, str(cached / "portail.pgdump")], check=True)
        # pg_restore brings no planner statistics nor visibility map; in use, autovacuum keeps both (SQLite's
        # statistics are in its file). Without the map, a count read from an index visits every row's page.
        subprocess.run(["psql", "-q", "-c", "VACUUM (ANALYZE)", url], check=True)
    if (cached / "uploads").exists():
        shutil.copytree(cached / "uploads", folder / "uploads", dirs_exist_ok=True)
    return f"reprise de {cached} en {time.perf_counter() - started:.0f} s"
