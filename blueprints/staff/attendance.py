"""Pointage (/gestion/pointage): for one unit and day, staff mark each booked child present, absent
or absent with a justification, and add a child present without booking. Agents and admins for every
activity, an animateur for the activities they lead only (another one's unit or presence is a 404);
the kitchen role sees Effectifs, never names or health details."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.access import activity_or_404, led_activity_ids
from blueprints.staff.booking_forms import SheetForm
from models import Attendance, Unit
from services.booking import attendance, headcounts
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


def _render(unit, day, units, error=None, status=200, search=None):
    data = attendance.sheet(unit, day) if unit else None
    found = attendance.candidates(unit, day, search or "") if unit is not None and search is not None else None
    return render_template("staff/attendance/sheet.html", sheet=data, unit=unit, day=day, units=units, error=error,
                           search=search, found=found, states=attendance.STATES,
                           prefix=attendance.FIELD_PREFIX, health=current_user.can_see_health(),
                           today=clock.today()), status


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
