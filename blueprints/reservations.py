"""Parents' reservations: the week grid (htmx cell toggles), the month calendar, bulk booking,
the absence declaration and the iCal feed. Views parse, call services/basket|planning, render."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from htmx_flask import make_response
from werkzeug.datastructures import CombinedMultiDict

from blueprints.access import current_household, menu_count
from blueprints.billing import pdf_response
from blueprints.reservation_forms import (
    AbsenceForm,
    BulkForm,
    CalendarLinkForm,
    CopyWeekForm,
    MonthForm,
    UnitWeekForm,
    WeekForm,
)
from models import Booking
from services.booking import absences, basket, calendar, week_copy
from services.booking import day_status as engine
from services.booking import planning
from services.core import clock, formatting
from services.core.errors import DomainError, NotFound
from services.family import uploads

bp = Blueprint("reservations", __name__)


def _week_start() -> dt.date:
    """?semaine= (or the week form field), falling back to the current week with a message."""
    form = WeekForm(request.values)
    if form.validate():
        return form.semaine.data
    flash(form.problem().message, "error")
    return planning.parse_week(None)


def _back_to_week(start: dt.date):
    return redirect(url_for("reservations.week", semaine=planning.week_param(start)))


def _flash_change(change: basket.GridChange, nothing: str = "Aucun changement.") -> None:
    if change.changed:
        flash(f"Panier mis à jour : {change.changed} changement(s).", "success")
    for note in change.notes[:10]:
        flash(note, "info")
    for refusal in change.refused[:10]:
        flash(f"Non modifié – {refusal}", "error")
    if len(change.refused) > 10:
        flash(f"… et {len(change.refused) - 10} autre(s) jour(s) non modifiable(s).", "error")
    if not change.changed and not change.refused:
        flash(nothing, "info")


@bp.get("/reservations")
def week():
    """The week grid: one table per child, a row per enrolled unit, a column per day."""
    household = current_household()
    start = _week_start()
    grid = planning.week_grid(household, start)
    return render_template("reservations/week.html", grid=grid, basket_count=basket.count(household),
                           unread=menu_count("orders.alerts"))


@bp.post("/reservations")
def update_basket():
    """"Mettre à jour le panier" without JavaScript: every shown cell set to its ticked state."""
    start = _week_start()
    try:
        # Raw lists of grid cell keys (shown: one field per row, keys separated by spaces; ticked):
        # services/booking/basket.py parses them.
        shown = [key for field in request.form.getlist("shown") for key in field.split()]
        wanted = basket.wanted_from_form(shown, request.form.getlist("cells"))
        change = basket.apply_cells(current_household(), wanted)
    except NotFound:
        abort(404)
    except DomainError as error:
        flash(error.message, "error")
    else:
        _flash_change(change)
    return _back_to_week(start)


@bp.post("/reservations/case")
def toggle():
    """One cell ticked or unticked (htmx): the new cell, the basket counter and a message."""
    household = current_household()
    key = request.form.get("cell", "")  # a grid cell key, parsed by services/booking/basket.py
    try:
        child_id, unit_id, day = basket.parse_cell_key(key)
    except DomainError as error:
        return _message_only(error.message)
    want = key in request.form.getlist("cells")  # the ticked cell keys (raw, as in update_basket)
    try:
        result = basket.change_cell(household, child_id, unit_id, day, want)
    except NotFound:
        abort(404)
    if result.refusal:
        message, category = f"Non modifié : {result.refusal}", "error"
    else:
        message, category = _toggle_message(result, result.changed), "success"
    if not request.htmx:
        flash(message, category)
        return _back_to_week(planning.monday(day))
    return render_template("reservations/_toggle.html", child=result.child, unit=result.unit, day=day,
                           status=result.status, message=message,
                           basket_count=basket.count(household) if result.basket_count is None else result.basket_count,
                           category=category, others=result.others)


def _toggle_message(result: basket.CellChange, changed: bool) -> str:
    """« Repas de Léa, lundi 7 décembre, ajouté au panier – 2,90 € »: child, day and price named."""
    if not changed:
        return "Aucun changement."
    status = result.status
    what = f"{result.unit.name} de {result.child.first_name}, {formatting.date_medium(result.day)}"
    if status.basket == "add":
        price = f" – {formatting.money(status.price)}" if status.price else ""
        waiting = " (liste d'attente si complet)" if status.will_wait else ""
        instead = f" à la place de {' et '.join(u.name for u in result.swapped)}" if result.swapped else ""
        return f"{what}, ajouté au panier{instead}{price}{waiting}."
    if status.basket == "remove":
        return f"{what} : annulation ajoutée au panier."
    if status.checked:  # a pending cancellation taken back: the booking stays
        return f"{what} : annulation retirée du panier, la réservation est gardée."
    return f"{what}, retiré du panier."


def _message_only(message: str):
    """An htmx answer that changes nothing but the status message (htmx 2 ignores 4xx bodies)."""
    if not request.htmx:
        flash(message, "error")
        return redirect(url_for("reservations.week"))
    return make_response(render_template("reservations/_message.html", message=message, category="error"),
                         reswap="none")


@bp.post("/reservations/semaine-unite")
def unit_week():
    """Clicking a unit's name: the whole week booked (or un-booked) for that child."""
    start = _week_start()
    form = UnitWeekForm(request.form)
    if not form.validate():
        flash(form.problem().message, "error")
        return _back_to_week(start)
    child_id, unit_id = form.unit_week.data
    try:
        change = basket.week_of_unit(current_household(), child_id, unit_id, start, start + dt.timedelta(days=5))
    except NotFound:
        abort(404)
    _flash_change(change)
    return _back_to_week(start)


@bp.post("/reservations/copier")
def copy_week():
    """« Copier cette semaine pour… »: one child's week copied to the siblings ticked, service by kind."""
    start = _week_start()
    form = CopyWeekForm(request.form)
    child_id = form.copy_from.data
    if child_id is None:
        flash("Enfant inconnu : rechargez la page.", "error")
        return _back_to_week(start)
    targets = form.targets(child_id)
    if targets == []:
        flash("Cochez au moins un frère ou une sœur à qui copier la semaine.", "error")
        return _back_to_week(start)
    try:
        result = week_copy.copy_week(current_household(), child_id, start, start + dt.timedelta(days=5),
                                     to=targets)
    except NotFound:
        abort(404)
    _flash_change(result.change, "Aucun jour à copier : les frères et sœurs ont déjà les mêmes jours."
                  if not result.skipped else "Rien n'a été copié.")
    for line in result.skipped[:10]:
        flash(f"Non copié – {line}", "warning")
    return _back_to_week(start)


# --- Month calendar, print, PDF, iCal ----------------------------------------------------------


def _month_first(form: MonthForm) -> dt.date:
    """The month asked, falling back to the current month with a message."""
    if form.validate():
        return form.mois.data
    flash(form.problem().message, "error")
    return planning.parse_month(None)


@bp.get("/reservations/mois")
def month():
    household = current_household()
    form = MonthForm(request.args)
    view = planning.month_view(household, _month_first(form))
    feed = url_for("reservations.ical", token=household.ical_token, _external=True) if household.ical_token else None
    return render_template("reservations/month.html", view=view, feed=feed, basket_count=basket.count(household),
                           printable=form.printable)


@bp.get("/reservations/mois.pdf")
def month_pdf():
    """The month's planning as a PDF (services/core/pdf.py: the embedded font, local files only)."""
    household = current_household()
    view = planning.month_view(household, _month_first(MonthForm(request.args)))
    html = render_template("reservations/month_pdf.html", view=view, household=household)
    return pdf_response(html, f"planning-{view.param}.pdf")


@bp.post("/reservations/calendrier")
def ical_settings():
    """Create, renew or revoke the household's secret calendar link."""
    household = current_household()
    form = CalendarLinkForm(request.form)
    action = form.action.data
    if action == "revoquer":
        planning.revoke_ical(household)
        flash("Le lien d'abonnement au calendrier est révoqué : il ne fonctionne plus.", "success")
    elif action in ("creer", "renouveler"):
        planning.ical_token(household, renew=True)
        flash("Nouveau lien d'abonnement créé : l'ancien lien ne fonctionne plus.", "success")
    else:
        flash("Action inconnue.", "error")
    return redirect(url_for("reservations.month", mois=form.mois.data or None))


@bp.get("/calendrier/<token>.ics")
def ical(token: str):
    """The household's bookings as an iCalendar feed; a revoked or unknown link is a 404."""
    body = planning.ical_feed(token)
    if body is None:
        abort(404)
    return Response(body, mimetype="text/calendar", headers={"Content-Disposition": 'inline; filename="reservations.ics"'})


# --- Bulk booking ------------------------------------------------------------------------------


@bp.route("/reservations/en-masse", methods=["GET", "POST"])
def bulk():
    """"Réserver en masse": choose, preview (added / removed / skipped), then "Ajouter au panier"."""
    household = current_household()
    today = clock.today()
    grid_context = planning.week_grid(household, planning.monday(today)).context
    choices = [(child, grid_context.bookable_units_for(child)) for child in grid_context.children]
    units = {u.id: u for _c, units in choices for u in units}
    plan = bulk_request = None
    error = None
    status = 200
    form = BulkForm(request.form)
    if request.method == "POST":
        try:
            # The whole form, as planning.parse_bulk reads and checks it (its rules are written there).
            bulk_request = planning.parse_bulk(request.form)
            if form.action.data == "ajouter":
                change = planning.apply_bulk(household, bulk_request)
                _flash_change(change, "Aucun jour à ajouter au panier.")
                return redirect(url_for("orders.basket"))
            plan = planning.bulk_plan(household, bulk_request)
        except DomainError as refusal:
            error, status = refusal.message, 400
    defaults = {"du": form.du.data or today.isoformat(),
                "au": form.au.data or (today + dt.timedelta(days=28)).isoformat()}
    return render_template("reservations/bulk.html", choices=choices, units=units, plan=plan,
                           bulk=bulk_request, error=error, defaults=defaults, form=form.shown(),
                           basket_count=basket.count(household)), status


# --- Absence -----------------------------------------------------------------------------------


@bp.route("/reservations/absence/<int:booking_id>", methods=["GET", "POST"])
def absence(booking_id: int):
    """"Déclarer une absence" (illness) after the cancel deadline, with an optional document."""
    household = current_household()
    booking = Booking.get_or_none((Booking.id == booking_id) & (Booking.household == household.id))
    if booking is None:
        abort(404)
    error = None
    try:
        absences.declarable_booking(household, booking_id)
    except absences.AbsenceRefused as refusal:
        error = refusal.message
    form = AbsenceForm(CombinedMultiDict((request.files, request.form)) if request.method == "POST" else None)
    if request.method == "POST" and error is None:
        upload = form.document.data
        content = uploads.read_upload(upload.stream) if upload and upload.filename else None
        try:
            absences.declare_absence(household, booking_id, form.reason.data or "", content,
                                   upload.filename if content else "", current_app.config["UPLOAD_DIR"])
        except DomainError as refusal:
            error = refusal.message
        else:
            flash("Absence déclarée : le service enfance va l'examiner. Vous serez prévenu dans « Mes alertes ».",
                  "success")
            return _back_to_week(planning.monday(booking.date))
    name = formatting.cell_name(booking.child, booking.unit, booking.date)
    return render_template("reservations/absence.html", booking=booking, name=name, error=error, form=form.shown(),
                           week=planning.week_param(booking.date)), (400 if error and request.method == "POST" else 200)


bp.add_app_template_filter(planning.short_day, "short_day")
bp.add_app_template_global(calendar.NOT_RUNNING, "not_running")
bp.add_app_template_global(engine.STATE_ICONS, "state_icons")
bp.add_app_template_filter(planning.week_param, "week_param")
