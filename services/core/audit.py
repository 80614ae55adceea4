"""The audit trail: who did what, when, to which object and for which household; the journal staff read."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from peewee import JOIN, fn

from models import AuditLog, Household, User
from services.core import clock

PER_PAGE = 50

# Kinds of the journal's filter: the object types each one covers (health reads are their own kind).
KINDS = {
    "famille": ("Dossiers famille", ("Household", "Guardian", "Child", "ChangeRequest", "FamilyDocument",
                                         "EarlyYearsRequest")),
    "inscriptions": ("Inscriptions", ("Enrolment",)),
    "reservations": ("Réservations et présences", ("Booking", "Order", "AbsenceDeclaration", "Attendance")),
    "facturation": ("Facturation et paiements", ("Invoice", "Payment", "Regie", "OnlineTransaction")),
    "configuration": ("Configuration", ("Activity", "Unit", "Closure", "ExtraDay", "CapacityOverride", "Diet",
                                        "DocumentType", "TariffBand", "School", "Commune",
                                        "EarlyYearsStructure")),
    "comptes": ("Comptes", ("User",)),
}
HEALTH = ("sante", "Lectures de données de santé")
HEALTH_ACTIONS = ("lecture d'un document de santé", "lecture d'un justificatif d'absence",
                  "export des données personnelles du foyer (santé comprise)")


def household_of(obj) -> int | None:
    """The household an audited object belongs to, when it belongs to one."""
    if obj is None:
        return None
    if isinstance(obj, Household):
        return obj.id
    if getattr(obj, "household_id", None):
        return obj.household_id
    child_id = getattr(obj, "child_id", None)
    if child_id:  # an enrolment: the child's household
        return obj.child.household_id
    return None


def record(user: User | None, action: str, obj=None, detail: str = "") -> AuditLog:
    """Write one audit entry (who, when, what, which household)."""
    return AuditLog.create(
        user=user, at=clock.local_now(), action=action,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=getattr(obj, "id", None), detail=detail, household=household_of(obj),
    )


def record_many(user: User | None, action: str, entries: list[tuple[object, str]]) -> int:
    """One audit entry per (object, detail), as record() writes them, in one insert; returns how many."""
    at = clock.local_now()
    rows = [dict(user=user, at=at, action=action, object_type=type(obj).__name__ if obj is not None else "",
                 object_id=getattr(obj, "id", None), detail=detail, household=household_of(obj))
            for obj, detail in entries]
    for start in range(0, len(rows), 500):
        AuditLog.insert_many(rows[start:start + 500]).execute()
    return len(rows)


@dataclass
class JournalPage:
    entries: list[AuditLog]
    total: int
    page: int
    pages: int


def journal(*, household_id: int | None = None, person: str = "", kind: str = "", start: dt.date | None = None,
            end: dt.date | None = None, page: int = 1, without_health: bool = False) -> JournalPage:
    """The audit entries matching the filters, newest first, PER_PAGE at a time (two queries);
    without_health leaves out the reads of health data (for staff who may not see them)."""
    actor = User.alias()
    query = (AuditLog.select(AuditLog, actor, Household)
             .join(actor, JOIN.LEFT_OUTER, on=(AuditLog.user == actor.id)).switch(AuditLog)
             .join(Household, JOIN.LEFT_OUTER, on=(AuditLog.household == Household.id)))
    if household_id:
        query = query.where(AuditLog.household == household_id)
    if person.strip():
        words = person.strip().lower()
        query = query.where(fn.LOWER(actor.email).contains(words) | fn.LOWER(actor.last_name).contains(words)
                            | fn.LOWER(actor.first_name).contains(words))
    if without_health:
        query = query.where(AuditLog.action.not_in(HEALTH_ACTIONS))
    if kind == HEALTH[0]:
        query = query.where(AuditLog.action.in_(HEALTH_ACTIONS))
    elif kind in KINDS:
        query = query.where(AuditLog.object_type.in_(KINDS[kind][1]))
    if start:
        query = query.where(AuditLog.at >= dt.datetime.combine(start, dt.time.min))
    if end:
        query = query.where(AuditLog.at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min))
    total = query.count()
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(page, 1), pages)
    entries = list(query.order_by(AuditLog.at.desc(), AuditLog.id.desc()).paginate(page, PER_PAGE))
    return JournalPage(entries, total, page, pages)


def kind_choices() -> list[tuple[str, str]]:
    """(value, label) of the journal's « Type » filter."""
    return [("", "Tous")] + [(key, label) for key, (label, _types) in KINDS.items()] + [HEALTH]
