"""Staff's side of the crèche requests (/gestion/petite-enfance): the queue by state and structure, the
commission (a date), the decision (accepted, refused with a reason, waiting list with a rank) told to
the family by e-mail in the decision's transaction, the structures, and the commission list as CSV."""
from __future__ import annotations

import datetime as dt

from models import Child, EarlyYearsRequest, EarlyYearsStructure, Household, User
from services.core import audit, clock, csv_export, outbox
from services.core.errors import InvalidInput, NotFound
from services.core.transactions import write_transaction
from services.family.early_years import (
    KINDS,
    child_name,
    STATUS_LABELS,
    EarlyYearsRefused,
    decision_text,
    describe_schedule,
    schedule_of,
    weekly_hours,
)

DECISIONS = {"accepted": "Acceptée", "refused": "Refusée", "waiting_list": "Liste d'attente"}
COMMISSION_FROM = ("sent", "waiting_list")  # a waiting-list request may go back to a later commission


def queue(status: str = "", structure_id: int | None = None) -> list[EarlyYearsRequest]:
    """Requests by state and structure (withdrawn ones only when asked), oldest first."""
    query = (EarlyYearsRequest.select(EarlyYearsRequest, Child, EarlyYearsStructure, Household)
             .join(Child).switch(EarlyYearsRequest).join(EarlyYearsStructure).switch(EarlyYearsRequest)
             .join(Household))
    if status in STATUS_LABELS:
        query = query.where(EarlyYearsRequest.status == status)
    else:
        query = query.where(EarlyYearsRequest.status != "withdrawn")
    if structure_id:
        query = query.where(EarlyYearsRequest.structure == structure_id)
    return list(query.order_by(EarlyYearsRequest.created_at, EarlyYearsRequest.id))


def get_request(request_id: int) -> EarlyYearsRequest:
    request = EarlyYearsRequest.get_or_none(EarlyYearsRequest.id == request_id)
    if request is None:
        raise NotFound("Demande introuvable.")
    return request


def _tell_family(request: EarlyYearsRequest, subject: str) -> None:
    """The decision's e-mail to every parent of the household, written in the caller's transaction."""
    name = request.child.first_name or "votre enfant à naître"
    for email in request.household.parent_emails():
        outbox.send(email, subject, f"Bonjour,\n\nDemande d'accueil pour {name} :\n{decision_text(request)}\n\n"
                                    "Retrouvez vos demandes dans « Petite enfance » sur le portail famille.\n")


def to_commission(staff: User, request: EarlyYearsRequest, commission_date: dt.date | None) -> EarlyYearsRequest:
    """« Passer en commission »: the request will be examined on that date (today or later)."""
    if commission_date is None:
        raise InvalidInput("Indiquez la date de la commission au format jj/mm/aaaa.", "commission_date")
    if commission_date < clock.today():
        raise InvalidInput("La date de la commission ne peut pas être passée.", "commission_date")
    with write_transaction():
        request = EarlyYearsRequest.get_by_id(request.id)
        if request.status not in COMMISSION_FROM:
            raise EarlyYearsRefused(f"Cette demande est « {STATUS_LABELS[request.status]} » : "
                                    "elle ne peut pas passer en commission.")
        request.status, request.commission_date = "commission", commission_date
        request.save()
        audit.record(staff, "demande d'accueil en commission", request, f"commission du {commission_date:%d/%m/%Y}")
        _tell_family(request, "Votre demande d'accueil passe en commission")
    return request


def decide(staff: User, request: EarlyYearsRequest, decision: str, reason: str = "",
           rank: int | None = None) -> EarlyYearsRequest:
    """The commission's answer: accepted, refused (reason required) or waiting list (rank required)."""
    reason = (reason or "").strip()
    if decision not in DECISIONS:
        raise InvalidInput("Choisissez la décision : acceptée, refusée ou liste d'attente.", "decision")
    if decision == "refused" and not reason:
        raise InvalidInput("Indiquez le motif du refus : la famille le lira.", "reason")
    if decision == "waiting_list" and (rank is None or rank < 1):
        raise InvalidInput("Indiquez le rang sur la liste d'attente (1 ou plus).", "rank")
    with write_transaction():
        request = EarlyYearsRequest.get_by_id(request.id)
        if request.status != "commission":
            raise EarlyYearsRefused("Seule une demande en commission peut recevoir une décision.")
        request.status = decision
        request.reason = reason if decision == "refused" else ""
        request.waiting_rank = rank if decision == "waiting_list" else None
        request.decided_at, request.decided_by = clock.local_now(), staff
        request.save()
        detail = {"refused": f"motif : {reason}", "waiting_list": f"rang {rank}"}.get(decision, "")
        audit.record(staff, f"demande d'accueil : {DECISIONS[decision].lower()}", request, detail)
        _tell_family(request, f"Votre demande d'accueil : {DECISIONS[decision].lower()}")
    return request


def commission_csv(structure_id: int | None = None, day: dt.date | None = None) -> str:
    """The requests in commission (on `day` when given), for the commission's members."""
    rows = [r for r in queue("commission", structure_id) if day is None or r.commission_date == day]
    rows.sort(key=lambda r: (r.commission_date or dt.date.max, r.structure.name, r.created_at))
    header = ["Commission", "Structure", "Foyer", "Enfant", "Naissance", "Entrée souhaitée", "Jours et horaires",
              "Heures par semaine", "Situation", "Commentaire", "Demande du"]
    return csv_export.csv_text(header, [
        [f"{r.commission_date:%d/%m/%Y}" if r.commission_date else "", r.structure.name, r.household.name,
         child_name(r.child),
         (f"prévue le {r.child.expected_date:%d/%m/%Y}" if r.child.expected_date else "à naître") if r.child.unborn
         else (f"{r.child.birth_date:%d/%m/%Y}" if r.child.birth_date else ""),
         f"{r.start_date:%d/%m/%Y}", describe_schedule(schedule_of(r)), weekly_hours(schedule_of(r)),
         r.situation, r.comment, f"{r.created_at:%d/%m/%Y}"] for r in rows])


def save_structure(staff: User, name: str, kind: str, address: str = "",
                   structure: EarlyYearsStructure | None = None, active: bool = True) -> EarlyYearsStructure:
    """Add or change a structure families may ask a place in; two never share a name."""
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("Indiquez le nom de la structure.", "name")
    if kind not in KINDS:
        raise InvalidInput("Choisissez le type de structure dans la liste.", "kind")
    with write_transaction():
        others = EarlyYearsStructure.select().where(EarlyYearsStructure.id != (structure.id if structure else 0))
        if any(other.name.casefold() == name.casefold() for other in others):
            raise InvalidInput(f"Une structure s'appelle déjà « {name} ».", "name")
        if structure is None:
            structure = EarlyYearsStructure.create(name=name, kind=kind, address=address.strip(),
                                                   position=EarlyYearsStructure.select().count() + 1)
            audit.record(staff, "structure petite enfance ajoutée", structure, name)
        else:
            structure.name, structure.kind, structure.address, structure.active = name, kind, address.strip(), active
            structure.save()
            audit.record(staff, "structure petite enfance modifiée", structure, name)
    return structure


def waiting_count() -> int:
    """Requests staff must handle (sent, not yet in commission): for the staff dashboard."""
    return EarlyYearsRequest.select().where(EarlyYearsRequest.status == "sent").count()
