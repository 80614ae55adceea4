"""Staff side of household files (/gestion): queues, search, the file, direct edits, documents, settings."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.access import staff_required
from blueprints.family.common import contact_rows, send_document
from blueprints.family.forms import (
    ChildIdentityForm,
    ChildRecordForm,
    ContactForm,
    FoyerForm,
    GuardianForm,
    attach_errors,
)
from blueprints.staff import DASHBOARD_QUEUES
from models import ChangeRequest, Child, Diet, DocumentType, FamilyDocument, Guardian, Household, School
from services.core import audit
from services.core.errors import DomainError
from services.core.transactions import write_transaction
from services.family import documents
from services.family import household as rules
from services.family import household_changes as changes
from services.family import household_fields as fields
from services.family import household_review as review

bp = Blueprint("staff_family", __name__, url_prefix="/gestion")

READERS = ("agent", "regisseur")  # admin always passes; the kitchen sees headcounts only
DECIDERS = ("agent",)


def _ids() -> list[int]:
    return [int(v) for v in request.form.getlist("ids") if v.isdigit()]


def _accepting() -> bool | None:
    return {"accept": True, "refuse": False}.get(request.form.get("decision", ""))


def _household_or_404(household_id: int) -> Household:
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
                   len(documents.pending_documents(current_user.can_see_health()))),
    lambda: _queue("Demandes de suppression de compte", "staff_family.closures_queue",
                   Household.select().where(Household.status == "closing_requested").count()),
])


# --- Households: search and file ---------------------------------------------------------------


@bp.get("/familles")
@staff_required(*READERS)
def households():
    query = request.args.get("q", "")[:100]
    status = request.args.get("statut", "")
    if status not in review.STATUS_LABELS:
        status = ""
    found = review.search_households(query, status)
    return render_template("staff/family/households.html", households=found, q=query, status=status,
                           labels=review.STATUS_LABELS)


@bp.get("/familles/<int:household_id>")
@staff_required(*READERS)
def household(household_id):
    household = _household_or_404(household_id)
    health = current_user.can_see_health()
    children = household.children_in_file(include_archived=True)
    return render_template(
        "staff/family/household.html", household=household, guardians=rules.guardians_of(household),
        children=children, contacts={c.id: rules.contacts_of(c) for c in children},
        changes=rules.pending_changes(household), documents=documents.documents_of(household, health),
        missing=documents.missing_required(household, with_health=health), needs=rules.needs_labels(household), rules=rules,
        labels=review.STATUS_LABELS, doc_labels=documents.STATUS_LABELS, show_health=current_user.can_see_health(),
        health_fields=fields.HEALTH_FIELDS, users=list(household.users))


def _decide(decide, ids, **kwargs):
    accept = _accepting()
    if accept is None:
        flash("Choisissez « Accepter » ou « Refuser ».", "error")
        return False
    try:
        count = decide(current_user, ids, accept, request.form.get("reason", ""), **kwargs)
    except DomainError as refusal:
        flash(refusal.message, "error")
        return False
    flash(f"{count} {'acceptée(s)' if accept else 'refusée(s)'} ; les familles ont été prévenues par e-mail.",
          "success")
    return True


@bp.post("/familles/<int:household_id>/decision")
@staff_required(*DECIDERS)
def decide_household(household_id):
    household = _household_or_404(household_id)
    _decide(review.decide_files, [household.id])
    return redirect(url_for("staff_family.household", household_id=household.id))


# --- Queues with bulk decisions -------------------------------------------------------------------


@bp.route("/dossiers-a-valider", methods=["GET", "POST"])
@staff_required(*READERS)
def files_queue():
    if request.method == "POST":
        if current_user.role not in DECIDERS + ("admin",):
            abort(403)
        _decide(review.decide_files, _ids())
        return redirect(url_for("staff_family.files_queue"))
    waiting = Household.select().where(Household.status == "submitted").order_by(Household.submitted_at)
    return render_template("staff/family/files_queue.html", households=list(waiting), rules=rules)


@bp.route("/modifications", methods=["GET", "POST"])
@staff_required(*READERS)
def changes_queue():
    if request.method == "POST":
        if current_user.role not in DECIDERS + ("admin",):
            abort(403)
        _decide(changes.decide_changes, _ids())
        household_id = request.form.get("household_id", type=int)
        if household_id:
            return redirect(url_for("staff_family.household", household_id=household_id))
        return redirect(url_for("staff_family.changes_queue"))
    waiting = ChangeRequest.select().where(ChangeRequest.status == "pending").order_by(ChangeRequest.created_at)
    return render_template("staff/family/changes_queue.html", changes=list(waiting), rules=rules,
                           show_health=current_user.can_see_health(), health_fields=fields.HEALTH_FIELDS)


@bp.route("/documents", methods=["GET", "POST"])
@staff_required(*READERS)
def documents_queue():
    if request.method == "POST":
        if current_user.role not in DECIDERS + ("admin",):
            abort(403)
        try:
            valid_from = fields.parse_date(request.form.get("valid_from"))
            valid_until = fields.parse_date(request.form.get("valid_until"))
        except ValueError:
            flash("Dates de validité invalides : utilisez le format jj/mm/aaaa.", "error")
            return redirect(url_for("staff_family.documents_queue"))
        _decide(documents.review, _ids(), valid_from=valid_from, valid_until=valid_until)
        return redirect(url_for("staff_family.documents_queue"))
    return render_template("staff/family/documents_queue.html",
                           documents=documents.pending_documents(current_user.can_see_health()),
                           show_health=current_user.can_see_health())


@bp.route("/suppressions-de-compte", methods=["GET", "POST"])
@staff_required(*READERS)
def closures_queue():
    if request.method == "POST":
        if current_user.role not in DECIDERS + ("admin",):
            abort(403)
        _decide(review.decide_closures, _ids())
        return redirect(url_for("staff_family.closures_queue"))
    waiting = Household.select().where(Household.status == "closing_requested").order_by(Household.closing_requested_at)
    return render_template("staff/family/closures_queue.html", households=list(waiting))


@bp.get("/documents/<int:document_id>/fichier")
@staff_required(*READERS)
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
@staff_required(*DECIDERS)
def edit_foyer(household_id):
    household = _household_or_404(household_id)
    form = FoyerForm(request.form if request.method == "POST" else None, obj=household)
    if request.method == "POST":
        try:
            return _edited(review.staff_edit_household(current_user, household, request.form), household)
        except fields.FileInvalid as invalid:
            attach_errors({"": form}, invalid.errors)
            return render_template("staff/family/edit_foyer.html", form=form, household=household), 400
    if household.quotient_familial is not None:
        form.quotient_familial.data = str(household.quotient_familial)
    return render_template("staff/family/edit_foyer.html", form=form, household=household)


@bp.route("/familles/<int:household_id>/responsables/<int:guardian_id>", methods=["GET", "POST"])
@staff_required(*DECIDERS)
def edit_guardian(household_id, guardian_id):
    household = _household_or_404(household_id)
    guardian = Guardian.get_or_none((Guardian.id == guardian_id) & (Guardian.household == household))
    if guardian is None:
        abort(404)
    form = GuardianForm(request.form if request.method == "POST" else None, obj=guardian)
    if request.method == "POST":
        try:
            return _edited(review.staff_edit_guardian(current_user, guardian, request.form), household)
        except fields.FileInvalid as invalid:
            attach_errors({"": form}, invalid.errors)
            return render_template("staff/family/edit_guardian.html", form=form, household=household,
                                   guardian=guardian), 400
    return render_template("staff/family/edit_guardian.html", form=form, household=household, guardian=guardian)


@bp.route("/familles/<int:household_id>/enfants/<int:child_id>", methods=["GET", "POST"])
@staff_required(*DECIDERS)
def edit_child(household_id, child_id):
    household = _household_or_404(household_id)
    child = Child.get_or_none((Child.id == child_id) & (Child.household == household))
    if child is None:
        abort(404)
    with_post = request.method == "POST"
    data = request.form if with_post else None
    identity, fiche = ChildIdentityForm(data, obj=child), ChildRecordForm(data, obj=child)
    fiche.set_choices(School.select().order_by(School.name), rules.active_diets())
    existing = rules.contacts_of(child)
    contacts = [ContactForm(data, obj=existing[i] if i < len(existing) and not with_post else None,
                            prefix=f"contact-{i}") for i in range(max(len(existing) + 1, 2) if not with_post
                                                                   else fields.MAX_CONTACTS)]
    show_health = current_user.can_see_health()
    if not with_post:
        identity.birth_date.data = child.birth_date.isoformat() if child.birth_date else ""
        identity.expected_date.data = child.expected_date.isoformat() if child.expected_date else ""
        fiche.school.data, fiche.diet.data = str(child.school_id or ""), str(child.diet_id or "")
    else:
        try:
            return _edited(review.staff_edit_child(current_user, child, request.form, request.form,
                                                   contact_rows(), show_health), household)
        except fields.FileInvalid as invalid:
            attach_errors({"": identity}, {k: v for k, v in invalid.errors.items() if k in identity._fields})
            attach_errors({"": fiche}, {k: v for k, v in invalid.errors.items() if k in fiche._fields})
            attach_errors({f"contact-{i}-": c for i, c in enumerate(contacts)},
                          {k: v for k, v in invalid.errors.items() if k.startswith("contact")})
            return render_template("staff/family/edit_child.html", household=household, child=child,
                                   identity=identity, fiche=fiche, contacts=contacts, show_health=show_health), 400
    return render_template("staff/family/edit_child.html", household=household, child=child, identity=identity,
                           fiche=fiche, contacts=contacts, show_health=show_health)


# --- Settings: diets and document types ----------------------------------------------------------


@bp.route("/parametres-familles", methods=["GET", "POST"])
@staff_required(*DECIDERS)
def settings():
    """The staff-managed lists: régimes alimentaires and types of documents (with « requis »)."""
    if request.method == "POST":
        try:
            message = _apply_setting(request.form)
        except DomainError as refusal:
            flash(refusal.message, "error")
        else:
            flash(message, "success")
        return redirect(url_for("staff_family.settings"))
    return render_template("staff/family/settings.html",
                           diets=list(Diet.select().order_by(Diet.position, Diet.name)),
                           types=list(DocumentType.select().order_by(DocumentType.position, DocumentType.name)))


def _apply_setting(form) -> str:
    from services.core.errors import InvalidInput

    kind = form.get("kind")
    name = " ".join((form.get("name") or "").split())[:80]
    with write_transaction():
        if kind == "diet-add":
            if not name:
                raise InvalidInput("Indiquez le nom du régime.")
            if Diet.get_or_none(Diet.name == name):
                raise InvalidInput("Ce régime existe déjà.")
            diet = Diet.create(name=name, position=Diet.select().count() + 1)
            audit.record(current_user, "régime alimentaire ajouté", diet, detail=name)
            return f"Régime « {name} » ajouté."
        if kind == "diet-toggle":
            diet = Diet.get_or_none(Diet.id == (form.get("id", type=int) or 0))
            if diet is None:
                abort(404)
            diet.active = not diet.active
            diet.save()
            audit.record(current_user, "régime alimentaire " + ("proposé" if diet.active else "retiré"), diet)
            return f"Régime « {diet.name} » {'proposé' if diet.active else 'retiré de la liste'}."
        if kind == "type-add":
            if not name:
                raise InvalidInput("Indiquez le nom du type de document.")
            if DocumentType.get_or_none(DocumentType.name == name):
                raise InvalidInput("Ce type de document existe déjà.")
            months = form.get("validity_months", type=int) or 12
            doc_type = DocumentType.create(
                name=name, scope="child" if form.get("scope") == "child" else "household",
                required=form.get("required") == "y", health=form.get("health") == "y",
                validity_months=max(1, min(months, 120)), position=DocumentType.select().count() + 1)
            audit.record(current_user, "type de document ajouté", doc_type, detail=name)
            return f"Type de document « {name} » ajouté."
        if kind == "type-required":
            doc_type = DocumentType.get_or_none(DocumentType.id == (form.get("id", type=int) or 0))
            if doc_type is None:
                abort(404)
            doc_type.required = not doc_type.required
            doc_type.save()
            audit.record(current_user, "type de document " + ("requis" if doc_type.required else "facultatif"), doc_type)
            return f"« {doc_type.name} » est désormais {'requis' if doc_type.required else 'facultatif'}."
    raise InvalidInput("Action inconnue.")
