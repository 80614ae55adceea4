"""The web side shared by every page: ids in URLs, who is signed in, template helpers, the database
and mail wake-up around each request; security headers (web/security.py) and French error pages
(web/errors.py)."""
from __future__ import annotations

from flask import Flask, current_app, g, has_request_context, render_template, request
from flask_login import LoginManager, current_user
from peewee import JOIN
from werkzeug.routing import IntegerConverter

import jobs
from blueprints import access
from models import Commune, ConfigVersion, Household, User, db
from models.base import config_token_seen, remember_config_token
from models.prepared import prepared
from services.accounts import franceconnect_accounts
from services.core import clock
from services.core import commune as commune_settings
from services.core import formatting, outbox
from web import errors, security, static_files, text


class BoundedIntConverter(IntegerConverter):
    """`<int:id>` from 1 to the largest signed 64-bit integer, the ids the databases store."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2 ** 63 - 1)
        super().__init__(map, *args, **kwargs)


def register(app: Flask, login_manager: LoginManager) -> None:
    """Everything every page shares, in the order a request meets it."""
    # Ids in URLs fit a database integer: a larger one is simply a page that does not exist (404).
    app.url_map.converters["int"] = BoundedIntConverter
    login_manager.user_loader(load_user)
    _register_template_helpers(app)
    security.register(app)
    static_files.register(app)
    _register_database_hooks(app)
    _refuse_families_while_demo(app)  # first: a family learns the portal is not open yet, not "sign in"
    app.before_request(access.check_access)  # the role × route matrix (blueprints/access.py ACCESS)
    errors.register(app)


@prepared
def _user_with_household(user_id):
    """The household comes in the same query: every parent page asks for it next (current_household); so does
    the configuration's token, which every booking page reads next (one statement less a page)."""
    token = ConfigVersion.select(ConfigVersion.token).where(ConfigVersion.id == 1)
    return (User.select(User, Household, token.alias("config_token"))
            .join(Household, JOIN.LEFT_OUTER, on=(User.household == Household.id))
            .where(User.id == user_id).limit(1))


def load_user(session_id: str):
    """The user of a session or remember-me cookie, if its session version is still the account's."""
    user_id, _, version = str(session_id).partition(".")
    if not (user_id.isdigit() and version.isdigit()) or len(user_id) > 18:
        return None
    user = _user_with_household.first(int(user_id))
    if user is not None:
        config_token_seen(user.config_token)
    if user is None or user.session_version != int(version) or user.deactivated_at:
        return None
    # No password: an invited or closed account, unless FranceConnect created it (it signs in through it).
    if not user.password_hash and franceconnect_accounts.link_of(user) is None:
        return None
    return user


class _Lazy:
    """A list worked out when a template first reads it: an htmx fragment never draws the menu, and the
    menu's rules cost a tenth of a cell toggle."""

    def __init__(self, compute):
        self._compute, self._value = compute, None

    def __iter__(self):
        if self._value is None:
            self._value = self._compute()
        return iter(self._value)


def _register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters.update(
        date_long=formatting.date_long,
        date_medium=formatting.date_medium,
        date_short=formatting.date_short,
        datetime_long=formatting.datetime_long,
        datetime_medium=formatting.datetime_medium,
        money=formatting.money,
        hour=formatting.hour,
        linkify=text.linkify,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.globals["url_for"] = _remembered_url_for(app)

    @app.context_processor
    def inject_globals():
        nav = _Lazy(lambda: access.navigation_for(current_user, app.view_functions))
        return {"commune": _commune(), "navigation": nav, "now": clock.now(),
                "nav_count": lambda endpoint: access.navigation_count(current_user, endpoint),
                "development": app.config["PORTAIL_ENV"] != "production", "logo_data_uri": _logo_data_uri}


def _remembered_url_for(app: Flask):
    """Templates' url_for, remembering the URLs that take no value (the menu, the footer, forms' actions):
    a page asks for sixty, each built through werkzeug's URL map. Their number is bounded by
    the routes'; a URL with values (an id, a file's version) is built each time."""
    build, known = app.url_for, {}

    def url_for(endpoint: str, **values) -> str:
        if values or endpoint.startswith(".") or not has_request_context():
            return build(endpoint, **values)
        key = (request.script_root, endpoint)  # the prefix the server mounts the portal under
        url = known.get(key)
        if url is None:
            url = known[key] = build(endpoint)
        return url
    return url_for


def _logo_data_uri() -> str:
    """The logo for PDF templates (xhtml2pdf embeds a data: URI; it may read no upload file itself)."""
    return commune_settings.logo_data_uri(_commune(), current_app.config["UPLOAD_DIR"])


def _commune() -> Commune:
    if "commune" not in g:
        g.commune = Commune.get_current()
    return g.commune


def _register_database_hooks(app: Flask) -> None:
    @app.before_request
    def _open_db():
        db.connect(reuse_if_open=True)
        Commune.remember_per_request(True)  # the engine, the page and the menu share one read
        remember_config_token(True)  # one read of the configuration's token (services/core/config_cache.py)

    @app.teardown_request
    def _close_db(exc):
        Commune.remember_per_request(False)
        remember_config_token(False)
        if outbox.take_queued():  # the request's transactions are over: the worker may deliver
            jobs.wake_worker()
        if not db.is_closed():
            db.close()


# Where families act: closed in production while the commune is still the demo one.
FAMILY_BLUEPRINTS = ("portal", "account", "family", "enrolments", "reservations", "orders", "billing", "messages")
FAMILY_ENDPOINTS = ("auth.signup", "auth.confirm")
# The bank's notification and return, and calendar feeds, are never refused: money must be recorded.
ALWAYS_OPEN = ("billing.payment_notification", "billing.payment_return", "billing.dummy_bank", "reservations.ical")


def _refuse_families_while_demo(app: Flask) -> None:
    @app.before_request
    def _opening_check():
        if app.config["PORTAIL_ENV"] != "production" or not request.endpoint:
            return None
        if request.endpoint in ALWAYS_OPEN or (request.blueprint not in FAMILY_BLUEPRINTS
                                               and request.endpoint not in FAMILY_ENDPOINTS):
            return None
        missing = commune_settings.still_demo(_commune())
        if not missing:
            return None
        text = ("Le portail famille n'est pas encore ouvert : la mairie termine sa configuration. "
                "Revenez dans quelques jours ou contactez la mairie.")
        if current_user.is_authenticated and current_user.is_staff:
            text = (f"Ouverture impossible : la commune de démonstration est encore affichée. Renseignez "
                    f"{', '.join(missing)} dans « Paramètres » (/gestion/parametres).")
        return render_template("errors/error.html", code=503, title="Portail pas encore ouvert", text=text), 503
