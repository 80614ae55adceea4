"""Staff outings (/gestion/sorties): the list, a focused form to create or edit an outing (activity, unit,
deadline and opening day in one go) and its register (« Liste des inscrits ») with its CSV export."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.staff.outing_forms import OutingForm, values_of
from models import DocumentType, Outing, Regie
from services.booking import outing_register, outings
from services.core import clock
from services.core.errors import DomainError, NotFound

bp = Blueprint("staff_outings", __name__, url_prefix="/gestion/sorties")


def _outing_or_404(outing_id: int) -> Outing:
    try:
        return outings.get_outing(outing_id, published_only=False)
    except NotFound:
        abort(404)


def _render_form(outing: Outing | None, values: dict, error=None, status: int = 200):
    return render_template("staff/outings/form.html", outing=outing, form=values, error=error,
                           kinds=outings.KIND_LABELS, regies=list(Regie.select().order_by(Regie.name)),
                           document_types=list(DocumentType.select().where(DocumentType.active == True)  # noqa: E712
                                               .order_by(DocumentType.position, DocumentType.name))), status


@bp.get("/")
def index():
    """Upcoming outings first, then past ones, with places and waiting list."""
    rows = list(Outing.select().order_by(Outing.starts_on.desc(), Outing.id.desc()))
    registers = {o.id: outing_register.register_of(o) for o in rows}
    today = clock.today()
    return render_template("staff/outings/index.html", upcoming=[o for o in reversed(rows) if o.starts_on >= today],
                           past=[o for o in rows if o.starts_on < today], registers=registers,
                           kinds=outings.KIND_LABELS, age_label=outings.age_label)


@bp.route("/nouvelle", methods=["GET", "POST"])
def new():
    if request.method == "GET":
        return _render_form(None, {"kind": "sortie", "waiting_list": "1", "published": "1"})
    form = OutingForm(request.form)
    try:
        form.check()
        outing = outings.save_outing(current_user, form.settings())
    except DomainError as refusal:
        return _render_form(None, form.shown(), refusal, 400)
    flash(f"Sortie « {outing.activity.name} » créée : elle est proposée aux familles sur /activites.", "success")
    return redirect(url_for("staff_outings.register", outing_id=outing.id))


@bp.route("/<int:outing_id>", methods=["GET", "POST"])
def edit(outing_id: int):
    outing = _outing_or_404(outing_id)
    if request.method == "GET":
        return _render_form(outing, values_of(outings.settings_of(outing)))
    form = OutingForm(request.form)
    try:
        form.check()
        outings.save_outing(current_user, form.settings(), outing)
    except DomainError as refusal:
        return _render_form(outing, form.shown(), refusal, 400)
    flash("Sortie enregistrée.", "success")
    return redirect(url_for("staff_outings.register", outing_id=outing.id))


@bp.get("/<int:outing_id>/inscrits")
def register(outing_id: int):
    """« Liste des inscrits »: health columns only for the roles that read health data."""
    outing = _outing_or_404(outing_id)
    return render_template("staff/outings/register.html", outing=outing, register=outing_register.register_of(outing),
                           health=current_user.can_see_health(), kinds=outings.KIND_LABELS,
                           age_label=outings.age_label(outing), deadline=outings.deadline_of(outing),
                           document_labels=outings.DOCUMENT_LABELS)


@bp.get("/<int:outing_id>/inscrits.csv")
def register_csv(outing_id: int):
    outing = _outing_or_404(outing_id)
    text = outing_register.register_csv(outing_register.register_of(outing), current_user.can_see_health())
    return Response(text, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="inscrits-sortie-{outing.id}.csv"'})
