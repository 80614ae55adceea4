"""Abonnements (yearly subscriptions): at enrolment a parent picks fixed weekdays among the unit's
(« Abonnement restauration : lundi, mardi, jeudi »); once the enrolment is validated the year's
bookings are generated, each day through the placement engine under its lock, in one transaction.

Generation books every day the unit is open (services/booking/calendar.py: closures, public and
school holidays skipped) on the chosen weekdays, from the first day still bookable (its booking
deadline not passed) to the end of the activity. A day that already has a booking row is left as it
is — a booked day stays booked, a day the parent cancelled (an exception) stays cancelled — so
running it twice creates nothing more. A full day goes to the waiting list when the unit has one,
otherwise it is skipped and named in the report. Changing the weekdays cancels the days of the
weekdays dropped that can still be cancelled and books those of the weekdays added; past or locked
days never move.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from models import Activity, Booking, Child, Enrolment, Subscription, Unit, User
from services.booking import placement
from services.booking.calendar import daterange
from services.booking.day_status import ACTIVE, StatusContext
from services.booking.deadlines import WEEKDAYS
from services.core import audit, clock, formatting
from services.core.errors import InvalidInput
from services.core.transactions import write_transaction


@dataclass
class GenerationReport:
    """What a generation (or a change of weekdays) did, day by day."""

    booked: list[dt.date] = field(default_factory=list)
    waiting: list[dt.date] = field(default_factory=list)
    skipped: list[tuple[dt.date, str]] = field(default_factory=list)  # full days, refusals: (day, why)
    cancelled: list[dt.date] = field(default_factory=list)

    def merge(self, other: GenerationReport) -> None:
        self.booked += other.booked
        self.waiting += other.waiting
        self.skipped += other.skipped
        self.cancelled += other.cancelled

    @property
    def summary(self) -> str:
        """« 52 jours réservés, 1 sur liste d'attente, 2 non réservés (complet) »."""
        parts = [f"{len(self.booked)} jour(s) réservé(s)"]
        if self.waiting:
            parts.append(f"{len(self.waiting)} sur liste d'attente")
        if self.cancelled:
            parts.append(f"{len(self.cancelled)} annulé(s)")
        if self.skipped:
            days = ", ".join(formatting.date_short(day) for day, _why in self.skipped[:5])
            more = "…" if len(self.skipped) > 5 else ""
            parts.append(f"{len(self.skipped)} non réservé(s) ({self.skipped[0][1]} : {days}{more})")
        return ", ".join(parts)


def describe(weekdays: Iterable[int]) -> str:
    """'lundi, mardi, jeudi'."""
    return ", ".join(WEEKDAYS[day] for day in sorted(set(weekdays)))


def subscription_units(activity: Activity) -> list[Unit]:
    """The units of an activity that offer an abonnement, in their order."""
    return list(Unit.select().where((Unit.activity == activity.id) & (Unit.subscription == True))  # noqa: E712
                .order_by(Unit.position, Unit.id))


def offered_weekdays(unit: Unit) -> list[int]:
    """The weekdays a parent may choose: the unit's weekly pattern."""
    return sorted(unit.weekday_set())


def checked_choice(activity: Activity, choice: Mapping[int, Iterable[int]]) -> dict[int, list[int]]:
    """{unit id: weekdays} kept for the activity's subscription units; InvalidInput for a weekday the
    unit does not open or a unit that offers no abonnement."""
    units = {unit.id: unit for unit in subscription_units(activity)}
    result = {}
    for unit_id, weekdays in choice.items():
        days = sorted(set(weekdays))
        if not days:
            continue
        unit = units.get(unit_id)
        if unit is None:
            raise InvalidInput(f"« {activity.name} » ne propose pas d'abonnement pour cette prestation.", "weekdays")
        wrong = [day for day in days if day not in unit.weekday_set()]
        if wrong:
            raise InvalidInput(f"« {unit.name} » n'a lieu que le {describe(unit.weekday_set())} : "
                               f"choisissez parmi ces jours.", "weekdays")
        result[unit_id] = days
    return result


def subscriptions_of(enrolment_ids: Iterable[int]) -> dict[int, list[Subscription]]:
    """The subscriptions of some enrolments (with their unit), by enrolment id: one query."""
    ids = sorted(set(enrolment_ids))
    result: dict[int, list[Subscription]] = {}
    if not ids:
        return result
    for row in (Subscription.select(Subscription, Unit).join(Unit).where(Subscription.enrolment.in_(ids))
                .order_by(Unit.position, Unit.id)):
        result.setdefault(row.enrolment_id, []).append(row)
    return result


def store_choice(enrolment: Enrolment, choice: Mapping[int, list[int]]) -> dict[int, tuple[list[int], list[int]]]:
    """Write the subscriptions of an enrolment (call inside write_transaction); a unit left without
    weekday loses its subscription. Returns {unit id: (weekdays before, weekdays now)} for the units changed."""
    existing = {row.unit_id: row for row in Subscription.select().where(Subscription.enrolment == enrolment.id)}
    changes = {}
    stamp = clock.local_now()
    for unit_id in sorted(set(existing) | set(choice)):
        before = existing[unit_id].weekday_list() if unit_id in existing else []
        now_days = sorted(choice.get(unit_id, []))
        if before == now_days:
            continue
        changes[unit_id] = (before, now_days)
        if not now_days:
            existing[unit_id].delete_instance()
        elif unit_id in existing:
            row = existing[unit_id]
            row.weekdays, row.updated_at = ",".join(map(str, now_days)), stamp
            row.save()
        else:
            Subscription.create(enrolment=enrolment, unit=unit_id, weekdays=",".join(map(str, now_days)),
                                created_at=stamp)
    return changes


def _context(child: Child, unit: Unit, now: dt.datetime) -> tuple[StatusContext, dt.date, dt.date]:
    start = max(now.astimezone(clock.PARIS).date(), unit.activity.starts_on)
    end = unit.activity.ends_on
    return StatusContext(child.household, [child], [unit], start, max(start, end), now, use_basket=False), start, end


def _apply(child: Child, unit: Unit, add: Iterable[int], remove: Iterable[int], now: dt.datetime, *,
           rebook_cancelled: bool) -> GenerationReport:
    """Book the open days of the `add` weekdays and cancel the active days of the `remove` weekdays,
    only where the parent could do it themselves now (deadlines); call inside write_transaction()."""
    add, remove = set(add), set(remove)
    report = GenerationReport()
    context, start, end = _context(child, unit, now)
    lines = []
    for day in daterange(start, end):
        weekday = day.weekday()
        if weekday not in add and weekday not in remove:
            continue
        status = context.status(child, unit, day)
        if status.state == "closed":
            continue
        booking = context.bookings.get((child.id, unit.id, day))
        if weekday in remove:
            if booking is not None and booking.status in ACTIVE and status.can_cancel:
                lines.append(placement.LineRequest(child, unit, day, "remove"))
            continue
        if booking is not None and (booking.status in ACTIVE or not rebook_cancelled):
            continue  # booked already, or an exception the parent made: never undone by a regeneration
        if status.state == "available":
            lines.append(placement.LineRequest(child, unit, day, "add"))
        elif status.state == "full":
            report.skipped.append((day, "complet"))
    # by_staff: the validated abonnement is the decision (no request per day, no prepaid order); the
    # lines were filtered above with the parents' deadlines, so no staff privilege is ever used.
    for result in placement.place_bookings(child.household, lines, now, by_staff=True):
        if result.outcome in ("booked", "requested"):
            report.booked.append(result.date)
        elif result.outcome == "waiting_list":
            report.waiting.append(result.date)
        elif result.outcome in ("cancelled", "cancel_requested"):
            report.cancelled.append(result.date)
        elif result.outcome == "refused":
            report.skipped.append((result.date, result.message.rstrip(".").lower() or "refusé"))
    return report


def generate(enrolment: Enrolment, now: dt.datetime | None = None) -> GenerationReport:
    """Book the year of every subscription of a validated enrolment (idempotent), in one transaction."""
    now = now or clock.now()
    report = GenerationReport()
    with write_transaction():
        enrolment = Enrolment.get_by_id(enrolment.id)
        if enrolment.status != "validated":
            return report
        child = Child.get_by_id(enrolment.child_id)
        for row in (Subscription.select(Subscription, Unit, Activity).join(Unit).join(Activity)
                    .where(Subscription.enrolment == enrolment.id)):
            report.merge(_apply(child, row.unit, row.weekday_list(), (), now, rebook_cancelled=False))
            row.generated_at = clock.local_now()
            row.save()
    return report


def change_weekdays(user: User | None, enrolment: Enrolment, choice: Mapping[int, Iterable[int]],
                    now: dt.datetime | None = None) -> GenerationReport:
    """A parent (or staff) changes the weekdays of an enrolment's subscriptions: stored, and when the
    enrolment is validated the future days are regenerated (dropped weekdays cancelled, added ones
    booked) where the deadlines still allow it. One transaction."""
    now = now or clock.now()
    enrolment = Enrolment.select(Enrolment, Activity).join(Activity).where(Enrolment.id == enrolment.id).get()
    if enrolment.status not in ("requested", "validated", "waiting_list"):
        raise InvalidInput("Cette inscription n'est plus active : son abonnement ne peut pas changer.", "weekdays")
    choice = checked_choice(enrolment.activity, choice)
    report = GenerationReport()
    with write_transaction():
        changes = store_choice(enrolment, choice)
        if enrolment.status == "validated" and changes:
            child = Child.get_by_id(enrolment.child_id)
            units = {u.id: u for u in Unit.select(Unit, Activity).join(Activity).where(Unit.id.in_(list(changes)))}
            for unit_id, (before, after) in changes.items():
                added, dropped = set(after) - set(before), set(before) - set(after)
                report.merge(_apply(child, units[unit_id], added, dropped, now, rebook_cancelled=True))
            Subscription.update(generated_at=clock.local_now()).where(
                (Subscription.enrolment == enrolment.id) & Subscription.unit.in_(list(changes))).execute()
        if user is not None and changes:
            audit.record(user, "subscription.change", enrolment,
                         "; ".join(f"{unit_id}: {describe(after) or 'aucun jour'}"
                                   for unit_id, (_before, after) in changes.items()))
    return report


def booked_days(child: Child, unit: Unit) -> list[dt.date]:
    """The days booked (or requested) for a child in a unit, for reports and tests."""
    return [row.date for row in Booking.select(Booking.date).where(
        (Booking.child == child.id) & (Booking.unit == unit.id) & Booking.status.in_(("booked", "requested")))
        .order_by(Booking.date)]
