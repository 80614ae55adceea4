"""Enrolments (inscriptions): a parent asks, staff accept, refuse (with a reason) or put on the
waiting list; an activity may require documents and a certified child record; the yearly
réinscription copies last year's enrolments as requests for the matching activities.

Requirements are pluggable: REQUIREMENT_CHECKS holds functions (child, activity, today) → list
of French messages; the document check reads models.FamilyDocument when the household file
provides it.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping

import models
from models import Activity, Child, Enrolment, Household, User
from services.booking import school_year, subscriptions
from services.core import audit, clock
from services.core.errors import DomainError, InvalidInput
from services.core.transactions import write_transaction

STATUS_LABELS = {
    "requested": "Demande en cours de traitement",
    "validated": "Inscription validée",
    "waiting_list": "Sur liste d'attente",
    "refused": "Refusée",
    "cancelled": "Annulée",
}
OPEN_STATUSES = ("requested", "validated", "waiting_list")


class EnrolmentRefused(DomainError):
    """The enrolment cannot be requested or decided."""


class RequirementsMissing(EnrolmentRefused):
    """Documents or a certified child record are missing; `missing` lists them in French."""

    def __init__(self, missing: list[str]):
        super().__init__("Inscription impossible pour le moment : " + " ; ".join(missing) + ".")
        self.missing = missing


def _certified_record(child: Child, activity: Activity, today: dt.date) -> list[str]:
    """The fiche enfant certified for the activity's school year (re-certified every year)."""
    if not activity.requires_certified_record or school_year.certified_for(child, activity.school_year):
        return []
    if child.certified_at is None:
        return [f"la fiche de {child.first_name} doit être vérifiée et certifiée exacte"]
    return [f"la fiche de {child.first_name} doit être recertifiée pour {school_year.year_label(activity.school_year)}"]


def _document_facts(household_ids, type_ids, today: dt.date) -> tuple[dict, dict]:
    """({(household id, child id or None): ids of the types with an accepted document still valid},
    {type id: name}) for these households and types: two queries."""
    document_model = getattr(models, "FamilyDocument", None)
    type_model = getattr(models, "DocumentType", None)
    if not household_ids or not type_ids or document_model is None or type_model is None:
        return {}, {}
    valid: dict[tuple, set[int]] = defaultdict(set)
    for household_id, child_id, type_id in (document_model.select(document_model.household, document_model.child,
                                                                  document_model.doc_type).where(
            document_model.household.in_(sorted(household_ids))
            & (document_model.status == "accepted")
            & (document_model.doc_type.in_(sorted(type_ids)))
            & ((document_model.valid_until.is_null()) | (document_model.valid_until >= today))).tuples()):
        valid[(household_id, child_id)].add(type_id)
    names = dict(type_model.select(type_model.id, type_model.name).where(type_model.id.in_(sorted(type_ids))).tuples())
    return valid, names


def _missing_documents(child: Child, activity: Activity, valid: dict, names: dict) -> list[str]:
    """Each required type needs an accepted, still valid document, for the child or the household."""
    have = valid.get((child.household_id, None), set()) | valid.get((child.household_id, child.id), set())
    return [f"document manquant ou expiré : {names.get(type_id, 'pièce justificative')}"
            for type_id in activity.required_document_ids() if type_id not in have and type_id in names]


def _documents(child: Child, activity: Activity, today: dt.date) -> list[str]:
    """Each required document type needs an accepted, still valid document (for the child or the household)."""
    wanted = activity.required_document_ids()
    if not wanted:
        return []
    return _missing_documents(child, activity, *_document_facts([child.household_id], wanted, today))


REQUIREMENT_CHECKS: list[Callable[[Child, Activity, dt.date], list[str]]] = [_certified_record, _documents]


def missing_requirements(child: Child, activity: Activity, today: dt.date | None = None) -> list[str]:
    """What stops `child` from being enrolled in `activity` (empty list: nothing)."""
    today = today or clock.today()
    missing: list[str] = []
    for check in REQUIREMENT_CHECKS:
        missing.extend(check(child, activity, today))
    return missing


def missing_by_enrolment(rows: list[Enrolment], today: dt.date | None = None) -> dict[int, list[str]]:
    """missing_requirements of each enrolment of a list (the staff queue, child and activity loaded),
    by enrolment id; the documents of all the households are read at once."""
    today = today or clock.today()
    wanted = {type_id for row in rows for type_id in row.activity.required_document_ids()}
    facts = _document_facts({row.child.household_id for row in rows}, wanted, today)
    result = {}
    for row in rows:
        missing: list[str] = []
        for check in REQUIREMENT_CHECKS:
            if check is _documents:
                missing.extend(_missing_documents(row.child, row.activity, *facts))
            else:
                missing.extend(check(row.child, row.activity, today))
        result[row.id] = missing
    return result


def enrolment_of(child: Child, activity: Activity) -> Enrolment | None:
    return Enrolment.get_or_none((Enrolment.child == child.id) & (Enrolment.activity == activity.id))


def _eligible(child: Child, activity: Activity) -> None:
    if not activity.active or not activity.enrolment_open:
        raise EnrolmentRefused(f"Les inscriptions à « {activity.name} » sont fermées.")
    if activity.school_id and child.school_id != activity.school_id:
        raise EnrolmentRefused(f"« {activity.name} » est réservé aux élèves de {activity.school.name}.")
    if child.unborn:
        raise EnrolmentRefused("Un enfant à naître ne peut pas encore être inscrit.")


def request(user: User | None, child: Child, activity: Activity, today: dt.date | None = None,
            weekdays: Mapping[int, Iterable[int]] | None = None) -> Enrolment:
    """A parent asks to enrol a child; validated at once when the activity needs no staff validation.
    `weekdays` ({unit id: weekdays}) is the abonnement chosen for the activity's subscription units: its
    bookings are generated in the same transaction once the enrolment is validated (`.generation`)."""
    _eligible(child, activity)
    choice = subscriptions.checked_choice(activity, weekdays or {})
    existing = enrolment_of(child, activity)
    if existing is not None and existing.status in OPEN_STATUSES:
        raise EnrolmentRefused(f"{child.first_name} a déjà une inscription à « {activity.name} » "
                               f"({STATUS_LABELS[existing.status].lower()}).")
    missing = missing_requirements(child, activity, today)
    if missing:
        raise RequirementsMissing(missing)
    now = clock.local_now()
    status = "requested" if activity.enrolment_validation else "validated"
    with write_transaction():
        if existing is None:
            enrolment = Enrolment.create(child=child, activity=activity, status=status, requested_at=now,
                                         decided_at=None if status == "requested" else now)
        else:
            existing.status, existing.requested_at, existing.refusal_reason = status, now, ""
            existing.decided_at = None if status == "requested" else now
            existing.decided_by = None
            existing.save()
            enrolment = existing
        subscriptions.store_choice(enrolment, choice)
        if user is not None:
            audit.record(user, "enrolment.request", enrolment, f"{child.full_name} → {activity.name}")
        enrolment.generation = subscriptions.generate(enrolment) if status == "validated" and choice else None
    return enrolment


def _decide(staff: User, enrolment: Enrolment, status: str, reason: str = "") -> Enrolment:
    with write_transaction():
        enrolment = Enrolment.get_by_id(enrolment.id)
        if enrolment.status not in ("requested", "waiting_list") and not (
                status == "refused" and enrolment.status == "validated"):
            raise EnrolmentRefused("Cette inscription a déjà été traitée.")
        enrolment.status = status
        enrolment.refusal_reason = reason
        enrolment.decided_at = clock.local_now()
        enrolment.decided_by = staff
        enrolment.save()
        audit.record(staff, f"enrolment.{status}", enrolment, reason)
    return enrolment


def accept(staff: User, enrolment: Enrolment, today: dt.date | None = None) -> Enrolment:
    """Staff validate an enrolment; refused while documents or the certified record are missing."""
    missing = missing_requirements(enrolment.child, enrolment.activity, today)
    if missing:
        raise RequirementsMissing(missing)
    with write_transaction():  # the abonnement's bookings are generated with the validation, or neither
        enrolment = _decide(staff, enrolment, "validated")
        enrolment.generation = subscriptions.generate(enrolment)
    return enrolment


def refuse(staff: User, enrolment: Enrolment, reason: str) -> Enrolment:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Indiquez le motif du refus : il est communiqué à la famille.", "reason")
    return _decide(staff, enrolment, "refused", reason)


def put_on_waiting_list(staff: User, enrolment: Enrolment) -> Enrolment:
    if enrolment.status != "requested":
        raise EnrolmentRefused("Seule une demande en cours peut être mise sur liste d'attente.")
    return _decide(staff, enrolment, "waiting_list")


def queue() -> list[Enrolment]:
    """Enrolments waiting for staff: requests first (oldest first), then the waiting list."""
    rows = (Enrolment.select(Enrolment, Child, Activity).join(Child).switch(Enrolment).join(Activity)
            .where(Enrolment.status.in_(("requested", "waiting_list")))
            .order_by(Enrolment.status.desc(), Enrolment.requested_at, Enrolment.id))
    return list(rows)


def enrolments_of(household: Household) -> list[Enrolment]:
    """A household's enrolments, newest school year first."""
    return list(Enrolment.select(Enrolment, Child, Activity).join(Child).switch(Enrolment).join(Activity)
                .where(Child.household == household.id)
                .order_by(Activity.school_year.desc(), Child.position, Child.id, Activity.position, Activity.name))


def open_activities_for(child: Child) -> list[Activity]:
    """Activities open for enrolment that fit this child (school) and that the child is not in yet."""
    taken = {e.activity_id for e in Enrolment.select().where(
        (Enrolment.child == child.id) & Enrolment.status.in_(OPEN_STATUSES))}
    activities = Activity.select().where(Activity.active & Activity.enrolment_open).order_by(
        Activity.school_year, Activity.position, Activity.name)
    return [a for a in activities if a.id not in taken and (not a.school_id or a.school_id == child.school_id)]


def _successor(activity: Activity) -> Activity | None:
    """The same service next school year (same name, kind and school)."""
    return Activity.get_or_none((Activity.school_year == activity.school_year + 1) & (Activity.name == activity.name)
                                & (Activity.kind == activity.kind) & (Activity.school == activity.school_id))


def renewal_candidates(household: Household, year: int) -> list[tuple[Enrolment, Activity]]:
    """Validated enrolments of `year` whose activity exists next year, open, and not requested yet; a
    child going to the collège keeps only the services not tied to its primary school."""
    result = []
    for enrolment in enrolments_of(household):
        if enrolment.activity.school_year != year or enrolment.status != "validated":
            continue
        if enrolment.activity.school_id and school_year.leaves_primary(enrolment.child, year + 1):
            continue
        successor = _successor(enrolment.activity)
        if successor is None or not successor.enrolment_open or not successor.active:
            continue
        if enrolment_of(enrolment.child, successor) is not None:
            continue
        result.append((enrolment, successor))
    return result


def renew(user: User | None, household: Household, year: int,
          levels: dict[int, str] | None = None) -> list[Enrolment]:
    """Réinscription: copy last year's validated enrolments as requests for next year's activities,
    with the classes the parent confirmed for next year (child id → class, checked first).

    Requirements are not blocking here: the requests reach staff, who see what is missing.
    """
    created = []
    now = clock.local_now()
    with write_transaction():
        if levels:
            school_year.confirm_levels(user, household, year + 1, levels)
        for enrolment, successor in renewal_candidates(household, year):
            created.append(Enrolment.create(child=enrolment.child, activity=successor, status="requested",
                                            requested_at=now, renewal=True))
        if user is not None and created:
            audit.record(user, "enrolment.renew", household, f"{len(created)} demande(s) pour {year + 1}")
    return created
