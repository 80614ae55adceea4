"""Effectifs: how many children each unit expects on a day, and for meals what the kitchen cooks.

Opening days come from services.booking.calendar, places left from services.booking.placement: no rule is
re-implemented here. A bounded number of queries answers a whole day (all grouped, places left
included). No health detail leaves this module: only counts per régime
alimentaire and the number of PAI.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from peewee import JOIN, fn

from models import Activity, Attendance, Booking, CapacityOverride, Child, Diet, Unit
from models.base import count_rows
from services.booking import calendar, placement
from services.booking.activities import parse_date
from services.core import csv_export, formatting

BOOKED = ("booked", "cancel_requested")  # a place is held and the child is expected
PENDING = ("requested", "held")  # a place is held, awaiting staff validation or prepayment
NO_DIET = "Sans régime particulier"


def is_meal(unit: Unit) -> bool:
    """A unit the kitchen cooks for: every unit of a canteen, or a unit named « Repas… »."""
    return unit.activity.kind == "cantine" or unit.name.strip().lower().startswith("repas")


@dataclass
class UnitCount:
    unit: Unit
    open: bool
    closed_label: str = ""  # "Fermé", "Férié"
    closed_reason: str = ""
    booked: int = 0
    requested: int = 0
    waiting: int = 0
    unbooked_present: int = 0  # pointage: present without booking
    absent: int = 0  # booked but recorded absent (justified or not)
    capacity: int | None = None
    places_left: int | None = None
    meal: bool = False
    diets: list[tuple[str, int]] = field(default_factory=list)  # (régime, count), most common first
    pai: int = 0

    @property
    def activity(self) -> Activity:
        return self.unit.activity

    @property
    def expected(self) -> int:
        """Children expected on site: booked, minus recorded absences, plus presences without booking."""
        return self.booked - self.absent + self.unbooked_present

    @property
    def state(self) -> str:
        if not self.open:
            return self.closed_label or "Fermé"
        if self.places_left == 0:
            return "Complet"
        return "Ouvert"


@dataclass
class DayCounts:
    day: dt.date
    rows: list[UnitCount]

    @property
    def meals(self) -> list[UnitCount]:
        return [row for row in self.rows if row.meal and row.open]

    @property
    def meal_total(self) -> int:
        return sum(row.booked for row in self.meals)

    @property
    def diet_totals(self) -> list[tuple[str, int]]:
        total: Counter = Counter()
        for row in self.meals:
            total.update(dict(row.diets))
        return _ordered(total)

    @property
    def pai_total(self) -> int:
        return sum(row.pai for row in self.meals)

    @property
    def previous_day(self) -> dt.date:
        return self.day - dt.timedelta(days=1)

    @property
    def next_day(self) -> dt.date:
        return self.day + dt.timedelta(days=1)


def _ordered(counter: Counter) -> list[tuple[str, int]]:
    """Regimes by count (most first), "Sans régime particulier" last, then by name."""
    return sorted(counter.items(), key=lambda item: (item[0] == NO_DIET, -item[1], item[0]))


def units_running(day: dt.date) -> list[Unit]:
    """Units of the active activities whose school year covers the day, in display order."""
    return list(Unit.select(Unit, Activity).join(Activity)
                .where(Activity.active & (Activity.starts_on <= day) & (Activity.ends_on >= day))
                .order_by(Activity.position, Activity.name, Unit.position, Unit.id))


def day_counts(day: dt.date) -> DayCounts:
    """Headcounts of every running unit on `day`: booked, requested, waiting, capacity, places left,
    and for meals the counts per régime alimentaire and the number of PAI."""
    units = units_running(day)
    ids = [unit.id for unit in units]
    if not ids:
        return DayCounts(day, [])
    data = calendar.CalendarData.load(day, day, ids)
    statuses: dict[int, Counter] = defaultdict(Counter)
    for row in (Booking.select(Booking.unit, Booking.status, count_rows().alias("n"))
                .where((Booking.date == day) & Booking.unit.in_(ids)).group_by(Booking.unit, Booking.status)
                .tuples()):
        statuses[row[0]][row[1]] = row[2]
    absences = dict(Booking.select(Booking.unit, count_rows())
                    .where((Booking.date == day) & Booking.unit.in_(ids) & Booking.status.in_(BOOKED)
                           & Booking.attendance.in_(("absent", "absent_justified")))
                    .group_by(Booking.unit).tuples())
    unbooked = dict(Attendance.select(Attendance.unit, fn.COUNT(Attendance.id))
                    .where((Attendance.date == day) & Attendance.unit.in_(ids) & (Attendance.status == "present"))
                    .group_by(Attendance.unit).tuples())
    overrides = dict(CapacityOverride.select(CapacityOverride.unit, CapacityOverride.capacity)
                     .where((CapacityOverride.date == day) & CapacityOverride.unit.in_(ids)).tuples())
    meal_ids = [unit.id for unit in units if is_meal(unit)]
    diets: dict[int, Counter] = defaultdict(Counter)
    pai: Counter = Counter()
    if meal_ids:
        rows = (Booking.select(Booking.unit, Diet.name, Child.has_pai, count_rows())
                .join(Child).join(Diet, JOIN.LEFT_OUTER, on=(Child.diet == Diet.id))
                .where((Booking.date == day) & Booking.unit.in_(meal_ids) & Booking.status.in_(BOOKED))
                .group_by(Booking.unit, Diet.name, Child.has_pai).tuples())
        for unit_id, diet, has_pai, count in rows:
            diets[unit_id][diet or NO_DIET] += count
            if has_pai:
                pai[unit_id] += count
    infos = {unit.id: data.day_info(unit, day) for unit in units}
    limited = [unit for unit in units if infos[unit.id].open and overrides.get(unit.id, unit.capacity) is not None]
    left = placement.places_left_many({unit.id: unit for unit in limited}, [(unit.id, day) for unit in limited])
    result = []
    for unit in units:
        info = infos[unit.id]
        counts = statuses[unit.id]
        capacity = overrides.get(unit.id, unit.capacity)
        row = UnitCount(unit=unit, open=info.open, closed_label=info.label, closed_reason=info.reason,
                        booked=sum(counts[s] for s in BOOKED), requested=sum(counts[s] for s in PENDING),
                        waiting=counts["waiting_list"], unbooked_present=unbooked.get(unit.id, 0),
                        absent=absences.get(unit.id, 0), capacity=capacity, meal=unit.id in meal_ids,
                        diets=_ordered(diets[unit.id]), pai=pai[unit.id])
        if info.open and capacity is not None:
            row.places_left = left[(unit.id, day)]
        result.append(row)
    return DayCounts(day, result)


def parse_day(raw: str | None, default: dt.date) -> dt.date:
    """The ?date= of the page (2026-11-20 or 20/11/2026); empty means `default`."""
    if not (raw or "").strip():
        return default
    return parse_date(raw, "date", "la date")


CSV_HEADER = ["Date", "Activité", "Prestation", "État", "Motif de fermeture", "Réservés",
              "En attente (validation ou paiement)", "Liste d'attente", "Présents sans réservation", "Absences signalées",
              "Capacité", "Places restantes", "Repas", "PAI", "Régimes alimentaires"]


def csv_text(counts: DayCounts) -> str:
    """The day's headcounts as CSV (separator ";", UTF-8 with BOM for spreadsheet software)."""
    return csv_export.csv_text(CSV_HEADER, ([
        counts.day.strftime("%d/%m/%Y"), row.activity.name, row.unit.name, row.state, row.closed_reason,
        row.booked, row.requested, row.waiting, row.unbooked_present, row.absent,
        "" if row.capacity is None else row.capacity, "" if row.places_left is None else row.places_left,
        "oui" if row.meal else "non", row.pai if row.meal else "",
        " ; ".join(f"{name} : {n}" for name, n in row.diets) if row.meal else "",
    ] for row in counts.rows))


def title(day: dt.date) -> str:
    return f"Effectifs du {formatting.date_long(day)}"
