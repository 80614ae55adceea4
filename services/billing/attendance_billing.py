"""Invoice lines of the units « sans réservation » (issue 15): their presences, as staff recorded them.

services.billing.invoicing.collect hands each Attendance row of such a unit to `bill()`. À la présence,
the days are grouped on one line (« Accueil du soir – présence 1,20 € × 5 »); au créneau or au quart
d'heure, each day is its own line with its times and count (« Accueil du soir – jeudi 3 décembre :
16:40–18:05, 6 quarts d'heure », 6 × the QF band's price). An absence costs nothing; a timed presence
without its departure time is not billed and is shown to staff as an anomaly to fix before the run.
The counting rules are services/booking/timed_attendance.py.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from babel.dates import format_date

from models import Attendance, Child, Unit
from services.booking import timed_attendance
from services.core import formatting


@dataclass
class TimedLine:
    """One day at a unit billed by time: the same fields as invoicing.DraftLine, with its own quantity."""

    child: Child
    unit: Unit
    heading: str
    label: str
    band: str
    unit_price: int
    count: int
    days: list[dt.date] = field(default_factory=list)

    @property
    def sort_day(self) -> dt.date:
        return self.days[0]

    @property
    def quantity(self) -> int:
        return self.count

    @property
    def amount(self) -> int:
        return self.unit_price * self.count

    @property
    def days_text(self) -> str:
        return ", ".join(format_date(day, "EEE d MMM", locale="fr_FR") for day in self.days)

    @property
    def summary(self) -> str:
        return (f"{self.label} {formatting.money(self.unit_price)} × {self.count} = "
                f"{formatting.money(self.amount)}")


def label_of(unit: Unit, record: Attendance, day: dt.date, count: int) -> str:
    """« Accueil du soir – jeudi 3 décembre : 16:40–18:05, 6 quarts d'heure »."""
    return (f"{unit.name} – {formatting.date_medium(day)} : {timed_attendance.times_text(record)}, "
            f"{timed_attendance.quantity_words(unit, count)}")


def bill(record: Attendance, day: dt.date, unit: Unit, child: Child, price: int, band: str, heading: str,
         lines: list, anomalies: list[str], grouped_line: Callable[[str, int], object]) -> None:
    """Add what one pointage costs to a household's draft: `lines` and `anomalies` are the draft's,
    `grouped_line(label, price)` gives the line à la présence that collects days."""
    if record.status != "present":
        return  # absent: nothing to pay
    count = timed_attendance.quantity(unit, record.arrived_at, record.left_at)
    if count is None:
        missing = "de départ" if record.arrived_at else "d'arrivée"
        anomalies.append(f"{child.full_name} – {unit.name} : présent(e) le {formatting.date_medium(day)} sans heure "
                         f"{missing} ; non facturé tant qu'elle n'est pas saisie au pointage.")
        return
    if unit.attendance_pricing not in timed_attendance.TIMED:
        grouped_line(f"{unit.name} – présence", price).days.append(day)
        return
    lines.append(TimedLine(child, unit, heading, label_of(unit, record, day, count), band, price, count, [day]))
