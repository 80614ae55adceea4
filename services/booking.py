"""The one question the app asks about a day: what may this child do with this unit on that date?

`day_status(child, unit, day, now)` answers one cell; `week_statuses(household, start, end, now)`
answers a whole range for a household in a fixed number of queries (StatusContext prefetches
everything). `place_bookings(household, lines, now)` turns basket lines into bookings under a
capacity lock: the last places go to the first arrivals, the rest to the waiting list in arrival
order; activities with staff validation give "requested". No view re-implements these rules.
"""
from __future__ import annotations

import contextlib
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from peewee import SqliteDatabase, fn

from models import (
    Activity,
    BasketLine,
    Booking,
    CapacityOverride,
    Child,
    DeadlinePolicy,
    Enrolment,
    Household,
    Regie,
    Unit,
    db,
)
from services import clock, deadlines, formatting, pricing
from services.calendar import CalendarData, daterange
from services.errors import DomainError

# DESIGN.md section 4: one vocabulary for the grid, the legend, the calendar and the staff side.
STATE_LABELS = {
    "closed": "Fermé",
    "not_enrolled": "Non inscrit",
    "locked": "Hors délai",
    "available": "Disponible",
    "basket_add": "Dans le panier",
    "basket_remove": "Dans le panier",
    "requested": "En attente de validation",
    "booked": "Réservé",
    "waiting_list": "Sur liste d'attente",
    "full": "Complet",
    "cancel_requested": "Demande d'annulation",
    "absent": "Absence",
    "absent_justified": "Absence justifiée",
    "present": "Présent",
    "anomaly": "Anomalie",
    "held": "En attente de paiement",
}
ACTIVE = ("requested", "booked", "waiting_list", "cancel_requested", "held")  # a booking the family still holds
OCCUPYING = Booking.OCCUPYING
OUTCOME_LABELS = {
    "booked": "Réservé",
    "requested": "En attente de validation",
    "waiting_list": "Sur liste d'attente",
    "cancelled": "Annulé",
    "cancel_requested": "Demande d'annulation",
    "unchanged": "Inchangé",
    "refused": "Refusé",
    "held": "En attente de paiement",
}
# A unit without a booking policy can be booked until its day begins.
DEFAULT_POLICY = deadlines.Policy(kind="same_day", at_time="00:00")


class BookingRefused(DomainError):
    """A booking or cancellation is not allowed (closed, not enrolled, hors délai, complet)."""


class DeadlinePassed(BookingRefused):
    pass


class Full(BookingRefused):
    pass


@dataclass(frozen=True)
class DayStatus:
    """The state of one child × unit × date, with everything a cell, a tooltip or a basket line needs."""

    state: str
    label: str
    reason: str = ""
    price: int | None = None  # cents for this household (this child: PAI price applies)
    places_left: int | None = None  # None: no capacity limit
    can_book: bool = False  # a "+" line may be added (or an add line kept)
    can_cancel: bool = False  # a "−" line may be added for an existing booking
    can_declare_absence: bool = False  # past the cancel deadline, within the late-absence window
    waiting_position: int | None = None
    will_wait: bool = False  # booking now would go to the waiting list
    needs_validation: bool = False  # booking now would be "En attente de validation"
    last_places: bool = False  # at or below the unit's "Dernières places" threshold
    basket: str | None = None  # "add" or "remove" when a basket line exists
    booking_status: str | None = None  # the Booking row's status, if any
    booking_id: int | None = None
    deadline: dt.datetime | None = None  # booking deadline (aware, Paris)
    cancel_deadline: dt.datetime | None = None

    @property
    def checked(self) -> bool:
        """Whether the cell's checkbox is ticked: the day is (or will be, once validated) booked."""
        if self.basket == "add":
            return True
        if self.basket == "remove":
            return False
        return self.booking_status in ACTIVE

    @property
    def can_toggle(self) -> bool:
        """A click changes something: add or remove a basket line."""
        return self.basket is not None or self.can_book or self.can_cancel

    @property
    def icon(self) -> str:
        return STATE_ICONS.get(self.state, "")


STATE_ICONS = {
    "closed": "–", "not_enrolled": "∅", "locked": "🔒", "available": "○", "basket_add": "+",
    "basket_remove": "−", "requested": "⏳", "booked": "✓", "waiting_list": "…", "full": "✕",
    "cancel_requested": "↺", "held": "€", "absent": "A", "absent_justified": "AJ", "present": "P", "anomaly": "!",
}


def _status(state: str, **kwargs) -> DayStatus:
    return DayStatus(state=state, label=STATE_LABELS[state], **kwargs)


def _policy_of(row: DeadlinePolicy | None) -> deadlines.Policy:
    return deadlines.Policy.of(row) if row is not None else DEFAULT_POLICY


class StatusContext:
    """Prefetched data to answer many cells: a fixed number of queries whatever the range size.

    Queries: commune, units (with activities), policies, public holidays, school holidays,
    closures, extra days, enrolments, bookings, occupancy, waiting list, capacity overrides,
    basket lines, tariff bands.
    """

    def __init__(self, household: Household, children: Sequence[Child], units: Sequence[Unit] | None,
                 start: dt.date, end: dt.date, now: dt.datetime | None = None, *, use_basket: bool = True,
                 load_queues: bool = False):
        self.household = household
        self.children = list(children)
        self.start, self.end = start, end
        self.now = (now or clock.now()).astimezone(deadlines.PARIS)
        self.use_basket = use_basket
        if units is None:
            units = list(Unit.select(Unit, Activity).join(Activity)
                         .where(Activity.active & (Activity.starts_on <= end) & (Activity.ends_on >= start))
                         .order_by(Activity.position, Activity.id, Unit.position, Unit.id))
        else:
            units = list(units)
            missing = [u.activity_id for u in units if "activity" not in u.__rel__]
            if missing:
                activities = {a.id: a for a in Activity.select().where(Activity.id.in_(missing))}
                for unit in units:
                    if "activity" not in unit.__rel__:
                        unit.activity = activities[unit.activity_id]
        self.units = units
        self.units_by_id = {u.id: u for u in units}
        unit_ids = list(self.units_by_id)
        child_ids = [c.id for c in self.children]
        activity_ids = list({u.activity_id for u in units})

        policy_ids = {pid for u in units for pid in (u.booking_policy_id, u.cancel_policy_id) if pid}
        self.policies = {p.id: deadlines.Policy.of(p)
                         for p in DeadlinePolicy.select().where(DeadlinePolicy.id.in_(list(policy_ids)))} \
            if policy_ids else {}
        self.calendar = CalendarData.load(start, end, unit_ids)
        self.holidays = self.calendar.holiday_dates()

        self.enrolments: dict[tuple[int, int], Enrolment] = {}
        if child_ids and activity_ids:
            for row in Enrolment.select().where(Enrolment.child.in_(child_ids)
                                                & Enrolment.activity.in_(activity_ids)):
                self.enrolments[(row.child_id, row.activity_id)] = row

        self.bookings: dict[tuple[int, int, dt.date], Booking] = {}
        self.occupied: dict[tuple[int, dt.date], int] = defaultdict(int)
        self.waiting: dict[tuple[int, dt.date], list[int]] = defaultdict(list)
        self.overrides: dict[tuple[int, dt.date], int] = {}
        self.basket: dict[tuple[int, int, dt.date], BasketLine] = {}
        self.bands = pricing.bands_by_unit(unit_ids)
        if not (unit_ids and child_ids):
            return
        in_range = lambda model: model.date.between(start, end)  # noqa: E731
        for row in Booking.select().where(Booking.child.in_(child_ids) & Booking.unit.in_(unit_ids)
                                          & in_range(Booking)):
            self.bookings[(row.child_id, row.unit_id, row.date)] = row
        # A per-day override can limit a unit that has no default capacity: load overrides first.
        for row in CapacityOverride.select().where(CapacityOverride.unit.in_(unit_ids) & in_range(CapacityOverride)):
            self.overrides[(row.unit_id, row.date)] = row.capacity
        limited = list({u.id for u in units if u.capacity is not None} | {unit_id for unit_id, _ in self.overrides})
        if limited:
            counts = (Booking.select(Booking.unit, Booking.date, fn.COUNT(Booking.id).alias("n"))
                      .where(Booking.unit.in_(limited) & in_range(Booking) & Booking.status.in_(OCCUPYING))
                      .group_by(Booking.unit, Booking.date).tuples())
            for unit_id, day, n in counts:
                self.occupied[(unit_id, _as_date(day))] = n
        if load_queues or any(b.status == "waiting_list" for b in self.bookings.values()):
            rows = (Booking.select(Booking.unit, Booking.date, Booking.sequence)
                    .where(Booking.unit.in_(unit_ids) & in_range(Booking) & (Booking.status == "waiting_list"))
                    .order_by(Booking.sequence).tuples())
            for unit_id, day, sequence in rows:
                self.waiting[(unit_id, _as_date(day))].append(sequence)
        if use_basket and household is not None:
            for row in BasketLine.select().where((BasketLine.household == household.id)
                                                 & BasketLine.child.in_(child_ids)
                                                 & BasketLine.unit.in_(unit_ids) & in_range(BasketLine)):
                self.basket[(row.child_id, row.unit_id, row.date)] = row

    # --- questions ---------------------------------------------------------------------------

    def booking_policy(self, unit: Unit) -> deadlines.Policy:
        return self.policies.get(unit.booking_policy_id) or DEFAULT_POLICY

    def cancel_policy(self, unit: Unit) -> deadlines.Policy:
        return self.policies.get(unit.cancel_policy_id) or self.booking_policy(unit)

    def booking_deadline(self, unit: Unit, day: dt.date) -> dt.datetime:
        return deadlines.deadline(self.booking_policy(unit), day, self.holidays)

    def cancel_deadline(self, unit: Unit, day: dt.date) -> dt.datetime:
        return deadlines.deadline(self.cancel_policy(unit), day, self.holidays)

    def capacity(self, unit: Unit, day: dt.date) -> int | None:
        return self.overrides.get((unit.id, day), unit.capacity)

    def places_left(self, unit: Unit, day: dt.date) -> int | None:
        capacity = self.capacity(unit, day)
        if capacity is None:
            return None
        return max(capacity - self.occupied.get((unit.id, day), 0), 0)

    def is_enrolled(self, child: Child, unit: Unit) -> bool:
        enrolment = self.enrolments.get((child.id, unit.activity_id))
        return enrolment is not None and enrolment.status == "validated"

    def units_for(self, child: Child) -> list[Unit]:
        """Units the child has a validated enrolment for (the rows of the week grid)."""
        return [u for u in self.units if self.is_enrolled(child, u)]

    def days(self) -> list[dt.date]:
        return list(daterange(self.start, self.end))

    def price(self, child: Child, unit: Unit, late: bool = False) -> int:
        return pricing.unit_price(unit, self.household, child, late=late, bands=self.bands.get(unit.id, []))

    def waiting_position(self, booking: Booking) -> int:
        queue = self.waiting.get((booking.unit_id, booking.date), [])
        return sum(1 for seq in queue if seq < booking.sequence) + 1

    def status(self, child: Child, unit: Unit, day: dt.date) -> DayStatus:
        """The state of one cell (see DESIGN.md section 4)."""
        info = self.calendar.day_info(unit, day)
        if not info.open:
            return DayStatus(state="closed", label=info.label or STATE_LABELS["closed"], reason=info.reason)
        booking = self.bookings.get((child.id, unit.id, day))
        held = booking if booking is not None and booking.status in ACTIVE else None
        price = held.price if held is not None and held.price is not None else self.price(child, unit)
        places = self.places_left(unit, day)
        booking_limit = self.booking_deadline(unit, day)
        cancel_limit = self.cancel_deadline(unit, day)
        common = dict(price=price, places_left=places, deadline=booking_limit, cancel_deadline=cancel_limit,
                      booking_status=booking.status if booking else None, booking_id=booking.id if booking else None)
        if held is not None and held.attendance:
            state = {"present": "present", "absent": "absent", "absent_justified": "absent_justified"}.get(
                held.attendance, "anomaly")
            return _status(state, reason=STATE_LABELS[state], **common)
        activity = unit.activity
        if held is None and not self.is_enrolled(child, unit):
            enrolment = self.enrolments.get((child.id, unit.activity_id))
            reason = {"requested": "Inscription en attente de validation",
                      "waiting_list": "Inscription sur liste d'attente",
                      "refused": "Inscription refusée"}.get(enrolment.status if enrolment else "",
                                                            f"Non inscrit à « {activity.name} »")
            return _status("not_enrolled", reason=reason, **common)

        past_day = day < self.now.date()
        cancel_open = not past_day and self.now <= cancel_limit
        book_refusal = self._booking_refusal(activity, day, booking_limit, past_day)
        full = places is not None and places <= 0
        will_wait = full and unit.waiting_list
        last_places = places is not None and 0 < places <= (unit.last_places_threshold or 0)
        flags = dict(will_wait=will_wait, needs_validation=activity.booking_validation, last_places=last_places)

        line = self.basket.get((child.id, unit.id, day))
        if line is not None:
            if line.action == "add":
                reason = book_refusal or ("Complet : la réservation ira sur liste d'attente" if will_wait
                                          else "Complet" if full else "Réservation à valider dans le panier")
                return _status("basket_add", reason=reason, basket="add", can_book=book_refusal is None,
                               **flags, **common)
            reason = ("Annulation à valider dans le panier" if cancel_open
                      else deadlines.locked_reason(cancel_limit, cancel=True))
            return _status("basket_remove", reason=reason, basket="remove", can_cancel=cancel_open,
                           **flags, **common)

        if held is not None:
            absence_limit = deadlines.late_absence_deadline(day, unit.late_absence_hours)
            can_absent = (held.status == "booked" and not cancel_open and absence_limit is not None
                          and self.now <= absence_limit)
            if held.status == "waiting_list":
                position = self.waiting_position(held)
                return _status("waiting_list", reason=f"Sur liste d'attente, position {position}",
                               waiting_position=position, can_cancel=cancel_open, **flags, **common)
            if held.status == "requested":
                return _status("requested", reason="En attente de validation par le service",
                               can_cancel=cancel_open, **flags, **common)
            if held.status == "held":
                return _status("held", reason="Commande à payer pour confirmer la réservation", **flags, **common)
            if held.status == "cancel_requested":
                return _status("cancel_requested", reason="Demande d'annulation en attente de validation",
                               **flags, **common)
            reason = (f"Réservé, annulable jusqu'au {deadlines.format_deadline(cancel_limit)}" if cancel_open
                      else deadlines.locked_reason(cancel_limit, cancel=True))
            return _status("booked", reason=reason, can_cancel=cancel_open, can_declare_absence=can_absent,
                           **flags, **common)

        if book_refusal is not None:
            return _status("locked", reason=book_refusal, **flags, **common)
        if full and not unit.waiting_list:
            return _status("full", reason="Complet", **flags, **common)
        if will_wait:
            reason = "Complet : inscription possible sur liste d'attente"
        elif last_places:
            reason = f"Dernières places ({places})"
        else:
            reason = f"Réservable jusqu'au {deadlines.format_deadline(booking_limit)}"
        if activity.booking_validation and not will_wait:
            reason += " (soumis à validation)"
        return _status("available", reason=reason, can_book=True, **flags, **common)

    def _booking_refusal(self, activity: Activity, day: dt.date, limit: dt.datetime, past_day: bool) -> str | None:
        """Why a new booking is refused on time grounds (None if allowed)."""
        if past_day:
            return "Jour passé"
        opens = activity.booking_opens_at
        if opens is not None and self.now.replace(tzinfo=None) < opens:
            return f"Réservations ouvertes à partir du {formatting.datetime_long(opens)}"
        if self.now > limit:
            return deadlines.locked_reason(limit)
        return None


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


def day_status(child: Child, unit: Unit, day: dt.date, now: dt.datetime | None = None) -> DayStatus:
    """The state of one child × unit × date (a handful of queries; use week_statuses for grids)."""
    context = StatusContext(child.household, [child], [unit], day, day, now)
    return context.status(child, unit, day)


def week_statuses(household: Household, start: dt.date, end: dt.date, now: dt.datetime | None = None,
                  units: Sequence[Unit] | None = None, children: Sequence[Child] | None = None) -> StatusContext:
    """A StatusContext for a household's children over a range: call .status(child, unit, day),
    .units_for(child), .days(), .booking_deadline(unit, day). Fixed number of queries."""
    if children is None:
        children = list(Child.select().where(Child.household == household.id).order_by(Child.position, Child.id))
        children = [c for c in children if not getattr(c, "archived", False) and not c.unborn]
    return StatusContext(household, children, units, start, end, now)


# --- Placing bookings under a capacity lock --------------------------------------------------


@dataclass(frozen=True)
class LineRequest:
    """One change to place: add (book) or remove (cancel) a day."""

    child: Child
    unit: Unit
    date: dt.date
    action: str = "add"


@dataclass
class LineResult:
    child: Child
    unit: Unit
    date: dt.date
    action: str
    outcome: str  # booked, requested, held, waiting_list, cancelled, cancel_requested, unchanged, refused
    message: str = ""
    booking: Booking | None = None
    price: int | None = None
    waiting_position: int | None = None
    freed: list[Booking] = field(default_factory=list)  # waiting bookings a freed place went to (or is offered to)

    @property
    def ok(self) -> bool:
        return self.outcome not in ("refused",)

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS[self.outcome]


def _is_sqlite() -> bool:
    return isinstance(db.obj, SqliteDatabase)


@contextlib.contextmanager
def locked_transaction():
    """A write transaction that serialises bookings: BEGIN IMMEDIATE on SQLite; on PostgreSQL a
    plain transaction, with unit rows locked FOR UPDATE by lock_units(). Nested use is a savepoint."""
    if db.in_transaction():
        with db.atomic():
            yield
    elif _is_sqlite():
        with db.atomic(lock_type="IMMEDIATE"):
            yield
    else:
        with db.atomic():
            yield


def lock_units(unit_ids: Iterable[int]) -> None:
    """SELECT … FOR UPDATE on the units (in id order, so two orders never deadlock). No-op on SQLite,
    where the IMMEDIATE transaction already holds the write lock."""
    ids = sorted(set(unit_ids))
    if ids and not _is_sqlite():
        list(Unit.select(Unit.id).where(Unit.id.in_(ids)).order_by(Unit.id).for_update())


def _as_request(line) -> LineRequest:
    if isinstance(line, LineRequest):
        return line
    if isinstance(line, BasketLine):
        return LineRequest(line.child, line.unit, line.date, line.action)
    child, unit, day, *rest = line
    return LineRequest(child, unit, day, rest[0] if rest else "add")


def place_bookings(household: Household, lines: Iterable, now: dt.datetime | None = None, *,
                   by_staff: bool = False) -> list[LineResult]:
    """Apply add/remove lines for a household in one locked transaction; every rule re-checked.

    Lines may be LineRequest, BasketLine or (child, unit, date, action) tuples; their order is the
    arrival order. A refused line changes nothing and says why. Staff (by_staff) may book past the
    deadline (late surcharge) and cancel past it. Call inside locked_transaction() to combine with
    other writes (an Order); otherwise this opens its own.
    """
    requests = [_as_request(line) for line in lines]
    if not requests:
        return []
    for request in requests:
        if request.child.household_id != household.id:
            raise BookingRefused("Cet enfant n'appartient pas à ce foyer.")
    now = now or clock.now()
    with locked_transaction():
        units = {r.unit.id: r.unit for r in requests}
        lock_units(units)
        fresh = {u.id: u for u in Unit.select(Unit, Activity).join(Activity).where(Unit.id.in_(list(units)))}
        children = {r.child.id: r.child for r in requests}
        start = min(r.date for r in requests)
        end = max(r.date for r in requests)
        context = StatusContext(household, list(children.values()), list(fresh.values()), start, end, now,
                                use_basket=False, load_queues=True)
        maxima = (Booking.select(Booking.unit, Booking.date, fn.MAX(Booking.sequence))
                  .where(Booking.unit.in_(list(fresh)) & Booking.date.between(start, end))
                  .group_by(Booking.unit, Booking.date).tuples())
        sequences = {(unit_id, _as_date(day)): top or 0 for unit_id, day, top in maxima}
        prepaid = prepaid_activities({u.activity_id for u in fresh.values()})
        results = []
        for request in requests:
            unit = fresh[request.unit.id]
            child = children[request.child.id]
            if request.action == "remove":
                results.append(_cancel(context, household, child, unit, request.date, now, by_staff))
            else:
                results.append(_book(context, household, child, unit, request.date, now, by_staff, sequences,
                                     prepaid=unit.activity_id in prepaid and not by_staff))
        return results


def prepaid_activities(activity_ids: Iterable[int]) -> set[int]:
    """Activities whose régie is "au comptant": their days are held until the order is paid."""
    ids = list(activity_ids)
    if not ids:
        return set()
    return {a.id for a in Activity.select(Activity.id).join(Regie)
            .where(Activity.id.in_(ids) & (Regie.prepayment == True))}  # noqa: E712


def _book(context: StatusContext, household, child, unit, day, now, by_staff, sequences, *,
          prepaid: bool = False) -> LineResult:
    status = context.status(child, unit, day)
    result = dict(child=child, unit=unit, date=day, action="add")
    if status.booking_status in ACTIVE:
        return LineResult(**result, outcome="unchanged", message="Déjà réservé.", price=status.price)
    late = False
    if status.state == "locked":
        if not by_staff or status.reason == "Jour passé":
            return LineResult(**result, outcome="refused", message=status.reason)
        late = True
    elif status.state in ("closed", "not_enrolled", "full"):
        return LineResult(**result, outcome="refused", message=status.reason or status.label)
    elif status.state != "available":
        return LineResult(**result, outcome="refused", message=status.reason or status.label)
    places = context.places_left(unit, day)
    if places is not None and places <= 0:
        if not unit.waiting_list:
            return LineResult(**result, outcome="refused", message="Complet")
        outcome = "waiting_list"
    else:
        outcome = "requested" if unit.activity.booking_validation and not by_staff else "booked"
        if prepaid:
            outcome = "held"  # the place is kept for this household until its order is paid (or expires)
    key = (unit.id, day)
    sequences[key] = (sequences.get(key) or 0) + 1
    price = context.price(child, unit, late=late)
    stamp = clock.local_now()
    booking = context.bookings.get((child.id, unit.id, day))
    if booking is None:
        booking = Booking.create(household=household, child=child, unit=unit, date=day, status=outcome,
                                 sequence=sequences[key], price=price, late=late, created_at=stamp)
        context.bookings[(child.id, unit.id, day)] = booking
    else:
        booking.status, booking.sequence, booking.price, booking.late = outcome, sequences[key], price, late
        booking.attendance, booking.refusal_reason, booking.updated_at = "", "", stamp
        booking.prepaid = False  # a day booked again is paid again (with its order or its invoice)
        booking.save()
    position = None
    if outcome in OCCUPYING:
        context.occupied[key] = context.occupied.get(key, 0) + 1
    else:
        context.waiting[key].append(booking.sequence)
        position = context.waiting_position(booking)
    message = {"booked": "Réservé.", "requested": "En attente de validation par le service.",
               "held": "Place réservée pendant 1 heure : payez la commande pour la confirmer.",
               "waiting_list": f"Complet : sur liste d'attente, position {position}."}[outcome]
    return LineResult(**result, outcome=outcome, message=message, booking=booking, price=price,
                      waiting_position=position)


def _cancel(context: StatusContext, household, child, unit, day, now, by_staff) -> LineResult:
    status = context.status(child, unit, day)
    result = dict(child=child, unit=unit, date=day, action="remove")
    booking = context.bookings.get((child.id, unit.id, day))
    if booking is None or booking.status not in ACTIVE:
        return LineResult(**result, outcome="unchanged", message="Aucune réservation à annuler.")
    if booking.status == "cancel_requested":
        return LineResult(**result, outcome="unchanged", message="Annulation déjà demandée.")
    if not status.can_cancel and not by_staff:
        return LineResult(**result, outcome="refused",
                          message=deadlines.locked_reason(status.cancel_deadline, cancel=True)
                          if status.cancel_deadline else status.reason)
    was_occupying = booking.status in OCCUPYING
    if booking.status == "booked" and unit.activity.booking_validation and not by_staff:
        outcome = "cancel_requested"
    else:
        outcome = "cancelled"
    booking.status, booking.updated_at = outcome, clock.local_now()
    booking.save()
    freed = []
    if outcome == "cancelled" and was_occupying:
        freed = free_places(unit, day)
        context.occupied[(unit.id, day)] = max(context.occupied.get((unit.id, day), 1) - 1, 0) + sum(
            1 for b in freed if b.status in OCCUPYING)
        for promoted in freed:
            if promoted.status in OCCUPYING:
                queue = context.waiting.get((unit.id, day), [])
                if promoted.sequence in queue:
                    queue.remove(promoted.sequence)
    message = "Annulé." if outcome == "cancelled" else "Demande d'annulation transmise au service."
    return LineResult(**result, outcome=outcome, message=message, booking=booking, freed=freed)


def _occupied(unit: Unit, day: dt.date) -> int:
    return Booking.select().where((Booking.unit == unit.id) & (Booking.date == day)
                                  & Booking.status.in_(OCCUPYING)).count()


def _capacity(unit: Unit, day: dt.date) -> int | None:
    override = CapacityOverride.get_or_none((CapacityOverride.unit == unit.id) & (CapacityOverride.date == day))
    return override.capacity if override else unit.capacity


def places_left(unit: Unit, day: dt.date) -> int | None:
    """Places left for a unit on a day (None = unlimited), counting requested and booked."""
    capacity = _capacity(unit, day)
    return None if capacity is None else max(capacity - _occupied(unit, day), 0)


def waiting_queue(unit: Unit, day: dt.date) -> list[Booking]:
    """The waiting list of a unit on a day, in arrival order."""
    return list(Booking.select().where((Booking.unit == unit.id) & (Booking.date == day)
                                       & (Booking.status == "waiting_list")).order_by(Booking.sequence))


def promote_waiting(unit: Unit, day: dt.date) -> list[Booking]:
    """When places free up and the activity confirms automatically, the first waiting bookings take
    them (in arrival order). Otherwise staff confirm with confirm_waiting(). Call under the lock."""
    activity = unit.activity
    if not activity.auto_confirm_waiting:
        return []
    promoted = []
    with locked_transaction():
        lock_units([unit.id])
        left = places_left(unit, day)
        for booking in waiting_queue(unit, day):
            if left is not None and left <= 0:
                break
            booking.status = "requested" if activity.booking_validation else "booked"
            booking.updated_at = clock.local_now()
            booking.save()
            promoted.append(booking)
            if left is not None:
                left -= 1
    return promoted


def free_places(unit: Unit, day: dt.date) -> list[Booking]:
    """A place freed up on unit × day: the first waiting bookings take it where the activity
    confirms automatically (their status changes to booked/requested); otherwise they are offered to
    staff (still "waiting_list", as many as places left) for confirm_waiting(). Returns those bookings,
    so the families can be told. Call under the lock."""
    if unit.activity.auto_confirm_waiting:
        return promote_waiting(unit, day)
    queue = waiting_queue(unit, day)
    left = places_left(unit, day)
    return queue if left is None else queue[:left]


def confirm_waiting(booking: Booking) -> Booking:
    """Staff give a freed place to a waiting booking; refused (Full) if no place is left."""
    with locked_transaction():
        lock_units([booking.unit_id])
        booking = Booking.get_by_id(booking.id)
        if booking.status != "waiting_list":
            raise BookingRefused("Cette réservation n'est pas sur liste d'attente.")
        left = places_left(booking.unit, booking.date)
        if left is not None and left <= 0:
            raise Full("Complet : aucune place ne s'est libérée ce jour-là.")
        booking.status, booking.updated_at = "booked", clock.local_now()
        booking.save()
    return booking


def decide_request(booking: Booking, accept: bool, reason: str = "", *,
                   freed: list[Booking] | None = None) -> Booking:
    """Staff accept or refuse a booking "En attente de validation" or a "Demande d'annulation".
    When the decision frees a place, the waiting bookings it goes to (free_places) are appended to
    `freed` if given, so the caller can tell those families."""
    reason = (reason or "").strip()
    with locked_transaction():
        lock_units([booking.unit_id])
        booking = Booking.get_by_id(booking.id)
        if booking.status == "requested":
            if not accept and not reason:
                raise BookingRefused("Indiquez le motif du refus.", "reason")
            booking.status = "booked" if accept else "refused"
        elif booking.status == "cancel_requested":
            booking.status = "cancelled" if accept else "booked"
        else:
            raise BookingRefused("Cette réservation n'attend pas de décision.")
        booking.refusal_reason = "" if accept else reason
        booking.updated_at = clock.local_now()
        booking.save()
        if booking.status in ("cancelled", "refused"):
            promoted = free_places(booking.unit, booking.date)
            if freed is not None:
                freed.extend(promoted)
    return booking
