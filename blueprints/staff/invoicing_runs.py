"""Staff invoicing runs (/gestion/facturation): close or reopen a period, « Émettre » (queues the run
for the worker), follow its progress (htmx-polled, or « Rafraîchir »), « Reprendre » a failed or
stopped run. The same run from a terminal is `flask --app app invoice` (cli.py)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from htmx_flask import make_response
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

import jobs
from models import Regie
from services.billing import billing_periods, invoicing_runs
from services.core import audit, formatting
from services.core.errors import DomainError, NotFound

bp = Blueprint("staff_invoicing_runs", __name__, url_prefix="/gestion/facturation", )
bp.add_app_template_filter(formatting.number, "number")
FINISHED = 286  # htmx stops polling on this status (and still swaps the content)


class PeriodForm(FlaskForm):
    """A régie and a month, from the billing page's hidden fields."""

    regie = IntegerField(validators=[InputRequired(), NumberRange(1, 2 ** 63 - 1)])
    annee = IntegerField(validators=[InputRequired(), NumberRange(2000, 2100)])
    mois = IntegerField(validators=[InputRequired(), NumberRange(1, 12)])


def _period() -> tuple[Regie, int, int] | None:
    form = PeriodForm()
    if not form.validate_on_submit():
        return None
    regie = Regie.get_or_none(Regie.id == form.regie.data)
    return (regie, form.annee.data, form.mois.data) if regie else None


def _back(regie: Regie | None = None, year: int | None = None, month: int | None = None):
    if regie is None:
        return redirect(url_for("staff_billing.invoicing"))
    return redirect(url_for("staff_billing.invoicing", regie=regie.id, annee=year, mois=month))


@bp.post("/cloturer")
def close():
    """« Clôturer la période »: parents can no longer book or cancel that month's days of the régie."""
    chosen = _period()
    if chosen is None:
        flash("Choisissez une régie et un mois valides.", "error")
        return _back()
    regie, year, month = chosen
    try:
        billing_periods.close_period(regie, year, month, current_user)
    except DomainError as refusal:
        flash(refusal.message, "error")
    else:
        audit.record(current_user, "period_close", regie, f"{year}-{month:02d}")
        flash(f"Période clôturée : les familles ne peuvent plus réserver ni annuler les jours de "
              f"{formatting.month_label(billing_periods.month_bounds(year, month)[0])} pour cette régie.", "success")
    return _back(regie, year, month)


@bp.post("/rouvrir")
def reopen():
    chosen = _period()
    if chosen is None:
        flash("Choisissez une régie et un mois valides.", "error")
        return _back()
    regie, year, month = chosen
    try:
        billing_periods.reopen_period(regie, year, month)
    except DomainError as refusal:
        flash(refusal.message, "error")
    else:
        audit.record(current_user, "period_reopen", regie, f"{year}-{month:02d}")
        flash("Période rouverte : les familles peuvent de nouveau réserver dans les délais.", "success")
    return _back(regie, year, month)


@bp.post("/emettre")
def issue():
    """« Émettre »: the run is queued for the worker; its page shows the progress."""
    chosen = _period()
    if chosen is None:
        flash("Choisissez une régie et un mois valides.", "error")
        return _back()
    regie, year, month = chosen
    try:
        run = invoicing_runs.request_run(regie, year, month, current_user)
    except DomainError as refusal:
        flash(refusal.message, "error")
        return _back(regie, year, month)
    audit.record(current_user, "invoicing_run", regie, f"{year}-{month:02d}: facturation n° {run.id} demandée")
    if not jobs.queue_invoicing_run(run.id):
        flash("La file de tâches ne répond pas : la facturation attend le travailleur.", "error")
    return redirect(url_for("staff_invoicing_runs.run", run_id=run.id))


@bp.get("/campagnes/<int:run_id>")
def run(run_id: int):
    """A run's page; with HX-Request only its progress (polled every 2 s until it is over)."""
    try:
        item = invoicing_runs.get_run(run_id)
    except NotFound:
        abort(404)
    progress = invoicing_runs.progress(item)
    if request.htmx:
        return make_response(render_template("staff/billing/_run_progress.html", p=progress),
                             200 if progress.active else FINISHED)
    invoices = invoicing_runs.run_invoices(item, limit=200) if item.invoices_issued else []
    return render_template("staff/billing/run.html", p=progress, invoices=invoices)


@bp.post("/campagnes/<int:run_id>/reprendre")
def resume(run_id: int):
    """« Reprendre » a failed or stopped run: it goes on where it stopped."""
    try:
        item = invoicing_runs.resume_run(invoicing_runs.get_run(run_id))
    except NotFound:
        abort(404)
    except DomainError as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("staff_invoicing_runs.run", run_id=run_id))
    audit.record(current_user, "invoicing_run", item.regie, f"facturation n° {item.id} reprise")
    if not jobs.queue_invoicing_run(item.id):
        flash("La file de tâches ne répond pas : la facturation attend le travailleur.", "error")
    else:
        flash("Facturation reprise là où elle s'était arrêtée.", "success")
    return redirect(url_for("staff_invoicing_runs.run", run_id=item.id))
