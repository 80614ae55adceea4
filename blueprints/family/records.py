"""The parent's fiche enfant pages and documents (« Suivi de document »)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.access import current_household, owned_or_404
from blueprints.family import bp
from blueprints.family.common import (
    edit_result,
    pending_by_target,
    posted,
    record_forms,
    require_validated,
    send_document,
    upload_dir,
)
from blueprints.family.forms import DocumentForm, attach_errors, child_values
from models import Child, FamilyDocument
from services.booking import school_year
from services.core.errors import DomainError
from services.family import documents
from services.family import household as rules
from services.family import household_changes as changes
from services.family import household_fields as fields

# --- Fiche enfant -------------------------------------------------------------------------------


@bp.get("/mon-compte/enfants/<int:child_id>")
def child(child_id):
    record = owned_or_404(Child, child_id)
    if record.archived:
        abort(404)
    household = current_household()
    return render_template("family/child.html", child=record, household=household,
                           contacts=rules.contacts_of(record), pending=pending_by_target(household),
                           rules=rules, editable=household.status in rules.VALIDATED_STATUSES,
                           due=school_year.recertification_due(record), year_label=school_year.year_label,
                           documents=[d for d in documents.documents_of(household) if d.child_id == record.id])


@bp.route("/mon-compte/enfants/<int:child_id>/modifier", methods=["GET", "POST"])
@bp.route("/mon-compte/enfants/nouveau", methods=["GET", "POST"], defaults={"child_id": None})
def edit_child(child_id):
    household = current_household()
    record = owned_or_404(Child, child_id) if child_id else None
    if record is not None and record.archived:
        abort(404)
    if (leave := require_validated(household)) is not None:
        return leave
    identity, fiche, contacts = record_forms(record)
    if request.method == "POST":
        error = ""
        if all([form.validate() for form in (identity, fiche, *contacts)]):
            try:
                return edit_result(changes.change_child(household, current_user, record,
                                                        child_values(identity, fiche, contacts)))
            except fields.FileInvalid as invalid:
                error = " ".join(attach_errors([identity, fiche], invalid.errors))
        return render_template("family/edit_child.html", child=record, identity=identity, fiche=fiche,
                               contacts=contacts, error=error), 400
    return render_template("family/edit_child.html", child=record, identity=identity, fiche=fiche,
                           contacts=contacts)


@bp.post("/mon-compte/enfants/<int:child_id>/certifier")
def certify_child(child_id):
    record = owned_or_404(Child, child_id)
    if record.archived:
        abort(404)
    year = school_year.certify(current_household(), current_user, record)
    flash(f"Merci : vous avez certifié exactes les informations de {record.first_name or 'votre enfant'} "
          f"pour {school_year.year_label(year)}.", "success")
    return redirect(url_for("family.child", child_id=record.id))


@bp.post("/mon-compte/enfants/<int:child_id>/supprimer")
def remove_child(child_id):
    record = owned_or_404(Child, child_id)
    try:
        result = changes.request_child_removal(current_household(), current_user, record)
    except DomainError as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("family.account"))
    return edit_result(result)


# --- Documents (« Suivi de document ») ---------------------------------------------------------


def _document_form() -> DocumentForm:
    form = DocumentForm(posted())
    form.set_choices(documents.active_types(), current_household().children_in_file())
    return form


def _documents_page(form: DocumentForm, status: int = 200, error: str = ""):
    household = current_household()
    return render_template("family/documents.html", form=form, household=household, error=error,
                           documents=documents.documents_of(household), today=documents.clock.today(),
                           missing=documents.missing_required(household), labels=documents.STATUS_LABELS,
                           types=documents.active_types()), status


@bp.route("/mon-compte/documents", methods=["GET", "POST"])
def documents_page():
    if request.method == "GET":
        form = _document_form()
        form.doc_type.data = request.args.get("type", "")
        form.child.data = request.args.get("enfant", "")
        return _documents_page(form)
    form = _document_form()
    if not form.validate():
        return _documents_page(form, 400)
    try:
        documents.upload(current_user, current_household(), form.doc_type.data, form.child.data, *form.file.data,
                         upload_dir())
    except DomainError as refusal:
        extra = attach_errors([form], {refusal.field or "file": refusal.message})
        return _documents_page(form, 400, error=" ".join(extra))
    flash("Votre document a été envoyé : il est « En attente » de vérification par la mairie.", "success")
    return redirect(url_for("family.documents_page"))


@bp.get("/mon-compte/documents/<int:document_id>/fichier")
def download(document_id):
    document = owned_or_404(FamilyDocument, document_id)
    try:
        path = documents.file_path(current_user, document, upload_dir())
    except DomainError:
        abort(404)
    return send_document(document, path)


@bp.post("/mon-compte/documents/<int:document_id>/supprimer")
def delete_document(document_id):
    document = owned_or_404(FamilyDocument, document_id)
    try:
        documents.delete_pending(current_household(), document, upload_dir())
    except DomainError as refusal:
        flash(refusal.message, "error")
    else:
        flash("Le document a été retiré.", "success")
    return redirect(url_for("family.documents_page"))
