"""Helpers shared by the family views (parent side) and the staff side of household files."""
from __future__ import annotations

from flask import current_app, flash, redirect, request, send_file, url_for

from models import FamilyDocument
from services.family import household as rules
from services.family import household_fields as fields


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


def contact_rows() -> list[dict]:
    """The contact rows posted with a fiche enfant (contact-0-name…), empty ones included."""
    return [{name: request.form.get(f"contact-{i}-{name}", "") for name in ("kind", "name", "relation", "phone")}
            for i in range(fields.MAX_CONTACTS)]


def send_document(document: FamilyDocument, path):
    """A stored file as an attachment, never rendered inline by the browser."""
    response = send_file(path, mimetype=document.content_type, as_attachment=True,
                         download_name=document.original_name or "document")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
