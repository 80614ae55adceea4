"""Staff invoicing runs (/gestion/facturation): close or reopen a period, « Émettre » (queues the run
for the worker), follow its progress (htmx-polled, or « Rafraîchir »), « Reprendre » a failed or
stopped run; and `flask --app app invoice --regie CODE --month 2026-11` in a terminal."""
from __future__ import annotations

import click
from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

import jobs
from blueprints.access import staff_required
from models import Regie, db
from services.billing import billing_periods, invoicing_runs
from services.booking import planning
from services.core import audit, formatting
from services.core.errors import DomainError, NotFound

bp = Blueprint("staff_invoicing_runs", __name__, url_prefix="/gestion/facturation", cli_group=None)
bp.add_app_template_filter(formatting.number, "number")
ROLE = "regisseur"
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
@staff_required(ROLE)
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
@staff_required(ROLE)
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
@staff_required(ROLE)
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
@staff_required(ROLE)
def run(run_id: int):
    """A run's page; with HX-Request only its progress (polled every 2 s until it is over)."""
    try:
        item = invoicing_runs.get_run(run_id)
    except NotFound:
        abort(404)
    progress = invoicing_runs.progress(item)
    if request.headers.get("HX-Request"):
        response = make_response(render_template("staff/billing/_run_progress.html", p=progress))
        if not progress.active:
            response.status_code = FINISHED
        return response
    invoices = invoicing_runs.run_invoices(item, limit=200) if item.invoices_issued else []
    return render_template("staff/billing/run.html", p=progress, invoices=invoices)


@bp.post("/campagnes/<int:run_id>/reprendre")
@staff_required(ROLE)
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


# --- Terminal -----------------------------------------------------------------------------------------


def _refuse(message: str):
    click.echo(f"Refusé : {message}", err=True)
    raise click.exceptions.Exit(1)


@bp.cli.command("invoice")
@click.option("--regie", "code", required=True, help="Code de la régie (ex. PERI).")
@click.option("--month", "month", required=True, help="Mois à facturer, ex. 2026-11.")
@click.option("--close", is_flag=True, help="Clôturer d'abord la période (pour facturer avant la fin du mois).")
def invoice_command(code: str, month: str, close: bool) -> None:
    """Issue a régie's invoices for a month now, in this terminal, with its progress (as « Émettre »)."""
    with db.connection_context():
        regie = Regie.get_or_none(Regie.code == code.strip().upper())
        if regie is None:
            codes = ", ".join(r.code for r in Regie.select().order_by(Regie.code)) or "aucune"
            _refuse(f"régie inconnue « {code} » (codes : {codes}).")
        try:
            first = planning.parse_month(month or "-")
        except DomainError as refusal:
            _refuse(refusal.message)
        click.echo(f"Facturation de {formatting.month_label(first)} – {regie.name} ({regie.code})")
        shown = {"step": 0}

        def report(done: int, total: int, issued: int) -> None:
            step = max(1, total // 20)  # about twenty lines, whatever the size
            if done == total or done // step > shown["step"]:
                shown["step"] = done // step
                click.echo(f"  {formatting.number(done)} / {formatting.number(total)} foyers – "
                           f"{formatting.number(issued)} facture(s) émise(s)")

        try:
            result = invoicing_runs.issue_run(regie, first.year, first.month, close=close, on_progress=report)
        except DomainError as refusal:
            _refuse(refusal.message)
        numbers = [i.number for i in result.issued]
        span = f" ({numbers[0]} à {numbers[-1]})" if len(numbers) > 1 else f" ({numbers[0]})" if numbers else ""
        click.echo(f"Terminé : {formatting.number(len(numbers))} facture(s) émise(s){span} pour "
                   f"{formatting.money(result.run.amount_issued)} ; {formatting.number(result.skipped)} foyer(s) sans "
                   "nouvelle facture (déjà facturés ou rien à facturer).")
