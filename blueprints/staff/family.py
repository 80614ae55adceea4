"""Staff side of household files (/gestion): queues, search, the file, direct edits, documents, settings."""
from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from blueprints.family.common import bound, posted, record_forms, send_document
from blueprints.family.forms import (
    DecisionForm,
    DocumentDecisionForm,
    FamilySettingForm,
    FoyerForm,
    GuardianForm,
    child_values,
    validate_direct_edit,
)
from blueprints.staff import DASHBOARD_QUEUES
from models import ChangeRequest, Child, Diet, DocumentType, FamilyDocument, Guardian, Household
from services.core.errors import DomainError, NotFound
from services.core.transactions import write_transaction
from services.family import documents
from services.family import household as rules
from services.family import household_changes as changes
from services.family import household_fields as fields
from services.family import household_review as review
from services.family import personal_data
from services.family import settings as family_settings

bp = Blueprint("staff_family", __name__, url_prefix="/gestion")

NAMES = {"last_name": "Nom", "first_name": "Prénom"}  # required in a staff edit of a responsable or a child


def household_or_404(household_id: int) -> Household:
    """The household of a staff URL (every household is staff's), or 404."""
    household = Household.get_or_none(Household.id == household_id)
    if household is None:
        abort(404)
    return household


# --- Dashboard queues ------------------------------------------------------------------------


def _queue(label: str, endpoint: str, count: int):
    return {"label": label, "count": count, "endpoint": endpoint}


DASHBOARD_QUEUES.extend([
    lambda: _queue("Dossiers famille à valider", "staff_family.files_queue",
                   Household.select().where(Household.status == "submitted").count()),
    lambda: _queue("Modifications à valider", "staff_family.changes_queue",
                   ChangeRequest.select().where(ChangeRequest.status == "pending").count()),
    lambda: _queue("Documents à examiner", "staff_family.documents_queue",
                   documents.pending_count(current_user.can_see_health())),
    lambda: _queue("Demandes de suppression de compte", "staff_family.closures_queue",
                   Household.select().where(Household.status == "closing_requested").count()),
])


# --- Households: search and file ---------------------------------------------------------------


@bp.get("/familles")
def households():
    query = request.args.get("q", "")[:100]
    status = request.args.get("statut", "")
    if status not in review.STATUS_LABELS:
        status = ""
    found = review.search_households(query, status)
    return render_template("staff/family/households.html", households=found, q=query, status=status,
                           labels=review.STATUS_LABELS)


@bp.get("/familles/<int:household_id>")
def household(household_id):
    household = household_or_404(household_id)
    health = current_user.can_see_health()
    children = household.children_in_file(include_archived=True)
    return render_template(
        "staff/family/household.html", household=household, guardians=rules.guardians_of(household),
        children=children, contacts={c.id: rules.contacts_of(c) for c in children},
        changes=rules.pending_changes(household), documents=documents.documents_of(household, health),
        missing=documents.missing_required(household, with_health=health), needs=rules.needs_labels(household), rules=rules,
        labels=review.STATUS_LABELS, doc_labels=documents.STATUS_LABELS, show_health=current_user.can_see_health(),
        health_fields=fields.HEALTH_FIELDS, users=list(household.users))


@bp.get("/familles/<int:household_id>/donnees")
def household_data(household_id):
    """The family's « Mes données » zip, health data included (agents and admins; audited)."""
    household = household_or_404(household_id)
    content = personal_data.staff_export(current_user, household, current_app.config["UPLOAD_DIR"])
    return send_file(io.BytesIO(content), mimetype="application/zip", as_attachment=True,
                     download_name=personal_data.file_name(household), max_age=0)


def _decide(decide, form: DecisionForm, ids: list[int] | None = None, **kwargs) -> bool:
    """Accept or refuse the ticked objects (or `ids`), with the reason of a refusal; the outcome is flashed."""
    if not form.validate():
        flash(form.first_error(), "error")
        return False
    try:
        count = decide(current_user, form.ids.data if ids is None else ids, form.accepting, form.reason.data or "",
                       **kwargs)
    except DomainError as refusal:
        flash(refusal.message, "error")
        return False
    flash(f"{count} {'acceptée(s)' if form.accepting else 'refusée(s)'} ; les familles ont été prévenues par e-mail.",
          "success")
    return True


@bp.post("/familles/<int:household_id>/decision")
def decide_household(household_id):
    household = household_or_404(household_id)
    _decide(review.decide_files, DecisionForm(posted()), [household.id])
    return redirect(url_for("staff_family.household", household_id=household.id))


# --- Queues with bulk decisions -------------------------------------------------------------------


@bp.route("/dossiers-a-valider", methods=["GET", "POST"])
def files_queue():
    if request.method == "POST":
        _decide(review.decide_files, DecisionForm(posted()))
        return redirect(url_for("staff_family.files_queue"))
    return render_template("staff/family/files_queue.html", households=review.files_waiting(), rules=rules)


@bp.route("/modifications", methods=["GET", "POST"])
def changes_queue():
    if request.method == "POST":
        form = DecisionForm(posted())
        _decide(changes.decide_changes, form)
        if form.household_id.data:
            return redirect(url_for("staff_family.household", household_id=form.household_id.data))
        return redirect(url_for("staff_family.changes_queue"))
    return render_template("staff/family/changes_queue.html", changes=changes.pending_requests(), rules=rules,
                           show_health=current_user.can_see_health(), health_fields=fields.HEALTH_FIELDS)


@bp.route("/documents", methods=["GET", "POST"])
def documents_queue():
    if request.method == "POST":
        form = DocumentDecisionForm(posted())
        _decide(documents.review, form, valid_from=form.valid_from.data, valid_until=form.valid_until.data)
        return redirect(url_for("staff_family.documents_queue"))
    return render_template("staff/family/documents_queue.html",
                           documents=documents.pending_documents(current_user.can_see_health()),
                           show_health=current_user.can_see_health())


@bp.route("/suppressions-de-compte", methods=["GET", "POST"])
def closures_queue():
    if request.method == "POST":
        _decide(review.decide_closures, DecisionForm(posted()))
        return redirect(url_for("staff_family.closures_queue"))
    waiting = Household.select().where(Household.status == "closing_requested").order_by(Household.closing_requested_at)
    return render_template("staff/family/closures_queue.html", households=list(waiting))


@bp.get("/documents/<int:document_id>/fichier")
def download(document_id):
    document = FamilyDocument.get_or_none(FamilyDocument.id == document_id)
    if document is None:
        abort(404)
    try:
        with write_transaction():
            path = documents.file_path(current_user, document, current_app.config["UPLOAD_DIR"])
    except DomainError:
        abort(404)
    return send_document(document, path)


# --- Direct edits by staff (logged) ---------------------------------------------------------------


def _edited(count: int, household: Household):
    flash(f"{count} information(s) modifiée(s) ; la modification est inscrite au journal." if count
          else "Aucune modification.", "success" if count else "info")
    return redirect(url_for("staff_family.household", household_id=household.id))


@bp.route("/familles/<int:household_id>/foyer", methods=["GET", "POST"])
def edit_foyer(household_id):
    household = household_or_404(household_id)
    form = bound(FoyerForm, household, show_stored=True)
    if request.method == "POST":
        if validate_direct_edit(form, {}):
            return _edited(review.staff_edit_household(current_user, household, form.values()), household)
        return render_template("staff/family/edit_foyer.html", form=form, household=household), 400
    return render_template("staff/family/edit_foyer.html", form=form, household=household)


@bp.route("/familles/<int:household_id>/responsables/<int:guardian_id>", methods=["GET", "POST"])
def edit_guardian(household_id, guardian_id):
    household = household_or_404(household_id)
    guardian = Guardian.get_or_none((Guardian.id == guardian_id) & (Guardian.household == household))
    if guardian is None:
        abort(404)
    form = bound(GuardianForm, guardian, show_stored=True)
    if request.method == "POST":
        if validate_direct_edit(form, NAMES):
            return _edited(review.staff_edit_guardian(current_user, guardian, form.values()), household)
        return render_template("staff/family/edit_guardian.html", form=form, household=household,
                               guardian=guardian), 400
    return render_template("staff/family/edit_guardian.html", form=form, household=household, guardian=guardian)


@bp.route("/familles/<int:household_id>/enfants/<int:child_id>", methods=["GET", "POST"])
def edit_child(household_id, child_id):
    household = household_or_404(household_id)
    child = Child.get_or_none((Child.id == child_id) & (Child.household == household))
    if child is None:
        abort(404)
    identity, fiche, contacts = record_forms(child, show_stored=True)
    show_health = current_user.can_see_health()
    if not show_health:
        fiche.without_health()
    if request.method == "POST":
        # the expected date is only shown for a child to be born
        complete = [validate_direct_edit(identity, NAMES, optional=("expected_date",)),
                    validate_direct_edit(fiche, {})] + [contact.validate() for contact in contacts]
        if all(complete):
            return _edited(review.staff_edit_child(current_user, child, child_values(identity, fiche, contacts),
                                                   show_health), household)
        return render_template("staff/family/edit_child.html", household=household, child=child,
                               identity=identity, fiche=fiche, contacts=contacts, show_health=show_health), 400
    return render_template("staff/family/edit_child.html", household=household, child=child, identity=identity,
                           fiche=fiche, contacts=contacts, show_health=show_health)


# --- Settings: diets and document types ----------------------------------------------------------


@bp.route("/parametres-familles", methods=["GET", "POST"])
def settings():
    """The staff-managed lists: régimes alimentaires and types of documents (with « requis »)."""
    if request.method == "POST":
        form = FamilySettingForm(posted())
        if not form.validate():
            flash(next(iter(form.errors.values()))[0], "error")
        else:
            try:
                flash(_apply_setting(form), "success")
            except NotFound:
                abort(404)
            except DomainError as refusal:
                flash(refusal.message, "error")
        return redirect(url_for("staff_family.settings"))
    return render_template("staff/family/settings.html",
                           diets=list(Diet.select().order_by(Diet.position, Diet.name)),
                           types=list(DocumentType.select().order_by(DocumentType.position, DocumentType.name)))


def _apply_setting(form: FamilySettingForm) -> str:
    """Carry out one settings form; returns the message to show."""
    kind, name = form.kind.data, form.name.data
    if kind == "diet-add":
        family_settings.add_diet(current_user, name)
        return f"Régime « {name} » ajouté."
    if kind == "diet-toggle":
        diet = family_settings.toggle_diet(current_user, form.id.data)
        return f"Régime « {diet.name} » {'proposé' if diet.active else 'retiré de la liste'}."
    if kind == "type-add":
        family_settings.add_document_type(current_user, name, form.scope.data, form.required.data, form.health.data,
                                          form.validity_months.data)
        return f"Type de document « {name} » ajouté."
    doc_type = family_settings.toggle_required(current_user, form.id.data)
    return f"« {doc_type.name} » est désormais {'requis' if doc_type.required else 'facultatif'}."
