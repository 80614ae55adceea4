"""Staff configuration of services (/gestion/activites): activities, units, calendars, deadlines,
capacities, tariffs, holidays; and the enrolment queue (/gestion/inscriptions)."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

import models
from blueprints.access import staff_required
from blueprints.staff import DASHBOARD_QUEUES
from models import Activity, CapacityOverride, Closure, Enrolment, ExtraDay, PublicHoliday, Regie, School, SchoolHoliday, TariffBand, Unit
from services.booking import activities as config
from services.booking import calendar, deadlines, enrolment, pricing
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
            "unbooked_presence_labels": config.UNBOOKED_PRESENCE_LABELS}


@bp.get("/activites")
@staff_required()
def activities(error: str | None = None, form: dict | None = None, status: int = 200):
    rows = list(Activity.select().order_by(Activity.school_year.desc(), Activity.position, Activity.name))
    units = {}
    for unit in Unit.select().order_by(Unit.position, Unit.id):
        units.setdefault(unit.activity_id, []).append(unit)
    zone = models.Commune.get_current().school_zone
    holidays = {"public": PublicHoliday.select().count(),
                "school": SchoolHoliday.select().where(SchoolHoliday.zone == zone).count(), "zone": zone}
    pending = Enrolment.select().where(Enrolment.status == "requested").count()
    return render_template("staff/activities/index.html", activities=rows, units=units, holidays=holidays,
                           pending=pending, error=error, form=form or {"school_year": calendar.school_year_of(
                               clock.today()), "enrolment_open": "1", "enrolment_validation": "1"},
                           **_choices()), status


@bp.post("/activites")
@staff_required("agent", "admin")
def create_activity():
    try:
        activity = config.save_activity(current_user, request.form)
    except DomainError as refusal:
        return activities(error=refusal, form=request.form, status=400)
    flash(f"Activité « {activity.name} » créée. Ajoutez maintenant ses prestations.", "success")
    return redirect(url_for("staff_activities.activity", activity_id=activity.id))


@bp.route("/activites/<int:activity_id>", methods=["GET", "POST"])
@staff_required()
def activity(activity_id: int):
    activity = _activity_or_404(activity_id)
    error, status, form = None, 200, None
    if request.method == "POST":
        if current_user.role not in ("agent", "admin"):
            abort(403)
        try:
            config.save_activity(current_user, request.form, activity)
        except DomainError as refusal:
            error, status, form = refusal, 400, request.form
        else:
            flash("Activité enregistrée.", "success")
            return redirect(url_for("staff_activities.activity", activity_id=activity.id))
    return _render_activity(activity, error, status, form)


def _render_activity(activity: Activity, error=None, status=200, form=None, closure_form=None, regie_form=None,
                     regie_error=None):
    activity = Activity.get_by_id(activity.id)
    if form is None:
        form = _activity_values(activity)
    closures = Closure.select().where((Closure.activity == activity.id) | (Closure.activity.is_null()
                                                                           & Closure.unit.is_null())) \
        .order_by(Closure.starts_on)
    units = list(Unit.select().where(Unit.activity == activity.id).order_by(Unit.position, Unit.id))
    return render_template("staff/activities/activity.html", activity=activity, units=units, closures=closures,
                           error=error, form=form, closure_form=closure_form or {}, regie_error=regie_error,
                           regie_form=regie_form or _regie_values(activity.regie), **_choices()), status


def _regie_values(regie: Regie | None) -> dict:
    if regie is None:
        return {}
    return {"code": regie.code, "payment_days": regie.payment_days, "treasury_days": regie.treasury_days,
            "prepayment": "1" if regie.prepayment else ""}


@bp.post("/activites/<int:activity_id>/regie")
@staff_required("agent", "admin")
def save_regie(activity_id: int):
    """Billing settings of the activity's régie (shared by every activity of that régie)."""
    activity = _activity_or_404(activity_id)
    if activity.regie is None:
        abort(404)
    try:
        config.save_regie(current_user, activity.regie, request.form)
    except DomainError as refusal:
        return _render_activity(activity, status=400, regie_form=request.form, regie_error=refusal)
    flash(f"Réglages de facturation de la régie « {activity.regie.name} » enregistrés.", "success")
    return redirect(url_for("staff_activities.activity", activity_id=activity.id))


def _activity_values(activity: Activity) -> dict:
    values = {key: getattr(activity, key) for key in ("name", "kind", "school_year", "description")}
    values.update(school_id=activity.school_id or "", regie_id=activity.regie_id or "",
                  starts_on=activity.starts_on.isoformat(), ends_on=activity.ends_on.isoformat(),
                  booking_opens_at=activity.booking_opens_at.strftime("%Y-%m-%dT%H:%M")
                  if activity.booking_opens_at else "",
                  required_documents=[str(i) for i in activity.required_document_ids()])
    for flag in ("booking_validation", "auto_confirm_waiting", "enrolment_open", "enrolment_validation",
                 "requires_certified_record", "active"):
        values[flag] = "1" if getattr(activity, flag) else ""
    return values


@bp.post("/activites/<int:activity_id>/fermetures")
@staff_required("agent", "admin")
def add_closure(activity_id: int):
    activity = _activity_or_404(activity_id)
    scope = request.form.get("scope", "activity")
    try:
        closure = config.add_closure(current_user, request.form, activity=activity if scope != "all" else None)
    except DomainError as refusal:
        return _render_activity(activity, refusal, 400, closure_form=request.form)
    flash(f"Fermeture « {closure.reason} » enregistrée.", "success")
    return redirect(url_for("staff_activities.activity", activity_id=activity.id))


@bp.post("/fermetures/<int:closure_id>/supprimer")
@staff_required("agent", "admin")
def delete_closure(closure_id: int):
    closure = Closure.get_or_none(Closure.id == closure_id)
    if closure is None:
        abort(404)
    back = request.form.get("activity_id", "")
    with write_transaction():
        audit.record(current_user, "closure.delete", closure, closure.reason)
        closure.delete_instance()
    flash("Fermeture supprimée.", "success")
    if back.isdigit():
        return redirect(url_for("staff_activities.activity", activity_id=int(back)))
    return redirect(url_for("staff_activities.activities"))


def _unit_values(unit: Unit | None) -> dict:
    if unit is None:
        return {"weekdays": ["0", "1", "3", "4"], "period": "school", "default_price": "", "cancel_same": "1",
                "booking_kind": "days_before", "booking_amount": "1", "booking_at_time": "18:00",
                "last_places_threshold": "3"}
    values = {"name": unit.name, "weekdays": [str(d) for d in sorted(unit.weekday_set())], "period": unit.period,
              "start_time": unit.start_time, "end_time": unit.end_time,
              "capacity": unit.capacity if unit.capacity is not None else "",
              "waiting_list": "1" if unit.waiting_list else "", "last_places_threshold": unit.last_places_threshold,
              "late_absence_hours": unit.late_absence_hours or "",
              "default_price": _cents(unit.default_price), "pai_price": _cents(unit.pai_price),
              "late_surcharge": _cents(unit.late_surcharge), "absence_fee": _cents(unit.absence_fee),
              "cancel_same": "" if unit.cancel_policy_id else "1", "unbooked_presence": unit.unbooked_presence}
    for prefix, policy in (("booking_", unit.booking_policy), ("cancel_", unit.cancel_policy)):
        if policy is not None:
            values.update({f"{prefix}kind": policy.kind, f"{prefix}amount": policy.amount,
                           f"{prefix}weekday": "" if policy.weekday is None else policy.weekday,
                           f"{prefix}month_day": policy.month_day or "", f"{prefix}at_time": policy.at_time,
                           f"{prefix}working_days": "1" if policy.working_days else "",
                           f"{prefix}skip_weekends": "1" if policy.skip_weekends else "",
                           f"{prefix}skip_public_holidays": "1" if policy.skip_public_holidays else ""})
    return values


def _cents(value: int | None) -> str:
    if value is None:
        return ""
    return f"{value // 100},{value % 100:02d}"


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
    bands = list(TariffBand.select().where(TariffBand.unit == unit.id).order_by(TariffBand.qf_min)) if unit else []
    overrides = list(CapacityOverride.select().where(CapacityOverride.unit == unit.id)
                     .order_by(CapacityOverride.date)) if unit else []
    extras = list(ExtraDay.select().where(ExtraDay.unit == unit.id).order_by(ExtraDay.date)) if unit else []
    band_rows = [{"qf_min": b.qf_min, "qf_max": "" if b.qf_max is None else b.qf_max, "price": _cents(b.price)}
                 for b in bands] + [{"qf_min": "", "qf_max": "", "price": ""}] * 2
    if section == "bands" and form is not None:
        band_rows = [{"qf_min": form.get(f"qf_min_{i}", ""), "qf_max": form.get(f"qf_max_{i}", ""),
                      "price": form.get(f"price_{i}", "")} for i in range(len(band_rows))]
    unit_form = _unit_values(unit)
    if section == "unit" and form is not None:
        unit_form = {key: form.getlist(key) if key == "weekdays" else form.get(key, "") for key in form.keys()}
    descriptions = {}
    if unit is not None:
        descriptions = {"booking": deadlines.describe(unit.booking_policy) if unit.booking_policy else "",
                        "cancel": deadlines.describe(unit.cancel_policy) if unit.cancel_policy else "",
                        "bands": pricing.describe_bands(unit, bands), "weekdays": calendar.describe_weekdays(unit)}
    return render_template("staff/activities/unit.html", activity=activity, unit=unit, form=unit_form,
                           band_rows=band_rows, overrides=overrides, extras=extras, error=error, section=section,
                           previews=_previews(unit) if unit else [], descriptions=descriptions,
                           other_form=form if section in ("capacity", "extra") else {}, **_choices()), status


@bp.route("/activites/<int:activity_id>/prestations/nouvelle", methods=["GET", "POST"])
@staff_required("agent", "admin")
def new_unit(activity_id: int):
    activity = _activity_or_404(activity_id)
    if request.method == "POST":
        try:
            unit = config.save_unit(current_user, activity, request.form)
        except DomainError as refusal:
            return _render_unit(activity, None, refusal, 400, request.form, "unit")
        flash(f"Prestation « {unit.name} » créée.", "success")
        return redirect(url_for("staff_activities.unit", unit_id=unit.id))
    return _render_unit(activity, None)


@bp.route("/prestations/<int:unit_id>", methods=["GET", "POST"])
@staff_required()
def unit(unit_id: int):
    unit = _unit_or_404(unit_id)
    activity = unit.activity
    if request.method == "POST":
        if current_user.role not in ("agent", "admin"):
            abort(403)
        section = request.form.get("section", "unit")
        try:
            if section == "bands":
                config.save_bands(current_user, unit, request.form)
                message = "Tarifs enregistrés."
            elif section == "capacity":
                config.set_capacity(current_user, unit, request.form)
                message = "Capacité du jour enregistrée."
            elif section == "extra":
                config.add_extra_day(current_user, unit, request.form)
                message = "Jour supplémentaire ajouté."
            else:
                section = "unit"
                config.save_unit(current_user, activity, request.form, unit)
                message = "Prestation enregistrée."
        except DomainError as refusal:
            return _render_unit(activity, Unit.get_by_id(unit.id), refusal, 400, request.form, section)
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
@staff_required("agent", "admin")
def delete_capacity(unit_id: int, override_id: int):
    return _delete_unit_row(CapacityOverride, override_id, unit_id, "capacity.delete",
                            "Capacité du jour supprimée : la capacité par défaut s'applique.")


@bp.post("/prestations/<int:unit_id>/jours/<int:extra_id>/supprimer")
@staff_required("agent", "admin")
def delete_extra_day(unit_id: int, extra_id: int):
    return _delete_unit_row(ExtraDay, extra_id, unit_id, "extra_day.delete", "Jour supplémentaire supprimé.")


@bp.post("/activites/jours-feries")
@staff_required("agent", "admin")
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
@staff_required()
def enrolment_queue(error: str | None = None, status: int = 200):
    rows = enrolment.queue()
    missing = {row.id: enrolment.missing_requirements(row.child, row.activity) for row in rows}
    return render_template("staff/activities/enrolments.html", rows=rows, missing=missing, error=error,
                           labels=enrolment.STATUS_LABELS), status


@bp.post("/inscriptions/<int:enrolment_id>")
@staff_required("agent", "admin")
def decide_enrolment(enrolment_id: int):
    row = Enrolment.get_or_none(Enrolment.id == enrolment_id)
    if row is None:
        abort(404)
    decision = request.form.get("decision", "")
    try:
        if decision == "accept":
            enrolment.accept(current_user, row)
            message = f"Inscription de {row.child.first_name} à « {row.activity.name} » validée."
        elif decision == "refuse":
            enrolment.refuse(current_user, row, request.form.get("reason", ""))
            message = f"Inscription de {row.child.first_name} refusée."
        elif decision == "waiting_list":
            enrolment.put_on_waiting_list(current_user, row)
            message = f"{row.child.first_name} est sur liste d'attente pour « {row.activity.name} »."
        else:
            return enrolment_queue("Choisissez une décision.", 400)
    except DomainError as refusal:
        return enrolment_queue(refusal.message, 400)
    flash(message, "success")
    return redirect(url_for("staff_activities.enrolment_queue"))


def _queue_count():
    count = Enrolment.select().where(Enrolment.status == "requested").count()
    return {"label": "Inscriptions à valider", "count": count, "endpoint": "staff_activities.enrolment_queue"}


DASHBOARD_QUEUES.append(_queue_count)
