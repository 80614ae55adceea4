"""Staff configuration of services (/gestion/activites): activities, units, calendars, deadlines,
capacities, tariffs, holidays; and the enrolment queue (/gestion/inscriptions)."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

import models
from blueprints.staff import DASHBOARD_QUEUES
from blueprints.staff.activity_forms import (
    SECTION_FORMS,
    ActivityForm,
    BandsForm,
    ClosureBackForm,
    ClosureForm,
    EnrolmentDecisionForm,
    SectionForm,
    UnitForm,
)
from models import (
    Activity,
    CapacityOverride,
    Closure,
    Enrolment,
    ExtraDay,
    PublicHoliday,
    Regie,
    School,
    SchoolHoliday,
    TariffBand,
    Unit,
)
from services.booking import activities as config
from services.booking import calendar, deadlines, enrolment, pricing, unit_rules
from services.core import audit, clock
from services.core.errors import DomainError
from services.core.transactions import write_transaction

bp = Blueprint("staff_activities", __name__, url_prefix="/gestion", )

WEEKDAY_LABELS = list(enumerate(w.capitalize() for w in deadlines.WEEKDAYS))


def _activity_or_404(activity_id: int) -> Activity:
    activity = Activity.get_or_none(Activity.id == activity_id)
    if activity is None:
        abort(404)
    return activity


def _unit_or_404(unit_id: int) -> Unit:
    unit = Unit.get_or_none(Unit.id == unit_id)
    if unit is None:
        abort(404)
    return unit


def _choices() -> dict:
    document_types = []
    if hasattr(models, "DocumentType"):
        document_types = list(models.DocumentType.select().order_by(models.DocumentType.name))
    return {"schools": list(School.select().order_by(School.name)), "regies": list(Regie.select().order_by(Regie.name)),
            "kinds": config.KIND_LABELS, "document_types": document_types, "periods": calendar.PERIOD_LABELS,
            "weekday_labels": WEEKDAY_LABELS, "policy_kinds": deadlines.KINDS,
            "unbooked_presence_labels": config.UNBOOKED_PRESENCE_LABELS, "pricing_labels": config.PRICING_LABELS}


@bp.get("/activites")
def activities(error: str | None = None, form: ActivityForm | None = None, status: int = 200):
    rows = list(Activity.select().order_by(Activity.school_year.desc(), Activity.position, Activity.name))
    units = {}
    for unit in Unit.select().order_by(Unit.position, Unit.id):
        units.setdefault(unit.activity_id, []).append(unit)
    zone = models.Commune.get_current().school_zone
    holidays = {"public": PublicHoliday.select().count(),
                "school": SchoolHoliday.select().where(SchoolHoliday.zone == zone).count(), "zone": zone}
    pending = Enrolment.select().where(Enrolment.status == "requested").count()
    form = form or ActivityForm.new(calendar.school_year_of(clock.today()))
    return render_template("staff/activities/index.html", activities=rows, units=units, holidays=holidays,
                           pending=pending, error=error, form=form.shown(), **_choices()), status


@bp.post("/activites")
def create_activity():
    form = ActivityForm(request.form)
    try:
        form.check()
        activity = config.save_activity(current_user, form.settings())
    except DomainError as refusal:
        return activities(error=refusal, form=form, status=400)
    flash(f"Activité « {activity.name} » créée. Ajoutez maintenant ses prestations.", "success")
    return redirect(url_for("staff_activities.activity", activity_id=activity.id))


@bp.route("/activites/<int:activity_id>", methods=["GET", "POST"])
def activity(activity_id: int):
    activity = _activity_or_404(activity_id)
    error, status, form = None, 200, None
    if request.method == "POST":
        form = ActivityForm(request.form)
        try:
            form.check()
            config.save_activity(current_user, form.settings(), activity)
        except DomainError as refusal:
            error, status = refusal, 400
        else:
            flash("Activité enregistrée.", "success")
            return redirect(url_for("staff_activities.activity", activity_id=activity.id))
    return _render_activity(activity, error, status, form)


def _render_activity(activity: Activity, error=None, status=200, form: ActivityForm | None = None,
                     closure_form: ClosureForm | None = None):
    activity = Activity.get_by_id(activity.id)
    closures = Closure.select().where((Closure.activity == activity.id) | (Closure.activity.is_null()
                                                                           & Closure.unit.is_null())) \
        .order_by(Closure.starts_on)
    units = list(Unit.select().where(Unit.activity == activity.id).order_by(Unit.position, Unit.id))
    return render_template("staff/activities/activity.html", activity=activity, units=units, closures=closures,
                           error=error, form=(form or ActivityForm.of(activity)).shown(),
                           closure_form=(closure_form or ClosureForm()).shown(), **_choices()), status


@bp.post("/activites/<int:activity_id>/fermetures")
def add_closure(activity_id: int):
    activity = _activity_or_404(activity_id)
    form = ClosureForm(request.form)
    try:
        form.check()
        closure = config.add_closure(current_user, form.starts_on.data, form.ends_on.data, form.reason.data,
                                     activity=None if form.every_service else activity)
    except DomainError as refusal:
        return _render_activity(activity, refusal, 400, closure_form=form)
    flash(f"Fermeture « {closure.reason} » enregistrée.", "success")
    return redirect(url_for("staff_activities.activity", activity_id=activity.id))


@bp.post("/fermetures/<int:closure_id>/supprimer")
def delete_closure(closure_id: int):
    closure = Closure.get_or_none(Closure.id == closure_id)
    if closure is None:
        abort(404)
    back = ClosureBackForm(request.form).activity_id.data
    with write_transaction():
        audit.record(current_user, "closure.delete", closure, closure.reason)
        closure.delete_instance()
    flash("Fermeture supprimée.", "success")
    if back is not None:
        return redirect(url_for("staff_activities.activity", activity_id=back))
    return redirect(url_for("staff_activities.activities"))


def _unit_values(unit: Unit | None) -> dict:
    """The unit form's fields as the page shows them (a new unit's defaults when None)."""
    return (UnitForm.of(unit) if unit else UnitForm.new()).shown()


def _previews(unit: Unit) -> list[str]:
    """'Pour le lundi 30 novembre : réservable jusqu'au jeudi 26 novembre à 18 h' for the next opening days."""
    today = clock.today()
    start = max(today, unit.activity.starts_on)
    end = min(start + dt.timedelta(days=21), unit.activity.ends_on)
    if end < start:
        return []
    data = calendar.CalendarData.load(start, end, [unit.id])
    days = data.opening_days(unit)[:3]
    holidays = data.holiday_dates()
    lines = []
    for day in days:
        if unit.booking_policy:
            lines.append(deadlines.preview(unit.booking_policy, day, holidays))
        if unit.cancel_policy:
            lines.append(deadlines.preview(unit.cancel_policy, day, holidays, verb="annulable"))
    return lines


def _render_unit(activity: Activity, unit: Unit | None, error=None, status=200, form=None, section=None):
    """The unit page; after a refusal, `form` (of `section`: unit, bands, capacity or extra) shows what
    was typed."""
    bands = list(TariffBand.select().where(TariffBand.unit == unit.id).order_by(TariffBand.qf_min)) if unit else []
    overrides = list(CapacityOverride.select().where(CapacityOverride.unit == unit.id)
                     .order_by(CapacityOverride.date)) if unit else []
    extras = list(ExtraDay.select().where(ExtraDay.unit == unit.id).order_by(ExtraDay.date)) if unit else []
    band_rows = (form if section == "bands" else BandsForm.of(bands)).table(len(bands) + 2)
    unit_form = form.shown() if section == "unit" else _unit_values(unit)
    descriptions = {}
    if unit is not None:
        descriptions = {"booking": deadlines.describe(unit.booking_policy) if unit.booking_policy else "",
                        "cancel": deadlines.describe(unit.cancel_policy) if unit.cancel_policy else "",
                        "bands": pricing.describe_bands(unit, bands), "weekdays": calendar.describe_weekdays(unit)}
    rules = _rule_choices(unit, form if section == "rules" else None) if unit else {}
    return render_template("staff/activities/unit.html", activity=activity, unit=unit, form=unit_form, rules=rules,
                           band_rows=band_rows, overrides=overrides, extras=extras, error=error, section=section,
                           previews=_previews(unit) if unit else [], descriptions=descriptions,
                           other_form=form.shown() if section in ("capacity", "extra") else {}, **_choices()), status


def _rule_choices(unit: Unit, form=None) -> dict:
    """The activity's other units, which this one excludes or requires (as typed after a refusal), and
    those that already exclude it (their own setting)."""
    siblings = list(Unit.select().where((Unit.activity == unit.activity_id) & (Unit.id != unit.id))
                    .order_by(Unit.position, Unit.id))
    rules = unit_rules.Rules.load([unit.id])
    excludes = set(form.excludes.data) if form else rules.excludes.get(unit.id, set())
    requires = set(form.requires.data) if form else rules.required(unit.id)
    return {"siblings": siblings, "excludes": excludes, "requires": requires,
            "excluded_by": {u for u in rules.conflicts(unit.id) if rules.declares(u, unit.id)} - set(
                rules.excludes.get(unit.id, ()))}


@bp.route("/activites/<int:activity_id>/prestations/nouvelle", methods=["GET", "POST"])
def new_unit(activity_id: int):
    activity = _activity_or_404(activity_id)
    if request.method == "POST":
        form = UnitForm(request.form)
        try:
            form.check()
            unit = config.save_unit(current_user, activity, form.settings())
        except DomainError as refusal:
            return _render_unit(activity, None, refusal, 400, form, "unit")
        flash(f"Prestation « {unit.name} » créée.", "success")
        return redirect(url_for("staff_activities.unit", unit_id=unit.id))
    return _render_unit(activity, None)


@bp.route("/prestations/<int:unit_id>", methods=["GET", "POST"])
def unit(unit_id: int):
    unit = _unit_or_404(unit_id)
    activity = unit.activity
    if request.method == "POST":
        section = SectionForm(request.form).which()
        form = SECTION_FORMS[section](request.form)
        try:
            form.check()
            if section == "bands":
                config.save_bands(current_user, unit, form.rows())
                message = "Tarifs enregistrés."
            elif section == "capacity":
                config.set_capacity(current_user, unit, form.date.data, form.capacity.data)
                message = "Capacité du jour enregistrée."
            elif section == "extra":
                config.add_extra_day(current_user, unit, form.date.data, form.reason.data)
                message = "Jour supplémentaire ajouté."
            elif section == "rules":
                unit_rules.save_rules(current_user, unit, form.excludes.data, form.requires.data)
                message = "Règles avec les autres prestations enregistrées."
            else:
                config.save_unit(current_user, activity, form.settings(), unit)
                message = "Prestation enregistrée."
        except DomainError as refusal:
            return _render_unit(activity, Unit.get_by_id(unit.id), refusal, 400, form, section)
        flash(message, "success")
        return redirect(url_for("staff_activities.unit", unit_id=unit.id))
    return _render_unit(activity, unit)


def _delete_unit_row(model, row_id: int, unit_id: int, action: str, message: str):
    """Delete a per-unit row (capacity of a day, extra day) if it belongs to that unit."""
    row = model.get_or_none((model.id == row_id) & (model.unit == unit_id))
    if row is None:
        abort(404)
    with write_transaction():
        audit.record(current_user, action, row, str(row.date))
        row.delete_instance()
    flash(message, "success")
    return redirect(url_for("staff_activities.unit", unit_id=unit_id))


@bp.post("/prestations/<int:unit_id>/capacites/<int:override_id>/supprimer")
def delete_capacity(unit_id: int, override_id: int):
    return _delete_unit_row(CapacityOverride, override_id, unit_id, "capacity.delete",
                            "Capacité du jour supprimée : la capacité par défaut s'applique.")


@bp.post("/prestations/<int:unit_id>/jours/<int:extra_id>/supprimer")
def delete_extra_day(unit_id: int, extra_id: int):
    return _delete_unit_row(ExtraDay, extra_id, unit_id, "extra_day.delete", "Jour supplémentaire supprimé.")


@bp.post("/activites/jours-feries")
def refresh_holidays():
    """Reload public and school holidays (current and next calendar years) from the packages."""
    year = clock.today().year
    try:
        public, school = calendar.refresh_holidays(range(year - 1, year + 3))
    except DomainError as refusal:
        flash(refusal.message, "error")
    else:
        audit.record(current_user, "holidays.refresh", None, f"{public} fériés, {school} périodes")
        flash(f"Jours fériés et vacances scolaires actualisés : {public} jours fériés, "
              f"{school} périodes de vacances.", "success")
    return redirect(url_for("staff_activities.activities"))


# --- Enrolment queue --------------------------------------------------------------------------


@bp.get("/inscriptions")
def enrolment_queue(error: str | None = None, status: int = 200):
    rows = enrolment.queue()
    missing = enrolment.missing_by_enrolment(rows)
    return render_template("staff/activities/enrolments.html", rows=rows, missing=missing, error=error,
                           labels=enrolment.STATUS_LABELS), status


@bp.post("/inscriptions/<int:enrolment_id>")
def decide_enrolment(enrolment_id: int):
    row = Enrolment.get_or_none(Enrolment.id == enrolment_id)
    if row is None:
        abort(404)
    form = EnrolmentDecisionForm(request.form)
    try:
        form.check()
        if form.decision.data == "accept":
            accepted = enrolment.accept(current_user, row)
            message = f"Inscription de {row.child.first_name} à « {row.activity.name} » validée."
            if accepted.generation is not None and (accepted.generation.booked or accepted.generation.skipped
                                                    or accepted.generation.waiting):
                message += f" Abonnement : {accepted.generation.summary}."
        elif form.decision.data == "refuse":
            enrolment.refuse(current_user, row, form.reason.data or "")
            message = f"Inscription de {row.child.first_name} refusée."
        else:
            enrolment.put_on_waiting_list(current_user, row)
            message = f"{row.child.first_name} est sur liste d'attente pour « {row.activity.name} »."
    except DomainError as refusal:
        return enrolment_queue(refusal.message, 400)
    flash(message, "success")
    return redirect(url_for("staff_activities.enrolment_queue"))


def _queue_count():
    count = Enrolment.select().where(Enrolment.status == "requested").count()
    return {"label": "Inscriptions à valider", "count": count, "endpoint": "staff_activities.enrolment_queue"}


DASHBOARD_QUEUES.append(_queue_count)
