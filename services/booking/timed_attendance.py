"""Accueils « sans réservation » (issue 15): units where enrolment is enough (Unit.attendance_only).

Parents never book them; staff record each enrolled child present (with arrival and departure times,
HH:MM) or absent on the pointage, in one Attendance row per child × unit × day. The month bills the
presences (services/billing/attendance_billing.py) by Unit.attendance_pricing:

- "presence": one unit price per day present, whatever the times;
- "slot": one per slot of Unit.slot_minutes started between arrival and departure (16:30–17:31 with
  1-hour slots = 2 créneaux);
- "quarter_hour": one per quarter-hour started (16:40–18:05 = 85 minutes = 6 quarts d'heure).

A started quarter-hour or slot counts in full; an absence costs nothing. The unit price is the
QF band's (services/booking/pricing.py), as for a booked day.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

from models import Attendance, Child, Enrolment, Unit, User
from services.booking.attendance import AttendanceRefused, check_day
from services.core import audit, clock, formatting
from services.core.transactions import write_transaction

PRICING_LABELS = {
    "presence": "À la présence (un tarif par jour de présence)",
    "slot": "Au créneau commencé (durée du créneau ci-dessous)",
    "quarter_hour": "Au quart d'heure commencé",
}
TIMED = ("slot", "quarter_hour")  # modes that need arrival and departure times
STATES = {"present": "Présent", "absent": "Absent"}
EARLIEST, LATEST = 6 * 60, 21 * 60  # no childcare outside 06:00–21:00
MARGIN = 60  # minutes allowed outside the unit's hours (early drop-off, late pick-up)
QUARTER = 15
_TIME = re.compile(r"^([01]?\d|2[0-3])[:hH]([0-5]\d)$")


def minutes_of(text: str) -> int | None:
    """Minutes since midnight of "16:40" (also "16h40"); None when empty or malformed."""
    match = _TIME.match((text or "").strip())
    return int(match.group(1)) * 60 + int(match.group(2)) if match else None


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def slot_length(unit: Unit) -> int:
    """Minutes a billed unit lasts: 15 au quart d'heure, the slot's length au créneau."""
    if unit.attendance_pricing == "quarter_hour":
        return QUARTER
    return max(int(unit.slot_minutes or 60), 1)


def quantity(unit: Unit, arrived: str, left: str) -> int | None:
    """How many unit prices a presence costs: 1 à la présence; else the slots (or quarter-hours) started
    between arrival and departure, at least one. None when a timed presence lacks a time."""
    if unit.attendance_pricing not in TIMED:
        return 1
    start, end = minutes_of(arrived), minutes_of(left)
    if start is None or end is None or end <= start:
        return None
    return max(math.ceil((end - start) / slot_length(unit)), 1)


def quantity_words(unit: Unit, count: int) -> str:
    """'6 quarts d'heure', '2 créneaux de 1 h', '1 présence'."""
    if unit.attendance_pricing == "quarter_hour":
        return f"{count} quart d'heure" if count == 1 else f"{count} quarts d'heure"
    if unit.attendance_pricing == "slot":
        return f"{count} créneau{'' if count == 1 else 'x'} de {duration(slot_length(unit))}"
    return f"{count} présence{'' if count == 1 else 's'}"


def price_unit_words(unit: Unit) -> str:
    """What one price pays for, after the amount: 'le quart d'heure', 'le créneau de 1 h', 'la présence'."""
    if unit.attendance_pricing == "quarter_hour":
        return "le quart d'heure commencé"
    if unit.attendance_pricing == "slot":
        return f"le créneau de {duration(slot_length(unit))} commencé"
    return "le jour de présence"


def duration(minutes: int) -> str:
    """'1 h', '1 h 30', '45 min'."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" + (f" {rest:02d}" if rest else "")


def times_text(record: Attendance) -> str:
    """'16:40–18:05', '16:40–…' while the child is still there, '' without times."""
    if not record.arrived_at:
        return ""
    return f"{record.arrived_at}–{record.left_at or '…'}"


def state_text(record: Attendance | None) -> str:
    """« Présent 16:40–18:05 », « Absent », « Non pointé »."""
    if record is None:
        return "Non pointé"
    if record.status == "absent":
        return "Absent"
    times = times_text(record)
    return f"Présent {times}" if times else "Présent"


def bounds(unit: Unit) -> tuple[int, int]:
    """Earliest arrival and latest departure accepted: the unit's hours give or take MARGIN, inside
    06:00–21:00 (06:00–21:00 when the unit has no hours)."""
    start, end = minutes_of(unit.start_time), minutes_of(unit.end_time)
    low = max(EARLIEST, start - MARGIN) if start is not None else EARLIEST
    high = min(LATEST, end + MARGIN) if end is not None else LATEST
    return low, high


# --- The sheet ----------------------------------------------------------------------------------


@dataclass
class RosterRow:
    child: Child
    record: Attendance | None

    @property
    def state(self) -> str:
        return self.record.status if self.record is not None else ""

    @property
    def text(self) -> str:
        return state_text(self.record)


def roster(unit: Unit, day: dt.date) -> list[RosterRow]:
    """Every child with a validated enrolment in the unit's activity (booked or not: there is no
    booking), and any child already recorded that day: two queries."""
    records = {row.child_id: row for row in Attendance.select().where((Attendance.unit == unit.id)
                                                                       & (Attendance.date == day))}
    enrolled = (Child.select(Child).join(Enrolment, on=(Enrolment.child == Child.id))
                .where((Enrolment.activity == unit.activity_id) & (Enrolment.status == "validated")
                       & ~Child.archived))
    children = {child.id: child for child in enrolled}
    missing = [i for i in records if i not in children]
    if missing:
        children.update({c.id: c for c in Child.select().where(Child.id.in_(missing))})
    ordered = sorted(children.values(), key=lambda c: (c.last_name.casefold(), c.first_name.casefold(), c.id))
    return [RosterRow(child, records.get(child.id)) for child in ordered]


def row_of(unit: Unit, day: dt.date, child_id: int) -> RosterRow | None:
    """One line of the roster (the htmx answer after a save)."""
    return next((row for row in roster(unit, day) if row.child.id == child_id), None)


def _time(raw: str, what: str, child: Child, unit: Unit) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    value = minutes_of(raw[:5] if len(raw) == 8 and raw[5] == ":" else raw)  # "16:40:00" from some browsers
    if value is None:
        raise AttendanceRefused(f"{what} de {child.first_name} : écrivez l'heure sous la forme 16:40.",
                                "arrivee" if what.startswith("Arrivée") else "depart")
    low, high = bounds(unit)
    if not low <= value <= high:
        raise AttendanceRefused(f"{what} de {child.first_name} : {hhmm(value)} est hors des horaires de "
                                f"« {unit.name} » (entre {hhmm(low)} et {hhmm(high)}).",
                                "arrivee" if what.startswith("Arrivée") else "depart")
    return value


def record_times(staff: User, unit: Unit, day: dt.date, child_id, state: str, arrival: str = "",
                 departure: str = "") -> Attendance | None:
    """Record one child's day at a unit « sans réservation »: state "present" (arrival, and departure
    once the child has left), "absent", or "" to clear. Everything is checked before anything is
    written; returns the row (None once cleared)."""
    if not unit.attendance_only:
        raise AttendanceRefused(f"« {unit.name} » se réserve : pointez ses enfants dans la liste des réservations.",
                                "unit")
    check_day(unit, day)
    child = Child.get_or_none(Child.id == int(child_id)) if str(child_id or "").isdigit() else None
    if child is None:
        raise AttendanceRefused("Cet enfant n'est pas dans la liste : rechargez la page.", "child_id")
    existing = Attendance.get_or_none((Attendance.child == child.id) & (Attendance.unit == unit.id)
                                      & (Attendance.date == day))
    enrolled = Enrolment.select().where((Enrolment.child == child.id) & (Enrolment.activity == unit.activity_id)
                                        & (Enrolment.status == "validated")).exists()
    if existing is None and (not enrolled or child.archived):
        raise AttendanceRefused(f"{child.full_name} n'est pas inscrit(e) à « {unit.activity.name} ».", "child_id")
    state = (state or "").strip()
    if state not in ("", *STATES):
        raise AttendanceRefused(f"Choisissez « Présent », « Absent » ou « Non pointé » pour {child.first_name}.", "etat")
    arrived = left = None
    if state == "present":
        arrived = _time(arrival, "Arrivée", child, unit)
        left = _time(departure, "Départ", child, unit)
        if arrived is None and (left is not None or unit.attendance_pricing in TIMED):
            raise AttendanceRefused(f"Indiquez l'heure d'arrivée de {child.first_name} (ex. 16:40).", "arrivee")
        if left is not None and left <= arrived:
            raise AttendanceRefused(f"Le départ de {child.first_name} ({hhmm(left)}) doit être après son arrivée "
                                    f"({hhmm(arrived)}).", "depart")
        if left is None and unit.attendance_pricing in TIMED and day < clock.today():
            raise AttendanceRefused(f"Indiquez l'heure de départ de {child.first_name} : la journée est passée "
                                    "et le temps de présence est facturé.", "depart")
    values = dict(status=state, arrived_at=hhmm(arrived) if arrived is not None else "",
                  left_at=hhmm(left) if left is not None else "")
    before = state_text(existing)
    where = f"{child.full_name} – {unit.activity.name}, {unit.name} – {formatting.date_long(day)}"
    with write_transaction():
        if not state:
            if existing is not None:
                existing.delete_instance()
                audit.record(staff, "attendance.times", existing, f"{where} : {before} → Non pointé")
            return None
        if existing is not None and all(getattr(existing, key) == value for key, value in values.items()):
            return existing
        if existing is None:
            existing = Attendance.create(household=child.household_id, child=child, unit=unit, date=day,
                                         recorded_at=clock.local_now(), recorded_by=staff, **values)
        else:
            for key, value in values.items():
                setattr(existing, key, value)
            existing.recorded_at, existing.recorded_by = clock.local_now(), staff
            existing.save()
        audit.record(staff, "attendance.times", existing, f"{where} : {before} → {state_text(existing)}")
    return existing
