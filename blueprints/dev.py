"""Development helpers: the e-mail outbox (only outside production)."""
import os

from flask import Blueprint, abort, current_app, render_template

from blueprints.form_fields import InputForm, Typed
from services.core import outbox

bp = Blueprint("dev", __name__, url_prefix="/dev")


@bp.before_request
def _development_only():
    if current_app.config["PORTAIL_ENV"] == "production":
        abort(404)


@bp.get("/outbox", endpoint="outbox")
def outbox_page():
    """Mails the portal would have sent, newest first, so a tester can read codes and links."""
    return render_template("dev/outbox.html", messages=outbox.outbox_messages())


class ClockForm(InputForm):
    now = Typed()  # 2026-11-19T10:00 (clock.freeze reads it); empty unfreezes the clock


@bp.route("/horloge", methods=["GET", "POST"])
def test_clock():
    """Read or move the frozen clock, for browser tests (needs DEV_CLOCK_CONTROL)."""
    from flask import jsonify, request

    from services.core import clock

    if not current_app.config.get("DEV_CLOCK_CONTROL"):
        abort(404)
    if request.method == "POST":
        value = (request.get_json(silent=True) or {}).get("now") or ClockForm(request.form).now.data
        try:
            clock.freeze(value or None)
        except ValueError:
            return jsonify({"error": "date invalide"}), 400
    # The clock is per process: the pid tells bench/rush.py which gunicorn workers have been moved.
    return jsonify({"now": clock.now().isoformat(), "frozen": clock.is_frozen(), "pid": os.getpid()})
