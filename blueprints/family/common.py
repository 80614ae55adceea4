"""Helpers shared by the family views (parent side) and the staff side of household files."""
from __future__ import annotations

from flask import current_app, flash, redirect, request, send_file, url_for
from werkzeug.datastructures import CombinedMultiDict

from blueprints.family.forms import ChildIdentityForm, ChildRecordForm, contact_forms
from models import Child, FamilyDocument, School
from services.family import household as rules


def upload_dir() -> str:
    return current_app.config["UPLOAD_DIR"]


def pending_by_target(household) -> dict:
    """Pending changes grouped by what they change: "household", ("guardian", id), ("child", id), "new"."""
    grouped: dict = {}
    for change in rules.pending_changes(household):
        if change.action in ("add_child", "add_guardian"):
            key = "new"
        elif change.target == "household":
            key = "household"
        else:
            key = (change.target, change.guardian_id or change.child_id)
        grouped.setdefault(key, []).append(change)
    return grouped


def edit_result(result: str):
    """The message and redirect after a parent's edit: applied, sent to the mairie, or unchanged."""
    if result == "requested":
        flash("Votre modification a été transmise à la mairie : elle apparaît « En attente de validation ».",
              "success")
    elif result == "unchanged":
        flash("Aucune modification : les informations sont identiques.", "info")
    else:
        flash("Vos informations ont été enregistrées.", "success")
    return redirect(url_for("family.account"))


def require_validated(household):
    """A redirect to Mon compte while the file waits for the mairie; None once it is validated."""
    if household.status not in rules.VALIDATED_STATUSES:
        flash("Votre dossier est en attente de validation par la mairie : vous pourrez le modifier une fois validé.",
              "warning")
        return redirect(url_for("family.account"))
    return None


def posted():
    """What the browser posted, files included, for a form to parse; None on GET (it shows stored values)."""
    if request.method != "POST":
        return None
    return CombinedMultiDict([request.form, request.files]) if request.files else request.form


def bound(form_class, obj=None, show_stored: bool = False, **kwargs):
    """A form parsing what was posted, or on GET showing the stored values of obj.

    A field missing from a post is empty (a parent's edit clears it, as an empty field would); with
    show_stored it shows the stored value instead (staff edits refuse a missing field, and the page
    shown again must not offer to clear it)."""
    data = posted()
    return form_class(data, obj=obj if data is None or show_stored else None, **kwargs)


def send_document(document: FamilyDocument, path):
    """A stored file as an attachment, never rendered inline by the browser."""
    response = send_file(path, mimetype=document.content_type, as_attachment=True,
                         download_name=document.original_name or "document")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def record_forms(child: Child | None, show_stored: bool = False):
    """Identity, fiche and contact rows of a child: what was posted, or on GET its stored values."""
    identity, fiche = bound(ChildIdentityForm, child, show_stored), bound(ChildRecordForm, child, show_stored)
    fiche.set_choices(School.select().order_by(School.name), rules.active_diets())
    if posted() is None and child is not None:
        fiche.school.data, fiche.diet.data = str(child.school_id or ""), str(child.diet_id or "")
    fiche.limit_classes()
    return identity, fiche, contact_forms(posted(), rules.contacts_of(child) if child is not None else [])
