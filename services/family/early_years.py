"""Crèche pre-registration (« Demandes d'accueil », /petite-enfance): a family asks a place for a child,
born or expected, in one of the commune's structures, from a start date, on given days and hours, and
says its situation; it follows the request's state and may withdraw it until the commission decides.
Staff's side (commission, decisions) is in early_years_review."""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass

from models import Child, EarlyYearsRequest, EarlyYearsStructure, Household, User
from services.core import audit, clock, formatting
from services.core.errors import DomainError, InvalidInput, NotFound
from services.core.transactions import write_transaction

KINDS = {"multi-accueil": "Multi-accueil", "creche-familiale": "Crèche familiale",
         "halte-garderie": "Halte-garderie", "micro-creche": "Micro-crèche"}
STATUS_LABELS = {"sent": "Envoyée", "commission": "En commission", "accepted": "Acceptée", "refused": "Refusée",
                 "waiting_list": "Liste d'attente", "withdrawn": "Retirée"}
STATUS_ICONS = {"sent": "✉", "commission": "⏳", "accepted": "✓", "refused": "✗", "waiting_list": "…",
                "withdrawn": "–"}
OPEN_STATUSES = ("sent", "commission", "waiting_list")
WITHDRAWABLE = ("sent", "commission")  # not yet decided
SITUATIONS = ["Les deux parents travaillent", "Parent seul qui travaille", "Un parent en recherche d'emploi",
              "En formation ou en études", "Un parent en congé parental", "Autre situation"]
WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi"]
OPENS, CLOSES = dt.time(7, 0), dt.time(19, 30)  # the structures' widest opening hours
MAX_AGE_YEARS = 6  # an établissement d'accueil du jeune enfant takes children under six
LATEST_START_YEARS = 3
HOUR = re.compile(r"^([01]?\d|2[0-3])[:hH]([0-5]\d)$")


class EarlyYearsRefused(DomainError):
    """The request cannot be filed, withdrawn or decided."""


@dataclass(frozen=True)
class Slot:
    """One weekday of the wished schedule."""

    weekday: int  # 0 = lundi
    start: dt.time
    end: dt.time

    @property
    def minutes(self) -> int:
        return (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)


def parse_hour(text: str, label: str) -> dt.time:
    """« 8:30 », « 08h30 » → 08:30; a French message naming the field otherwise."""
    match = HOUR.match((text or "").strip())
    if not match:
        raise InvalidInput(f"{label} : indiquez une heure comme 08:30.")
    return dt.time(int(match.group(1)), int(match.group(2)))


def parse_schedule(hours: dict[int, tuple[str, str]]) -> list[Slot]:
    """The weekly schedule typed (weekday → (from, to), empty texts for a day without care), checked:
    both hours or none, from before to, within the opening hours, at least one day."""
    slots = []
    for weekday, (start_text, end_text) in sorted(hours.items()):
        day = WEEKDAYS[weekday]
        start_text, end_text = (start_text or "").strip(), (end_text or "").strip()
        if not start_text and not end_text:
            continue
        if not start_text or not end_text:
            raise InvalidInput(f"Le {day} : indiquez l'heure d'arrivée et l'heure de départ, ou aucune des deux.",
                               f"from_{weekday}" if not start_text else f"to_{weekday}")
        try:
            start = parse_hour(start_text, f"Arrivée le {day}")
        except InvalidInput as error:
            raise InvalidInput(error.message, f"from_{weekday}") from None
        try:
            end = parse_hour(end_text, f"Départ le {day}")
        except InvalidInput as error:
            raise InvalidInput(error.message, f"to_{weekday}") from None
        if end <= start:
            raise InvalidInput(f"Le {day} : l'heure de départ doit être après l'heure d'arrivée.", f"to_{weekday}")
        if start < OPENS or end > CLOSES:
            raise InvalidInput(f"Le {day} : les structures accueillent les enfants de 7 h 00 à 19 h 30.",
                               f"from_{weekday}" if start < OPENS else f"to_{weekday}")
        slots.append(Slot(weekday, start, end))
    if not slots:
        raise InvalidInput("Indiquez au moins un jour d'accueil avec ses horaires.", "from_0")
    return slots


def schedule_of(request: EarlyYearsRequest) -> list[Slot]:
    """The stored schedule, by weekday."""
    data = json.loads(request.schedule or "{}")
    return [Slot(int(day), dt.time.fromisoformat(start), dt.time.fromisoformat(end))
            for day, (start, end) in sorted(data.items(), key=lambda item: int(item[0]))]


def weekly_hours(slots: list[Slot]) -> str:
    """« 36 h 30 par semaine »."""
    total = sum(slot.minutes for slot in slots)
    return f"{total // 60} h {total % 60:02d} par semaine" if total % 60 else f"{total // 60} h par semaine"


def describe_schedule(slots: list[Slot]) -> str:
    """« lundi 08:30–17:30, mardi 08:30–17:30 »."""
    return ", ".join(f"{WEEKDAYS[s.weekday]} {s.start:%H:%M}–{s.end:%H:%M}" for s in slots)


def child_name(child: Child) -> str:
    """« Léa Martin », or « Enfant à naître (Dupont) » for an expected child not named yet."""
    if child.first_name:
        return child.full_name
    return f"Enfant à naître ({child.last_name})" if child.last_name else "Enfant à naître"


def structures(active_only: bool = True) -> list[EarlyYearsStructure]:
    query = EarlyYearsStructure.select().order_by(EarlyYearsStructure.position, EarlyYearsStructure.name)
    return list(query.where(EarlyYearsStructure.active) if active_only else query)


def children_for(household: Household) -> list[Child]:
    """The household's children a request may be for: under six, or expected."""
    today = clock.today()
    return [c for c in household.children_in_file()
            if c.unborn or c.birth_date is None or _age_on(c.birth_date, today) < MAX_AGE_YEARS]


def _age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _check_start(child: Child, start: dt.date, today: dt.date) -> None:
    if start < today:
        raise InvalidInput("La date d'entrée souhaitée ne peut pas être passée.", "start_date")
    if start > today + dt.timedelta(days=366 * LATEST_START_YEARS):
        raise InvalidInput(f"La date d'entrée souhaitée doit être dans les {LATEST_START_YEARS} ans à venir.",
                           "start_date")
    born = child.expected_date if child.unborn else child.birth_date
    if born is not None and start < born:
        raise InvalidInput("La date d'entrée souhaitée doit être après la naissance de l'enfant.", "start_date")
    if not child.unborn and child.birth_date is not None and _age_on(child.birth_date, start) >= MAX_AGE_YEARS:
        raise InvalidInput(f"{child.first_name} aura 6 ans à cette date : les structures de la petite enfance "
                           "accueillent les enfants de moins de 6 ans.", "start_date")


def file_request(user: User, household: Household, child: Child, structure: EarlyYearsStructure | None,
                 start: dt.date, slots: list[Slot], situation: str, comment: str = "") -> EarlyYearsRequest:
    """A parent files a request (values parsed by its form); one open request per child and structure."""
    if child.household_id != household.id or child.archived:
        raise NotFound("Enfant introuvable.")
    if structure is None or not structure.active:
        raise InvalidInput("Choisissez une structure dans la liste.", "structure")
    if situation not in SITUATIONS:
        raise InvalidInput("Choisissez votre situation dans la liste.", "situation")
    if not slots:
        raise InvalidInput("Indiquez au moins un jour d'accueil avec ses horaires.", "from_0")
    _check_start(child, start, clock.today())
    name = child.first_name or "l'enfant à naître"
    with write_transaction():
        if EarlyYearsRequest.select().where((EarlyYearsRequest.child == child.id)
                                            & (EarlyYearsRequest.structure == structure.id)
                                            & EarlyYearsRequest.status.in_(OPEN_STATUSES)).exists():
            raise EarlyYearsRefused(f"Une demande pour {name} à « {structure.name} » est déjà en cours.",
                                    "structure")
        request = EarlyYearsRequest.create(
            household=household, child=child, structure=structure, start_date=start, situation=situation,
            comment=comment.strip(), created_at=clock.local_now(), created_by=user,
            schedule=json.dumps({str(s.weekday): [f"{s.start:%H:%M}", f"{s.end:%H:%M}"] for s in slots}))
        audit.record(user, "demande d'accueil envoyée", request, f"{name} → {structure.name}")
    return request


def requests_of(household: Household) -> list[EarlyYearsRequest]:
    """The household's requests, newest first."""
    return list(EarlyYearsRequest.select(EarlyYearsRequest, Child, EarlyYearsStructure)
                .join(Child).switch(EarlyYearsRequest).join(EarlyYearsStructure)
                .where(EarlyYearsRequest.household == household.id)
                .order_by(EarlyYearsRequest.created_at.desc(), EarlyYearsRequest.id.desc()))


def withdraw(user: User, household: Household, request: EarlyYearsRequest) -> EarlyYearsRequest:
    """The family withdraws a request the commission has not decided yet."""
    if request.household_id != household.id:
        raise NotFound("Demande introuvable.")
    with write_transaction():
        request = EarlyYearsRequest.get_by_id(request.id)
        if request.status not in WITHDRAWABLE:
            raise EarlyYearsRefused("Cette demande a déjà reçu une réponse : elle ne peut plus être retirée.")
        request.status = "withdrawn"
        request.save()
        audit.record(user, "demande d'accueil retirée par la famille", request, request.structure.name)
    return request


def decision_text(request: EarlyYearsRequest) -> str:
    """What the family reads about its request's state (list, dashboard and e-mail)."""
    structure = request.structure.name
    if request.status == "commission":
        return (f"Votre demande pour « {structure} » sera examinée en commission le "
                f"{formatting.date_long(request.commission_date)}." if request.commission_date else
                f"Votre demande pour « {structure} » est examinée en commission.")
    if request.status == "accepted":
        return (f"Une place vous est proposée à « {structure} » à partir du {formatting.date_long(request.start_date)}. "
                "La structure vous contactera pour fixer le rendez-vous d'admission.")
    if request.status == "refused":
        return f"Votre demande pour « {structure} » n'a pas pu être acceptée. Motif : {request.reason}"
    if request.status == "waiting_list":
        return (f"Votre demande pour « {structure} » est sur liste d'attente (rang {request.waiting_rank}) : "
                "vous serez prévenu dès qu'une place se libère.")
    if request.status == "withdrawn":
        return "Vous avez retiré cette demande."
    return "Votre demande a bien été reçue : elle sera examinée lors d'une prochaine commission d'attribution."
