"""Invoicing's reads of a household's month, the ones a run makes for each household: SQL composed once
per process (models/prepared.py says what peewee's composing cost), the same queries otherwise."""
from __future__ import annotations

from models import Activity, Attendance, Booking, InvoicePeriodLock, Unit
from models.prepared import prepared

BOOKED_ORDER = (Booking.household, Booking.child, Booking.unit, Booking.date)


def booked(start, end):
    """The booked days of [start, end] to invoice (days paid with their order are not invoiced again)."""
    return (Booking.select(Booking.id, Booking.household, Booking.child, Booking.unit, Booking.date,
                           Booking.status, Booking.price, Booking.late, Booking.attendance)
            .join(Unit).join(Activity)
            .where(Booking.date.between(start, end) & (Booking.status == "booked") & (Booking.prepaid == False)))  # noqa: E712


def presences(start, end):
    """The pointages of [start, end]."""
    return Attendance.select().join(Unit).join(Activity).where(Attendance.date.between(start, end))


@prepared
def booked_of(regie, households, start, end):
    """booked() of some households for one régie, in BOOKED_ORDER."""
    return booked(start, end).where((Activity.regie == regie) & Booking.household.in_(households)).order_by(*BOOKED_ORDER)


@prepared
def presences_of(regie, households, start, end):
    """presences() of some households for one régie."""
    return presences(start, end).where((Activity.regie == regie) & Attendance.household.in_(households))


@prepared
def period_lock(regie, household, start):
    """The id of the household's InvoicePeriodLock for this régie and month (None: not invoiced)."""
    return (InvoicePeriodLock.select(InvoicePeriodLock.id).where(
        (InvoicePeriodLock.regie == regie) & (InvoicePeriodLock.household == household)
        & (InvoicePeriodLock.period_start == start)).limit(1))
