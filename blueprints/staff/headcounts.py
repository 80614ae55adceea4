"""Effectifs (/gestion/effectifs): per unit and day, the children booked, requested and waiting,
capacity and places left; for meals the counts per régime alimentaire and the PAI. Open to agents,
admins and the read-only kitchen role (counts only, never health details)."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_login import current_user

from blueprints.staff.booking_forms import HeadcountForm
from services.booking import headcounts
from services.core import clock

bp = Blueprint("staff_headcounts", __name__, url_prefix="/gestion")



def _day(form: HeadcountForm) -> tuple[dt.date, str | None]:
    """The requested day (default: tomorrow) and a French message if the date was unreadable."""
    if form.validate():
        return form.date.data, None
    return clock.today() + dt.timedelta(days=1), f"{form.problem().message} Effectifs de demain affichés."


@bp.get("/effectifs")
def day():
    form = HeadcountForm(request.args)
    wanted, error = _day(form)
    counts = headcounts.day_counts(wanted)
    attendance_url = None
    if current_user.role in ("agent", "admin") and "staff_attendance.sheet" in current_app.view_functions:
        attendance_url = url_for("staff_attendance.sheet", date=wanted.isoformat())
    return render_template("staff/headcounts/day.html", counts=counts, error=error, attendance_url=attendance_url,
                           printable=form.printable), 400 if error else 200


@bp.get("/effectifs.csv")
def export():
    wanted, error = _day(HeadcountForm(request.args))
    if error:
        return render_template("staff/headcounts/day.html", counts=headcounts.day_counts(wanted), error=error,
                               attendance_url=None, printable=False), 400
    counts = headcounts.day_counts(wanted)
    return Response(headcounts.csv_text(counts), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="effectifs-{wanted.isoformat()}.csv"'})
