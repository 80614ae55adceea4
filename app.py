"""Portail Famille: the application factory. Reads like a table of contents."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

import cli
import config
import web
from blueprints import (
    account,
    auth,
    billing,
    dev,
    early_years,
    enrolments,
    family,
    franceconnect,
    messages,
    orders,
    outings,
    portal,
    public,
    publications,
    reservations,
    staff,
)
from blueprints.staff import activities as staff_activities
from blueprints.staff import attendance as staff_attendance
from blueprints.staff import billing as staff_billing
from blueprints.staff import custody as staff_custody
from blueprints.staff import bookings as staff_bookings
from blueprints.staff import desk as staff_desk
from blueprints.staff import early_years as staff_early_years
from blueprints.staff import family as staff_family
from blueprints.staff import headcounts as staff_headcounts
from blueprints.staff import invoicing_runs as staff_invoicing_runs
from blueprints.staff import journal as staff_journal
from blueprints.staff import mails as staff_mails
from blueprints.staff import messages as staff_messages
from blueprints.staff import news as staff_news
from blueprints.staff import online_payments as staff_online_payments
from blueprints.staff import outings as staff_outings
from blueprints.staff import publications as staff_publications
from blueprints.staff import regies as staff_regies
from blueprints.staff import schools as staff_schools
from blueprints.staff import security as staff_security
from blueprints.staff import settings as staff_settings
from blueprints.staff import team as staff_team
from services.core import permissions

csrf = CSRFProtect()
login_manager = LoginManager()
htmx = Htmx()

# In the order their rules are matched; each area's views are one blueprint (staff ones under /gestion).
BLUEPRINTS = [
    public.bp, auth.bp, franceconnect.bp, portal.bp, account.bp, dev.bp,
    staff.bp, family.bp, staff_family.bp, staff_custody.bp, staff_desk.bp, enrolments.bp, staff_activities.bp,
    reservations.bp, orders.bp, staff_bookings.bp, messages.bp, staff_messages.bp,
    billing.bp, staff_billing.bp, staff_invoicing_runs.bp, staff_online_payments.bp,
    staff_headcounts.bp, staff_attendance.bp, staff_mails.bp, staff_journal.bp,
    staff_team.bp, staff_settings.bp, staff_schools.bp, staff_regies.bp, staff_security.bp,
    publications.bp, staff_news.bp, staff_publications.bp, early_years.bp, staff_early_years.bp,
    outings.bp, staff_outings.bp,
]


def create_app(overrides: dict | None = None) -> Flask:
    """Build the application: configuration, services, extensions, blueprints, shared web parts, CLI."""
    app = Flask(__name__, instance_path=os.environ.get("INSTANCE_PATH") or str(Path(__file__).parent / "instance"))
    permissions.private_dir(Path(app.instance_path))  # database, secret key, outbox, uploads
    production = config.load(app, overrides)
    config.configure_services(app, production)

    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Connectez-vous pour accéder à cette page."
    login_manager.login_message_category = "info"

    web.register(app, login_manager)  # before the blueprints: URL converters apply to their rules
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    csrf.exempt("blueprints.dev.test_clock")
    cli.register(app)
    return app
