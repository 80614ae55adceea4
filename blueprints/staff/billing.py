"""Staff invoicing (/gestion/facturation): monthly preview, invoices and credit notes, manual
payments, unpaid invoices with e-mail reminders, CSV exports. Régisseur and admin only. Closing a
period and the run itself (a background job) are in blueprints/staff/invoicing_runs.py."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.billing import MONTHS, group_lines, pdf_response, render_invoice_pdf
from blueprints.form_fields import amount_text
from blueprints.staff import DASHBOARD_QUEUES, household_choices
from blueprints.staff.billing_forms import (
    CreditForm,
    DirectDebitRunForm,
    ExportFilterForm,
    HouseholdQueryForm,
    InvoicingPeriodForm,
    PaymentForm,
    ReminderForm,
)
from models import Household, Invoice, Regie
from services.billing import (
    billing_periods,
    direct_debit,
    invoicing,
    invoicing_runs,
    listings,
    payments,
    reminders,
)
from services.core import audit, clock, csv_export, formatting
from services.core.errors import DomainError

bp = Blueprint("staff_billing", __name__, url_prefix="/gestion/facturation")


@bp.get("/", endpoint="invoicing")
def invoicing_page():
    """Choose a régie and a month; see the preview (households, amounts, anomalies)."""
    form = InvoicingPeriodForm(request.args)
    regie, year, month = form.chosen(clock.today())
    preview, period, run, error = None, None, None, None
    if regie is not None:
        try:
            preview = invoicing.preview_run(regie, year, month)
            period = billing_periods.period_state(regie, year, month)
        except DomainError as refusal:
            error = refusal.message
        else:
            latest = invoicing_runs.latest_run(regie, period.start)
            run = invoicing_runs.progress(latest) if latest else None
    elif form.regie_asked:
        error = "Choisissez une régie."
    return render_template("staff/billing/invoicing.html", regies=Regie.select().order_by(Regie.name),
                           regie=regie, year=year, month=month, month_names=MONTHS, preview=preview,
                           period=period, run=run, error=error, recent=listings.recent_invoices(15)), \
        400 if error else 200


@bp.route("/factures/<int:invoice_id>", methods=["GET", "POST"])
def invoice(invoice_id: int):
    """An invoice as staff see it, with the credit note form (issued invoices are never edited)."""
    item = Invoice.get_or_none(Invoice.id == invoice_id) or abort(404)
    form = CreditForm()
    if form.validate_on_submit():
        amount = form.amount.data
        try:
            credit = invoicing.issue_credit_note(item, amount, form.reason.data, current_user)
        except DomainError as refusal:
            getattr(form, refusal.field or "amount").errors.append(refusal.message)
        else:
            audit.record(current_user, "credit_note", credit, f"{credit.number} sur {item.number}")
            flash(f"Avoir {credit.number} émis ({formatting.money(amount)}).", "success")
            return redirect(url_for("staff_billing.invoice", invoice_id=item.id))
    status = 400 if request.method == "POST" else 200
    return render_template("staff/billing/invoice.html", invoice=item, groups=group_lines(item.lines),
                           status=invoicing.status_of(item), form=form), status


@bp.get("/factures/<int:invoice_id>/pdf")
def invoice_pdf(invoice_id: int):
    item = Invoice.get_or_none(Invoice.id == invoice_id) or abort(404)
    return pdf_response(render_invoice_pdf(item), f"facture-{item.number}.pdf")


@bp.route("/reglement", methods=["GET", "POST"])
def record_payment():
    """A cheque, cash, CESU or transfer, spread over the household's oldest unpaid invoices."""
    form = PaymentForm()
    chosen = HouseholdQueryForm(request.args).foyer.data
    form.household.choices, search = household_choices(
        "— Choisir un foyer —", form.household.data if request.method == "POST" else chosen)
    if request.method == "GET":
        form.received_on.data = clock.today()
        if chosen is not None:
            form.household.data = chosen
    if form.validate_on_submit():
        household = Household.get_by_id(form.household.data)
        amount = form.amount.data
        try:
            payment = payments.record_payment(household, form.mode.data, amount, form.received_on.data,
                                              form.reference.data, current_user)
        except DomainError as refusal:
            getattr(form, refusal.field or "amount").errors.append(refusal.message)
        else:
            audit.record(current_user, "payment_recorded", payment,
                           f"{payment.mode_label} {formatting.money(amount)}")
            flash(f"Règlement de {formatting.money(amount)} enregistré pour {household.name}.", "success")
            return redirect(url_for("staff_billing.record_payment"))
    status = 400 if request.method == "POST" else 200
    return render_template("staff/billing/payment.html", form=form, recent=listings.recent_payments(10),
                           search=search), status


@bp.get("/impayes")
def unpaid():
    today = clock.today()
    rows = [(i, invoicing.status_of(i, today)) for i in invoicing.unpaid_invoices()]
    return render_template("staff/billing/unpaid.html", rows=rows, total=sum(i.balance for i, _ in rows),
                           regies=Regie.select().order_by(Regie.name),
                           collection_date=(today + dt.timedelta(days=10)).isoformat())


@bp.post("/impayes/relance")
def remind():
    """E-mail a reminder for the selected unpaid invoices (all overdue ones when none is ticked)."""
    chosen = set(ReminderForm(request.form).facture.data)
    sent, count = reminders.send_reminders(
        current_user, chosen, lambda item: url_for("billing.invoice", invoice_id=item.id, _external=True))
    if sent:
        flash(f"{sent} rappel(s) envoyé(s) pour {count} facture(s).", "success")
    else:
        flash("Aucun rappel envoyé : cochez des factures, ou aucune facture n'est en retard.", "info")
    return redirect(url_for("staff_billing.unpaid"))


def _csv(rows: list[list], header: list[str], filename: str) -> Response:
    return Response(csv_export.csv_text(header, rows), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/export/factures.csv")
def export_invoices():
    filters, today = ExportFilterForm(request.args), clock.today()
    # Filtered in SQL; campagne: the invoices of one run (link on its page).
    rows = []
    for item in listings.invoices_for_export(filters.annee.data, filters.mois.data, filters.campagne.data):
        rows.append([item.regie.name, item.number, "avoir" if item.kind == "credit" else "facture",
                     item.issued_on.isoformat(), item.due_on.isoformat(), item.household_id, item.household.name,
                     item.payer_name, amount_text(item.amount), amount_text(item.paid), amount_text(item.credited),
                     amount_text(item.balance), item.corrects.number if item.corrects_id else "",
                     invoicing.status_of(item, today)[1]])
    header = ["Régie", "Numéro", "Type", "Date", "Échéance", "N° foyer", "Foyer", "Payeur", "Montant",
              "Réglé", "Avoirs", "Reste à payer", "Facture corrigée", "État"]
    return _csv(rows, header, "factures.csv")


@bp.get("/export/reglements.csv")
def export_payments():
    filters = ExportFilterForm(request.args)
    rows = []
    for item, settled in listings.payments_for_export(filters.annee.data, filters.mois.data):  # filtered in SQL
        invoices = ", ".join(f"{what} ({amount_text(amount)})" for what, amount in settled)
        rows.append([item.id, item.received_on.isoformat(), item.mode_label, item.reference, item.household_id,
                     item.household.name, amount_text(item.amount), invoices])
    return _csv(rows, ["N°", "Date", "Mode", "Référence", "N° foyer", "Foyer", "Montant", "Factures réglées"],
                "reglements.csv")


def _regie_and_date(values) -> tuple[Regie | None, dt.date | None]:
    """The régie and ISO date chosen in a direct-debit form (None for what is missing or malformed)."""
    form = DirectDebitRunForm(values)
    return form.regie_row, form.date.data


@bp.get("/export/prelevements.xml")
def export_direct_debits():
    """The pain.008 file of a régie's invoices en prélèvement, to send to the bank (the creditor is the
    régie's, from its settings: refused with what to fill in while they are incomplete)."""
    regie, day = _regie_and_date(request.args)
    if regie is None or day is None:
        flash("Choisissez une régie et une date de prélèvement.", "error")
        return redirect(url_for("staff_billing.unpaid"))
    try:
        xml, count, total = direct_debit.pain008(regie, direct_debit.creditor_of(regie), day)
    except DomainError as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("staff_billing.unpaid"))
    audit.record(current_user, "sepa_export", regie, f"{count} prélèvement(s), {formatting.money(total)}")
    return Response(xml, mimetype="application/xml",
                    headers={"Content-Disposition": f'attachment; filename="prelevements-{regie.code or regie.id}-{day}.xml"'})


@bp.post("/prelevements/encaisser")
def record_direct_debits():
    """Record that the bank collected a régie's debits (one "Prélèvement" payment per invoice)."""
    regie, day = _regie_and_date(request.form)
    if regie is None or day is None:
        flash("Choisissez une régie et la date d'encaissement.", "error")
        return redirect(url_for("staff_billing.unpaid"))
    try:
        count, total = direct_debit.record_collection(regie, day, current_user)
    except DomainError as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("staff_billing.unpaid"))
    audit.record(current_user, "sepa_collection", regie, f"{count} prélèvement(s), {formatting.money(total)}")
    flash(f"{count} prélèvement(s) encaissé(s) pour {formatting.money(total)} : les factures sont payées.", "success")
    return redirect(url_for("staff_billing.unpaid"))


def _unpaid_queue():
    count = listings.overdue_count()
    if count:
        return {"label": "Factures en retard de paiement", "count": count, "endpoint": "staff_billing.unpaid"}
    return None


DASHBOARD_QUEUES.append(_unpaid_queue)
