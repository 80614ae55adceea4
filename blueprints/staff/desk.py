"""The desk (guichet) on a family's page (/gestion/familles/<n>/…): its week of bookings operated by
staff, orders, invoices, payments with receipts and the journal of this household. Views parse, call
services/booking/desk, services/billing (checkout, payments) and render."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.billing import render_receipt_pdf
from blueprints.reservation_forms import WeekForm
from blueprints.staff.desk_forms import DeskAbsenceForm, DeskBookingForm, DeskPaymentForm, HistoryPageForm
from blueprints.staff.family import household_or_404
from peewee import JOIN

from models import Booking, Household, Invoice, Payment, Regie, User
from services.billing import checkout, invoicing, ledger, payments
from services.booking import basket, desk, orders, planning
from services.core import audit, clock, formatting
from services.core.errors import DomainError, NotFound

bp = Blueprint("staff_desk", __name__, url_prefix="/gestion/familles/<int:household_id>")

BOOKERS = ("agent",)  # admin always passes; the régisseur reads the grid but does not book
CASHIERS = ("regisseur",)  # the régie takes the money
# The desk's tabs: (endpoint, label). An entry whose endpoint is not registered is hidden: messaging
# (another issue) shows its household threads here as ("staff_messages.household", "Messages").
TABS = [
    ("staff_family.household", "Dossier"),
    ("staff_desk.bookings", "Réservations"),
    ("staff_desk.orders_list", "Commandes"),
    ("staff_desk.invoices", "Factures"),
    ("staff_desk.payments_list", "Règlements"),
    ("staff_messages.household", "Messages"),
    ("staff_desk.history", "Historique"),
]


@bp.app_template_global()
def desk_tabs() -> list[tuple[str, str]]:
    """The desk's tabs whose page exists (the family's file page shows them too)."""
    return [(endpoint, label) for endpoint, label in TABS if endpoint in current_app.view_functions]


def may(*roles: str) -> bool:
    """Whether the signed-in staff member has one of these roles (admin always has)."""
    return current_user.role in roles + ("admin",)


def _render(template: str, household: Household, status: int = 200, **context):
    return render_template(template, household=household, may=may, BOOKERS=BOOKERS, CASHIERS=CASHIERS,
                           **context), status


# --- Bookings: the week grid at the desk ---------------------------------------------------------------


def _week(values) -> tuple[dt.date, str | None]:
    """The week asked (?semaine= or the form's field), else this week and why."""
    form = WeekForm(values)
    if form.validate():
        return form.semaine.data, None
    return planning.parse_week(None), form.problem().message


def _bookings_page(household: Household, start: dt.date, status: int = 200, error: str | None = None,
                   motif: str = ""):
    view = desk.desk_grid(household, start, editable=may(*BOOKERS))
    return _render("staff/desk/bookings.html", household, status, desk=view, grid=view.grid, error=error,
                   motif=motif)


@bp.get("/reservations")
def bookings(household_id: int):
    """The family's week as staff see it: agents tick, untick and validate; the régisseur reads it."""
    household = household_or_404(household_id)
    start, problem = _week(request.args)
    if problem:
        flash(problem, "error")
    return _bookings_page(household, start)


@bp.post("/reservations")
def book(household_id: int):
    """« Valider les changements »: the ticked and unticked cells become an order made at the desk."""
    household = household_or_404(household_id)
    start, _problem = _week(request.form)
    form = DeskBookingForm(request.form)
    if not form.validate():
        return _bookings_page(household, start, 400, form.problem().message, form.motif._value())
    try:
        # Raw lists of grid cell keys (shown, ticked): services/booking/basket.py parses them.
        wanted = basket.wanted_from_form(request.form.getlist("shown"), request.form.getlist("cells"))
        result = checkout.validate_at_desk(household, current_user, wanted, form.motif.data)
    except NotFound:
        abort(404)
    except DomainError as refusal:
        return _bookings_page(household, start, 400, refusal.message, form.motif.data)
    _flash_result(result)
    return redirect(url_for("staff_desk.bookings", household_id=household.id, semaine=planning.week_param(start)))


def _flash_result(result: desk.DeskResult) -> None:
    validation = result.validation
    if validation.order is not None:
        flash(f"Commande n° {validation.order.number} enregistrée au guichet : {len(validation.placed)} "
              "changement(s) ; la famille reçoit la confirmation par e-mail.", "success")
    for line in validation.placed[:20]:
        flash(basket.describe_result(line) + f" – {line.message}", "info")
    for line in validation.refused[:20]:
        flash(f"Non enregistré – {basket.describe_result(line)}", "error")
    for text in result.not_changeable[:10]:
        flash(f"Non modifiable – {text}", "error")


@bp.route("/absences/<int:booking_id>", methods=["GET", "POST"])
def absence(household_id: int, booking_id: int):
    """« Enregistrer une absence » (justifiée) for a booked day, accepted at once."""
    household = household_or_404(household_id)
    booking = Booking.get_or_none((Booking.id == booking_id) & (Booking.household == household.id)) or abort(404)
    form = DeskAbsenceForm(request.form if request.method == "POST" else None)
    error = None
    if request.method == "POST":
        try:
            form.check()
            desk.record_absence(household, current_user, booking.id, form.motif.data)
        except NotFound:
            abort(404)
        except DomainError as refusal:
            error = refusal.message
        else:
            flash(f"Absence justifiée enregistrée : {formatting.cell_name(booking.child, booking.unit, booking.date)}"
                  " ; la famille est prévenue.", "success")
            return redirect(url_for("staff_desk.bookings", household_id=household.id,
                                    semaine=planning.week_param(booking.date)))
    return _render("staff/desk/absence.html", household, 400 if error else 200, booking=booking, error=error,
                   motif=form.motif._value() if request.method == "POST" else "",
                   name=formatting.cell_name(booking.child, booking.unit, booking.date),
                   week=planning.week_param(booking.date))


# --- Orders, invoices, payments, history ------------------------------------------------------------


@bp.get("/commandes")
def orders_list(household_id: int):
    household = household_or_404(household_id)
    pending, history = orders.household_orders(household)
    return _render("staff/desk/orders.html", household, pending=pending, history=history)


@bp.get("/factures")
def invoices(household_id: int):
    household = household_or_404(household_id)
    query = (Invoice.select(Invoice, Regie).join(Regie).where(Invoice.household == household.id)
             .order_by(Invoice.issued_on.desc(), Invoice.id.desc()))
    rows = [(invoice, invoicing.status_of(invoice)[1]) for invoice in query]
    return _render("staff/desk/invoices.html", household, rows=rows)


def _payments_page(household: Household, form: DeskPaymentForm, status: int = 200):
    rows = list(Payment.select(Payment, User).join(User, JOIN.LEFT_OUTER, on=(Payment.recorded_by == User.id),
                                                   attr="recorded_by")
                .where(Payment.household == household.id).order_by(Payment.received_on.desc(), Payment.id.desc()))
    return _render("staff/desk/payments.html", household, status, rows=rows, form=form,
                   credit=ledger.household_credit(household))


@bp.get("/reglements")
def payments_list(household_id: int):
    household = household_or_404(household_id)
    form = DeskPaymentForm(formdata=None)
    form.received_on.data = clock.today()
    return _payments_page(household, form)


@bp.post("/reglements")
def record_payment(household_id: int):
    """A payment taken at the desk (espèces, chèque, CESU, chèques-vacances…), then its receipt."""
    household = household_or_404(household_id)
    form = DeskPaymentForm()
    if form.validate_on_submit():
        try:
            payment = payments.record_payment(household, form.mode.data, form.amount.data, form.received_on.data,
                                              form.reference.data, current_user)
        except DomainError as refusal:
            getattr(form, refusal.field if refusal.field in form else "amount").errors.append(refusal.message)
        else:
            audit.record(current_user, "règlement enregistré au guichet", payment,
                         f"Reçu n° {payment.receipt_number} – {payment.mode_label} {formatting.money(payment.amount)}")
            flash(f"Règlement de {formatting.money(payment.amount)} enregistré ({payment.mode_label}) : "
                  f"reçu n° {payment.receipt_number} à télécharger ci-dessous.", "success")
            return redirect(url_for("staff_desk.payments_list", household_id=household.id))
    return _payments_page(household, form, 400)


@bp.get("/reglements/<int:payment_id>/recu.pdf")
def receipt_pdf(household_id: int, payment_id: int):
    household = household_or_404(household_id)
    item = Payment.get_or_none((Payment.id == payment_id) & (Payment.household == household.id)) or abort(404)
    return render_receipt_pdf(item, household)


@bp.get("/historique")
def history(household_id: int):
    """The audit journal of this household, newest first (health reads only for who may see health data)."""
    household = household_or_404(household_id)
    page = HistoryPageForm(request.args).page.data or 1
    result = audit.journal(household_id=household.id, page=min(page, 100_000),
                           without_health=not current_user.can_see_health())
    return _render("staff/desk/history.html", household, result=result)
