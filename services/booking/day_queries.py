"""The rules engine's reads of a household's days (StatusContext): SQL composed once per process.

Every grid, toggle, basket and « Valider » runs these; peewee would compose the same text each time
(models/prepared.py says what that cost)."""
from __future__ import annotations

import datetime as dt
import operator
from functools import reduce

from models import Attendance, BasketLine, Booking, Enrolment
from models.base import count_rows
from models.prepared import prepared


@prepared
def enrolments(children, activities):
    """The children's enrolments in these activities."""
    return Enrolment.select().where(Enrolment.child.in_(children) & Enrolment.activity.in_(activities))


@prepared
def bookings(children, units, start, end):
    """The children's bookings of these units between two days."""
    return Booking.select().where(Booking.child.in_(children) & Booking.unit.in_(units)
                                  & Booking.date.between(start, end))


DAY_BY_DAY = 31  # up to a month, each day seeks the index; a longer range (a school year) is read as one


def places_taken(units, start, end):
    """(unit id, day, places taken) of these units between two days."""
    span = (end - start).days
    if span < DAY_BY_DAY:
        return occupancy_on_days(units, [start + dt.timedelta(days=n) for n in range(span + 1)])
    return occupancy(units, start, end)


@prepared
def occupancy(units, start, end):
    """(unit id, day, places taken) of these units between two days."""
    return (Booking.select(Booking.unit, Booking.date, count_rows().alias("n"))
            .where(Booking.unit.in_(units) & Booking.date.between(start, end)
                   & Booking.status.in_(list(Booking.OCCUPYING)))
            .group_by(Booking.unit, Booking.date).tuples())


@prepared
def occupancy_on_days(units, days):
    """(unit id, day, places taken) of these units on these days: unit, day and status can each seek the
    (unit, date, status) index (SQLite does), where a range of days walked the waiting lists too (a full
    Wednesday with 3,000 families waiting: 3,000 index entries read to count 24 places)."""
    return (Booking.select(Booking.unit, Booking.date, count_rows().alias("n"))
            .where(Booking.unit.in_(units) & Booking.date.in_(days) & Booking.status.in_(list(Booking.OCCUPYING)))
            .group_by(Booking.unit, Booking.date).tuples())


@prepared
def waiting_lists(units, start, end):
    """(unit id, day, sequence) of the waiting lists of these units (callers sort: see placement.waiting_queue)."""
    return (Booking.select(Booking.unit, Booking.date, Booking.sequence)
            .where(Booking.unit.in_(units) & Booking.date.between(start, end) & (Booking.status == "waiting_list"))
            .tuples())


def waiting_on_days(pairs):
    """(unit id, day, sequence) of the waiting lists of these (unit id, day) pairs: each pair seeks the
    (unit, date, status) index, where a range of days walked every booking of a canteen's week (SQLite)."""
    pairs = sorted(pairs)
    for start in range(0, len(pairs), 100):
        days = reduce(operator.or_, [(Booking.unit == unit) & (Booking.date == day)
                                     for unit, day in pairs[start:start + 100]])
        yield from (Booking.select(Booking.unit, Booking.date, Booking.sequence)
                    .where(days & (Booking.status == "waiting_list")).tuples())


@prepared
def attendances(children, units, start, end):
    """What staff recorded for the children on these units « sans réservation »."""
    return Attendance.select().where(Attendance.child.in_(children) & Attendance.unit.in_(units)
                                     & Attendance.date.between(start, end))


@prepared
def basket_lines(household, children, units, start, end):
    """The household's basket lines for these children and units between two days."""
    return BasketLine.select().where((BasketLine.household == household) & BasketLine.child.in_(children)
                                     & BasketLine.unit.in_(units) & BasketLine.date.between(start, end))
