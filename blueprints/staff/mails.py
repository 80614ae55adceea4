"""Staff: the outgoing-mail log (/gestion/courriels): what waits, what was sent, what failed, « Renvoyer »."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from services.core import outbox
from services.core.errors import NotFound

bp = Blueprint("staff_mails", __name__, url_prefix="/gestion/courriels")

FILTERS = [("", "Tous"), ("pending", "En attente"), ("echec", "En échec"), ("sent", "Envoyés")]


@bp.get("/")
def index():
    """The newest mails with their status; a filter by status."""
    status = request.args.get("statut", "")
    if status not in dict(FILTERS):
        status = ""
    return render_template("staff/mails/index.html", mails=outbox.recent(status), counts=outbox.counts(),
                           filters=FILTERS, status=status, status_label=outbox.status_label, form=FlaskForm())


@bp.post("/<int:mail_id>/renvoyer")
def resend(mail_id: int):
    """Queue a mail again now (the worker sends it within seconds)."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        item = outbox.resend(mail_id)
    except NotFound:
        abort(404)
    flash(f"Le courriel « {item.subject} » à {item.to} est de nouveau en attente d'envoi.", "success")
    return redirect(url_for("staff_mails.index", statut=request.args.get("statut", "")))
