"""Pointage: staff record on the day who was present, absent or absent with a justification.

Booked days keep their state in Booking.attendance ("", present, absent, absent_justified); a child
present without booking gets an Attendance row. services.billing.invoicing reads both: an unjustified
absence is billed (with the unit's absence fee), a justified one is not, and a presence without
booking is billed as Unit.unbooked_presence says. Every write is checked first, then done in one
transaction and audited.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from peewee import JOIN

from models import Attendance, Booking, Child, Diet, Enrolment, School, Unit, User
from services.booking import calendar
from services.core import audit, clock, formatting
from services.core.errors import InvalidInput, NotFound
from services.core.transactions import write_transaction

STATES = {"present": "Présent", "absent": "Absent", "absent_justified": "Absence justifiée"}
EXPECTED = ("booked", "cancel_requested")  # bookings whose child is expected that day
FIELD_PREFIX = "etat-"  # form field of a booking: etat-<booking id>


class AttendanceRefused(InvalidInput):
    """A pointage that cannot be recorded (future day, closed day, unknown child…)."""


@dataclass
class Sheet:
    unit: Unit
    day: dt.date
    open: bool
    closed_reason: str
    bookings: list[Booking] = field(default_factory=list)
    unbooked: list[Attendance] = field(default_factory=list)

    @property
    def recorded(self) -> int:
        return sum(1 for b in self.bookings if b.attendance)

    @property
    def present(self) -> int:
        return sum(1 for b in self.bookings if b.attendance == "present") + len(self.unbooked)

    @property
    def can_record(self) -> bool:
        return self.open and self.day <= clock.today()


def state_label(state: str) -> str:
    return STATES.get(state, "Non pointé")


def _describe(child: Child, unit: Unit, day: dt.date) -> str:
    return f"{child.full_name} – {unit.activity.name}, {unit.name} – {formatting.date_long(day)}"


def sheet(unit: Unit, day: dt.date) -> Sheet:
    """The children expected on `day` for `unit` (bookings, with child, school and diet), and those
    recorded present without booking: a fixed number of queries however many children."""
    info = calendar.day_info(unit, day)
    bookings = list(Booking.select(Booking, Child, School, Diet).join(Child)
                    .join(School, JOIN.LEFT_OUTER, on=(Child.school == School.id), attr="school").switch(Child)
                    .join(Diet, JOIN.LEFT_OUTER, on=(Child.diet == Diet.id), attr="diet")
                    .where((Booking.unit == unit.id) & (Booking.date == day) & Booking.status.in_(EXPECTED))
                    .order_by(Child.last_name, Child.first_name, Child.id))
    unbooked = list(Attendance.select(Attendance, Child).join(Child)
                    .where((Attendance.unit == unit.id) & (Attendance.date == day))
                    .order_by(Child.last_name, Child.first_name))
    return Sheet(unit, day, info.open, info.reason, bookings, unbooked)


def check_day(unit: Unit, day: dt.date) -> None:
    if day > clock.today():
        raise AttendanceRefused("Le pointage d'un jour à venir n'est pas possible : attendez le jour même.", "date")
    info = calendar.day_info(unit, day)
    if not info.open:
        raise AttendanceRefused(f"{unit.name} ne fonctionne pas le {formatting.date_long(day)} "
                                f"({info.reason}) : rien à pointer.", "date")


def record(staff: User, unit: Unit, day: dt.date, data: Mapping) -> int:
    """Record the states typed for the day's bookings (fields etat-<booking id>); returns how many
    changed. Every value is checked before anything is written: one bad value saves nothing."""
    check_day(unit, day)
    expected = {b.id: b for b in Booking.select(Booking, Child).join(Child)
                .where((Booking.unit == unit.id) & (Booking.date == day) & Booking.status.in_(EXPECTED))}
    changes: list[tuple[Booking, str]] = []
    for key in data.keys():
        if not key.startswith(FIELD_PREFIX):
            continue
        raw_id, value = key[len(FIELD_PREFIX):], (data.get(key) or "").strip()
        booking = expected.get(int(raw_id)) if raw_id.isdigit() else None
        if booking is None:
            raise AttendanceRefused("Une des réservations n'est plus attendue ce jour-là : "
                                    "rechargez la page et recommencez.", key)
        if value not in STATES:
            raise AttendanceRefused(f"Choisissez « Présent », « Absent » ou « Absence justifiée » pour "
                                    f"{booking.child.full_name}.", key)
        if booking.attendance != value:
            changes.append((booking, value))
    if not changes:
        return 0
    now = clock.local_now()
    with write_transaction():
        for booking, value in changes:
            before = booking.attendance
            Booking.update(attendance=value, updated_at=now).where(Booking.id == booking.id).execute()
            audit.record(staff, "attendance.record", booking,
                           f"{_describe(booking.child, unit, day)} : {state_label(before)} → {state_label(value)}")
    return len(changes)


def candidates(unit: Unit, day: dt.date, search: str = "", limit: int = 20) -> list[Child]:
    """Children enrolled (validated) in the unit's activity, not expected that day and not already
    recorded, whose name contains `search` (all of them when empty)."""
    taken = (Booking.select(Booking.child).where((Booking.unit == unit.id) & (Booking.date == day)
                                                 & Booking.status.in_(EXPECTED)))
    present = Attendance.select(Attendance.child).where((Attendance.unit == unit.id) & (Attendance.date == day))
    query = (Child.select(Child).join(Enrolment, on=(Enrolment.child == Child.id))
             .where((Enrolment.activity == unit.activity_id) & (Enrolment.status == "validated") & ~Child.archived
                    & Child.id.not_in(taken) & Child.id.not_in(present)))
    for word in search.split():
        query = query.where(Child.first_name.contains(word) | Child.last_name.contains(word))
    return list(query.order_by(Child.last_name, Child.first_name).limit(limit))


def add_unbooked(staff: User, unit: Unit, day: dt.date, child_id) -> Attendance:
    """Record a child present without booking (billed as Unit.unbooked_presence says)."""
    if unit.attendance_only:
        raise AttendanceRefused(f"« {unit.name} » est sans réservation : notez l'arrivée et le départ de l'enfant "
                                "dans la liste des inscrits.", "child_id")
    check_day(unit, day)
    child = Child.get_or_none(Child.id == int(child_id)) if str(child_id or "").isdigit() else None
    if child is None:
        raise AttendanceRefused("Choisissez un enfant dans la liste.", "child_id")
    enrolled = Enrolment.select().where((Enrolment.child == child.id) & (Enrolment.activity == unit.activity_id)
                                        & (Enrolment.status == "validated")).exists()
    if not enrolled or child.archived:
        raise AttendanceRefused(f"{child.full_name} n'est pas inscrit(e) à « {unit.activity.name} ».", "child_id")
    if Booking.select().where((Booking.child == child.id) & (Booking.unit == unit.id) & (Booking.date == day)
                              & Booking.status.in_(EXPECTED)).exists():
        raise AttendanceRefused(f"{child.full_name} a une réservation ce jour-là : pointez-le (la) dans la liste.",
                                "child_id")
    if Attendance.select().where((Attendance.child == child.id) & (Attendance.unit == unit.id)
                                 & (Attendance.date == day)).exists():
        raise AttendanceRefused(f"{child.full_name} est déjà noté(e) présent(e) sans réservation.", "child_id")
    with write_transaction():
        row = Attendance.create(household=child.household_id, child=child, unit=unit, date=day,
                                recorded_at=clock.local_now(), recorded_by=staff)
        audit.record(staff, "attendance.unbooked_add", row, f"{_describe(child, unit, day)} : présent sans réservation")
    return row


def remove_unbooked(staff: User, attendance_id: int) -> Attendance:
    """Undo a presence without booking recorded by mistake."""
    row = Attendance.get_or_none(Attendance.id == attendance_id)
    if row is None:
        raise NotFound("Cette présence n'existe plus.")
    check_day(row.unit, row.date)
    with write_transaction():
        audit.record(staff, "attendance.unbooked_remove", row,
                       f"{_describe(row.child, row.unit, row.date)} : présence sans réservation retirée")
        row.delete_instance()
    return row
