"""Upcoming booking deadlines of units, for the parents' dashboard and the deadline reminders.

One calendar load and one policy query for any number of units: the deadline of every open day in a
range, computed by the deadline engine (services/booking/deadlines.py) with the same defaults as the
grid (day_status.DEFAULT_POLICY for a unit without a policy).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from models import DeadlinePolicy, Unit
from models.prepared import prepared
from services.booking import calendar, day_status, deadlines
from services.booking.day_status import DEFAULT_POLICY
from services.core import clock, config_cache, formatting

# How far ahead a deadline can lie: the engine's longest reach (« le mois précédent », « N semaines avant »).
HORIZON = calendar.DEADLINE_REACH + dt.timedelta(days=7)


@dataclass(frozen=True)
class UnitWeek:
    """The open days of one unit in one week and when they can be booked until."""

    unit: Unit
    week_start: dt.date  # the Monday
    deadlines: tuple[tuple[dt.date, dt.datetime], ...]  # (open day, its booking deadline), in date order

    @property
    def days(self) -> list[dt.date]:
        return [day for day, _limit in self.deadlines]

    @property
    def first_deadline(self) -> dt.datetime:
        """The week's deadline for a reminder: the earliest of its days' (one per week for a weekly policy)."""
        return min(limit for _day, limit in self.deadlines)


def active_units(activity_ids: Sequence[int] | None = None) -> list[Unit]:
    """Units of active activities (with their activity), optionally of some activities only, from the
    configuration cache. Units « sans réservation » have no deadline to tell: they are left out."""
    wanted = set(activity_ids) if activity_ids is not None else None
    return [unit for unit in day_status.configured_units()
            if not unit.attendance_only and (wanted is None or unit.activity_id in wanted)]


def unit_weeks(units: Sequence[Unit], start: dt.date, weeks: int, now: dt.datetime | None = None) -> list[UnitWeek]:
    """Every unit × week with open days from the Monday of `start`, for `weeks` weeks, skipping units whose
    bookings are not open yet. No query while the configuration holds (else: policies, then the calendar)."""
    now = (now or clock.now()).astimezone(deadlines.PARIS)
    monday = start - dt.timedelta(days=start.weekday())
    units = [u for u in units if u.activity.booking_opens_at is None
             or u.activity.booking_opens_at <= clock.to_local_naive(now)]
    if not units:
        return []
    # Each unit's weeks depend on the configuration only (policies, calendar): worked out once per process
    # and Monday while it holds, not for every parent who opens the home page.
    known = config_cache.cached(f"unit_weeks:{monday}:{weeks}", dict)
    missing = [u for u in units if u.id not in known]
    if missing:
        known.update(_weeks_of(missing, monday, weeks))
    return [week for unit in units for week in known[unit.id]]


def _weeks_of(units: Sequence[Unit], monday: dt.date, weeks: int) -> dict[int, list[UnitWeek]]:
    """unit id → its UnitWeeks with open days: the policies (one query) and the calendar."""
    policy_ids = sorted({u.booking_policy_id for u in units if u.booking_policy_id})
    policies = {p.id: deadlines.Policy.of(p) for p in _policies(policy_ids)} if policy_ids else {}
    data = calendar.CalendarData.load(monday, monday + dt.timedelta(weeks=weeks, days=-1), [u.id for u in units])
    holidays = data.holiday_dates()
    found: dict[int, list[UnitWeek]] = {}
    for unit in units:
        policy = policies.get(unit.booking_policy_id) or DEFAULT_POLICY
        found[unit.id] = []
        for week in range(weeks):
            first = monday + dt.timedelta(weeks=week)
            days = data.opening_days(unit, first, first + dt.timedelta(days=6))
            if days:
                found[unit.id].append(UnitWeek(unit, first, tuple((d, deadlines.deadline(policy, d, holidays))
                                                                   for d in days)))
    return found


@prepared
def _policies(ids):
    return DeadlinePolicy.select().where(DeadlinePolicy.id.in_(ids))


def _day_and_hour(moment: dt.datetime) -> tuple[dt.date, str]:
    local = moment.astimezone(deadlines.PARIS)
    if local.time() == dt.time(0, 0):  # « lundi 0 h » reads as the evening before: « dimanche minuit »
        return local.date() - dt.timedelta(days=1), "minuit"
    return local.date(), formatting.hour(local.replace(tzinfo=None))


def relative_moment(moment: dt.datetime, now: dt.datetime | None = None) -> str:
    """« aujourd'hui 18 h », « demain 18 h », « jeudi 18 h » within the week, else « jeudi 10 décembre à 18 h »."""
    now = (now or clock.now()).astimezone(deadlines.PARIS)
    day, hour = _day_and_hour(moment)
    gap = (day - now.date()).days
    if gap == 0:
        return f"aujourd'hui {hour}"
    if gap == 1:
        return f"demain {hour}"
    if 1 < gap < 7:
        return f"{deadlines.WEEKDAYS[day.weekday()]} {hour}"
    return f"{formatting.date_medium(day)} à {hour}"


def next_deadline_text(unit_weeks_of_unit: Sequence[UnitWeek], now: dt.datetime | None = None) -> str | None:
    """« jusqu'à jeudi 18 h pour la semaine du 7 décembre » (or « pour le lundi 30 novembre » when the
    days of that week have their own deadlines): the earliest deadline still ahead, or None."""
    now = (now or clock.now()).astimezone(deadlines.PARIS)
    ahead = [(limit, day, week) for week in unit_weeks_of_unit for day, limit in week.deadlines if limit > now]
    if not ahead:
        return None
    limit, _day, week = min(ahead, key=lambda item: (item[0], item[1]))
    days = [day for day, other in week.deadlines if other == limit]
    if days == week.days and len(days) > 1:
        target = f"la semaine du {formatting.date_medium(week.week_start).split(' ', 1)[1]}"
    elif len(days) == 1:
        target = f"le {formatting.date_medium(days[0])}"
    else:
        target = f"les jours du {formatting.date_medium(days[0])} au {formatting.date_medium(days[-1])}"
    word = "jusqu'à" if (_day_and_hour(limit)[0] - now.date()).days < 7 else "jusqu'au"
    return f"{word} {relative_moment(limit, now)} pour {target}"
