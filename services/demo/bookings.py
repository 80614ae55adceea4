"""Demo bookings: the demo families' canteen and garderie days from September to the demo week
(the week of Thursday 19 November 2026), one ALSH Mercredi request waiting for staff validation
and one child on a waiting list. Everything goes through the basket and the rules engine, so the
demo also has numbered orders.
"""
from __future__ import annotations

import datetime as dt

from models import BasketLine, Booking, CapacityOverride, Household
from services.billing import checkout
from services.booking import basket, day_status, placement
from services.booking.calendar import daterange
from services.core import clock

# The demo's "today" (the browser tests freeze the clock at Thursday 19 November 2026, 17:55).
DEMO_TODAY = dt.date(2026, 11, 19)
START = dt.date(2026, 9, 1)
END = dt.date(2026, 11, 20)  # Friday of the demo week: next week stays free to book


def _at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, 0, tzinfo=clock.PARIS)


def _fill(household, user, wishes, now: dt.datetime, start: dt.date, end: dt.date) -> basket.Validation:
    """Put every open, bookable day of `wishes` [(child, unit, weekdays)] in the basket and validate."""
    children = list({c.id: c for c, _u, _w in wishes}.values())
    units = list({u.id: u for _c, u, _w in wishes}.values())
    context = day_status.week_statuses(household, start, end, now, units=units, children=children)
    for child, unit, weekdays in wishes:
        for day in daterange(start, end):
            if day.weekday() in weekdays and context.status(child, unit, day).can_book:
                BasketLine.create(household=household, child=child, unit=unit, date=day, action="add",
                                  created_at=clock.to_local_naive(now))
    return checkout.validate_basket(household, user, now, notify=False)


def seed(ctx: dict) -> None:
    households, users, children, units = ctx["households"], ctx["users"], ctx["children"], ctx["units"]
    # Fresh rows: the household seed updated the quotient familial (prices depend on it).
    martin, dupont = Household.get_by_id(households["martin"].id), Household.get_by_id(households["dupont"].id)
    september = _at(dt.date(2026, 8, 31))
    _fill(martin, users["martin"], [
        (children["lea"], units["repas_phare"], {0, 1, 3, 4}),
        (children["lea"], units["garderie_soir_phare"], {0, 3}),
        (children["hugo"], units["repas_petit_prince"], {0, 1, 3, 4}),
    ], september, START, END)
    _fill(dupont, users["dupont"], [
        (children["ines"], units["repas_phare"], {0, 1, 3, 4}),
        (children["malo"], units["repas_phare"], {0, 1, 4}),
        (children["jade"], units["repas_petit_prince"], {0, 1, 3, 4}),
        (children["jade"], units["garderie_matin_petit_prince"], {0, 1, 3, 4}),
    ], september, START, END)

    # A full ALSH Wednesday: Inès takes the only place, Hugo goes on the waiting list.
    full_day = dt.date(2026, 12, 9)
    CapacityOverride.create(unit=units["alsh_journee"], date=full_day, capacity=1)
    ines = _fill(dupont, users["dupont"], [(children["ines"], units["alsh_journee"], {2})],
                 _at(dt.date(2026, 11, 17), 9), full_day, full_day)
    placement.decide_request(Booking.get_by_id(ines.placed[0].booking.id), True)
    _fill(martin, users["martin"], [(children["hugo"], units["alsh_journee"], {2})],
          _at(dt.date(2026, 11, 17), 10), full_day, full_day)
    # One ALSH request waiting for staff validation.
    _fill(martin, users["martin"], [(children["lea"], units["alsh_journee"], {2})],
          _at(dt.date(2026, 11, 18), 20), dt.date(2026, 12, 16), dt.date(2026, 12, 16))
