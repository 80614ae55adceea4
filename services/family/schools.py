"""The commune's schools (/gestion/ecoles): name, address and the class levels each one teaches."""
from __future__ import annotations

from dataclasses import dataclass

from peewee import fn

from models import Child, School, User
from services.core import audit
from services.core.errors import InvalidInput, NotFound
from services.core.transactions import write_transaction
from services.family.household_fields import CLASS_LEVELS


@dataclass(frozen=True)
class SchoolRow:
    school: School
    children: int  # children of the file attending it (archived ones left out)


def school_rows() -> list[SchoolRow]:
    """Every school by name, with its number of children (two queries)."""
    counts = dict(Child.select(Child.school, fn.COUNT(Child.id)).where(Child.school.is_null(False) & ~Child.archived)
                  .group_by(Child.school).tuples())
    return [SchoolRow(school, counts.get(school.id, 0)) for school in School.select().order_by(School.name)]


def get_school(school_id: int) -> School:
    school = School.get_or_none(School.id == school_id)
    if school is None:
        raise NotFound("École introuvable.")
    return school


def save_school(staff: User, name: str, address: str, classes: list[str], school: School | None = None) -> School:
    """Create or update a school (values checked by its form); two schools never share a name."""
    levels = ",".join(level for level in CLASS_LEVELS if level in classes)  # in school order
    with write_transaction():
        # Compared in Python: SQLite's LOWER() leaves « É » as it is. A commune has a handful of schools.
        others = School.select(School.id, School.name).where(School.id != (school.id if school else 0))
        if any(other.name.casefold() == name.casefold() for other in others):
            raise InvalidInput(f"Une école s'appelle déjà « {name} ».", field="name")
        if school is None:
            school = School.create(name=name, address=address, classes=levels)
            audit.record(staff, "école ajoutée", school, name)
        else:
            School.update(name=name, address=address, classes=levels).where(School.id == school.id).execute()
            school = School.get_by_id(school.id)
            audit.record(staff, "école modifiée", school, name)
    return school


def classes_of(school_id: int | None) -> list[str]:
    """The class levels a school lists ([] when it lists none, or no school: any level may be chosen)."""
    school = School.get_or_none(School.id == school_id) if school_id else None
    return school.class_list if school is not None else []


def check_class(school_id: int | None, level: str) -> None:
    """Refuse a class the child's school does not teach, when that school lists its classes."""
    levels = classes_of(school_id)
    if level and levels and level not in levels:
        school = School.get_by_id(school_id)
        raise InvalidInput(f"L'école « {school.name} » accueille les classes {', '.join(levels)} : choisissez "
                           "la classe de l'enfant dans cette liste.", field="class_level")
