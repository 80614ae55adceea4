"""Portail Famille: the application factory. Reads like a table of contents."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, abort, g, render_template, request
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from htmx_flask import Htmx
from peewee import DataError
from playhouse.db_url import connect
from werkzeug.routing import IntegerConverter

import cli
import jobs
from models import Commune, User, db
from services import clock, formatting, mail, online_payments, permissions

csrf = CSRFProtect()


class BoundedIntConverter(IntegerConverter):
    """`<int:id>` from 1 to the largest signed 64-bit integer, the ids the databases store."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2 ** 63 - 1)
        super().__init__(map, *args, **kwargs)

login_manager = LoginManager()
htmx = Htmx()

# The navigation: (endpoint, label, who): "parent", "staff" (every staff role but the kitchen's) or
# a tuple of roles (admin sees every staff entry). Entries whose endpoint is not registered are
# hidden, so an area appears in the menu as soon as its blueprint exists.
NAVIGATION = [
    ("portal.home", "Accueil", "parent"),
    ("family.account", "Mon compte", "parent"),
    ("enrolments.index", "Inscriptions", "parent"),
    ("reservations.week", "Réservations", "parent"),
    ("orders.index", "Commandes", "parent"),
    ("billing.invoices", "Factures", "parent"),
    ("messages.index", "Messages", "parent"),
    ("staff.dashboard", "Tableau de bord", "staff"),
    ("staff_family.households", "Familles", ("agent", "regisseur")),
    ("staff_activities.activities", "Activités", "staff"),
    ("staff_bookings.orders", "Réservations", ("agent",)),
    ("staff_billing.invoicing", "Facturation", ("regisseur",)),
    ("staff_headcounts.day", "Effectifs", ("agent", "cuisine")),
    ("staff_attendance.sheet", "Pointage", ("agent",)),
    ("staff_mails.index", "Courriels", ("agent",)),
]

BLUEPRINTS = [
    "blueprints.public",
    "blueprints.auth",
    "blueprints.portal",
    "blueprints.account",
    "blueprints.dev",
    "blueprints.staff",
    "blueprints.family",
    "blueprints.staff.family",
    "blueprints.enrolments",
    "blueprints.staff.activities",  # also registers `flask refresh-holidays`
    "blueprints.reservations",
    "blueprints.orders",
    "blueprints.staff.bookings",
    "blueprints.billing",
    "blueprints.staff.billing",
    "blueprints.staff.invoicing_runs",  # also registers `flask invoice`
    "blueprints.staff.online_payments",
    "blueprints.staff.headcounts",
    "blueprints.staff.attendance",
    "blueprints.staff.mails",
]


def _base_config(app: Flask) -> None:
    """Defaults from the environment; a `config` dict passed to create_app overrides them."""
    env = os.environ
    instance = Path(app.instance_path)
    app.config.update(
        PORTAIL_ENV=env.get("PORTAIL_ENV", "development"),
        SECRET_KEY=env.get("SECRET_KEY"),
        DATABASE_URL=env.get("DATABASE_URL", f"sqlite:///{instance / 'portail.db'}"),
        PORTAIL_NOW=env.get("PORTAIL_NOW", ""),
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


def create_app(config: dict | None = None) -> Flask:
    """Build the application: configuration, database, extensions, blueprints, CLI."""
    app = Flask(__name__, instance_path=os.environ.get("INSTANCE_PATH") or str(Path(__file__).parent / "instance"))
    permissions.private_dir(Path(app.instance_path))  # database, secret key, outbox, uploads
    _base_config(app)
    if config:
        app.config.update(config)
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

    permissions.private_dir(Path(app.config["UPLOAD_DIR"]))  # family documents are health and tax papers
    _configure_clock(app, production)
    _configure_database(app)
    mail.configure(mail.MailSettings(
        server=app.config["MAIL_SERVER"], port=app.config["MAIL_PORT"], username=app.config["MAIL_USERNAME"],
        password=app.config["MAIL_PASSWORD"], use_tls=app.config["MAIL_USE_TLS"],
        use_ssl=app.config["MAIL_USE_SSL"], sender=app.config["MAIL_SENDER"],
        outbox=Path(app.config["OUTBOX_DIR"]), timeout=float(app.config["MAIL_TIMEOUT"]),
    ))

    online_payments.configure(online_payments.settings_from(app.config))  # the worker's re-checks

    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Connectez-vous pour accéder à cette page."
    login_manager.login_message_category = "info"

    # Ids in URLs fit a database integer: a larger one is simply a page that does not exist (404).
    app.url_map.converters["int"] = BoundedIntConverter
    import importlib
    for name in BLUEPRINTS:
        app.register_blueprint(importlib.import_module(name).bp)
    csrf.exempt("blueprints.dev.test_clock")

    _register_template_helpers(app)
    _register_hooks(app)
    _register_error_pages(app)
    _register_cli(app)
    return app


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


@login_manager.user_loader
def _load_user(session_id: str):
    """The user of a session or remember-me cookie, if its session version is still the account's."""
    user_id, _, version = str(session_id).partition(".")
    if not (user_id.isdigit() and version.isdigit()) or len(user_id) > 18:
        return None
    user = User.get_or_none(User.id == int(user_id))
    if user is None or user.session_version != int(version) or not user.password_hash:
        return None
    return user


def _register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters.update(
        date_long=formatting.date_long,
        date_medium=formatting.date_medium,
        date_short=formatting.date_short,
        datetime_long=formatting.datetime_long,
        datetime_medium=formatting.datetime_medium,
        money=formatting.money,
        hour=formatting.hour,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def inject_globals():
        nav = [(endpoint, label) for endpoint, label, who in NAVIGATION
               if endpoint in app.view_functions and _shown_to(who)]
        return {"commune": _commune(), "navigation": nav, "now": clock.now(),
                "development": app.config["PORTAIL_ENV"] != "production"}


def _shown_to(who) -> bool:
    """Whether a navigation entry is for the signed-in user (see NAVIGATION)."""
    if not current_user.is_authenticated:
        return False
    if who == "parent":
        return not current_user.is_staff
    if not current_user.is_staff:
        return False
    if current_user.role == "admin":
        return True
    if who == "staff":
        return current_user.role != "cuisine"
    return current_user.role in who


def _commune() -> Commune:
    if "commune" not in g:
        g.commune = Commune.get_current()
    return g.commune


def _register_hooks(app: Flask) -> None:
    @app.before_request
    def _refuse_nul_characters():
        # No value of the portal holds a NUL character, and PostgreSQL refuses one in any text (a 500).
        if request.mimetype == "application/x-www-form-urlencoded":
            request.get_data()  # cached first: the bank's return reads the raw body after this hook
        values = [*request.args.items(multi=True), *request.form.items(multi=True)]
        if any("\x00" in value for _, value in values):
            abort(400)

    @app.before_request
    def _open_db():
        db.connect(reuse_if_open=True)

    @app.teardown_request
    def _close_db(exc):
        if mail.take_queued():  # the request's transactions are over: the worker may deliver
            jobs.wake_worker()
        if not db.is_closed():
            db.close()

    @app.after_request
    def _headers(response):
        # htmx follows a redirect invisibly; make it a full navigation instead.
        if request.headers.get("HX-Request") == "true" and response.status_code in (301, 302, 303):
            response.headers["HX-Redirect"] = response.headers["Location"]
            response.status_code = 200
            response.data = b""
        response.vary.add("HX-Request")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), "
                                                          "usb=(), interest-cohort=()")
        if app.config["PORTAIL_ENV"] == "production":  # HTTPS only, for a year, once seen
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'self'")
        return response


def _register_error_pages(app: Flask) -> None:
    messages = {
        400: ("Requête invalide", "La requête n'a pas pu être traitée. Rechargez la page et réessayez."),
        403: ("Accès refusé", "Vous n'avez pas accès à cette page."),
        404: ("Page introuvable", "Cette page n'existe pas ou n'est pas accessible avec votre compte."),
        405: ("Action impossible", "Cette action n'est pas possible sur cette page."),
        413: ("Fichier trop volumineux", "Le fichier dépasse la taille maximale autorisée (10 Mo)."),
        429: ("Trop de demandes", "Trop de demandes en peu de temps : patientez un instant."),
        500: ("Erreur du serveur", "Une erreur inattendue s'est produite. Réessayez dans un instant."),
    }

    def render_error(code: int, detail: str | None = None):
        title, text = messages[code]
        return render_template("errors/error.html", code=code, title=title, text=detail or text), code

    @app.errorhandler(CSRFError)
    def _csrf(error):
        return render_error(400, "Le formulaire a expiré ou n'est pas valide (jeton de sécurité manquant). "
                                 "Rechargez la page et réessayez.")

    for code in messages:
        app.register_error_handler(code, lambda error, code=code: render_error(code))

    def out_of_range(error):
        # A number or a date beyond what the database or the calendar can hold: the transaction
        # rolled back, nothing was saved; the user gets a message, never a 500.
        return render_error(400, "Une valeur saisie est hors des limites acceptées (nombre ou date trop grand). "
                                 "Vérifiez-la et réessayez.")

    app.register_error_handler(OverflowError, out_of_range)
    app.register_error_handler(DataError, out_of_range)


def _register_cli(app: Flask) -> None:
    cli.register(app)
