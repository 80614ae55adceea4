"""Development helpers: the e-mail outbox (only outside production)."""
from flask import Blueprint, abort, current_app, render_template

from services import mail

bp = Blueprint("dev", __name__, url_prefix="/dev")


@bp.before_request
def _development_only():
    if current_app.config["PORTAIL_ENV"] == "production":
        abort(404)


@bp.get("/outbox")
def outbox():
    """Mails the portal would have sent, newest first, so a tester can read codes and links."""
    return render_template("dev/outbox.html", messages=mail.outbox_messages())
