"""Opening days of a unit: weekly pattern over the activity's year, minus public holidays, school
holidays of the commune's zone and staff closures, plus extra days.

Holidays are read from the database only (PublicHoliday, SchoolHoliday); `refresh_holidays`
loads them from the `holidays` and `vacances-scolaires-france` packages (staff button or
`flask refresh-holidays`), never at request time. `CalendarData.load` answers any range of
dates for any set of units in four queries.
"""
from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

from models import Closure, Commune, ExtraDay, PublicHoliday, SchoolHoliday, Unit
from services.core import config_cache, formatting
from services.core.errors import InvalidInput
from services.core.transactions import as_date, write_transaction

ZONES = ("A", "B", "C")
PERIOD_LABELS = {
    "school": "Période scolaire (fermé pendant les vacances)",
    "holidays": "Vacances scolaires uniquement",
    "all": "Toute l'année",
}
# How far before a range deadlines may reach (e.g. "le mois précédent", "4 semaines avant").
DEADLINE_REACH = dt.timedelta(days=70)


def school_year_of(day: dt.date) -> int:
    """The school year a date belongs to (2026 for 2026-09-01 … 2027-08-31)."""
    return day.year if day.month >= 9 else day.year - 1


def school_year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 9, 1), dt.date(year + 1, 8, 31)


def daterange(start: dt.date, end: dt.date) -> Iterable[dt.date]:
    """Every date from start to end, both included."""
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


@dataclass(frozen=True)
class DayInfo:
    """Whether a unit runs on a day, and why not (French, for the legend and the tooltip)."""

    open: bool
    label: str = ""  # "Fermé", "Férié"
    reason: str = ""  # "Férié : Armistice", "Vacances de la Toussaint", "Fermeture : Grève"


OPEN = DayInfo(True)
NOT_RUNNING = "Pas d'accueil ce jour-là"  # the unit's weekly rest (the grid shows it as « Fermé », no more)


@dataclass
class CalendarData:
    """Everything needed to answer opening days for a range: loaded once, then pure lookups."""

    start: dt.date
    end: dt.date
    zone: str
    public_holidays: dict[dt.date, str] = field(default_factory=dict)
    school_holidays: list[tuple[dt.date, dt.date, str]] = field(default_factory=list)
    closures: list[tuple[int | None, int | None, dt.date, dt.date, str]] = field(default_factory=list)
    extra_days: dict[tuple[int, dt.date], str] = field(default_factory=dict)
    # day_info's answers: a month asks each (unit, day) once per child.
    _answers: dict[tuple[int, dt.date], "DayInfo"] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def load(cls, start: dt.date, end: dt.date, unit_ids: Iterable[int] | None = None,
             zone: str | None = None) -> "CalendarData":
        """Holidays, school holidays, closures and extra days, from the configuration cache (no query while
        the configuration has not changed; four when it has)."""
        zone = zone or Commune.get_current().school_zone
        data = cls(start=start, end=end, zone=zone)
        with config_cache.one_token():
            return cls._fill(data, start, end, unit_ids, zone)

    @staticmethod
    def _fill(data: "CalendarData", start: dt.date, end: dt.date, unit_ids: Iterable[int] | None,
              zone: str) -> "CalendarData":
        reach = start - DEADLINE_REACH
        data.public_holidays = {day: name for day, name in config_cache.cached("public_holidays", _public_holidays)
                                if reach <= day <= end}
        data.school_holidays = [(first, last, name) for area, first, last, name
                                in config_cache.cached("school_holidays", _school_holidays)
                                if area == zone and first <= end and last >= start]
        data.closures = [row for row in config_cache.cached("closures", _closures)
                         if row[2] <= end and row[3] >= start]
        ids = set(unit_ids) if unit_ids is not None else None
        data.extra_days = {(unit_id, day): reason for unit_id, day, reason in config_cache.cached("extra_days", _extra_days)
                           if start <= day <= end and (ids is None or unit_id in ids)}
        return data

    def covers(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def holiday_dates(self) -> frozenset[dt.date]:
        return frozenset(self.public_holidays)

    def school_holiday(self, day: dt.date) -> str | None:
        for start, end, name in self.school_holidays:
            if start <= day <= end:
                return name
        return None

    def closure(self, unit: Unit, day: dt.date) -> str | None:
        for activity_id, unit_id, start, end, reason in self.closures:
            if start <= day <= end and (unit_id == unit.id or (unit_id is None and activity_id in (None, unit.activity_id))):
                return reason
        return None

    def day_info(self, unit: Unit, day: dt.date) -> DayInfo:
        """Whether `unit` runs on `day` (the unit's activity must be loaded or cached by the caller)."""
        key = (unit.id, day)
        info = self._answers.get(key)
        if info is None:
            info = self._answers[key] = self._day_info(unit, day)
        return info

    def _day_info(self, unit: Unit, day: dt.date) -> DayInfo:
        activity = unit.activity
        if day < activity.starts_on or day > activity.ends_on:
            return DayInfo(False, "Fermé", f"Hors de l'année scolaire {activity.year_label}")
        closure = self.closure(unit, day)
        if closure is not None:
            return DayInfo(False, "Fermé", f"Fermeture : {closure}")
        if (unit.id, day) in self.extra_days:
            return OPEN
        if day in self.public_holidays:
            return DayInfo(False, "Férié", f"Férié : {self.public_holidays[day]}")
        if day.weekday() not in unit.weekday_set():
            return DayInfo(False, "Fermé", NOT_RUNNING)
        holiday = self.school_holiday(day)
        if unit.period == "school" and holiday:
            return DayInfo(False, "Fermé", holiday)
        if unit.period == "holidays" and not holiday:
            return DayInfo(False, "Fermé", "Ouvert seulement pendant les vacances scolaires")
        return OPEN

    def opening_days(self, unit: Unit, start: dt.date | None = None, end: dt.date | None = None) -> list[dt.date]:
        return [day for day in daterange(start or self.start, end or self.end) if self.day_info(unit, day).open]


def day_info(unit: Unit, day: dt.date) -> DayInfo:
    """One-off question (five queries at most); use CalendarData.load for ranges."""
    return CalendarData.load(day, day, [unit.id]).day_info(unit, day)


def opening_days(unit: Unit, start: dt.date, end: dt.date) -> list[dt.date]:
    """The dates `unit` runs between start and end, both included."""
    return CalendarData.load(start, end, [unit.id]).opening_days(unit)


def holiday_dates(start: dt.date, end: dt.date) -> frozenset[dt.date]:
    """Public holidays between two dates (for deadline policies with "skip public holidays")."""
    return frozenset(row.date for row in PublicHoliday.select(PublicHoliday.date)
                     .where(PublicHoliday.date.between(start, end)))


# --- Loading holidays from the packages (staff action / CLI) ---------------------------------


def _school_holiday_ranges(zone: str, year: int) -> list[tuple[dt.date, dt.date, str]]:
    """Consecutive days of one name, as (start, end, name) ranges, for one calendar year."""
    from vacances_scolaires_france import SchoolHolidayDates

    days = SchoolHolidayDates().holidays_for_year_and_zone(year, zone)
    ranges = []
    ordered = sorted(days)
    for _, group in itertools.groupby(enumerate(ordered), key=lambda item: (item[1] - dt.timedelta(days=item[0]),
                                                                               days[item[1]]["nom_vacances"])):
        dates = [day for _, day in group]
        ranges.append((dates[0], dates[-1], days[dates[0]]["nom_vacances"]))
    return ranges


def refresh_holidays(years: Iterable[int], zone: str | None = None) -> tuple[int, int]:
    """Reload public holidays (French names) and the zone's school holidays for calendar years.

    Returns (public holidays, school holiday periods) stored. Ranges that cross 31 December
    are stored once per calendar year, which the lookups do not mind.
    """
    import holidays as holidays_package

    zone = (zone or Commune.get_current().school_zone or "").upper()
    if zone not in ZONES:
        raise InvalidInput("La zone de vacances scolaires doit être A, B ou C.", "zone")
    years = sorted(set(years))
    public = holidays_package.France(years=years, language="fr")
    school: list[tuple[dt.date, dt.date, str]] = []
    for year in years:
        try:
            school.extend(_school_holiday_ranges(zone, year))
        except Exception as error:  # the package raises its own error past its data range
            if "UnsupportedYear" not in type(error).__name__:
                raise
    with write_transaction():
        for year in years:
            start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
            PublicHoliday.delete().where(PublicHoliday.date.between(start, end)).execute()
            SchoolHoliday.delete().where((SchoolHoliday.zone == zone)
                                         & SchoolHoliday.starts_on.between(start, end)).execute()
        for day, name in sorted(public.items()):
            PublicHoliday.create(date=day, name=name)
        for start, end, name in school:
            SchoolHoliday.create(zone=zone, name=name, starts_on=start, ends_on=end)
    return len(public), len(school)


def describe_weekdays(unit: Unit) -> str:
    """'lundi, mardi, jeudi, vendredi'."""
    from services.booking.deadlines import WEEKDAYS

    return ", ".join(WEEKDAYS[i] for i in sorted(unit.weekday_set())) or "aucun jour"


def format_day(day: dt.date) -> str:
    return formatting.date_long(day)


def _public_holidays() -> list[tuple[dt.date, str]]:
    return [(as_date(row.date), row.name) for row in PublicHoliday.select()]


def _school_holidays() -> list[tuple[str, dt.date, dt.date, str]]:
    return [(row.zone, as_date(row.starts_on), as_date(row.ends_on), row.name) for row in SchoolHoliday.select()]


def _closures() -> list[tuple[int | None, int | None, dt.date, dt.date, str]]:
    return [(row.activity_id, row.unit_id, as_date(row.starts_on), as_date(row.ends_on), row.reason)
            for row in Closure.select()]


def _extra_days() -> list[tuple[int, dt.date, str]]:
    return [(row.unit_id, as_date(row.date), row.reason) for row in ExtraDay.select()]
