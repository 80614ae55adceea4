"""Outings and youth activities (sorties, Espace jeunes, séjours) on the booking engine.

An outing is an Activity (kind sortie, espace_jeunes or sejour) with one Unit that runs only on the
outing's first day (an ExtraDay, whatever the weekday or a public holiday): registering a child is
enrolling it and booking that day, through placement and the order (price by QF band, capacity,
waiting list, prepayment, order number). The registration deadline is the unit's booking policy
(« N jours avant à HH:MM »). Required documents (autorisation de sortie) are listed and uploaded
through the family documents, not blocking: staff see in the register what was received.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from models import (
    Activity,
    Booking,
    Child,
    DeadlinePolicy,
    DocumentType,
    Enrolment,
    ExtraDay,
    FamilyDocument,
    Household,
    Outing,
    Regie,
    Unit,
    User,
)
from services.booking import basket, calendar, deadlines, placement, pricing
from services.booking.day_status import ACTIVE, StatusContext
from services.booking.orders import waiting_positions
from services.core import audit, clock, formatting
from services.core.errors import DomainError, InvalidInput, NotFound
from services.core.transactions import write_transaction

KIND_LABELS = {"sortie": "Sortie", "espace_jeunes": "Espace jeunes", "sejour": "Séjour"}
# What a family reads about one child's registration (Booking.status).
REGISTRATION_LABELS = {"booked": "Inscrit(e)", "requested": "Inscription en attente de validation",
                       "held": "En attente de paiement", "waiting_list": "En liste d'attente",
                       "cancel_requested": "Demande d'annulation"}
DOCUMENT_LABELS = {"accepted": "Reçu", "pending": "Envoyé, en cours de vérification", "missing": "À fournir"}


class OutingRefused(DomainError):
    """A registration to an outing is refused (age, deadline, already registered…)."""


# --- Age groups --------------------------------------------------------------------------------


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Whole years of a child born on birth_date, on day."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def age_label(outing: Outing) -> str:
    """« 6-11 ans », « À partir de 11 ans », « Jusqu'à 5 ans » or « Tous âges »."""
    low, high = outing.min_age, outing.max_age
    if low is not None and high is not None:
        return f"{low}-{high} ans"
    if low is not None:
        return f"À partir de {low} ans"
    if high is not None:
        return f"Jusqu'à {high} ans"
    return "Tous âges"


def ineligibility(child: Child, outing: Outing) -> str | None:
    """Why this child cannot be registered for its age (None: it can)."""
    if child.unborn or child.birth_date is None:
        return f"Date de naissance de {child.first_name} inconnue : complétez sa fiche."
    age = age_on(child.birth_date, outing.starts_on)
    if (outing.min_age is not None and age < outing.min_age) or (outing.max_age is not None and age > outing.max_age):
        return f"Réservé aux {age_label(outing).lower()} : {child.first_name} aura {age} ans."
    return None


# --- Staff: create and edit --------------------------------------------------------------------


@dataclass
class OutingSettings:
    """An outing's values as typed on /gestion/sorties (price in cents, deadline Paris wall clock)."""

    name: str
    kind: str
    starts_on: dt.date
    ends_on: dt.date | None = None
    start_time: str = ""
    end_time: str = ""
    place: str = ""
    description: str = ""
    programme: str = ""
    min_age: int | None = None
    max_age: int | None = None
    price: int = 0
    capacity: int | None = None
    waiting_list: bool = True
    deadline: dt.datetime | None = None  # None: la veille à 18 h
    document_type_ids: list[int] = field(default_factory=list)
    regie_id: int | None = None
    published: bool = True


def _check(settings: OutingSettings) -> OutingSettings:
    """Every rule of the form, as InvalidInput naming its field."""
    settings.name = (settings.name or "").strip()
    if not settings.name:
        raise InvalidInput("Indiquez le nom de la sortie.", "name")
    if settings.kind not in KIND_LABELS:
        raise InvalidInput("Choisissez le type : sortie, Espace jeunes ou séjour.", "kind")
    settings.ends_on = settings.ends_on or settings.starts_on
    if settings.ends_on < settings.starts_on:
        raise InvalidInput("La date de fin ne peut pas précéder la date de début.", "ends_on")
    for name in ("start_time", "end_time"):
        value = getattr(settings, name)
        if value:
            try:
                setattr(settings, name, deadlines.parse_time(value).strftime("%H:%M"))
            except InvalidInput as error:
                raise InvalidInput(error.message, name) from None
    if settings.min_age is not None and settings.max_age is not None and settings.min_age > settings.max_age:
        raise InvalidInput("L'âge minimum dépasse l'âge maximum.", "min_age")
    if settings.capacity is not None and settings.capacity < 1:
        raise InvalidInput("Le nombre de places doit être d'au moins 1 (laissez vide : sans limite).", "capacity")
    if settings.deadline is None:
        settings.deadline = dt.datetime.combine(settings.starts_on - dt.timedelta(days=1), dt.time(18, 0))
    if settings.deadline.date() > settings.starts_on:
        raise InvalidInput("La date limite d'inscription doit précéder le début de la sortie.", "deadline")
    known = {t.id for t in DocumentType.select(DocumentType.id).where(DocumentType.id.in_(settings.document_type_ids or [0]))}
    settings.document_type_ids = [i for i in settings.document_type_ids if i in known]
    if settings.regie_id is not None and Regie.get_or_none(Regie.id == settings.regie_id) is None:
        raise InvalidInput("Choisissez la régie dans la liste.", "regie_id")
    return settings


def save_outing(staff: User | None, settings: OutingSettings, outing: Outing | None = None) -> Outing:
    """Create (outing None) or update an outing: its activity, unit, deadline policy, opening day."""
    settings = _check(settings)
    with write_transaction():
        if outing is not None:
            outing = Outing.get_by_id(outing.id)
            moved = outing.starts_on != settings.starts_on
            if moved and Booking.select().where((Booking.unit == outing.unit_id)
                                                & Booking.status.in_(ACTIVE)).exists():
                raise InvalidInput("Des enfants sont inscrits : la date de début ne peut plus changer "
                                   "(créez une autre sortie ou annulez d'abord les inscriptions).", "starts_on")
        activity = outing.activity if outing else Activity(enrolment_open=False, enrolment_validation=False)
        activity.name, activity.kind = settings.name, settings.kind
        activity.school_year = calendar.school_year_of(settings.starts_on)
        activity.starts_on, activity.ends_on = settings.starts_on, settings.ends_on
        activity.description = settings.description.strip()
        activity.regie = settings.regie_id
        activity.required_documents = ",".join(str(i) for i in settings.document_type_ids)
        activity.save()
        unit = outing.unit if outing else Unit(activity=activity, weekdays="", period="all")
        policy = unit.booking_policy if unit.booking_policy_id else DeadlinePolicy()
        policy.kind, policy.amount = "days_before", (settings.starts_on - settings.deadline.date()).days
        policy.at_time = settings.deadline.strftime("%H:%M")
        policy.save()
        unit.name = KIND_LABELS[settings.kind]
        unit.start_time, unit.end_time = settings.start_time, settings.end_time
        unit.capacity, unit.waiting_list = settings.capacity, settings.waiting_list
        unit.default_price, unit.booking_policy, unit.cancel_policy = settings.price, policy, policy
        unit.save()
        ExtraDay.delete().where(ExtraDay.unit == unit.id).execute()
        ExtraDay.create(unit=unit, date=settings.starts_on, reason=settings.name[:200])
        outing = outing or Outing(activity=activity, unit=unit)
        outing.starts_on, outing.ends_on = settings.starts_on, settings.ends_on
        outing.place, outing.programme = settings.place.strip(), settings.programme.strip()
        outing.min_age, outing.max_age, outing.published = settings.min_age, settings.max_age, settings.published
        outing.save()
        if staff is not None:
            audit.record(staff, "outing.save", activity, f"{settings.name} ({formatting.date_long(settings.starts_on)})")
    return outing


def settings_of(outing: Outing) -> OutingSettings:
    """The values of an outing, to fill the edit form."""
    activity, unit = outing.activity, outing.unit
    return OutingSettings(
        name=activity.name, kind=activity.kind, starts_on=outing.starts_on, ends_on=outing.ends_on,
        start_time=unit.start_time, end_time=unit.end_time, place=outing.place, description=activity.description,
        programme=outing.programme, min_age=outing.min_age, max_age=outing.max_age, price=unit.default_price,
        capacity=unit.capacity, waiting_list=unit.waiting_list,
        deadline=deadline_of(outing).replace(tzinfo=None), document_type_ids=activity.required_document_ids(),
        regie_id=activity.regie_id, published=outing.published)


# --- Reading outings ---------------------------------------------------------------------------


def _outings():
    return (Outing.select(Outing, Activity, Unit).join(Activity, on=(Outing.activity == Activity.id), attr="activity")
            .switch(Outing).join(Unit, on=(Outing.unit == Unit.id), attr="unit"))


def deadline_of(outing: Outing) -> dt.datetime:
    """The registration deadline (aware, Europe/Paris)."""
    policy = outing.unit.booking_policy
    return deadlines.deadline(policy, outing.starts_on) if policy else deadlines.paris(outing.starts_on, dt.time(0, 0))


def get_outing(outing_id: int, *, published_only: bool = True) -> Outing:
    """An outing by id (NotFound if none; families only see published ones of active activities)."""
    query = _outings().where(Outing.id == outing_id)
    if published_only:
        query = query.where(Outing.published & Activity.active)
    outing = query.first()
    if outing is None:
        raise NotFound("Cette activité n'existe pas ou n'est plus proposée.")
    return outing


@dataclass
class OutingCard:
    """An outing as a family sees it: price for the household, places left, its own registrations."""

    outing: Outing
    price: int
    places_left: int | None
    deadline: dt.datetime
    documents: list[DocumentType]
    registrations: dict[int, Booking] = field(default_factory=dict)  # child id → active booking
    positions: dict[int, int] = field(default_factory=dict)  # booking id → waiting list position

    @property
    def open(self) -> bool:
        return clock.now() <= self.deadline

    @property
    def places_label(self) -> str:
        if self.places_left is None:
            return "Places disponibles"
        if self.places_left <= 0:
            return "Complet – liste d'attente" if self.outing.unit.waiting_list else "Complet"
        return f"{self.places_left} place{'s' if self.places_left > 1 else ''} restante{'s' if self.places_left > 1 else ''}"

    def registration_label(self, child_id: int) -> str:
        booking = self.registrations.get(child_id)
        if booking is None:
            return ""
        label = REGISTRATION_LABELS.get(booking.status, booking.status)
        if booking.status == "waiting_list" and booking.id in self.positions:
            label += f" (position {self.positions[booking.id]})"
        return label


def cards(household: Household, outings: list[Outing]) -> list[OutingCard]:
    """The family's view of these outings: a fixed number of queries."""
    if not outings:
        return []
    units = {o.unit_id: o.unit for o in outings}
    places = placement.places_left_many(units, [(o.unit_id, o.starts_on) for o in outings])
    bands = pricing.bands_by_unit(units)
    type_ids = {i for o in outings for i in o.activity.required_document_ids()}
    types = {t.id: t for t in DocumentType.select().where(DocumentType.id.in_(sorted(type_ids) or [0]))}
    mine: dict[int, dict[int, Booking]] = defaultdict(dict)
    bookings = list(Booking.select().where(Booking.unit.in_(list(units)) & (Booking.household == household.id)
                                           & Booking.status.in_(ACTIVE)))
    for booking in bookings:
        mine[booking.unit_id][booking.child_id] = booking
    positions = waiting_positions(bookings)
    return [OutingCard(o, pricing.unit_price(o.unit, household, bands=bands.get(o.unit_id, [])),
                       places.get((o.unit_id, o.starts_on)), deadline_of(o),
                       [types[i] for i in o.activity.required_document_ids() if i in types],
                       mine.get(o.unit_id, {}), positions) for o in outings]


def upcoming(household: Household, today: dt.date | None = None) -> list[OutingCard]:
    """Published outings from today on, soonest first."""
    today = today or clock.today()
    outings = list(_outings().where(Outing.published & Activity.active & (Outing.starts_on >= today))
                   .order_by(Outing.starts_on, Outing.id))
    return cards(household, outings)


def by_age_group(items: list[OutingCard]) -> list[tuple[str, list[OutingCard]]]:
    """Cards grouped by age label (« 3-5 ans », « 6-11 ans »…), youngest group first."""
    groups: dict[str, list[OutingCard]] = {}
    for card in sorted(items, key=lambda c: (c.outing.min_age or 0, c.outing.max_age or 99)):
        groups.setdefault(age_label(card.outing), []).append(card)
    return list(groups.items())


def household_children(household: Household) -> list[Child]:
    return [c for c in Child.select().where(Child.household == household.id).order_by(Child.position, Child.id)
            if not c.archived]


def document_status(households: set[int], outing: Outing, today: dt.date | None = None) -> dict:
    """{(household id, child id, type id): accepted | pending | missing} for the outing's required types;
    a document for the household or for the child counts (as enrolment requirements do)."""
    today = today or clock.today()
    wanted = outing.activity.required_document_ids()
    found: dict[tuple, str] = {}
    if not wanted or not households:
        return found
    for doc in (FamilyDocument.select().where(FamilyDocument.household.in_(sorted(households))
                                              & FamilyDocument.doc_type.in_(wanted)
                                              & FamilyDocument.status.in_(("accepted", "pending")))):
        if doc.status == "accepted" and doc.valid_until is not None and doc.valid_until < today:
            continue
        key = (doc.household_id, doc.child_id, doc.doc_type_id)
        if found.get(key) != "accepted":
            found[key] = doc.status
    return found


def child_documents(facts: dict, child: Child, outing: Outing) -> list[tuple[int, str]]:
    """[(type id, accepted | pending | missing)] of one child, from document_status facts."""
    result = []
    for type_id in outing.activity.required_document_ids():
        states = {facts.get((child.household_id, child.id, type_id)), facts.get((child.household_id, None, type_id))}
        result.append((type_id, "accepted" if "accepted" in states else "pending" if "pending" in states else "missing"))
    return result


# --- Families: registering ---------------------------------------------------------------------


def _enrol(child: Child, activity: Activity, now: dt.datetime) -> None:
    """The child's enrolment in the outing's activity, validated (registering is enrolling)."""
    enrolment = Enrolment.get_or_none((Enrolment.child == child.id) & (Enrolment.activity == activity.id))
    stamp = clock.to_local_naive(now)
    if enrolment is None:
        Enrolment.create(child=child, activity=activity, status="validated", requested_at=stamp, decided_at=stamp)
    elif enrolment.status != "validated":
        enrolment.status, enrolment.requested_at, enrolment.decided_at = "validated", stamp, stamp
        enrolment.refusal_reason, enrolment.decided_by = "", None
        enrolment.save()


def register(user: User | None, household: Household, outing: Outing, child_ids: list[int],
             now: dt.datetime | None = None) -> basket.Validation:
    """Register several children of the household in one step: enrolment and booking of the outing's
    day, one numbered order. All or nothing: a child refused (age, deadline, already registered)
    registers nobody and says why. A full outing puts them on its waiting list, in order."""
    now = now or clock.now()
    wanted = list(dict.fromkeys(child_ids))
    if not wanted:
        raise InvalidInput("Cochez au moins un enfant à inscrire.", "child_ids")
    children = [c for c in household_children(household) if c.id in wanted]
    if len(children) != len(wanted):
        raise NotFound("Enfant introuvable.")
    unit = outing.unit
    context = StatusContext(household, children, [unit], outing.starts_on, outing.starts_on, now, use_basket=False)
    problems = [reason for child in children if (reason := ineligibility(child, outing))]
    for child in children:
        booking = context.bookings.get((child.id, unit.id, outing.starts_on))
        if booking is not None and booking.status in ACTIVE:
            problems.append(f"{child.first_name} est déjà inscrit(e) ({REGISTRATION_LABELS.get(booking.status, '')}).")
    if now > context.booking_deadline(unit, outing.starts_on):
        problems.insert(0, "Les inscriptions sont closes depuis le "
                           f"{deadlines.format_deadline(context.booking_deadline(unit, outing.starts_on))}.")
    if problems:
        raise OutingRefused("Inscription impossible : " + " ".join(problems))
    with write_transaction():
        for child in children:
            _enrol(child, outing.activity, now)
        validation = basket.place_as_order(household, [(child, unit, outing.starts_on, "add") for child in children],
                                           user, now)
        if validation.refused:  # rolled back with the enrolments and the order number
            raise OutingRefused("Inscription impossible : " + " ".join(
                f"{r.child.first_name} : {r.message}" for r in validation.refused))
    return validation
