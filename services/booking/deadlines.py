"""Deadline policies: until when a day can be booked or cancelled, in plain French.

One policy type (models.DeadlinePolicy) covers what communes use: "la veille à 18 h", "2 jours
ouvrés avant à 12 h", "le jeudi de la semaine précédente à 18 h", "2 semaines avant", "le jour
même avant 8 h 30", "le mois précédent, le 20 à 12 h", "48 h avant". Functions here are pure:
the public holidays they need are passed in (services.booking.calendar loads them once per request).
Every deadline is an aware Europe/Paris datetime; wall-clock kinds keep their hour across the
summer-time changes, "N heures avant" counts elapsed hours.
"""
from __future__ import annotations

import calendar as _calendar
import datetime as dt
import functools
from collections.abc import Collection
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from services.core import formatting
from services.core.errors import InvalidInput

PARIS = ZoneInfo("Europe/Paris")
UTC = dt.timezone.utc

KINDS = {
    "days_before": "N jours avant, à une heure donnée",
    "weekday_previous_week": "Un jour de la semaine précédente, à une heure donnée",
    "weeks_before": "N semaines avant, à une heure donnée",
    "same_day": "Le jour même, avant une heure donnée",
    "previous_month": "Le mois précédent, un jour donné, à une heure donnée",
    "hours_before": "N heures avant",
}
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


@dataclass(frozen=True)
class Policy:
    """The values of a deadline policy, detached from the database (easy to test and preview)."""

    kind: str = "days_before"
    amount: int = 1
    working_days: bool = False
    weekday: int | None = None
    month_day: int | None = None
    at_time: str = "18:00"
    skip_weekends: bool = False
    skip_public_holidays: bool = False

    @classmethod
    def of(cls, row) -> "Policy":
        """A Policy from a models.DeadlinePolicy row (or anything with the same attributes)."""
        if isinstance(row, Policy):
            return row
        return cls(kind=row.kind, amount=row.amount or 0, working_days=bool(row.working_days),
                   weekday=row.weekday, month_day=row.month_day, at_time=row.at_time or "00:00",
                   skip_weekends=bool(row.skip_weekends), skip_public_holidays=bool(row.skip_public_holidays))

    @property
    def time(self) -> dt.time:
        return parse_time(self.at_time)


@functools.lru_cache(maxsize=256)  # a handful of policies' times, read for every cell of a grid
def parse_time(text: str) -> dt.time:
    """'18:00', '8:30', '18 h', '8 h 30' → time; InvalidInput otherwise."""
    cleaned = (text or "").strip().lower().replace(" ", "").replace("h", ":")
    if cleaned.endswith(":"):
        cleaned += "00"
    try:
        hours, minutes = cleaned.split(":")
        value = dt.time(int(hours), int(minutes))
    except (ValueError, TypeError):
        raise InvalidInput("Indiquez une heure au format 18:00 ou 8 h 30.", "at_time") from None
    return value


def validate(policy: Policy) -> Policy:
    """Check a policy's values; raise InvalidInput with a French message naming the field."""
    if policy.kind not in KINDS:
        raise InvalidInput("Choisissez un type de délai dans la liste.", "kind")
    parse_time(policy.at_time)
    if policy.kind in ("days_before", "weeks_before", "hours_before", "weekday_previous_week"):
        if policy.amount is None or policy.amount < 0 or policy.amount > 366:
            raise InvalidInput("Le nombre doit être compris entre 0 et 366.", "amount")
    if policy.kind in ("weeks_before", "weekday_previous_week") and policy.amount < 1:
        raise InvalidInput("Indiquez au moins 1 semaine.", "amount")
    if policy.kind == "hours_before" and policy.amount < 1:
        raise InvalidInput("Indiquez au moins 1 heure.", "amount")
    if policy.kind == "weekday_previous_week" and policy.weekday not in range(7):
        raise InvalidInput("Choisissez le jour de la semaine.", "weekday")
    if policy.kind == "previous_month" and (policy.month_day is None or not 1 <= policy.month_day <= 31):
        raise InvalidInput("Le jour du mois doit être compris entre 1 et 31.", "month_day")
    return policy


def paris(day: dt.date, time: dt.time) -> dt.datetime:
    """The aware Paris datetime of a wall-clock time (a time skipped in spring maps to the next valid one)."""
    naive = dt.datetime.combine(day, time)
    aware = naive.replace(tzinfo=PARIS)
    return aware.astimezone(UTC).astimezone(PARIS)


def _is_working_day(day: dt.date, holidays: Collection[dt.date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def _move_earlier(day: dt.date, policy: Policy, holidays: Collection[dt.date]) -> dt.date:
    """A deadline falling on a skipped day (weekend, public holiday) moves to the day before."""
    for _ in range(60):
        if policy.skip_weekends and day.weekday() >= 5:
            day -= dt.timedelta(days=1)
        elif policy.skip_public_holidays and day in holidays:
            day -= dt.timedelta(days=1)
        else:
            break
    return day


def deadline(policy, day: dt.date, holidays: Collection[dt.date] = ()) -> dt.datetime:
    """The last moment (aware, Europe/Paris) at which `day` may still be changed under `policy`."""
    policy = Policy.of(policy)
    time = policy.time
    if policy.kind == "hours_before":
        start = paris(day, time).astimezone(UTC)
        return (start - dt.timedelta(hours=policy.amount)).astimezone(PARIS)
    if policy.kind == "same_day":
        target = day
    elif policy.kind == "days_before":
        if policy.working_days:
            target, left = day, policy.amount
            while left > 0:
                target -= dt.timedelta(days=1)
                if _is_working_day(target, holidays):
                    left -= 1
        else:
            target = day - dt.timedelta(days=policy.amount)
    elif policy.kind == "weeks_before":
        target = day - dt.timedelta(weeks=policy.amount)
    elif policy.kind == "weekday_previous_week":
        monday = day - dt.timedelta(days=day.weekday())
        target = monday - dt.timedelta(weeks=max(policy.amount, 1)) + dt.timedelta(days=policy.weekday or 0)
    elif policy.kind == "previous_month":
        first = day.replace(day=1)
        last_of_previous = first - dt.timedelta(days=1)
        length = _calendar.monthrange(last_of_previous.year, last_of_previous.month)[1]
        target = last_of_previous.replace(day=min(policy.month_day or 1, length))
    else:
        raise InvalidInput("Type de délai inconnu.", "kind")
    target = _move_earlier(target, policy, holidays)
    return paris(target, time)


def late_absence_deadline(day: dt.date, hours: int) -> dt.datetime | None:
    """Until when an illness absence may be declared for `day` (N elapsed hours after the day ends)."""
    if not hours:
        return None
    end = paris(day + dt.timedelta(days=1), dt.time(0, 0)).astimezone(UTC)
    return (end + dt.timedelta(hours=hours)).astimezone(PARIS)


def format_deadline(moment: dt.datetime) -> str:
    """'jeudi 26 novembre à 18 h' (with the year when it is not the current one is the caller's job)."""
    return formatting.datetime_medium(moment.astimezone(PARIS).replace(tzinfo=None))


def describe(policy) -> str:
    """The policy in plain French: 'le jeudi de la semaine précédente à 18 h'."""
    policy = Policy.of(policy)
    hour = formatting.hour(policy.time)
    n = policy.amount
    if policy.kind == "days_before":
        if n == 0:
            text = f"le jour même à {hour}"
        elif n == 1 and not policy.working_days:
            text = f"la veille à {hour}"
        elif policy.working_days:
            plural = "s" if n > 1 else ""
            text = f"{n} jour{plural} ouvré{plural} avant à {hour}"
        else:
            text = f"{n} jours avant à {hour}"
    elif policy.kind == "weeks_before":
        text = f"{n} semaine{'s' if n > 1 else ''} avant, à {hour}"
    elif policy.kind == "weekday_previous_week":
        day_name = WEEKDAYS[policy.weekday or 0]
        if n <= 1:
            text = f"le {day_name} de la semaine précédente à {hour}"
        else:
            text = f"le {day_name}, {n} semaines avant, à {hour}"
    elif policy.kind == "same_day":
        text = f"le jour même avant {hour}"
    elif policy.kind == "previous_month":
        text = f"le mois précédent, le {policy.month_day or 1} à {hour}"
    elif policy.kind == "hours_before":
        text = f"{n} h avant" + (f" {hour}" if policy.time != dt.time(0, 0) else " le début de la journée")
    else:
        text = "délai inconnu"
    skips = []
    if policy.skip_weekends:
        skips.append("les week-ends")
    if policy.skip_public_holidays:
        skips.append("les jours fériés")
    if skips and policy.kind != "hours_before":
        text += f" (avancé si ce jour tombe sur {' ou '.join(skips)})"
    return text


def preview(policy, day: dt.date, holidays: Collection[dt.date] = (), verb: str = "réservable") -> str:
    """'Pour le lundi 30 novembre : réservable jusqu'au jeudi 26 novembre à 18 h'."""
    limit = deadline(policy, day, holidays)
    return f"Pour le {formatting.date_medium(day)} : {verb} jusqu'au {format_deadline(limit)}"


def locked_reason(limit: dt.datetime, cancel: bool = False) -> str:
    """'Hors délai : modifiable jusqu'au jeudi 19 novembre à 18 h'."""
    verb = "annulable" if cancel else "modifiable"
    return f"Hors délai : {verb} jusqu'au {format_deadline(limit)}"
