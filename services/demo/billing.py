"""Demo billing: last month's invoices (per family one paid, one unpaid) and this month's
consumptions. Uses the bookings seed's days when it ran; otherwise books a few days itself.

Puts ctx["invoices"] = {"martin_paid", "martin_unpaid", "dupont_paid", "dupont_unpaid"}.
"""
from __future__ import annotations

import datetime as dt

from models import Booking, Household
from services.billing import billing_periods, invoicing_runs, payments
from services.booking import calendar
from services.core import clock

DEMO_TODAY = dt.date(2026, 11, 19)


def _reference_day() -> dt.date:
    """Today when it falls in the demo school year (after its first month), else the demo's Thursday."""
    today = clock.today()
    return today if dt.date(2026, 10, 1) <= today <= dt.date(2027, 7, 31) else DEMO_TODAY


def _ensure_booked(household, child, unit, days) -> list[Booking]:
    """Booked rows for these days, created when the bookings seed did not make them."""
    rows = []
    for day in days:
        booking = Booking.get_or_none((Booking.child == child) & (Booking.unit == unit) & (Booking.date == day))
        if booking is None:
            booking = Booking.create(household=household, child=child, unit=unit, date=day, status="booked",
                                     created_at=clock.local_now())
        elif booking.status != "booked":
            continue
        rows.append(booking)
    return rows


def seed(ctx: dict) -> None:
    today = _reference_day()
    last_start = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    last_start, last_end = billing_periods.month_bounds(last_start.year, last_start.month)
    month_start, _ = billing_periods.month_bounds(today.year, today.month)
    units, children = ctx["units"], ctx["children"]
    martin = Household.get_by_id(ctx["households"]["martin"].id)
    dupont = Household.get_by_id(ctx["households"]["dupont"].id)
    plan = [
        (martin, children["lea"], units["repas_phare"]), (martin, children["lea"], units["garderie_soir_phare"]),
        (martin, children["hugo"], units["repas_petit_prince"]), (martin, children["hugo"], units["alsh_apres_midi"]),
        (dupont, children["ines"], units["repas_phare"]), (dupont, children["jade"], units["garderie_matin_petit_prince"]),
        (dupont, children["ines"], units["alsh_journee"]),
    ]
    for household, child, unit in plan:
        days = calendar.opening_days(unit, last_start, last_end)
        if unit.activity.kind == "alsh_mercredi":
            days = days[:2]
        rows = _ensure_booked(household, child, unit, days)
        for index, booking in enumerate(rows):
            attendance = "present"
            if child.first_name == "Léa" and unit.name == "Repas" and index == 2:
                attendance = "absent"  # an unjustified absence: price + fee
            elif child.first_name == "Léa" and unit.name == "Repas" and index == 5:
                attendance = "absent_justified"
            Booking.update(attendance=attendance).where(Booking.id == booking.id).execute()
        # This month's consumptions (if the bookings seed did not already book them).
        current = [d for d in calendar.opening_days(unit, month_start, today) if unit.activity.kind != "alsh_mercredi"]
        _ensure_booked(household, child, unit, current[:8])

    admin = ctx.get("users", {}).get("admin")
    regies = ctx["regies"]
    issued = {}
    for key in ("periscolaire", "loisirs"):
        # Closed first, as staff would: "last month" may not be over when the clock says otherwise.
        result = invoicing_runs.issue_run(regies[key], last_start.year, last_start.month, admin, close=True, origin="web")
        for invoice in result.issued:
            issued[(invoice.household_id, key)] = invoice
    result = {}
    for name, household in (("martin", martin), ("dupont", dupont)):
        paid, unpaid = issued.get((household.id, "periscolaire")), issued.get((household.id, "loisirs"))
        if paid is not None:
            mode, reference = ("virement", "VIR-DEMO-0001") if name == "martin" else ("cheque", "Chèque n° 1234567")
            payments.record_payment(household, mode, paid.amount, min(clock.today(), paid.issued_on + dt.timedelta(days=3)),
                                    reference, admin)
        result[f"{name}_paid"], result[f"{name}_unpaid"] = paid, unpaid
    ctx["invoices"] = result
