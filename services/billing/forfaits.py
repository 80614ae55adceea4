"""Monthly forfait of abonnements: when a unit has a monthly fee (Unit.monthly_fee, cents), the days a
subscribed child has booked on the subscription's weekdays are billed as one line per child, unit and
month — « Forfait restauration – décembre 2026 » — instead of one price per day.

The rule (README « Abonnements »):
- the forfait is never more than those days would cost one by one (a month begun late, or cut by the
  holidays, costs at most its days): amount = min(monthly fee, sum of the days' prices);
- a justified absence (absent_justified, e.g. illness with a certificate) is deducted at its day's price;
- an unjustified absence is neither deducted nor charged an absence fee: the forfait covers it;
- a day cancelled before its deadline (an exception) is not booked, so it lowers the cap only;
- days booked outside the subscription's weekdays (an extra Wednesday) are billed per day as usual.
invoicing.collect calls take_forfait_days and adds these lines to the household's draft.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from babel.dates import format_date

from models import Booking, Child, Enrolment, Household, Subscription, Unit
from services.booking import pricing
from services.core import formatting
from services.core.transactions import as_date

KIND_WORDS = {"cantine": "restauration", "garderie": "garderie", "alsh_mercredi": "accueil de loisirs",
              "alsh_vacances": "accueil de loisirs"}


@dataclass
class ForfaitLine:
    """One forfait line of a draft: the same fields as invoicing.DraftLine, with a quantity of 1."""

    child: Child
    unit: Unit
    heading: str
    label: str
    band: str
    unit_price: int  # the forfait due, deductions made
    days: list[dt.date] = field(default_factory=list)

    quantity = 1

    @property
    def amount(self) -> int:
        return self.unit_price

    @property
    def days_text(self) -> str:
        return f"{len(self.days)} jour(s) d'abonnement : " + ", ".join(
            format_date(day, "EEE d MMM", locale="fr_FR") for day in sorted(self.days))

    @property
    def summary(self) -> str:
        return f"{self.label} = {formatting.money(self.amount)}"


def label_of(unit: Unit, month: dt.date) -> str:
    """'Forfait restauration – décembre 2026'."""
    word = KIND_WORDS.get(unit.activity.kind, unit.activity.name)
    return f"Forfait {word} – {formatting.month_label(month)}"


def forfait_amount(fee: int, prices: list[int], justified: list[int]) -> int:
    """The forfait of a month: the fee capped at the days' prices, minus the justified absences."""
    return max(0, min(fee, sum(prices)) - sum(justified))


def subscribed_weekdays(child_ids: Iterable[int], unit_ids: Iterable[int]) -> dict[tuple[int, int], set[int]]:
    """{(child id, unit id): weekdays} of the validated enrolments' subscriptions: one query."""
    child_ids, unit_ids = sorted(set(child_ids)), sorted(set(unit_ids))
    if not child_ids or not unit_ids:
        return {}
    rows = (Subscription.select(Subscription.unit, Subscription.weekdays, Enrolment.child).join(Enrolment)
            .where(Enrolment.child.in_(child_ids) & Subscription.unit.in_(unit_ids)
                   & (Enrolment.status == "validated")).tuples())
    return {(child_id, unit_id): {int(day) for day in weekdays.split(",") if day.strip().isdigit()}
            for unit_id, weekdays, child_id in rows}


def take_forfait_days(bookings: list[Booking], month: dt.date, units: dict[int, Unit], children: dict[int, Child],
                      households: dict[int, Household], bands: dict) -> tuple[list[Booking], list[tuple[int, ForfaitLine]]]:
    """Split a month's booked days: (those billed per day, [(household id, forfait line)])."""
    fee_units = {unit_id for unit_id, unit in units.items() if unit.monthly_fee is not None}
    if not fee_units or not bookings:
        return bookings, []
    weekdays = subscribed_weekdays({b.child_id for b in bookings if b.unit_id in fee_units}, fee_units)
    if not weekdays:
        return bookings, []
    kept: list[Booking] = []
    groups: dict[tuple[int, int, int], list[Booking]] = {}
    for booking in bookings:
        chosen = weekdays.get((booking.child_id, booking.unit_id))
        if chosen and booking.unit_id in fee_units and as_date(booking.date).weekday() in chosen:
            groups.setdefault((booking.household_id, booking.child_id, booking.unit_id), []).append(booking)
        else:
            kept.append(booking)
    lines = []
    for (household_id, child_id, unit_id), days in groups.items():
        unit, child, household = units[unit_id], children[child_id], households[household_id]

        def price(booking: Booking) -> int:
            if booking.price is not None:
                return booking.price
            return pricing.unit_price(unit, household, child, bands=bands.get(unit.id, []))  # noqa: B023

        prices = [price(b) for b in days]
        justified = [price(b) for b in days if b.attendance == "absent_justified"]
        amount = forfait_amount(unit.monthly_fee, prices, justified)
        label = label_of(unit, month)
        notes = []
        if sum(prices) < unit.monthly_fee:
            notes.append(f"plafonné au prix des {len(days)} jour(s) réservé(s)")
        if justified:
            notes.append(f"{len(justified)} absence(s) justifiée(s) déduite(s)")
        if notes:
            label += " (" + ", ".join(notes) + ")"
        heading = f"{unit.activity.name}, {formatting.month_label(month)}"
        band = f"Forfait mensuel des abonnés : {formatting.money(unit.monthly_fee)}"
        lines.append((household_id, ForfaitLine(child, unit, heading, label, band, amount,
                                                [as_date(b.date) for b in days])))
    return kept, lines
