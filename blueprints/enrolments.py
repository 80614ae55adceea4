"""Parents' enrolments (/inscriptions): each child's inscriptions, new requests, réinscription."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import Form, IntegerField

from blueprints.access import current_household
from models import Activity, Child, Enrolment
from services.booking import calendar, enrolment, school_year, subscriptions
from services.booking.deadlines import WEEKDAYS
from services.core import clock
from services.core.errors import DomainError, InvalidInput

bp = Blueprint("enrolments", __name__, url_prefix="/inscriptions")


def _children(household) -> list[Child]:
    rows = Child.select().where(Child.household == household.id).order_by(Child.position, Child.id)
    return [c for c in rows if not getattr(c, "archived", False)]


def _render(error: str | None = None, status: int = 200, chosen: dict[int, Activity] | None = None,
            notice: str | None = None, levels: dict | None = None):
    """The page; `chosen` ({child id: activity}) preselects a request's activity and shows its abonnement days;
    `levels` ({child id: class}) keeps the classes of a refused réinscription."""
    household = current_household()
    children = _children(household)
    by_child: dict[int, list] = {c.id: [] for c in children}
    rows = enrolment.enrolments_of(household)
    for row in rows:
        by_child.setdefault(row.child_id, []).append(row)
    year = calendar.school_year_of(clock.today())
    openings = {c.id: enrolment.open_activities_for(c) for c in children if not c.unborn}
    renewals = enrolment.renewal_candidates(household, year)
    chosen = chosen or {}
    selected = {child_id: chosen.get(child_id) or activities[0] for child_id, activities in openings.items() if activities}
    activities = {row.activity_id: row.activity for row in rows} | {a.id: a for a in selected.values()}
    moving = [c for c in children if c.class_level and not c.unborn] if renewals or school_year.renewal_open() else []
    return render_template("enrolments/index.html", children=children, by_child=by_child, openings=openings,
                           renewals=renewals, year=year, labels=enrolment.STATUS_LABELS, error=error, notice=notice,
                           selected=selected, weekday_names=WEEKDAYS,
                           subscription_units={a_id: subscriptions.subscription_units(a) for a_id, a in activities.items()},
                           subscribed=subscriptions.subscriptions_of(row.id for row in rows),
                           describe=subscriptions.describe,
                           moving=moving, school_year=school_year, levels=levels or {},
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
    units = subscriptions.subscription_units(activity)
    offered = units and activity.id in {a.id for a in enrolment.open_activities_for(child)}
    if offered and request.form.get("subscription_for") != str(activity.id):
        # Without JavaScript the days of this activity's abonnement were not on the page yet: show them first.
        return _render(chosen={child.id: activity},
                       notice=f"« {activity.name} » propose un abonnement : choisissez les jours de {child.first_name} "
                              "(facultatif), puis confirmez l'inscription.")
    try:
        row = enrolment.request(current_user, child, activity, weekdays=_weekdays(units))
    except DomainError as refusal:
        return _render(refusal.message, 400, chosen={child.id: activity})
    message = (f"{child.first_name} est inscrit(e) à « {activity.name} »." if row.status == "validated" else
               f"Demande d'inscription de {child.first_name} à « {activity.name} » envoyée : "
               "le service vous répondra par e-mail.")
    flash(message + _subscription_note(row), "success")
    return redirect(url_for("enrolments.index"))


def _weekdays(units) -> dict[int, list[int]]:
    """{unit id: weekdays} ticked in the form (fields weekdays_<unit id>); InvalidInput for a forged value."""
    choice = {}
    for unit in units:
        values = request.form.getlist(f"weekdays_{unit.id}")
        if any(not value.isdigit() or int(value) > 6 for value in values):
            raise InvalidInput("Choisissez les jours de l'abonnement dans la liste.", "weekdays")
        choice[unit.id] = sorted({int(value) for value in values})
    return choice


def _subscription_note(row: Enrolment) -> str:
    chosen = subscriptions.subscriptions_of([row.id]).get(row.id, [])
    if not chosen:
        return ""
    note = " Abonnement : " + " ; ".join(subscriptions.describe(s.weekday_list()) for s in chosen) + "."
    report = getattr(row, "generation", None)
    if report is not None and (report.booked or report.skipped or report.waiting or report.cancelled):
        note += f" {report.summary}."
    elif row.status != "validated":
        note += " Les jours seront réservés à la validation de l'inscription."
    return note


@bp.get("/jours-abonnement")
def subscription_days():
    """The abonnement days of an activity for a child (htmx, when the request's activity changes)."""
    household = current_household()
    child = Child.get_or_none((Child.id == request.args.get("child_id", type=int, default=0))
                              & (Child.household == household.id))
    if child is None:
        abort(404)
    activity = Activity.get_or_none(Activity.id == request.args.get("activity_id", type=int, default=0))
    units = subscriptions.subscription_units(activity) if activity is not None else []
    return render_template("enrolments/_subscription_days.html", child=child, activity=activity, units=units,
                           weekday_names=WEEKDAYS, chosen={})


@bp.post("/abonnement")
def change_subscription():
    """« Modifier les jours »: the abonnement of one of the household's enrolments."""
    household = current_household()
    row = (Enrolment.select(Enrolment, Child, Activity).join(Child).switch(Enrolment).join(Activity)
           .where((Enrolment.id == request.form.get("enrolment_id", type=int, default=0))
                  & (Child.household == household.id)).first())
    if row is None:
        abort(404)
    units = subscriptions.subscription_units(row.activity)
    if not units:
        return _render(f"« {row.activity.name} » ne propose pas d'abonnement.", 400)
    try:
        report = subscriptions.change_weekdays(current_user, row, _weekdays(units))
    except DomainError as refusal:
        return _render(refusal.message, 400)
    row.generation = report
    chosen = subscriptions.subscriptions_of([row.id]).get(row.id, [])
    if chosen:
        flash(f"Abonnement de {row.child.first_name} à « {row.activity.name} » enregistré." + _subscription_note(row),
              "success")
    else:
        done = f" {report.summary}." if report.cancelled else ""
        flash(f"Abonnement de {row.child.first_name} à « {row.activity.name} » arrêté : vous réservez au jour le "
              f"jour.{done}", "success")
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
        return _render(refusal.message, 400, levels=levels)
    if created:
        flash(f"Réinscription envoyée : {len(created)} demande(s) pour l'année {year + 1}-{year + 2}.", "success")
    elif levels:
        flash(f"Classes confirmées pour l'année {year + 1}-{year + 2}.", "success")
    else:
        flash("Aucune inscription à renouveler.", "info")
    return redirect(url_for("enrolments.index"))
