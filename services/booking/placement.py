"""Placing bookings under a capacity lock: last places to the first arrivals, the rest to the waiting list."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from peewee import Select, fn

from models import (
    Activity,
    BasketLine,
    Booking,
    CapacityOverride,
    Child,
    Household,
    Regie,
    Unit,
    db,
)
from models.base import count_rows
from models.prepared import prepared
from services.booking import day_queries, deadlines, frozen_days, unit_rules
from services.booking.day_status import (
    ACTIVE,
    OCCUPYING,
    OUTCOME_LABELS,
    BookingRefused,
    Full,
    StatusContext,
    capacity_overrides,
    units_with_rules,
)
from services.core import clock, config_cache
from services.core.transactions import as_date, lock_rows, write_transaction
from services.family import custody

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


def _as_requests(household: Household, lines: Iterable) -> list[LineRequest]:
    """Lines as LineRequests: basket lines' children read at once, their units from the configuration cache."""
    lines = list(lines)
    basket = [line for line in lines if isinstance(line, BasketLine)]
    children, units = {}, {}
    if basket:  # a basket line's own .child and .unit were two queries a line: 20 for a basket of 10
        children = {c.id: c for c in custody.children_of(household, {line.child_id for line in basket})}
        units = units_with_rules({line.unit_id for line in basket})
    return [_as_request(line, children, units) for line in lines]


def _as_request(line, children: dict, units: dict) -> LineRequest:
    if isinstance(line, LineRequest):
        return line
    if isinstance(line, BasketLine):  # a child no longer the household's is refused below, by name
        return LineRequest(children.get(line.child_id) or line.child, units.get(line.unit_id) or line.unit,
                           line.date, line.action)
    child, unit, day, *rest = line
    return LineRequest(child, unit, day, rest[0] if rest else "add")


def place_bookings(household: Household, lines: Iterable, now: dt.datetime | None = None, *,
                   by_staff: bool = False) -> list[LineResult]:
    """Apply add/remove lines for a household in one locked transaction; every rule re-checked.

    Lines may be LineRequest, BasketLine or (child, unit, date, action) tuples; their order is the
    arrival order. A refused line changes nothing and says why. Staff (by_staff) may book past the
    deadline (late surcharge) and cancel past it, and change a month closed for invoicing as long as
    the household's invoice of that month is not issued (billing_periods). Call inside
    write_transaction() to combine with other writes (an Order); otherwise this opens its own.
    """
    requests = _as_requests(household, lines)
    if not requests:
        return []
    foreign = {r.child.id for r in requests if r.child.household_id != household.id}
    if foreign and len(custody.children_of(household, foreign)) != len(foreign):  # shared children pass
        raise BookingRefused("Cet enfant n'appartient pas à ce foyer.")
    now = now or clock.now()
    with write_transaction(savepoint=False):  # a refusal is a result; an error undoes the caller's all
        units = {r.unit.id: r.unit for r in requests}
        children = {r.child.id: r.child for r in requests}
        start = min(r.date for r in requests)
        end = max(r.date for r in requests)
        # A child's day is decided by one placement at a time (two guardians, a parent and the desk); places
        # are counted by one placement at a time per unit; a unit without a count is only kept unchanged
        # (its configuration, a month being closed), so the commune's « Valider » do not queue on the canteen.
        lock_rows(Child, children)
        expected = counted_units(units.values(), start, end)
        alone = lock_rows(Unit, expected, share=set(units) - expected)
        with config_cache.committed():  # under the lock: the committed configuration, not an older copy
            fresh = units_with_rules(units)
            counted = counted_units(fresh.values(), start, end)
            if counted - alone:  # a capacity set a moment before the lock
                raise BookingRefused(CAPACITY_CHANGED)
            context = StatusContext(household, list(children.values()), list(fresh.values()), start, end, now,
                                    use_basket=False, load_queues=True, apply_rules=False)
            prepaid = prepaid_activities({u.activity_id for u in fresh.values()})
        _read_queues(context, {(r.unit.id, r.date) for r in requests if r.action == "remove"})
        # Arrival numbers where places are counted (under their lock); elsewhere they would rank nothing.
        sequences = _last_arrivals({(r.unit.id, r.date) for r in requests
                                    if r.action != "remove" and r.unit.id in counted})
        incompatible = _rule_refusals(context, requests)
        rules = context.rules
        results: list[LineResult | None] = [None] * len(requests)
        for index in sorted(range(len(requests)), key=lambda i: _rule_rank(rules, requests[i])):
            request = requests[index]
            unit, child = fresh[request.unit.id], children[request.child.id]
            if index not in incompatible and unit.id in rules.related_ids:
                refusal = _still_coherent(context, child, unit, request.date, request.action)
                if refusal:
                    incompatible[index] = refusal
            if index in incompatible:
                results[index] = LineResult(child, unit, request.date, request.action, "refused", incompatible[index])
            elif request.action == "remove":
                results[index] = _cancel(context, household, child, unit, request.date, now, by_staff)
            else:
                results[index] = _book(context, household, child, unit, request.date, now, by_staff, sequences,
                                       prepaid=unit.activity_id in prepaid and not by_staff)
        return results


CAPACITY_CHANGED = "Les places d'une activité viennent d'être modifiées par le service : validez à nouveau."


def counted_units(units: Iterable[Unit], start: dt.date, end: dt.date) -> set[int]:
    """The units whose places are counted between two days (a capacity, a day's override or a waiting list):
    their placements wait for each other."""
    overridden = {unit_id for (unit_id, day) in capacity_overrides() if start <= day <= end}
    return {u.id for u in units if u.capacity is not None or u.waiting_list or u.id in overridden}


def _read_queues(context: StatusContext, cancelled: set[tuple[int, dt.date]]) -> None:
    """The waiting lists the context did not read (a unit without a capacity: only a capacity removed since
    leaves one) of the days cancelled, one statement per 100 days: a cancelled day then asks nobody whether
    a family waits for its place (free_places), unless one does."""
    limited = {u.id for u in context.units_by_id.values() if u.capacity is not None}
    known = limited | {unit_id for unit_id, _day in context.overrides} | {u for u, _d in context.waiting}
    unread = {(unit_id, day) for unit_id, day in cancelled if unit_id not in known}
    if unread:
        for unit_id, day, sequence in sorted(day_queries.waiting_on_days(unread), key=lambda row: row[2]):
            context.waiting[(unit_id, as_date(day))].append(sequence)


def _last_arrivals(keys: set[tuple[int, dt.date]]) -> dict[tuple[int, dt.date], int]:
    """The last arrival number of each (unit, day) to book: one statement, each value read from the end
    of the (unit, date, sequence) index (grouping would read every booking of a canteen's day)."""
    keys_in_order, found = sorted(keys), {}
    for start in range(0, len(keys_in_order), 200):  # a select of at most 200 columns (SQLite allows 2,000)
        chunk = keys_in_order[start:start + 200]
        row = db.execute(Select(columns=[
            Booking.select(fn.MAX(Booking.sequence)).where((Booking.unit == unit_id) & (Booking.date == day))
            for unit_id, day in chunk])).fetchone()
        found.update(zip(chunk, (top or 0 for top in row)))
    return found


def _rule_rank(rules: unit_rules.Rules, request: LineRequest) -> int:
    """Placement order for ruled units: a required unit's removal after the additions (a swap's « Journée »
    is held, or refused, before « Matin » goes), a dependent unit's addition last (its « Matin » placed)."""
    if request.action == "remove":
        return 1 if rules.dependents(request.unit.id) else 0
    return 2 if rules.required(request.unit.id) else 0


def _still_coherent(context: StatusContext, child, unit: Unit, day: dt.date, action: str) -> str | None:
    """The rules against what the child's day really holds now (earlier lines placed or refused)."""
    rules = context.rules

    def holding(ids) -> bool:
        return any((b := context.bookings.get((child.id, u, day))) is not None and b.status in unit_rules.HOLDING
                   for u in ids)

    if action == "add" and rules.required(unit.id) and not holding(rules.required(unit.id)):
        return rules.missing(unit.id)
    if action == "remove" and holding([unit.id]):
        for dependent in rules.sorted(rules.dependents(unit.id)):
            if holding([dependent]) and not holding(rules.required(dependent) - {unit.id}):
                return rules.orphan([unit.id], dependent)
    return None


def _rule_refusals(context: StatusContext, requests: list[LineRequest]) -> dict[int, str]:
    """The lines exclusive or dependent units refuse ({index: reason}), each child's day taken as a whole:
    what it holds and every line placed with it (unit_rules.check_group)."""
    rules = context.rules
    groups: dict[tuple, list[tuple[int, int, str]]] = {}
    for index, request in enumerate(requests):
        if request.unit.id in rules.related_ids:
            groups.setdefault((request.child.id, request.date), []).append((index, request.unit.id, request.action))
    refused: dict[int, str] = {}
    for (child_id, day), lines in groups.items():
        held = {unit_id for (c, unit_id, d), booking in context.bookings.items()
                if c == child_id and d == day and booking.status in unit_rules.HOLDING}
        refused.update(rules.check_group(held, lines))
    return refused


def prepaid_activities(activity_ids: Iterable[int]) -> set[int]:
    """Activities whose régie is "au comptant": their days are held until the order is paid (configuration,
    from the cache)."""
    ids = set(activity_ids)
    return ids & config_cache.cached("prepaid_activities", lambda: {
        a.id for a in Activity.select(Activity.id).join(Regie).where(Regie.prepayment == True)}) if ids else set()  # noqa: E712


def _book(context: StatusContext, household, child, unit, day, now, by_staff, sequences, *,
          prepaid: bool = False) -> LineResult:
    status = context.status(child, unit, day)
    result = dict(child=child, unit=unit, date=day, action="add")
    if status.booking_status in ACTIVE:
        return LineResult(**result, outcome="unchanged", message="Déjà réservé.", price=status.price)
    if by_staff:
        refusal = _invoiced_refusal(household, unit, day)
        if refusal:
            return LineResult(**result, outcome="refused", message=refusal)
    late = False
    if status.state == "period_closed":
        if not by_staff:
            return LineResult(**result, outcome="refused", message=status.reason)
        late = status.deadline is not None and context.now > status.deadline
    elif status.state == "locked":
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
    if key in sequences:  # a unit whose places are counted: the next arrival number (0 elsewhere)
        sequences[key] += 1
    sequence = sequences.get(key, 0)
    price = context.price(child, unit, late=late)
    stamp = clock.local_now()
    booking = context.bookings.get((child.id, unit.id, day))
    if booking is None:
        booking = Booking.create(household=household, child=child, unit=unit, date=day, status=outcome,
                                 sequence=sequence, price=price, late=late, created_at=stamp)
        context.bookings[(child.id, unit.id, day)] = booking
    else:
        booking.status, booking.sequence, booking.price, booking.late = outcome, sequence, price, late
        booking.attendance, booking.refusal_reason, booking.updated_at = "", "", stamp
        booking.prepaid = False  # a day booked again is paid again (with its order or its invoice)
        _book_again.say(booking.id, outcome, sequence, price, late, stamp)
    position = None
    if outcome in OCCUPYING:
        context.occupied[key] = context.occupied.get(key, 0) + 1
    else:
        context.waiting[key].append(booking.sequence)
        position = context.waiting_position(booking)
    message = {"booked": "Réservé.", "requested": "En attente de validation par le service.",
               "held": "Place réservée pendant 1 heure : payez la commande pour la confirmer.",
               "waiting_list": f"Complet : sur liste d'attente, position {position}."}[outcome]
    if status.period_closed:
        message += STAFF_CLOSED_NOTE
    return LineResult(**result, outcome=outcome, message=message, booking=booking, price=price,
                      waiting_position=position)


# A placement's writes to an existing booking: nobody reads their count, so on PostgreSQL they travel with
# the next statement (PreparedQuery.say); only what changed is written.
_set_status = prepared(lambda booking, status, updated_at: Booking.update(status=status, updated_at=updated_at)
                       .where(Booking.id == booking))
_book_again = prepared(lambda booking, status, sequence, price, late, updated_at: Booking.update(
    status=status, sequence=sequence, price=price, late=late, attendance="", refusal_reason="", updated_at=updated_at,
    prepaid=False).where(Booking.id == booking))


def _cancel(context: StatusContext, household, child, unit, day, now, by_staff) -> LineResult:
    status = context.status(child, unit, day)
    result = dict(child=child, unit=unit, date=day, action="remove")
    booking = context.bookings.get((child.id, unit.id, day))
    if booking is None or booking.status not in ACTIVE:
        return LineResult(**result, outcome="unchanged", message="Aucune réservation à annuler.")
    if booking.household_id != household.id:  # garde alternée: the other parent's booking is theirs
        return LineResult(**result, outcome="refused", message=custody.OTHER_PARENT)
    if booking.status == "cancel_requested":
        return LineResult(**result, outcome="unchanged", message="Annulation déjà demandée.")
    if status.period_closed and not by_staff:
        return LineResult(**result, outcome="refused", message=frozen_days.CLOSED_MESSAGE)
    if by_staff:
        refusal = _invoiced_refusal(household, unit, day)
        if refusal:
            return LineResult(**result, outcome="refused", message=refusal)
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
    _set_status.say(booking.id, outcome, booking.updated_at)
    freed = []
    if outcome == "cancelled" and was_occupying and context.waiting.get((unit.id, day)):  # someone waits
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


STAFF_CLOSED_NOTE = (" Mois clôturé pour la facturation : ce jour sera facturé quand la facturation de la "
                     "période sera relancée.")


def _invoiced_refusal(household, unit: Unit, day: dt.date) -> str | None:
    """Why staff may not change this day: the household's invoice of its month is issued (else None)."""
    try:
        frozen_days.check_not_invoiced(household.id, unit, day)
    except frozen_days.PeriodInvoiced as refusal:
        return refusal.message
    return None


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


def places_left_many(units: dict[int, Unit], pairs: Iterable[tuple[int, dt.date]]) -> dict[tuple, int | None]:
    """places_left of several (unit id, day) pairs, `units` by id: two grouped queries in all."""
    pairs = set(pairs)
    if not pairs:
        return {}
    unit_ids, days = sorted({u for u, _d in pairs}), sorted({d for _u, d in pairs})
    occupied = {(u, d): n for u, d, n in (
        Booking.select(Booking.unit, Booking.date, count_rows())
        .where(Booking.unit.in_(unit_ids) & Booking.date.in_(days) & Booking.status.in_(OCCUPYING))
        .group_by(Booking.unit, Booking.date).tuples())}
    overrides = {(u, d): c for u, d, c in (
        CapacityOverride.select(CapacityOverride.unit, CapacityOverride.date, CapacityOverride.capacity)
        .where(CapacityOverride.unit.in_(unit_ids) & CapacityOverride.date.in_(days)).tuples())}
    result: dict[tuple, int | None] = {}
    for unit_id, day in pairs:
        capacity = overrides.get((unit_id, day), units[unit_id].capacity)
        result[(unit_id, day)] = None if capacity is None else max(capacity - occupied.get((unit_id, day), 0), 0)
    return result


def waiting_queue(unit: Unit, day: dt.date) -> list[Booking]:
    """The waiting list of a unit on a day, in arrival order."""
    # Sorted here: asked to sort, SQLite walks the (unit, date, sequence) index through every booking of
    # the day (37 ms for a canteen of 10,000 households) instead of seeking (unit, date, status).
    rows = Booking.select().where((Booking.unit == unit.id) & (Booking.date == day) & (Booking.status == "waiting_list"))
    return sorted(rows, key=lambda booking: booking.sequence)


def promote_waiting(unit: Unit, day: dt.date) -> list[Booking]:
    """When places free up and the activity confirms automatically, the first waiting bookings take
    them (in arrival order). Otherwise staff confirm with confirm_waiting(). Call under the lock."""
    activity = unit.activity
    if not activity.auto_confirm_waiting:
        return []
    promoted = []
    with write_transaction():
        lock_rows(Unit, [unit.id])
        left = places_left(unit, day)
        for booking in waiting_queue(unit, day):
            if left is not None and left <= 0:
                break
            if frozen_days.invoice_for(booking.household_id, activity.regie_id, day) is not None:
                continue  # its month is invoiced for that family: the day would never be billed
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
    with write_transaction():
        lock_rows(Unit, [booking.unit_id])
        booking = Booking.get_by_id(booking.id)
        if booking.status != "waiting_list":
            raise BookingRefused("Cette réservation n'est pas sur liste d'attente.")
        frozen_days.check_not_invoiced(booking.household_id, booking.unit, booking.date)
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
    with write_transaction():
        lock_rows(Unit, [booking.unit_id])
        booking = Booking.get_by_id(booking.id)
        if accept and booking.status in ("requested", "cancel_requested"):
            frozen_days.check_not_invoiced(booking.household_id, booking.unit, booking.date)
        refusal = unit_rules.approval_refusal(booking, accept)
        if refusal:
            raise BookingRefused(refusal)
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
