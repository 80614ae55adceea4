"""Settings from the environment, and the wiring of the services that need them (clock, database,
mail, payments). create_app calls `load` then `configure_services`."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask
from playhouse.db_url import connect

from models import db
from models.postgres import PostgresDatabase  # noqa: F401 - registers postgresql+pool:// (fewer round trips)
from services.accounts import two_factor
from services.billing import online_payments
from services.core import clock, events, outbox, permissions


def load(app: Flask, overrides: dict | None = None) -> bool:
    """Defaults from the environment, then the overrides; production checks. Returns whether in production."""
    _base_config(app)
    if overrides:
        app.config.update(overrides)
    production = app.config["PORTAIL_ENV"] == "production"
    if production:
        app.config["DEV_CLOCK_CONTROL"] = False
        if not app.config["SECRET_KEY"]:
            raise RuntimeError("SECRET_KEY doit être défini en production.")
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    elif not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_key(app)
    if os.environ.get("PROXY_FIX") == "1" or app.config.get("PROXY_FIX"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind nginx: trust one proxy for the client address and scheme (sign-in limits use it).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    return production


def configure_services(app: Flask, production: bool) -> None:
    """The clock, the database, mail and payments read their settings once, here."""
    permissions.private_dir(Path(app.config["UPLOAD_DIR"]))  # family documents are health and tax papers
    _configure_clock(app, production)
    _configure_database(app)
    outbox.configure(outbox.MailSettings(
        server=app.config["MAIL_SERVER"], port=app.config["MAIL_PORT"], username=app.config["MAIL_USERNAME"],
        password=app.config["MAIL_PASSWORD"], use_tls=app.config["MAIL_USE_TLS"],
        use_ssl=app.config["MAIL_USE_SSL"], sender=app.config["MAIL_SENDER"],
        outbox=Path(app.config["OUTBOX_DIR"]), timeout=float(app.config["MAIL_TIMEOUT"]),
    ))
    online_payments.configure(online_payments.settings_from(app.config))  # the worker's re-checks
    two_factor.configure(app.config["SECRET_KEY"])  # the key of the stored TOTP secrets
    if not app.config.get("TESTING"):  # tests read the records through pytest's caplog
        events.configure_logging(app.config["LOG_FORMAT"])


def _base_config(app: Flask) -> None:
    """Defaults from the environment; a `config` dict passed to create_app overrides them."""
    env = os.environ
    instance = Path(app.instance_path)
    app.config.update(
        PORTAIL_ENV=env.get("PORTAIL_ENV", "development"),
        SECRET_KEY=env.get("SECRET_KEY"),
        DATABASE_URL=env.get("DATABASE_URL", f"sqlite:///{instance / 'portail.db'}"),
        PORTAIL_NOW=env.get("PORTAIL_NOW", ""),
        LOG_FORMAT=env.get("LOG_FORMAT") or ("json" if env.get("PORTAIL_ENV") == "production" else "text"),
        MAIL_SERVER=env.get("MAIL_SERVER", ""),
        MAIL_PORT=int(env.get("MAIL_PORT", "25") or 25),
        MAIL_USERNAME=env.get("MAIL_USERNAME", ""),
        MAIL_PASSWORD=env.get("MAIL_PASSWORD", ""),
        MAIL_USE_TLS=env.get("MAIL_USE_TLS", "") in ("1", "true", "yes"),
        MAIL_USE_SSL=env.get("MAIL_USE_SSL", "") in ("1", "true", "yes"),
        MAIL_SENDER=env.get("MAIL_SENDER", "Portail Famille <nepasrepondre@example.fr>"),
        MAIL_TIMEOUT=env.get("MAIL_TIMEOUT", "15"),
        OUTBOX_DIR=env.get("OUTBOX_DIR", str(instance / "outbox")),
        UPLOAD_DIR=env.get("UPLOAD_DIR", str(instance / "uploads")),
        PUBLIC_URL=env.get("PUBLIC_URL", ""),
        # Lets browser tests move the frozen clock through /dev/horloge; never in production.
        DEV_CLOCK_CONTROL=env.get("DEV_CLOCK_CONTROL", "") == "1",
        MAX_CONTENT_LENGTH=12 * 1024 * 1024,  # uploads are capped at 10 MB; the form gets a clear message
        REMEMBER_COOKIE_DURATION=60 * 60 * 24 * 30,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        # Card payments (billing): eopayment backend, "payfip_ws" in production, "dummy" elsewhere.
        PAYMENT_BACKEND=env.get("PAYMENT_BACKEND",
                                "payfip_ws" if env.get("PORTAIL_ENV") == "production" else "dummy"),
        PAYFIP_NUMCLI=env.get("PAYFIP_NUMCLI", ""),  # 6-digit client number given by the DGFiP
        PAYFIP_MODE=env.get("PAYFIP_MODE", "T"),  # saisie: T test, X activation, W production
        PAYFIP_TIMEOUT=env.get("PAYFIP_TIMEOUT", "15"),  # seconds for one call to PayFiP's web service
        PAYMENT_ORIGIN=env.get("PAYMENT_ORIGIN", "Portail famille"),
        # FranceConnect (OpenID Connect): no button on /connexion until the client id, secret and issuer are set.
        FRANCECONNECT_CLIENT_ID=env.get("FRANCECONNECT_CLIENT_ID", ""),
        FRANCECONNECT_CLIENT_SECRET=env.get("FRANCECONNECT_CLIENT_SECRET", ""),
        FRANCECONNECT_ISSUER=env.get("FRANCECONNECT_ISSUER", ""),  # e.g. https://oidc.franceconnect.gouv.fr/api/v2
        FRANCECONNECT_DISCOVERY_URL=env.get("FRANCECONNECT_DISCOVERY_URL", ""),  # default: issuer + /.well-known/…
        FRANCECONNECT_SCOPES=env.get("FRANCECONNECT_SCOPES", ""),  # default: services.accounts.franceconnect
        FRANCECONNECT_ACR_VALUES=env.get("FRANCECONNECT_ACR_VALUES", "eidas1"),
        FRANCECONNECT_TIMEOUT=env.get("FRANCECONNECT_TIMEOUT", "10"),
    )


def _secret_key(app: Flask) -> str:
    """The configured secret, or one generated once and kept in instance/ for development."""
    path = Path(app.instance_path) / "secret_key"
    if path.exists():
        permissions.private_file(path)
        return path.read_text().strip()
    key = secrets.token_hex(32)
    permissions.write_private(path, key)
    return key


def _configure_clock(app: Flask, production: bool) -> None:
    frozen = app.config.get("PORTAIL_NOW")
    if frozen:
        if production:
            raise clock.FrozenClockRefused("PORTAIL_NOW est refusé en production : l'horloge doit être réelle.")
        clock.freeze(frozen)


def _configure_database(app: Flask) -> None:
    """Bind the models to the configured database through a connection pool.

    Pooling matters for SQLite too: when the last connection to a WAL database closes, SQLite
    checkpoints and deletes the WAL, which made every request pay a checkpoint."""
    url = app.config["DATABASE_URL"]
    scheme, _, rest = url.partition("://")
    if scheme in ("sqlite", "postgres", "postgresql"):
        url = f"{scheme}+pool://{rest}"
    options = {"max_connections": int(app.config.get("DATABASE_POOL_SIZE", 64)), "stale_timeout": 300}
    if scheme.startswith("sqlite"):
        database = rest[1:] if rest.startswith("/") else rest
        if database and database != ":memory:":
            permissions.sqlite_database(Path(database))
        options["pragmas"] = {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 10000,
                              "synchronous": "normal"}
        options["check_same_thread"] = False  # a pooled connection may serve another thread later
    db.initialize(connect(url, **options))
