"""Staff « Paiements en ligne » (/gestion/paiements-en-ligne): every card transaction with its state,
« Vérifier auprès de PayFiP », money received per day for the treasury's statement, CSV of a day.
Régisseur and admin only."""
from __future__ import annotations

import csv
import datetime as dt
import io

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.staff.billing_forms import OnlinePaymentFilterForm
from models import OnlineTransaction
from services.billing import online_payments, payment_journal
from services.core import audit, clock, formatting

bp = Blueprint("staff_online_payments", __name__, url_prefix="/gestion/paiements-en-ligne")


def _filters(source) -> tuple[str, dt.date | None]:
    """The state (« etat ») and the day (« jour », ISO) asked for; anything malformed is ignored."""
    form = OnlinePaymentFilterForm(source)
    return form.state, form.jour.data


@bp.get("/", endpoint="index")
def index():
    """The transactions (newest first), filtered by state and day; the month's totals per day."""
    filters = OnlinePaymentFilterForm(request.args)
    state, day = filters.state, filters.jour.data
    month = day or clock.today()
    totals, month_total = payment_journal.day_totals(month)
    return render_template("staff/billing/online_payments.html", rows=payment_journal.transactions(state, day),
                           filters=payment_journal.FILTERS, icons=payment_journal.ICONS, state=state, day=day,
                           totals=totals, month_total=month_total, month_label=formatting.month_label(month),
                           bad_day=filters.bad_day)


@bp.post("/<int:transaction_id>/verifier")
def check(transaction_id: int):
    """« Vérifier auprès de PayFiP »: the same check the worker makes, now."""
    transaction = OnlineTransaction.get_or_none(OnlineTransaction.id == transaction_id) or abort(404)
    state, day = _filters(request.form)
    try:
        outcome = online_payments.check_transaction(
            transaction, online_payments.settings_from(current_app.config))
    except online_payments.PaymentServiceUnavailable as refusal:
        flash(refusal.message, "error")
    else:
        fresh = outcome.transaction
        label = online_payments.state_label(fresh)
        audit.record(current_user, "online_payment_check", fresh, f"{fresh.transaction_id}: {fresh.status}")
        if fresh.status == "pending":
            flash(f"Transaction {fresh.transaction_id} : toujours en cours à la banque (aucun résultat pour "
                  f"l'instant). Nouvelle vérification automatique toutes les 5 minutes.", "info")
        else:
            flash(f"Transaction {fresh.transaction_id} ({formatting.money(fresh.amount)}) : {label.lower()}."
                  + (f" {fresh.note}" if fresh.note else ""), "success" if fresh.status == "paid" else "info")
    return redirect(url_for("staff_online_payments.index", etat=state or None, jour=day.isoformat() if day else None))


@bp.get("/export.csv")
def export():
    """The transactions of one day (« jour ») as CSV (« ; », UTF-8 with BOM for spreadsheets)."""
    _state, day = _filters(request.args)
    if day is None:
        flash("Choisissez un jour à exporter.", "error")
        return redirect(url_for("staff_online_payments.index"))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(payment_journal.CSV_HEADER)
    writer.writerows(payment_journal.csv_rows(day))
    return Response("\ufeff" + buffer.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="paiements-en-ligne-{day}.csv"'})
