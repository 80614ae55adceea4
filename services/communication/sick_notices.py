"""A message marked « enfant malade » turned into absence declarations in one step: the agent ticks the
child's booked days concerned and each becomes the desk's justified absence (services/booking/desk.py:
not charged, the family told, audited); the thread says so and is marked « Traité »."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from models import Activity, Booking, Child, Thread, Unit, User
from services.booking import day_status as engine
from services.booking import desk
from services.communication import messaging
from services.core import audit, clock, formatting
from services.core.errors import NotFound
from services.core.transactions import write_transaction

DAYS_SHOWN = 7  # from the day the family wrote (or today, if earlier): the days a sick child may miss
REASON = "Enfant malade (signalé par message)"


@dataclass
class AbsenceOption:
    """A booked day of the child: whether the agent may record it as a justified absence, else why not."""

    booking: Booking
    name: str
    recordable: bool
    why_not: str = ""


def sick_thread(user: User, thread_id: int) -> Thread:
    """A sick-child notice of a service this member reads (NotFound for any other thread)."""
    thread = messaging.staff_thread(user, thread_id)
    if not thread.sick_notice:
        raise NotFound("Ce message n'est pas un signalement d'absence.")
    return thread


def _bookings(thread: Thread, today: dt.date) -> list[Booking]:
    start = min(thread.created_at.date(), today)
    children = [thread.child_id] if thread.child_id else [c.id for c in thread.household.children_in_file()]
    return list(Booking.select(Booking, Child, Unit, Activity).join(Child).switch(Booking).join(Unit).join(Activity)
                .where((Booking.household == thread.household_id) & Booking.child.in_(children or [0])
                       & (Booking.status == "booked")
                       & Booking.date.between(start, start + dt.timedelta(days=DAYS_SHOWN - 1)))
                .order_by(Booking.date, Child.position, Child.id, Unit.id))


def absence_options(user: User, thread_id: int, now: dt.datetime | None = None) -> tuple[Thread, list[AbsenceOption]]:
    """The thread and the child's booked days around the notice, each recordable or not (and why)."""
    thread = sick_thread(user, thread_id)
    options = []
    for booking in _bookings(thread, clock.today()):
        status = engine.day_status(booking.child, booking.unit, booking.date, now)
        name = formatting.cell_name(booking.child, booking.unit, booking.date)
        if desk.can_record_absence(status):
            options.append(AbsenceOption(booking, name, True))
        elif status.state == "booked" and status.can_cancel:
            options.append(AbsenceOption(booking, name, False, "encore annulable : décochez-le dans la grille"))
        else:
            options.append(AbsenceOption(booking, name, False, status.reason or status.label))
    return thread, options


def declare_absences(user: User, thread_id: int, booking_ids: list[int], now: dt.datetime | None = None) -> list[str]:
    """Record the ticked days as justified absences (all or none), note it in the thread, mark it done."""
    if not booking_ids:
        raise messaging.MessageRefused("Cochez au moins un jour d'absence.", "bookings")
    with write_transaction():
        thread = sick_thread(user, thread_id)
        allowed = {b.id: b for b in _bookings(thread, clock.today())}
        if any(i not in allowed for i in booking_ids):
            raise NotFound("Ce jour n'est pas une réservation de l'enfant concerné.")
        names = []
        for booking_id in sorted(set(booking_ids), key=lambda i: (allowed[i].date, i)):
            booking = allowed[booking_id]
            desk.record_absence(thread.household, user, booking.id, REASON, now)
            names.append(formatting.cell_name(booking.child, booking.unit, booking.date))
        messaging.add_message(thread, user, "Absence justifiée enregistrée (ces jours ne seront pas facturés) :\n"
                              + "\n".join(f"- {name}" for name in names), {}, from_staff=True)
        thread.status = "done"
        thread.save()
        audit.record(user, "message transformé en absence", thread,
                     f"conversation n° {thread.id} – {len(names)} jour(s)")
    return names
