"""The web side shared by every page: ids in URLs, the navigation, who is signed in, template helpers,
request hooks (database, mail wake-up, security headers, htmx redirects) and French error pages."""
from __future__ import annotations

from flask import Flask, abort, g, render_template, request
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError
from peewee import DataError
from werkzeug.routing import IntegerConverter

import jobs
from models import Commune, User, db
from services.core import clock, formatting, outbox


class BoundedIntConverter(IntegerConverter):
    """`<int:id>` from 1 to the largest signed 64-bit integer, the ids the databases store."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2 ** 63 - 1)
        super().__init__(map, *args, **kwargs)

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

def register(app: Flask, login_manager: LoginManager) -> None:
    """Everything every page shares, in the order a request meets it."""
    # Ids in URLs fit a database integer: a larger one is simply a page that does not exist (404).
    app.url_map.converters["int"] = BoundedIntConverter
    login_manager.user_loader(load_user)
    _register_template_helpers(app)
    _register_hooks(app)
    _register_error_pages(app)


def load_user(session_id: str):
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
        if outbox.take_queued():  # the request's transactions are over: the worker may deliver
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
