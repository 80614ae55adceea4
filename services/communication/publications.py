"""Published documents (/documents): files by category with their date, for the same audiences and
windows as the news; a household's opening marks one read, so each category counts its new ones."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from peewee import JOIN

from models import Activity, Household, PublicationCategory, PublicationRead, PublishedDocument, School, User
from models.prepared import prepared
from services.communication import files, publishing
from services.communication.audience import (HouseholdAudience, audience_condition, check_audience, check_window,
                                              household_audience, published_at, visible_to)
from services.communication.news import Draft
from services.core import clock
from services.core.errors import InvalidInput, NotFound
from services.core.transactions import write_transaction

WORDING = publishing.Wording("document publié", "document publié modifié", "document republié", "document dépublié")


@dataclass(frozen=True)
class DocumentRow:
    document: PublishedDocument
    new: bool


@dataclass(frozen=True)
class CategoryRow:
    category: PublicationCategory
    rows: list[DocumentRow]

    @property
    def new_count(self) -> int:
        return sum(1 for row in self.rows if row.new)


def _visible(household: Household, audience: HouseholdAudience | None = None):
    if audience is None:
        audience = household_audience(household)
    return PublishedDocument.select().where(visible_to(PublishedDocument, audience, clock.local_now()))


def _read_ids(household: Household) -> set[int]:
    return {row.document_id for row in PublicationRead.select(PublicationRead.document)
            .where(PublicationRead.household == household)}


def documents_for(household: Household) -> list[CategoryRow]:
    """The categories that hold documents for the household, in the administrator's order, each with its
    documents (newest date first) marked new or read."""
    read = _read_ids(household)
    documents = _visible(household).order_by(PublishedDocument.document_date.desc(), PublishedDocument.id.desc())
    by_category: dict[int, list[DocumentRow]] = {}
    for document in documents:
        by_category.setdefault(document.category_id, []).append(DocumentRow(document, document.id not in read))
    categories = PublicationCategory.select().order_by(PublicationCategory.position, PublicationCategory.name)
    return [CategoryRow(category, by_category[category.id]) for category in categories if category.id in by_category]


def document_for(household: Household, document_id: int) -> PublishedDocument:
    """A document the household may open; NotFound for any other."""
    document = _visible(household).where(PublishedDocument.id == document_id).first()
    if document is None:
        raise NotFound("Document introuvable.")
    return document


def mark_read(household: Household, document: PublishedDocument) -> None:
    with write_transaction():
        PublicationRead.insert(document=document, household=household, read_at=clock.local_now()) \
            .on_conflict_ignore().execute()


def new_documents(household: Household, limit: int = 5,
                  audience: HouseholdAudience | None = None) -> list[PublishedDocument]:
    """The household's documents not opened yet, newest published first (for the home page): one query."""
    if audience is None:
        audience = household_audience(household)
    return _unread_documents(household.id, clock.local_now(), *audience.values(), limit)


@prepared
def _unread_documents(household, now, schools, activities, levels, level_schools, limit):
    read = PublicationRead.select(PublicationRead.document).where(PublicationRead.household == household)
    return (PublishedDocument.select(PublishedDocument, PublicationCategory).join(PublicationCategory)
            .where(published_at(PublishedDocument, now)
                   & audience_condition(PublishedDocument, schools, activities, levels, level_schools)
                   & PublishedDocument.id.not_in(read))
            .order_by(PublishedDocument.publish_from.desc(), PublishedDocument.id.desc()).limit(limit))


# --- Staff -----------------------------------------------------------------------------------------

def all_documents() -> list[PublishedDocument]:
    """Every published document for the staff list, newest first (category, school, activity joined)."""
    return list(PublishedDocument.select(PublishedDocument, PublicationCategory, School, Activity)
                .join(PublicationCategory).switch(PublishedDocument).join(School, JOIN.LEFT_OUTER)
                .switch(PublishedDocument).join(Activity, JOIN.LEFT_OUTER)
                .order_by(PublishedDocument.publish_from.desc(), PublishedDocument.id.desc()))


def get_document(document_id: int) -> PublishedDocument:
    document = PublishedDocument.get_or_none(PublishedDocument.id == document_id)
    if document is None:
        raise NotFound("Document introuvable.")
    return document


def save_document(staff: User, draft: Draft, category_id: int | None,
                  document_date: dt.date | None, upload_dir: str | Path, upload: tuple[str, bytes] | None = None,
                  document: PublishedDocument | None = None) -> PublishedDocument:
    """Publish a file (a new document needs one; an edit may replace it) under a category."""
    if not draft.title.strip():
        raise InvalidInput("Donnez un titre au document (par exemple « Menus de décembre »).", field="title")
    category = PublicationCategory.get_or_none(PublicationCategory.id == category_id) if category_id else None
    if category is None:
        raise InvalidInput("Choisissez la catégorie du document.", field="category")
    if document is None and upload is None:
        raise InvalidInput("Joignez le fichier à publier (PDF, JPEG ou PNG, 10 Mo au plus).", field="file")
    audience = check_audience(draft.audience, draft.school_id, draft.activity_id, draft.class_level)
    now = clock.local_now()
    start, until = check_window(draft.publish_from, draft.publish_until, now)
    values = dict(title=draft.title.strip(), category=category, document_date=document_date or now.date(),
                  audience=audience.audience, school=audience.school, activity=audience.activity,
                  class_level=audience.class_level, publish_from=start, publish_until=until, updated_at=now)
    stored, old_file = None, ""
    if upload is not None:
        stored = files.store(upload_dir, upload[0], upload[1])
        values.update(stored_name=stored[0], original_name=stored[1], content_type=stored[2], size=len(upload[1]))
        old_file = document.stored_name if document is not None else ""
    return publishing.save(staff, PublishedDocument, document, values, upload_dir, stored, old_file, WORDING)


def set_published(staff: User, document: PublishedDocument, published: bool) -> PublishedDocument:
    """« Dépublier » / « Republier » a document."""
    return publishing.set_published(staff, PublishedDocument, document, published, WORDING)


def file_path(document: PublishedDocument, upload_dir: str | Path) -> Path:
    return files.path_of(upload_dir, document.stored_name)
