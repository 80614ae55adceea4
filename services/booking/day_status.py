"""The one question the app asks about a day: what may this child do with this unit on that date?

`day_status(child, unit, day, now)` answers one cell; `week_statuses(household, start, end, now)` answers a whole
range for a household in a fixed number of queries (StatusContext prefetches everything). Placement under the
locks (`place_bookings`, services/booking/placement.py) reads the cells from here. No view re-implements these rules.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from peewee import JOIN

from models import (Activity, Attendance, BasketLine, Booking, CapacityOverride, Child, DeadlinePolicy, Enrolment,
                    Household, Unit)
from services.booking import day_queries, deadlines, frozen_days, pricing, timed_attendance, unit_rules
from services.booking.calendar import CalendarData, daterange
from services.core import clock, config_cache, formatting
from services.core.errors import DomainError
from services.core.transactions import as_date
from services.family import custody

# DESIGN.md section 4: one vocabulary for the grid, the legend, the calendar and the staff side.
STATE_LABELS = {
    "closed": "Fermé",
    "not_enrolled": "Non inscrit",
    "locked": "Hors délai",
    "available": "Disponible",
    "basket_add": "À ajouter",
    "basket_remove": "À retirer",
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
    "period_closed": "Clôturé",
    "other_parent": "Semaine de l'autre parent",
    "no_booking": "Sans réservation",
    "excluded": "Incompatible",
}
# A unit « sans réservation » (Unit.attendance_only): the cell is read-only, and this is also the refusal
# of a hand-posted toggle.
NO_BOOKING_REASON = "Sans réservation : rien à réserver ni à annuler, la présence est pointée sur place"
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
    period_closed: bool = False  # the régie's month is closed for invoicing (billing_periods)

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
    "cancel_requested": "↺", "held": "€", "excluded": "⊘", "period_closed": "🔒", "absent": "A", "absent_justified": "AJ", "present": "P", "anomaly": "!",
    "other_parent": "⇄",
    "no_booking": "◷",
}


def _status(state: str, **kwargs) -> DayStatus:
    return DayStatus(state=state, label=STATE_LABELS[state], **kwargs)


def _policy_of(row: DeadlinePolicy | None) -> deadlines.Policy:
    return deadlines.Policy.of(row) if row is not None else DEFAULT_POLICY


class StatusContext:
    """Prefetched data to answer many cells: a fixed number of queries whatever the range size.

    Queries: commune, units (with activities), policies, public holidays, school holidays,
    closures, extra days, enrolments, bookings, occupancy, waiting list, capacity overrides,
    basket lines, tariff bands, custody shares (garde alternée).
    """

    def __init__(self, household: Household, children: Sequence[Child], units: Sequence[Unit] | None,
                 start: dt.date, end: dt.date, now: dt.datetime | None = None, *,
                 use_basket: bool | Sequence[BasketLine] = True, load_queues: bool = False, apply_rules: bool = True):
        """use_basket: False for the desk's view; the household's whole basket where the caller read it."""
        with config_cache.one_token():  # the configuration's token read once, even outside a request
            self._load(household, children, units, start, end, now, use_basket=use_basket,
                       load_queues=load_queues, apply_rules=apply_rules)

    def _load(self, household: Household, children: Sequence[Child], units: Sequence[Unit] | None,
              start: dt.date, end: dt.date, now: dt.datetime | None = None, *,
              use_basket: bool | Sequence[BasketLine] = True, load_queues: bool = False, apply_rules: bool = True) -> None:
        self.household = household
        self.children = list(children)
        self.start, self.end = start, end
        self.now = (now or clock.now()).astimezone(deadlines.PARIS)
        self.use_basket = use_basket is not False
        self.apply_rules = apply_rules  # placement checks exclusive and dependent units a whole day at a time
        if units is None:  # the grid: the active units with their activity and policies (configuration cache)
            units = [u for u in config_cache.cached("active_units", _active_units)
                     if u.activity.starts_on <= end and u.activity.ends_on >= start]
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

        self.policies = {}
        unread: set[int] = set()  # units given without their policies (read with them when cached)
        for u in units:
            for name in ("booking_policy", "cancel_policy"):
                policy_id = getattr(u, f"{name}_id")
                if policy_id is None:
                    continue
                if name in u.__rel__:
                    self.policies[policy_id] = deadlines.Policy.of(u.__rel__[name])
                else:
                    unread.add(policy_id)
        if unread:
            self.policies.update((p.id, deadlines.Policy.of(p)) for p in
                                 DeadlinePolicy.select().where(DeadlinePolicy.id.in_(list(unread))))
        self.calendar = CalendarData.load(start, end, unit_ids)
        self.custody = custody.CustodyMap(self.children)
        self.closed_months = frozen_days.closed_months({u.activity.regie_id for u in units}, start, end)
        self.holidays = self.calendar.holiday_dates()
        self._deadlines: dict[tuple[int, dt.date], dt.datetime] = {}

        self.enrolments: dict[tuple[int, int], Enrolment] = {}
        if child_ids and activity_ids:
            for row in day_queries.enrolments(child_ids, activity_ids):
                self.enrolments[(row.child_id, row.activity_id)] = row

        self.bookings: dict[tuple[int, int, dt.date], Booking] = {}
        self.occupied: dict[tuple[int, dt.date], int] = defaultdict(int)
        self.waiting: dict[tuple[int, dt.date], list[int]] = defaultdict(list)
        self.overrides: dict[tuple[int, dt.date], int] = {}
        self.basket: dict[tuple[int, int, dt.date], BasketLine] = {}
        self.bands = pricing.bands_by_unit(unit_ids)
        self.recorded: dict[tuple[int, int, dt.date], Attendance] = {}  # units « sans réservation »
        # Exclusive and dependent units: their days are read too (unit_rules), even outside `units`.
        self.rules = unit_rules.Rules.load(unit_ids, self.units_by_id) if unit_ids else unit_rules.Rules()
        ruled = list(set(unit_ids) | self.rules.related_ids)
        if not (unit_ids and child_ids):
            return
        for row in day_queries.bookings(child_ids, ruled, start, end):
            self.bookings[(row.child_id, row.unit_id, row.date)] = row
        # A per-day override can limit a unit that has no default capacity: load overrides first.
        wanted = set(unit_ids)
        self.overrides = {(unit_id, day): capacity for (unit_id, day), capacity in capacity_overrides().items()
                          if unit_id in wanted and start <= day <= end}
        limited = list({u.id for u in units if u.capacity is not None} | {unit_id for unit_id, _ in self.overrides})
        if limited:
            for unit_id, day, n in day_queries.places_taken(limited, start, end):
                self.occupied[(unit_id, as_date(day))] = n
        # Queues exist where places are limited, or where one of these children already waits (a capacity
        # removed since): a canteen without a capacity is never read (10,000 households: 10 ms a unit).
        queued = {b.unit_id for b in self.bookings.values() if b.status == "waiting_list"} & wanted
        queued |= set(limited) if load_queues else set()
        if queued:
            rows = day_queries.waiting_lists(sorted(queued), start, end)
            for unit_id, day, sequence in sorted(rows, key=lambda row: row[2]):  # arrival order
                self.waiting[(unit_id, as_date(day))].append(sequence)
        attendance_only = [u.id for u in units if u.attendance_only]
        if attendance_only:
            for row in day_queries.attendances(child_ids, attendance_only, start, end):
                self.recorded[(row.child_id, row.unit_id, as_date(row.date))] = row
        if use_basket is not False and household is not None:
            if use_basket is True:
                rows = day_queries.basket_lines(household.id, child_ids, ruled, start, end)
            else:  # the household's whole basket, read by the caller: keep what the query would have read
                of_children, of_units = set(child_ids), set(ruled)
                rows = [r for r in use_basket if r.child_id in of_children and r.unit_id in of_units
                        and start <= r.date <= end]
            for row in rows:
                self.basket[(row.child_id, row.unit_id, row.date)] = row

    # --- questions ---------------------------------------------------------------------------

    def booking_policy(self, unit: Unit) -> deadlines.Policy:
        return self.policies.get(unit.booking_policy_id) or DEFAULT_POLICY

    def cancel_policy(self, unit: Unit) -> deadlines.Policy:
        return self.policies.get(unit.cancel_policy_id) or self.booking_policy(unit)

    def booking_deadline(self, unit: Unit, day: dt.date) -> dt.datetime:
        return self._deadline(self.booking_policy(unit), day)

    def cancel_deadline(self, unit: Unit, day: dt.date) -> dt.datetime:
        return self._deadline(self.cancel_policy(unit), day)

    def _deadline(self, policy: deadlines.Policy, day: dt.date) -> dt.datetime:
        """A policy's deadline for a day, worked out once per context (a month asks it for every cell)."""
        key = (id(policy), day)
        found = self._deadlines.get(key)
        if found is None:
            found = self._deadlines[key] = deadlines.deadline(policy, day, self.holidays)
        return found

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

    def bookable_units_for(self, child: Child) -> list[Unit]:
        """The child's units that parents book (bulk booking, copy of a week): not those « sans réservation »."""
        return [u for u in self.units_for(child) if not u.attendance_only]

    def days(self) -> list[dt.date]:
        return list(daterange(self.start, self.end))

    def price(self, child: Child, unit: Unit, late: bool = False) -> int:
        return pricing.unit_price(unit, self.household, child, late=late, bands=self.bands.get(unit.id, []))

    def waiting_position(self, booking: Booking) -> int:
        queue = self.waiting.get((booking.unit_id, booking.date), [])
        return sum(1 for seq in queue if seq < booking.sequence) + 1

    def is_period_closed(self, unit: Unit, day: dt.date) -> bool:
        """Whether the day's month is closed for invoicing in the unit's régie."""
        return (unit.activity.regie_id, day.replace(day=1)) in self.closed_months

    def status(self, child: Child, unit: Unit, day: dt.date) -> DayStatus:
        """The state of one cell (see DESIGN.md section 4), exclusive and dependent units included."""
        status = self._status(child, unit, day)
        if self.apply_rules and unit.id in self.rules.related_ids and status.state in ("available", "basket_add"):
            return self._with_rules(child, unit, day, status)
        return status

    def day_units(self, child: Child, day: dt.date, but: int | None = None) -> tuple[set[int], set[int]]:
        """The child's ruled units that day: (booked and not being cancelled, added in the basket)."""
        return unit_rules.day_units(self.rules, self.basket, self.bookings, child.id, day, but)

    def rule_tick(self, child: Child, unit: Unit, day: dt.date, want: bool) -> tuple[str | None, list[int]]:
        """Ticking (want) or unticking a cell of a ruled unit: (French refusal, basket lines it swaps out)."""
        if unit.id not in self.rules.related_ids:
            return None, []
        committed, adds = self.day_units(child, day, but=unit.id)
        return self.rules.tick(unit.id, want, committed, adds)

    def _with_rules(self, child: Child, unit: Unit, day: dt.date, status: DayStatus) -> DayStatus:
        committed, adds = self.day_units(child, day, but=unit.id)
        return unit_rules.ruled_status(self.rules, unit, status, committed, adds)

    def _status(self, child: Child, unit: Unit, day: dt.date) -> DayStatus:
        """The state of one cell before exclusive and dependent units are considered."""
        if self.household is not None and not self.custody.has_child(self.household.id, child, day):
            # Garde alternée: the other household books and pays this week; nothing of it is shown here.
            return DayStatus(state="other_parent", label=STATE_LABELS["other_parent"], reason=custody.OTHER_PARENT)
        info = self.calendar.day_info(unit, day)
        if not info.open:
            return DayStatus(state="closed", label=info.label or STATE_LABELS["closed"], reason=info.reason)
        if unit.attendance_only:
            return self._unbooked_status(child, unit, day)
        booking = self.bookings.get((child.id, unit.id, day))
        held = booking if booking is not None and booking.status in ACTIVE else None
        price = held.price if held is not None and held.price is not None else self.price(child, unit)
        places = self.places_left(unit, day)
        booking_limit = self.booking_deadline(unit, day)
        cancel_limit = self.cancel_deadline(unit, day)
        period_closed = self.is_period_closed(unit, day)
        common = dict(price=price, places_left=places, deadline=booking_limit, cancel_deadline=cancel_limit,
                      booking_status=booking.status if booking else None, booking_id=booking.id if booking else None,
                      period_closed=period_closed)
        if held is not None and held.attendance:
            state = {"present": "present", "absent": "absent", "absent_justified": "absent_justified"}.get(
                held.attendance, "anomaly")
            return _status(state, reason=STATE_LABELS[state], **common)
        if held is not None and self.household is not None and held.household_id != self.household.id:
            # Garde alternée: booked by the other household before the weeks were shared out; theirs to change.
            return _status("booked", reason="Réservé par l'autre parent (garde alternée)", **common)
        activity = unit.activity
        if held is None and not self.is_enrolled(child, unit):
            enrolment = self.enrolments.get((child.id, unit.activity_id))
            reason = {"requested": "Inscription en attente de validation",
                      "waiting_list": "Inscription sur liste d'attente",
                      "refused": "Inscription refusée"}.get(enrolment.status if enrolment else "",
                                                            f"Non inscrit à « {activity.name} »")
            return _status("not_enrolled", reason=reason, **common)

        past_day = day < self.now.date()
        cancel_open = not past_day and self.now <= cancel_limit and not period_closed
        book_refusal = self._booking_refusal(activity, day, booking_limit, past_day)
        if period_closed and not past_day:
            book_refusal = frozen_days.CLOSED_MESSAGE
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
                      else frozen_days.CLOSED_MESSAGE if period_closed
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
                      else frozen_days.CLOSED_MESSAGE if period_closed and not past_day
                      else deadlines.locked_reason(cancel_limit, cancel=True))
            return _status("booked", reason=reason, can_cancel=cancel_open, can_declare_absence=can_absent,
                           **flags, **common)

        if book_refusal is not None:
            state = "period_closed" if period_closed and not past_day else "locked"
            return _status(state, reason=book_refusal, **flags, **common)
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

    def _unbooked_status(self, child: Child, unit: Unit, day: dt.date) -> DayStatus:
        """A day of a unit « sans réservation »: never bookable; the pointage once staff recorded it."""
        if not self.is_enrolled(child, unit):
            return _status("not_enrolled", reason=f"Non inscrit à « {unit.activity.name} »")
        record = self.recorded.get((child.id, unit.id, day))
        if record is None:
            return _status("no_booking", reason=NO_BOOKING_REASON, price=self.price(child, unit))
        if record.status == "absent":
            return DayStatus(state="absent", label="Absent", reason="Absence relevée par le service : non facturée")
        return DayStatus(state="present", label=timed_attendance.state_text(record),
                         reason="Présence relevée par le service")

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


def configured_units() -> list[Unit]:
    """Every active unit with its activity and policies, in the grid's order, from the configuration cache."""
    return config_cache.cached("active_units", _active_units)


def activity_units(unit_id: int) -> list[Unit]:
    """The active unit `unit_id` and its activity's other units (exclusive, dependent); empty if none."""
    every = configured_units()
    activity_id = next((u.activity_id for u in every if u.id == unit_id), None)
    return [u for u in every if u.activity_id == activity_id] if activity_id is not None else []


def units_with_rules(unit_ids) -> dict[int, Unit]:
    """The units (with activity and policies) by id: the active ones from the configuration cache."""
    wanted = set(unit_ids)
    found = {u.id: u for u in configured_units() if u.id in wanted}
    if len(found) < len(wanted):  # a unit of an inactive activity
        found.update((u.id, u) for u in Unit.select(Unit, Activity).join(Activity)
                     .where(Unit.id.in_(list(wanted - set(found)))))
    return found


def _active_units() -> list[Unit]:
    """Every active unit with its activity and its two deadline policies, in the grid's order (one query)."""
    booking_rule, cancel_rule = DeadlinePolicy.alias(), DeadlinePolicy.alias()
    return list(Unit.select(Unit, Activity, booking_rule, cancel_rule).join(Activity)
                .switch(Unit).join(booking_rule, JOIN.LEFT_OUTER, on=(Unit.booking_policy == booking_rule.id))
                .switch(Unit).join(cancel_rule, JOIN.LEFT_OUTER, on=(Unit.cancel_policy == cancel_rule.id))
                .where(Activity.active).order_by(Activity.position, Activity.id, Unit.position, Unit.id))


def capacity_overrides() -> dict[tuple[int, dt.date], int]:
    """Every day's capacity override ({(unit id, day): places}), from the configuration cache."""
    return config_cache.cached("capacity_overrides", lambda: {
        (row.unit_id, as_date(row.date)): row.capacity for row in CapacityOverride.select()})


def day_status(child: Child, unit: Unit, day: dt.date, now: dt.datetime | None = None) -> DayStatus:
    """The state of one child × unit × date (a handful of queries; use week_statuses for grids)."""
    context = StatusContext(child.household, [child], [unit], day, day, now)
    return context.status(child, unit, day)


def week_statuses(household: Household, start: dt.date, end: dt.date, now: dt.datetime | None = None,
                  units: Sequence[Unit] | None = None, children: Sequence[Child] | None = None, *,
                  use_basket: bool | Sequence[BasketLine] = True) -> StatusContext:
    """The children's StatusContext over a range, in a fixed number of queries; use_basket=False: the desk's view."""
    if children is None:
        children = custody.household_children(household)
    return StatusContext(household, children, units, start, end, now, use_basket=use_basket)
