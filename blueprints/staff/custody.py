"""Staff: garde alternée of a child (/gestion/familles/<foyer>/enfants/<enfant>/garde-alternee): the other
parent's household and its weeks. The rules live in services/family/custody.py."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.form_fields import InputForm, Text
from blueprints.staff.family import household_or_404
from models import Child
from services.core import clock, formatting
from services.core.errors import DomainError
from services.family import custody

bp = Blueprint("staff_custody", __name__, url_prefix="/gestion/familles")


class CustodyForm(InputForm):
    other = Text("le foyer de l'autre parent", required=True, max_length=200)
    pattern = Text("le rythme de garde", required=True, max_length=20)
    weeks = Text("les semaines", max_length=2000)


def _child_or_404(household_id: int, child_id: int):
    household = household_or_404(household_id)
    child = Child.get_or_none((Child.id == child_id) & (Child.household == household))
    if child is None:
        abort(404)
    return household, child


@bp.route("/<int:household_id>/enfants/<int:child_id>/garde-alternee", methods=["GET", "POST"])
def edit(household_id: int, child_id: int):
    """Set or change the custody; the page says which weeks are whose."""
    household, child = _child_or_404(household_id, child_id)
    share = custody.share_of(child)
    error, status = None, 200
    if request.method == "POST":
        form = CustodyForm(request.form)
        try:
            form.check()
            weeks = custody.parse_weeks(form.weeks.data or "") if form.pattern.data == "calendar" else []
            other = custody.find_household(form.other.data)
            custody.set_custody(child, other, form.pattern.data, weeks, current_user)
        except DomainError as problem:
            error, status = problem, 400
        else:
            flash(f"Garde alternée de {child.first_name} enregistrée : {custody.PATTERNS[form.pattern.data].lower()} "
                  f"(foyer n° {other.id}).", "success")
            misplaced = custody.misplaced_bookings(child, clock.today())
            if misplaced:
                flash(f"{misplaced} réservation(s) à venir de {child.first_name} tombent sur une semaine de l'autre "
                      "foyer : chaque foyer ne peut annuler que les siennes ; annulez-les au guichet si besoin.", "info")
            return redirect(url_for("staff_custody.edit", household_id=household.id, child_id=child.id))
        shown = form.shown()
    else:
        weeks = custody.calendar_weeks(share)
        shown = {"other": str(share.household_id) if share else "", "pattern": share.pattern if share else "odd",
                 "weeks": "\n".join(f"{m.isocalendar()[0]}-W{m.isocalendar()[1]:02d}" for m in weeks)}
    return render_template("staff/family/custody.html", household=household, child=child, share=share,
                           form=shown, error=error, patterns=custody.PATTERNS,
                           weeks_text=[formatting.date_long(m) for m in custody.calendar_weeks(share)]), status


@bp.post("/<int:household_id>/enfants/<int:child_id>/garde-alternee/fin")
def end(household_id: int, child_id: int):
    """The child is no longer shared (past bookings stay where they are)."""
    household, child = _child_or_404(household_id, child_id)
    try:
        custody.end_custody(child, current_user)
    except DomainError as problem:
        flash(problem.message, "error")
    else:
        flash(f"Garde alternée de {child.first_name} terminée : seul ce foyer réserve désormais.", "success")
    return redirect(url_for("staff_custody.edit", household_id=household.id, child_id=child.id))
