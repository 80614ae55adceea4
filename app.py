"""Portail Famille: the application factory. Reads like a table of contents."""
from __future__ import annotations

import importlib
import os
from pathlib import Path

from flask import Flask
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

import cli
import config
import web
from services.core import permissions

csrf = CSRFProtect()
login_manager = LoginManager()
htmx = Htmx()

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
    for name in BLUEPRINTS:
        app.register_blueprint(importlib.import_module(name).bp)
    csrf.exempt("blueprints.dev.test_clock")
    cli.register(app)
    return app
