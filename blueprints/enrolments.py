"""Parents' enrolments (/inscriptions): each child's inscriptions, new requests, réinscription."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import Form, IntegerField

from blueprints.access import current_household
from models import Activity, Child
from services.booking import calendar, enrolment, school_year
from services.core import clock
from services.core.errors import DomainError

bp = Blueprint("enrolments", __name__, url_prefix="/inscriptions")


def _children(household) -> list[Child]:
    rows = Child.select().where(Child.household == household.id).order_by(Child.position, Child.id)
    return [c for c in rows if not getattr(c, "archived", False)]


def _render(error: str | None = None, status: int = 200, chosen: dict | None = None):
    household = current_household()
    children = _children(household)
    by_child: dict[int, list] = {c.id: [] for c in children}
    for row in enrolment.enrolments_of(household):
        by_child.setdefault(row.child_id, []).append(row)
    year = calendar.school_year_of(clock.today())
    openings = {c.id: enrolment.open_activities_for(c) for c in children if not c.unborn}
    renewals = enrolment.renewal_candidates(household, year)
    moving = [c for c in children if c.class_level and not c.unborn] if renewals or school_year.renewal_open() else []
    return render_template("enrolments/index.html", children=children, by_child=by_child, openings=openings,
                           renewals=renewals, year=year, labels=enrolment.STATUS_LABELS, error=error,
                           moving=moving, school_year=school_year, chosen=chosen or {},
                           due=school_year.due_by_child(children)), status


@bp.get("/")
def index():
    return _render()


class EnrolmentRequestForm(Form):
    """The child and the activity of a request, as ids (None when absent or not a number)."""

    child_id = IntegerField()
    activity_id = IntegerField()


@bp.post("/demande")
def request_enrolment():
    """Ask to enrol one child in one activity (never trusting the ids sent by the browser)."""
    household = current_household()
    form = EnrolmentRequestForm(request.form)
    child = Child.get_or_none((Child.id == (form.child_id.data or 0)) & (Child.household == household.id))
    if child is None:
        abort(404)
    activity = Activity.get_or_none(Activity.id == (form.activity_id.data or 0))
    if activity is None:
        return _render("Choisissez une activité dans la liste.", 400)
    try:
        row = enrolment.request(current_user, child, activity)
    except DomainError as refusal:
        return _render(refusal.message, 400)
    if row.status == "validated":
        flash(f"{child.first_name} est inscrit(e) à « {activity.name} ».", "success")
    else:
        flash(f"Demande d'inscription de {child.first_name} à « {activity.name} » envoyée : "
              "le service vous répondra par e-mail.", "success")
    return redirect(url_for("enrolments.index"))


@bp.post("/reinscription")
def renew():
    """Réinscription: last year's enrolments become requests for next year, with each child's class
    for next year as the parent confirmed or corrected it (« class_<child id> »)."""
    year = calendar.school_year_of(clock.today())
    household = current_household()
    levels = {c.id: request.form[f"class_{c.id}"] for c in _children(household) if f"class_{c.id}" in request.form}
    try:
        created = enrolment.renew(current_user, household, year, levels)
    except DomainError as refusal:
        return _render(refusal.message, 400, chosen=levels)
    if created:
        flash(f"Réinscription envoyée : {len(created)} demande(s) pour l'année {year + 1}-{year + 2}.", "success")
    elif levels:
        flash(f"Classes confirmées pour l'année {year + 1}-{year + 2}.", "success")
    else:
        flash("Aucune inscription à renouveler.", "info")
    return redirect(url_for("enrolments.index"))
