"""The categories of /documents (Menus, Tarifs, Règlements de fonctionnement…), managed by the
administrator: add, rename, move up or down, delete (refused while documents use one)."""
from __future__ import annotations

from models import PublicationCategory, PublishedDocument, User
from services.core import audit
from services.core.errors import DomainError, InvalidInput, NotFound
from services.core.transactions import write_transaction

DEFAULTS = ["Menus", "Tarifs", "Règlements de fonctionnement", "Inscriptions", "Projets pédagogiques"]


def all_categories() -> list[PublicationCategory]:
    return list(PublicationCategory.select().order_by(PublicationCategory.position, PublicationCategory.name))


def ensure_defaults() -> None:
    """The five usual categories, when there are none (migration 015 creates them in a real database)."""
    if not PublicationCategory.select().exists():
        for position, name in enumerate(DEFAULTS, start=1):
            PublicationCategory.create(name=name, position=position)


def get_category(category_id: int) -> PublicationCategory:
    category = PublicationCategory.get_or_none(PublicationCategory.id == category_id)
    if category is None:
        raise NotFound("Catégorie introuvable.")
    return category


def _check_name(name: str, category_id: int = 0) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("Indiquez le nom de la catégorie (par exemple « Menus »).", field="name")
    others = PublicationCategory.select().where(PublicationCategory.id != category_id)
    if any(other.name.casefold() == name.casefold() for other in others):
        raise InvalidInput(f"Une catégorie s'appelle déjà « {name} ».", field="name")
    return name


def add_category(admin: User, name: str) -> PublicationCategory:
    """A new category, at the end of the list."""
    with write_transaction():
        name = _check_name(name)
        last = PublicationCategory.select(PublicationCategory.position).order_by(
            PublicationCategory.position.desc()).first()
        category = PublicationCategory.create(name=name, position=(last.position if last else 0) + 1)
        audit.record(admin, "catégorie de documents ajoutée", category, name)
    return category


def rename_category(admin: User, category: PublicationCategory, name: str) -> PublicationCategory:
    with write_transaction():
        name = _check_name(name, category.id)
        PublicationCategory.update(name=name).where(PublicationCategory.id == category.id).execute()
        audit.record(admin, "catégorie de documents renommée", category, f"{category.name} → {name}")
    return get_category(category.id)


def move_category(admin: User, category: PublicationCategory, direction: str) -> None:
    """Swap with the previous (« up ») or next (« down ») category; positions are renumbered 1…n."""
    with write_transaction():
        ordered = all_categories()
        index = next(i for i, row in enumerate(ordered) if row.id == category.id)
        other = index - 1 if direction == "up" else index + 1
        if direction in ("up", "down") and 0 <= other < len(ordered):
            ordered[index], ordered[other] = ordered[other], ordered[index]
        for position, row in enumerate(ordered, start=1):
            PublicationCategory.update(position=position).where(PublicationCategory.id == row.id).execute()
        audit.record(admin, "catégories de documents réordonnées", category, category.name)


def delete_category(admin: User, category: PublicationCategory) -> None:
    """Refused while a document (even withdrawn) uses it: move or delete those documents first."""
    with write_transaction():
        used = PublishedDocument.select().where(PublishedDocument.category == category.id).count()
        if used:
            raise DomainError(f"La catégorie « {category.name} » contient {used} document(s) : changez-les de "
                              "catégorie avant de la supprimer.")
        PublicationCategory.delete().where(PublicationCategory.id == category.id).execute()
        audit.record(admin, "catégorie de documents supprimée", None, category.name)
