"""The school year change: at réinscription each child's class moves up one level (CE2 → CM1; CM2 →
« Collège », the child leaves the primary school), proposed to the parent who confirms or corrects it,
and applied when the new school year starts; the fiche enfant is re-certified every school year.

A certification counts for one school year (Child.certified_year): made during the year, for that year;
made while next year's réinscription is open (an activity of next year open for enrolment), for next
year. An activity requiring a certified record wants a certification for its own school year.
"""
from __future__ import annotations

import datetime as dt

from models import Activity, Child, Household, User
from services.booking import calendar
from services.core import audit, clock
from services.core.errors import InvalidInput, NotFound
from services.core.transactions import write_transaction
from services.family.household_fields import CLASS_LEVELS
from services.family.schools import check_class

COLLEGE = "Collège"  # after CM2: the child leaves the primary school
NEXT_LEVEL = {level: following for level, following in zip(CLASS_LEVELS, CLASS_LEVELS[1:] + [COLLEGE])}
NEXT_CHOICES = CLASS_LEVELS + [COLLEGE]


def year_label(year: int) -> str:
    """2027 → « 2027-2028 »."""
    return f"{year}-{year + 1}"


def next_level(level: str) -> str:
    """The class a child moves up to (PS → MS … CM2 → « Collège »); '' when the class is not known."""
    return NEXT_LEVEL.get(level, "")


def renewal_open(today: dt.date | None = None) -> bool:
    """Next school year's réinscription is open: one of its activities takes enrolments."""
    year = calendar.school_year_of(today or clock.today())
    return Activity.select().where((Activity.school_year == year + 1) & Activity.active
                                   & Activity.enrolment_open).exists()


def certification_year(today: dt.date | None = None) -> int:
    """The school year a certification made today is for (next year's once its réinscription is open)."""
    today = today or clock.today()
    year = calendar.school_year_of(today)
    return year + 1 if renewal_open(today) else year


def certified_year(child: Child) -> int | None:
    """The school year the child's last certification is for (an old one: the year it was made in)."""
    if child.certified_at is None:
        return None
    if child.certified_year is not None:
        return child.certified_year
    return calendar.school_year_of(child.certified_at.date())


def certified_for(child: Child, year: int) -> bool:
    """The fiche enfant was certified for that school year (or a later one)."""
    done = certified_year(child)
    return done is not None and done >= year


def recertification_due(child: Child, today: dt.date | None = None) -> int | None:
    """The school year the parent must re-certify the fiche for (« À recertifier pour 2027-2028 »), or None."""
    year = certification_year(today)
    if child.unborn or certified_for(child, year):
        return None
    return year


def due_by_child(children: list[Child], today: dt.date | None = None) -> dict[int, int]:
    """recertification_due of several children (one query): child id → school year, when due."""
    year = certification_year(today)
    return {c.id: year for c in children if not c.unborn and not certified_for(c, year)}


def certify(household: Household, user: User, child: Child, today: dt.date | None = None) -> int:
    """« Je certifie exactes les informations », after reviewing the fiche: stamps the date and the
    school year it counts for; returns that year."""
    if child.household_id != household.id or child.archived:
        raise NotFound("Enfant introuvable.")
    year = certification_year(today)
    with write_transaction():
        Child.update(certified_at=clock.local_now(), certified_year=year).where(Child.id == child.id).execute()
        audit.record(user, "fiche enfant certifiée", child, f"pour {year_label(year)}")
    child.certified_at, child.certified_year = clock.local_now(), year
    return year


def proposed_level(child: Child, year: int) -> str:
    """The class proposed for school year `year`: the one already confirmed, else one level up."""
    if child.next_class_year == year and child.next_class_level:
        return child.next_class_level
    return next_level(child.class_level)


def check_next_level(child: Child, level: str) -> str:
    """A class the parent confirms or corrects: one of the list and, in the primary school, one its
    school teaches."""
    level = (level or "").strip()
    if level not in NEXT_CHOICES:
        raise InvalidInput(f"Classe de {child.first_name} : choisissez une classe de la liste (PS à CM2, ou "
                           "« Collège »).", f"class_{child.id}")
    if level != COLLEGE:
        try:
            check_class(child.school_id, level)
        except InvalidInput as refusal:
            raise InvalidInput(refusal.message, f"class_{child.id}") from None
    return level


def confirm_levels(user: User | None, household: Household, year: int, levels: dict[int, str]) -> list[Child]:
    """Store the classes confirmed for school year `year` (child id → class), each checked; in the
    caller's transaction when there is one."""
    children = {c.id: c for c in household.children_in_file()}
    checked = {}
    for child_id, level in levels.items():
        child = children.get(child_id)
        if child is None:
            raise NotFound("Enfant introuvable.")
        checked[child_id] = check_next_level(child, level)
    changed = []
    with write_transaction():
        for child_id, level in checked.items():
            child = children[child_id]
            child.next_class_level, child.next_class_year = level, year
            Child.update(next_class_level=level, next_class_year=year).where(Child.id == child_id).execute()
            if user is not None:
                audit.record(user, "classe de l'année suivante confirmée", child,
                             f"{child.class_level or '—'} → {level} en {year_label(year)}")
            changed.append(child)
    return changed


def leaves_primary(child: Child, year: int) -> bool:
    """The child goes to the collège in school year `year` (confirmed, or proposed from CM2)."""
    return proposed_level(child, year) == COLLEGE


def start_school_year(today: dt.date | None = None) -> int:
    """When a school year has started, the classes confirmed for it become the children's classes; a
    child gone to the collège leaves its primary school. Idempotent; returns how many children moved."""
    year = calendar.school_year_of(today or clock.today())
    moved = 0
    with write_transaction():
        for child in Child.select().where(Child.next_class_year.is_null(False) & (Child.next_class_year <= year)):
            if child.next_class_level == COLLEGE:
                child.class_level, child.school = "", None
            elif child.next_class_level:
                child.class_level = child.next_class_level
            child.next_class_level, child.next_class_year = "", None
            child.save()
            audit.record(None, "changement d'année scolaire", child, f"classe {child.class_level or 'collège'}")
            moved += 1
    return moved
