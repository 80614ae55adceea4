"""Shared fixtures: a fresh database per test (SQLite file, or PostgreSQL when DATABASE_URL says so),
the test client with CSRF on, a frozen clock, the outbox, and sign-in helpers."""
from __future__ import annotations

import os
import pickle
import re
import shutil
from pathlib import Path

import pytest

os.environ["PORTAIL_QUEUE"] = "memory"  # before the app is imported: the worker's tasks are run by the tests

from peewee import sort_models
from werkzeug.routing import Rule

import models
from app import create_app
from models import db
from services.accounts import users
from services.core import clock, outbox
from services.core.transactions import write_transaction
from services.demo import DEMO_PASSWORD, seed_demo

# Cheap argon2id parameters keep the suite fast; the algorithm and format stay the same.
users.configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)

# Every test runs at a fixed moment, demo data included: the suite gives the same answers whatever
# the real date (a test calling freeze() moves it; the next test starts here again).
TEST_NOW = "2026-11-29T11:00"
clock.freeze(TEST_NOW)

PG_URL = os.environ.get("DATABASE_URL", "")

def _cache_url_builders() -> None:
    """Every test builds a new app: werkzeug compiles each of its ~200 URL rules' builders through
    Python's ast again (~35 ms an app). The builder depends only on the rule's text, trace and defaults
    (the rule itself is its first argument), so the suite compiles each one once."""
    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None:  # another werkzeug: keep its own
        return
    cache: dict = {}

    def cached(self, append_unknown=True):
        try:
            key = (self.rule, tuple(self._trace), tuple(sorted((self.defaults or {}).items())), append_unknown)
            hash(key)
        except TypeError:
            return compile_builder(self, append_unknown)
        if key not in cache:
            cache[key] = compile_builder(self, append_unknown)
        return cache[key]

    Rule._compile_builder = cached


_cache_url_builders()


USE_PG = PG_URL.startswith("postgres")
_pg_tables_ready = False


def _reset_postgres() -> None:
    """Create the schema once per session, then empty every table between tests."""
    global _pg_tables_ready
    tables = models.all_models()
    if not _pg_tables_ready:
        db.drop_tables(tables, safe=True, cascade=True)
        db.create_tables(tables)
        _pg_tables_ready = True
    else:
        # DELETE in dependency order and restarting the sequences costs ~12 ms against ~105 ms for a
        # TRUNCATE of every table (which makes new files for each): ~90 s over the PostgreSQL pass.
        with db.atomic():
            db.execute_sql("; ".join(f'DELETE FROM "{m._meta.table_name}"' for m in reversed(sort_models(tables))))
        sequences = db.execute_sql("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'").fetchall()
        if sequences:
            db.execute_sql("; ".join(f'ALTER SEQUENCE "{name}" RESTART' for (name,) in sequences))


@pytest.fixture
def app(tmp_path):
    """An application on an empty database (schema created), development mode, clock unfrozen."""
    instance = tmp_path / "instance"
    instance.mkdir()
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "PORTAIL_ENV": "development",
        "PORTAIL_NOW": "",
        "DATABASE_URL": PG_URL if USE_PG else f"sqlite:///{tmp_path / 'test.db'}",
        "OUTBOX_DIR": str(instance / "outbox"),
        "UPLOAD_DIR": str(instance / "uploads"),
        "MAIL_SERVER": "",
        "SERVER_NAME": "portail.test",
    }
    os.environ.pop("PORTAIL_NOW", None)
    application = create_app(config)
    with db.connection_context():
        if USE_PG:
            _reset_postgres()
        else:
            db.create_tables(models.all_models())
    db.connect(reuse_if_open=True)
    yield application
    if not db.is_closed():
        db.close()
    db.close_all()  # pooled connections of this test's database
    clock.freeze(TEST_NOW)


class DemoSnapshot:
    """The demo commune seeded once per session, then restored row by row into each test's empty
    database (much faster than seeding it again); works on SQLite and PostgreSQL alike."""

    def __init__(self, folder: Path):
        self.uploads = folder / "uploads"
        config = {"TESTING": True, "SECRET_KEY": "snapshot", "PORTAIL_NOW": "",
                  "DATABASE_URL": PG_URL if USE_PG else f"sqlite:///{folder / 'demo.db'}",
                  "OUTBOX_DIR": str(folder / "outbox"), "UPLOAD_DIR": str(self.uploads), "MAIL_SERVER": ""}
        create_app(config)
        with db.connection_context():
            if USE_PG:
                _reset_postgres()
            else:
                db.create_tables(models.all_models())
            self.context = pickle.dumps(seed_demo())
            # The configuration's token is not copied: restoring the configuration's rows makes a new one.
            self.rows = [(model, list(model.select().order_by(model._meta.primary_key).dicts()))
                         for model in sort_models(models.all_models()) if model is not models.ConfigVersion]
        db.close_all()

    def restore(self, upload_dir: str) -> dict:
        """Insert the snapshot's rows (ids kept), copy its uploads; returns a fresh seed context."""
        with write_transaction():
            for model, rows in self.rows:
                for start in range(0, len(rows), 500):
                    model.insert_many(rows[start:start + 500]).execute()
        if USE_PG:  # one round trip for every sequence the snapshot's ids moved
            tables = [model._meta.table_name for model, rows in self.rows if rows]
            db.execute_sql("SELECT " + ", ".join(
                f"setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT MAX(id) FROM \"{table}\"))"
                for table in tables))
        if self.uploads.exists():
            shutil.copytree(self.uploads, upload_dir, dirs_exist_ok=True)
        return pickle.loads(self.context)


@pytest.fixture(scope="session")
def demo_snapshot(tmp_path_factory):
    return DemoSnapshot(tmp_path_factory.mktemp("demo-snapshot"))


@pytest.fixture
def demo(demo_snapshot, app):
    """The demo commune loaded; returns the seed context (users, households, children…)."""
    return demo_snapshot.restore(app.config["UPLOAD_DIR"])


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def freeze():
    """Freeze the clock: freeze("2026-11-19T17:55")."""
    yield clock.freeze
    clock.freeze(TEST_NOW)


@pytest.fixture(autouse=True)
def _frozen_clock():
    """Each test starts at TEST_NOW, whatever an earlier one did."""
    clock.freeze(TEST_NOW)
    yield


def csrf_token(client, url: str = "/connexion") -> str:
    """A valid CSRF token for this client's session, read from a rendered page."""
    page = client.get(url, follow_redirects=True).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'"X-CSRFToken": "([^"]+)"', page)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def post_form(client, url: str, data: dict | None = None, token_page: str = "/connexion", **kwargs):
    """POST a form with a fresh CSRF token (as a browser would)."""
    payload = dict(data or {})
    payload["csrf_token"] = csrf_token(client, token_page)
    return client.post(url, data=payload, **kwargs)


class Auth:
    """Sign in and out through the real forms."""

    def __init__(self, client):
        self.client = client

    def login(self, email: str = "famille.martin@example.fr", password: str = DEMO_PASSWORD):
        response = post_form(self.client, "/connexion", {"email": email, "password": password})
        assert response.status_code == 302, f"login failed for {email}"
        return response

    def logout(self):
        return post_form(self.client, "/deconnexion", token_page="/")


@pytest.fixture
def auth(client):
    return Auth(client)


def outbox_messages() -> list[dict]:
    """Mails delivered to this test's outbox folder, newest first (the worker's delivery runs first)."""
    outbox.deliver_due()
    return outbox.outbox_messages()


def last_code_for(email: str) -> str:
    """The 4-digit code of the newest activation mail sent to an address."""
    for message in outbox_messages():
        if message["to"] == email and "code" in message["subject"].lower():
            return re.search(r"Voici votre code : (\d{4})", message["body"]).group(1)
    raise AssertionError(f"no code mailed to {email}")


def link_in_last_mail(email: str) -> str:
    for message in outbox_messages():
        if message["to"] == email:
            match = re.search(r"https?://\S+", message["body"])
            if match:
                return match.group(0)
    raise AssertionError(f"no link mailed to {email}")


HERE = Path(__file__).parent
