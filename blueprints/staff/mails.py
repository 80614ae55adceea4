"""Staff: the outgoing-mail log (/gestion/courriels): every e-mail with its status (what waits, what was
sent, what failed), by status and address, 50 a page; « Renvoyer »."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import Form, IntegerField, StringField
from wtforms.validators import Length, NumberRange, Optional

from services.core import outbox
from services.core.errors import NotFound

bp = Blueprint("staff_mails", __name__, url_prefix="/gestion/courriels")

FILTERS = [("", "Tous"), ("pending", "En attente"), ("echec", "En échec"), ("sent", "Envoyés")]


class MailFilters(Form):
    """The address filter and the page, read from the query string (a bookmarkable GET form)."""

    adresse = StringField("Adresse du destinataire (ou une partie)", validators=[Optional(), Length(max=320)])
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1, max=100_000)])


@bp.get("/")
def index():
    """The newest mails with their status; filters by status and address, 50 a page."""
    status = request.args.get("statut", "")
    if status not in dict(FILTERS):
        status = ""
    filters = MailFilters(request.args)
    valid = filters.validate()
    values = {name: (field.data if valid or not field.errors else None) for name, field in filters._fields.items()}
    result = outbox.search(status, values["adresse"] or "", values["page"] or 1)
    query = {k: v for k, v in request.args.items() if k in ("statut", "adresse") and v}
    return render_template("staff/mails/index.html", mails=result.mails, result=result, counts=outbox.counts(),
                           filters=FILTERS, status=status, status_label=outbox.status_label, form=FlaskForm(),
                           search=filters, query=query, address=values["adresse"] or "")


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
