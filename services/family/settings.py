"""The lists staff manage for household files: régimes alimentaires and types of documents (« requis »).
Every change is written to the audit log."""
from __future__ import annotations

from models import Diet, DocumentType, User
from services.core import audit
from services.core.errors import InvalidInput, NotFound
from services.core.transactions import write_transaction


def add_diet(staff: User, name: str) -> Diet:
    with write_transaction():
        if Diet.get_or_none(Diet.name == name):
            raise InvalidInput("Ce régime existe déjà.")
        diet = Diet.create(name=name, position=Diet.select().count() + 1)
        audit.record(staff, "régime alimentaire ajouté", diet, detail=name)
    return diet


def toggle_diet(staff: User, diet_id: int | None) -> Diet:
    """Offer a diet again, or take it off the list (children who have it keep it)."""
    return _flip(staff, Diet, diet_id, "active", "Régime introuvable.",
                 ("régime alimentaire retiré", "régime alimentaire proposé"))


def add_document_type(staff: User, name: str, scope: str, required: bool, health: bool,
                      validity_months: int | None) -> DocumentType:
    """A new type of document, for the household or for each child, valid 1 to 120 months (12 by default)."""
    with write_transaction():
        if DocumentType.get_or_none(DocumentType.name == name):
            raise InvalidInput("Ce type de document existe déjà.")
        doc_type = DocumentType.create(
            name=name, scope="child" if scope == "child" else "household", required=required, health=health,
            validity_months=max(1, min(validity_months or 12, 120)), position=DocumentType.select().count() + 1)
        audit.record(staff, "type de document ajouté", doc_type, detail=name)
    return doc_type


def toggle_required(staff: User, type_id: int | None) -> DocumentType:
    """A required type is listed as missing to every family until accepted; or it becomes optional."""
    return _flip(staff, DocumentType, type_id, "required", "Type de document introuvable.",
                 ("type de document facultatif", "type de document requis"))


def _flip(staff: User, model, row_id: int | None, attribute: str, missing: str, actions: tuple[str, str]):
    """Turn over a yes/no attribute of one row; the audit log reads actions[False] or actions[True]."""
    with write_transaction():
        row = model.get_or_none(model.id == (row_id or 0))
        if row is None:
            raise NotFound(missing)
        setattr(row, attribute, not getattr(row, attribute))
        row.save()
        audit.record(staff, actions[getattr(row, attribute)], row)
    return row
