"""Staff: crèche requests (/gestion/petite-enfance, agents and the administrator): the queue by state and
structure, a request's detail, « Passer en commission », the decision, the commission list as CSV, the
structures."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.form_fields import Choice, Day, DayFilter, Flag, Identifier, InputForm, Text, WholeNumber
from blueprints.staff import DASHBOARD_QUEUES
from models import EarlyYearsStructure
from services.core.errors import DomainError, NotFound
from services.family import early_years, early_years_review

bp = Blueprint("staff_early_years", __name__, url_prefix="/gestion/petite-enfance")


class QueueFilter(InputForm):
    """?etat=&structure= of the queue (and of the CSV, with ?date=)."""

    etat = Text("l'état", max_length=20)
    structure = Identifier()
    date = DayFilter()


class CommissionForm(InputForm):
    commission_date = Day("la date de la commission", required=True)


class DecisionForm(InputForm):
    decision = Choice(early_years_review.DECISIONS, "Choisissez la décision : acceptée, refusée ou liste d'attente.",
                      noun="la décision")
    reason = Text("le motif", max_length=1000)
    rank = WholeNumber("le rang", minimum=1, maximum=999)


class StructureForm(InputForm):
    structure_id = Identifier()
    name = Text("le nom de la structure", required=True, max_length=120)
    kind = Choice(early_years.KINDS, "Choisissez le type de structure dans la liste.", default="multi-accueil")
    address = Text("l'adresse", max_length=200)
    active = Flag()


def _care_request(care_request_id: int):
    try:
        return early_years_review.get_request(care_request_id)
    except NotFound:
        abort(404)


@bp.get("")
def queue():
    """The requests, filtered by state and structure (every open one by default)."""
    filters = QueueFilter(request.args)
    filters.validate()
    rows = early_years_review.queue(filters.etat.data or "", filters.structure.data)
    return render_template("staff/early_years/queue.html", rows=rows, filters=filters,
                           structures=early_years.structures(active_only=False), labels=early_years.STATUS_LABELS,
                           icons=early_years.STATUS_ICONS, rules=early_years)


@bp.get("/commission.csv")
def commission_csv():
    """The requests in commission (for one structure or one commission date when asked), as CSV."""
    filters = QueueFilter(request.args)
    filters.validate()
    text = early_years_review.commission_csv(filters.structure.data, filters.date.data)
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="commission-petite-enfance.csv"'})


def _detail(care_request, status: int = 200, error: DomainError | None = None, commission=None, decision=None):
    return render_template("staff/early_years/detail.html", item=care_request, error=error,
                           commission=(commission or CommissionForm()).shown(), decision=(decision or DecisionForm()).shown(),
                           labels=early_years.STATUS_LABELS, icons=early_years.STATUS_ICONS, rules=early_years,
                           decisions=early_years_review.DECISIONS), status


@bp.get("/<int:care_request_id>")
def detail(care_request_id: int):
    return _detail(_care_request(care_request_id))


@bp.post("/<int:care_request_id>/commission")
def to_commission(care_request_id: int):
    """« Passer en commission » on a date; the family is told by e-mail."""
    care_request = _care_request(care_request_id)
    form = CommissionForm(request.form)
    try:
        form.check()
        early_years_review.to_commission(current_user, care_request, form.commission_date.data)
    except DomainError as refusal:
        return _detail(care_request, 400, refusal, commission=form)
    flash(f"Demande passée en commission du {form.commission_date.data:%d/%m/%Y} : la famille est prévenue.",
          "success")
    return redirect(url_for("staff_early_years.detail", care_request_id=care_request.id))


@bp.post("/<int:care_request_id>/decision")
def decide(care_request_id: int):
    """The commission's decision; the family is told by e-mail and on its request list."""
    care_request = _care_request(care_request_id)
    form = DecisionForm(request.form)
    try:
        form.check()
        done = early_years_review.decide(current_user, care_request, form.decision.data, form.reason.data,
                                         form.rank.data)
    except DomainError as refusal:
        return _detail(care_request, 400, refusal, decision=form)
    flash(f"Décision enregistrée : {early_years.STATUS_LABELS[done.status]}. La famille est prévenue par e-mail.",
          "success")
    return redirect(url_for("staff_early_years.detail", care_request_id=care_request.id))


@bp.route("/structures", methods=["GET", "POST"])
def structures():
    """The structures families may ask a place in: add one, rename, change its type, close it."""
    error, status = None, 200
    if request.method == "POST":
        form = StructureForm(request.form)
        try:
            form.check()
            structure = None
            if form.structure_id.data:
                structure = EarlyYearsStructure.get_or_none(EarlyYearsStructure.id == form.structure_id.data)
                if structure is None:
                    abort(404)
            saved = early_years_review.save_structure(current_user, form.name.data, form.kind.data,
                                                      form.address.data, structure,
                                                      active=form.active.data if structure else True)
        except DomainError as refusal:
            error, status = refusal, 400
        else:
            flash(f"Structure « {saved.name} » enregistrée.", "success")
            return redirect(url_for("staff_early_years.structures"))
    return render_template("staff/early_years/structures.html", rows=early_years.structures(active_only=False),
                           kinds=early_years.KINDS, error=error), status


def _dashboard_queue() -> dict | None:
    """New requests to put in commission, for the roles that open the queue."""
    if current_user.role not in ("agent", "admin"):
        return None
    count = early_years_review.waiting_count()
    if not count:
        return None
    return {"label": "Demandes d'accueil petite enfance à examiner", "count": count,
            "endpoint": "staff_early_years.queue"}


DASHBOARD_QUEUES.append(_dashboard_queue)
