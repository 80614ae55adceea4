"""Pointage (/gestion/pointage): for one unit and day, staff mark each booked child present, absent
or absent with a justification, and add a child present without booking; for a unit « sans
réservation », every enrolled child with arrival and departure times, saved row by row (htmx answers
the row and a status message; without JavaScript each row's button posts and comes back). Agents and admins for every
activity, an animateur for the activities they lead only (another one's unit or presence is a 404);
the kitchen role sees Effectifs, never names or health details."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from htmx_flask import make_response

from blueprints.access import activity_or_404, led_activity_ids
from blueprints.staff.booking_forms import SheetForm, TimesForm
from models import Attendance, Unit
from services.booking import attendance, headcounts, timed_attendance
from services.core import clock
from services.core.errors import DomainError, NotFound

bp = Blueprint("staff_attendance", __name__, url_prefix="/gestion")



def _choice(form: SheetForm) -> tuple[Unit | None, dt.date, list[Unit], str | None]:
    """The unit and day asked (form or query string), the units to choose from, and a French message
    when a value could not be read."""
    error = None
    if form.validate():
        day = form.date.data
    else:
        day, error = clock.today(), form.problem().message
    led = led_activity_ids(current_user)
    units = [u for u in headcounts.units_running(day) if led is None or u.activity_id in led]
    raw = form.unit.data or ""
    unit = None
    if raw:
        unit = next((u for u in units if str(u.id) == raw), None)
        if unit is None and raw.isdigit():
            unit = Unit.get_or_none(Unit.id == int(raw))
            if unit is not None:
                activity_or_404(unit.activity_id)  # an animateur asking for another activity's unit
        if unit is None:
            error = error or "Choisissez une prestation dans la liste."
    if unit is None and units:
        unit = units[0]
    return unit, day, units, error


def _render(unit, day, units, error=None, status=200, search=None, failed=None):
    data = attendance.sheet(unit, day) if unit else None
    timed = unit is not None and unit.attendance_only
    found = (attendance.candidates(unit, day, search or "")
             if unit is not None and search is not None and not timed else None)
    roster = timed_attendance.roster(unit, day) if timed else None
    return render_template("staff/attendance/sheet.html", sheet=data, unit=unit, day=day, units=units, error=error,
                           search=search, found=found, states=attendance.STATES,
                           prefix=attendance.FIELD_PREFIX, health=current_user.can_see_health(),
                           today=clock.today(), roster=roster, failed=failed or {},
                           billing_rule=timed_attendance.PRICING_LABELS.get(unit.attendance_pricing, "") if timed else ""), status


def _back(unit: Unit, day: dt.date):
    return redirect(url_for("staff_attendance.sheet", unit=unit.id, date=day.isoformat()))


@bp.get("/pointage")
def sheet():
    form = SheetForm(request.args)
    unit, day, units, error = _choice(form)
    return _render(unit, day, units, error, 400 if error else 200, form.recherche.data)


@bp.post("/pointage")
def record():
    unit, day, units, error = _choice(SheetForm(request.form))
    if error or unit is None:
        return _render(unit, day, units, error or "Choisissez une prestation dans la liste.", 400)
    try:
        # Raw on purpose: one etat-<booking id> field per expected child, checked by the service.
        changed = attendance.record(current_user, unit, day, request.form)
    except DomainError as refusal:
        return _render(unit, day, units, refusal.message, 400)
    label = f"{unit.activity.name} – {unit.name}, {day.strftime('%d/%m/%Y')}"
    flash(f"Pointage enregistré pour {label} : {changed} changement(s)." if changed
          else f"Pointage inchangé pour {label}.", "success")
    return _back(unit, day)


@bp.post("/pointage/presences")
def add_unbooked():
    form = SheetForm(request.form)
    unit, day, units, error = _choice(form)
    if error or unit is None:
        return _render(unit, day, units, error or "Choisissez une prestation dans la liste.", 400)
    try:
        row = attendance.add_unbooked(current_user, unit, day, form.child_id.data)
    except DomainError as refusal:
        return _render(unit, day, units, refusal.message, 400, search=form.recherche.data or "")
    flash(f"{row.child.full_name} est noté(e) présent(e) sans réservation ({unit.name}, "
          f"{day.strftime('%d/%m/%Y')}).", "success")
    return _back(unit, day)


@bp.post("/pointage/horaires")
def record_times():
    """One child's day at a unit « sans réservation »: Présent (arrival, departure), Absent or Non pointé."""
    form = TimesForm(request.form)
    unit, day, units, error = _choice(form)
    if error or unit is None:
        return _render(unit, day, units, error or "Choisissez une prestation dans la liste.", 400)
    child_id = form.child_id.data or ""
    typed = {"etat": form.etat.data or "", "arrivee": form.arrivee.data or "", "depart": form.depart.data or ""}
    try:
        record = timed_attendance.record_times(current_user, unit, day, child_id, typed["etat"], typed["arrivee"],
                                               typed["depart"])
    except DomainError as refusal:
        failed = {"child_id": child_id, "message": refusal.message, **typed}
        if request.htmx:
            return _times_row(unit, day, child_id, refusal.message, "error", failed)
        return _render(unit, day, units, refusal.message, 400, failed=failed)
    row = timed_attendance.row_of(unit, day, int(child_id))
    message = f"{row.child.full_name} : {timed_attendance.state_text(record)} ({unit.name}, {day.strftime('%d/%m/%Y')})."
    if request.htmx:
        return _times_row(unit, day, child_id, message, "success")
    flash(message, "success")
    return _back(unit, day)


def _times_row(unit: Unit, day: dt.date, child_id, message: str, category: str, failed=None):
    """The htmx answer: the child's row again (with what was typed after a refusal) and the message."""
    row = timed_attendance.row_of(unit, day, int(child_id)) if str(child_id).isdigit() else None
    if row is None:
        return make_response(render_template("reservations/_message.html", message=message, category=category),
                             reswap="none")
    return render_template("staff/attendance/_timed_row.html", row=row, unit=unit, day=day, failed=failed or {},
                           can_record=True, message=message, category=category)


@bp.post("/pointage/presences/<int:attendance_id>/supprimer")
def remove_unbooked(attendance_id: int):
    row = Attendance.get_or_none(Attendance.id == attendance_id)
    if row is None:
        abort(404)
    activity_or_404(row.unit.activity_id)
    try:
        row = attendance.remove_unbooked(current_user, attendance_id)
    except NotFound:
        abort(404)
    except DomainError as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("staff_attendance.sheet"))
    flash(f"Présence sans réservation de {row.child.full_name} retirée.", "success")
    return _back(row.unit, row.date)
