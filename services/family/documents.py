"""Pièces justificatives: uploads (checked by content in services.family.uploads), staff review with
validity dates, required types.

Files live in an upload directory passed in by the caller (outside static/), under random names.
"""
from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

from dateutil.relativedelta import relativedelta
from peewee import JOIN

from models import Child, DocumentType, FamilyDocument, Household, User
from models.prepared import prepared
from services.core import audit, clock, outbox, permissions
from services.core.errors import DomainError, InvalidInput, NotFound
from services.core.transactions import write_transaction
from services.family.decisions import check_decision
from services.family.uploads import check_content

STATUS_LABELS = {"pending": "En attente", "accepted": "Accepté", "refused": "Refusé"}

# The application's upload folder, set when the family blueprint is registered; views still pass
# it explicitly, this default serves the demo seed (which runs without a request).
default_upload_dir: Path | None = None


def configure(upload_dir: str | Path) -> None:
    global default_upload_dir
    default_upload_dir = Path(upload_dir)


class ReviewRefused(InvalidInput):
    """A staff decision on documents is incomplete (reason, dates)."""


def active_types(scope: str | None = None) -> list[DocumentType]:
    query = DocumentType.select().where(DocumentType.active == True)  # noqa: E712
    if scope:
        query = query.where(DocumentType.scope == scope)
    return list(query.order_by(DocumentType.position, DocumentType.name))


def qf_type() -> DocumentType:
    """The type of the attestation de quotient familial asked in the foyer step (created if missing)."""
    doc_type = DocumentType.get_or_none(DocumentType.code == "qf")
    if doc_type is None:
        doc_type = DocumentType.create(name="Attestation de quotient familial", code="qf", scope="household",
                                       validity_months=12)
    return doc_type


def upload(user: User, household: Household, doc_type_id, child_id, filename: str, content: bytes,
           upload_dir: str | Path) -> FamilyDocument:
    """Store a parent's file for the household or one of its children; it waits for staff review."""
    doc_type = DocumentType.get_or_none((DocumentType.id == _int(doc_type_id)) & (DocumentType.active == True))  # noqa: E712
    if doc_type is None:
        raise InvalidInput("Choisissez le type de document dans la liste.", field="doc_type")
    child = None
    if _int(child_id):
        child = Child.get_or_none((Child.id == _int(child_id)) & (Child.household == household)
                                  & (Child.archived == False))  # noqa: E712
        if child is None:
            raise NotFound("Enfant introuvable.", field="child")
    if doc_type.scope == "child" and child is None:
        raise InvalidInput(f"Indiquez l'enfant concerné par ce document ({doc_type.name}).", field="child")
    content_type, extension = check_content(content)
    directory = permissions.private_dir(Path(upload_dir))
    stored = secrets.token_hex(16) + extension
    path = permissions.private_file(directory / stored)  # private before a byte is written
    path.write_bytes(content)
    try:
        with write_transaction():
            document = FamilyDocument.create(
                household=household, child=child, doc_type=doc_type,
                original_name=_safe_name(filename, extension), stored_name=stored, content_type=content_type,
                size=len(content), uploaded_at=clock.local_now(), uploaded_by=user)
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return document


def _safe_name(filename: str, extension: str) -> str:
    """A display name for the download: the parent's base name, without path parts or odd characters."""
    base = Path((filename or "").replace("\\", "/")).name
    stem = "".join(c for c in Path(base).stem if c.isalnum() or c in " -_()")[:80].strip() or "document"
    return stem + extension


def _int(value) -> int | None:
    value = str(value or "").strip()
    return int(value) if value.isdigit() else None


def delete_pending(household: Household, document: FamilyDocument, upload_dir: str | Path) -> None:
    """A parent withdraws a file staff have not reviewed yet."""
    if document.household_id != household.id:
        raise NotFound("Document introuvable.")
    if document.status != "pending":
        raise DomainError("Ce document a déjà été examiné par la mairie : il ne peut plus être retiré.")
    with write_transaction():
        document.delete_instance()
    (Path(upload_dir) / document.stored_name).unlink(missing_ok=True)


def file_path(user: User, document: FamilyDocument, upload_dir: str | Path) -> Path:
    """The stored file for a download; the household's parents and staff only; PAI reads are audited."""
    if user.is_staff:
        if user.role == "cuisine":
            raise NotFound("Document introuvable.")
        if document.doc_type.health and not user.can_see_health():
            raise NotFound("Document introuvable.")
        if document.doc_type.health:
            audit.record(user, "lecture d'un document de santé", document,
                  detail=f"{document.doc_type.name} – {document.household.name}")
    elif document.household_id != user.household_id:
        raise NotFound("Document introuvable.")
    path = Path(upload_dir) / document.stored_name
    if not path.is_file():
        raise NotFound("Le fichier n'est plus disponible.")
    return path


def default_validity(document: FamilyDocument, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    today = today or clock.today()
    months = document.doc_type.validity_months or 12
    return today, today + relativedelta(months=months) - dt.timedelta(days=1)


def review(staff: User, document_ids: list[int], accept: bool, reason: str = "",
           valid_from: dt.date | None = None, valid_until: dt.date | None = None) -> int:
    """Accept (with validity dates, defaulting to the type's duration) or refuse (with a reason) documents."""
    reason = check_decision(document_ids, accept, reason, "Cochez au moins un document.")
    if valid_from and valid_until and valid_until < valid_from:
        raise ReviewRefused("La fin de validité doit suivre le début.", field="valid_until")
    decided = []
    with write_transaction():
        for document in FamilyDocument.select().where(FamilyDocument.id.in_(document_ids)
                                                      & (FamilyDocument.status == "pending")):
            if accept:
                start, end = default_validity(document)
                document.valid_from, document.valid_until = valid_from or start, valid_until or end
                document.status, document.refusal_reason = "accepted", ""
            else:
                document.status, document.refusal_reason = "refused", reason
            document.reviewed_at, document.reviewed_by = clock.local_now(), staff
            document.save()
            audit.record(staff, "document accepté" if accept else "document refusé", document,
                  detail=f"{document.doc_type.name} – {document.household.name}" + (f" (motif : {reason})" if reason else ""))
            decided.append(document)
        for document in decided:
            for address in document.household.parent_emails():
                if accept:
                    outbox.send(address, "Votre document a été accepté",
                                f"Bonjour,\n\nLa mairie a accepté votre document « {document.doc_type.name} ». "
                                f"Il est valide du {document.valid_from:%d/%m/%Y} au {document.valid_until:%d/%m/%Y}.\n")
                else:
                    outbox.send(address, "Votre document a été refusé",
                                f"Bonjour,\n\nLa mairie a refusé votre document « {document.doc_type.name} ». "
                                f"Motif : {reason}\nVous pouvez en envoyer un autre depuis « Mes documents ».\n")
    return len(decided)


def _without_health(query, with_health: bool):
    """Health document types (PAI, medical papers) are hidden from roles without health access."""
    if with_health:
        return query
    return query.join(DocumentType).where(DocumentType.health == False)  # noqa: E712


def documents_of(household: Household, with_health: bool = True) -> list[FamilyDocument]:
    """The household's documents, newest first (health ones only for roles allowed to see them)."""
    if with_health:  # the parents' pages, the home page among them: SQL composed once
        return _documents_of(household.id)
    return list(_documents_query(household, with_health))


def _documents_query(household, with_health: bool = True):
    query = FamilyDocument.select(FamilyDocument).where(FamilyDocument.household == household)
    return _without_health(query, with_health).order_by(FamilyDocument.uploaded_at.desc(), FamilyDocument.id.desc())


@prepared
def _documents_of(household):
    return _documents_query(household)


def is_valid(document: FamilyDocument, today: dt.date) -> bool:
    return (document.status == "accepted" and (document.valid_from is None or document.valid_from <= today)
            and (document.valid_until is None or document.valid_until >= today))


def required_types(with_health: bool = True) -> list[DocumentType]:
    """The active required document types, in their order (health ones only for roles allowed to see them)."""
    return _required_types() if with_health else _required_types_without_health()


def _required_types_query():
    return (DocumentType.select().where((DocumentType.required == True) & (DocumentType.active == True))  # noqa: E712
            .order_by(DocumentType.position))


@prepared
def _required_types():
    return _required_types_query()


@prepared
def _required_types_without_health():
    return _required_types_query().where(DocumentType.health == False)  # noqa: E712


def missing_required(household: Household, today: dt.date | None = None,
                     with_health: bool = True) -> list[tuple[DocumentType, Child | None]]:
    """Required types with no accepted document valid today: (type, None) for the household, (type, child)."""
    types = required_types(with_health)
    children = household.children_in_file() if any(t.scope == "child" for t in types) else []
    return missing_among(types, children, documents_of(household), today or clock.today())


def missing_among(types: list[DocumentType], children: list[Child], documents: list[FamilyDocument],
                  today: dt.date) -> list[tuple[DocumentType, Child | None]]:
    """missing_required on what the caller already read: the types, the children in the file, the documents."""
    missing = []
    for doc_type in types:
        for child in (children if doc_type.scope == "child" else [None]):
            if child is not None and child.unborn:
                continue
            if not any(d.doc_type_id == doc_type.id and d.child_id == (child.id if child else None)
                       and is_valid(d, today) for d in documents):
                missing.append((doc_type, child))
    return missing


def pending_documents(with_health: bool = True) -> list[FamilyDocument]:
    """Documents waiting for a decision, oldest first (health ones only for roles allowed to see them),
    with their type, household and child: one query for the whole queue."""
    query = (FamilyDocument.select(FamilyDocument, DocumentType, Household, Child)
             .join(DocumentType, attr="doc_type").switch(FamilyDocument)
             .join(Household, attr="household").switch(FamilyDocument)
             .join(Child, JOIN.LEFT_OUTER, on=(FamilyDocument.child == Child.id), attr="child")
             .where(FamilyDocument.status == "pending"))
    if not with_health:
        query = query.where(DocumentType.health == False)  # noqa: E712
    return list(query.order_by(FamilyDocument.uploaded_at))


def pending_count(with_health: bool = True) -> int:
    """How many documents wait for a decision (as pending_documents, counted by the database)."""
    query = FamilyDocument.select(FamilyDocument).where(FamilyDocument.status == "pending")
    return _without_health(query, with_health).count()
