"""Abonnements (issue 15): fixed weekdays chosen at enrolment generate the year's bookings on exactly the
unit's open days (no holiday, public holiday or closure), idempotently; a change of weekdays moves only
the future days still modifiable; an exception is cancelled like any booking; the monthly forfait."""
import datetime as dt
import time

import pytest

from models import Booking, Closure, Enrolment, PublicHoliday, SchoolHoliday, Subscription
from services.booking import calendar, enrolment, placement, subscriptions
from services.core import clock
from services.core.errors import InvalidInput

D = dt.date
MON_TUE_THU = [0, 1, 3]
FIRST_OPEN_MONDAY = D(2026, 12, 7)  # now is Sunday 29 November: the week of the 30th is past its deadline


@pytest.fixture
def hugo(demo):
    """Hugo asks again for the Petit Prince canteen (his demo enrolment removed), with Mon, Tue, Thu."""
    child, activity = demo["children"]["hugo"], demo["activities"]["cantine_petit_prince"]
    Enrolment.delete().where((Enrolment.child == child.id) & (Enrolment.activity == activity.id)).execute()
    return child


def _expected_days(unit, start, weekdays) -> list[dt.date]:
    """The open days of the unit on these weekdays, as the calendar alone says (no booking rule)."""
    return [day for day in calendar.opening_days(unit, start, unit.activity.ends_on) if day.weekday() in weekdays]


def _future(child, unit, since=D(2026, 11, 30)) -> list[dt.date]:
    """The days booked for the child from `since` (the demo booked Hugo's days until 20 November)."""
    return [day for day in subscriptions.booked_days(child, unit) if day >= since]


def _subscribe(demo, child, weekdays=MON_TUE_THU):
    unit, activity = demo["units"]["repas_petit_prince"], demo["activities"]["cantine_petit_prince"]
    row = enrolment.request(demo["users"]["martin"], child, activity, weekdays={unit.id: weekdays})
    assert row.status == "requested" and row.generation is None
    assert _future(child, unit) == []
    return enrolment.accept(demo["users"]["agent"], row)


def test_validation_books_exactly_the_open_days_of_the_chosen_weekdays(demo, hugo):
    unit = demo["units"]["repas_petit_prince"]
    Closure.create(activity=unit.activity, starts_on=D(2027, 1, 12), ends_on=D(2027, 1, 12), reason="Grève")
    started = time.perf_counter()
    row = _subscribe(demo, hugo)
    elapsed = time.perf_counter() - started
    booked = _future(hugo, unit)
    expected = _expected_days(unit, FIRST_OPEN_MONDAY, set(MON_TUE_THU))
    assert booked == expected and row.generation.booked == expected
    assert booked[0] == FIRST_OPEN_MONDAY and len(booked) == 68 and booked[-1] == D(2027, 7, 1)  # summer: closed
    assert {day.weekday() for day in booked} == set(MON_TUE_THU)
    holidays = {h.date for h in PublicHoliday.select()}
    school = [(h.starts_on, h.ends_on) for h in SchoolHoliday.select().where(SchoolHoliday.zone == "B")]
    assert not holidays & set(booked)
    assert not [day for day in booked if any(start <= day <= end for start, end in school)]
    assert D(2027, 1, 12) not in booked and D(2027, 1, 11) in booked  # the strike day only
    assert D(2026, 12, 21) not in booked and D(2027, 1, 5) in booked  # Christmas holidays, then back to school
    assert Booking.select().where((Booking.child == hugo.id) & (Booking.unit == unit.id)
                                  & (Booking.date >= FIRST_OPEN_MONDAY) & (Booking.status != "booked")).count() == 0
    assert elapsed < 5, f"a year for one child took {elapsed:.2f} s"


def test_generation_is_idempotent(demo, hugo):
    row = _subscribe(demo, hugo)
    count = Booking.select().count()
    again = subscriptions.generate(row)
    assert again.booked == [] and Booking.select().count() == count


def test_enrolment_without_validation_generates_at_once(demo, hugo):
    unit, activity = demo["units"]["repas_petit_prince"], demo["activities"]["cantine_petit_prince"]
    activity.enrolment_validation = False
    activity.save()
    row = enrolment.request(demo["users"]["martin"], hugo, activity, weekdays={unit.id: [4]})
    assert row.status == "validated"
    assert _future(hugo, unit) == _expected_days(unit, FIRST_OPEN_MONDAY, {4})


def test_weekdays_must_be_open_days_of_a_subscription_unit(demo, hugo):
    unit, activity = demo["units"]["repas_petit_prince"], demo["activities"]["cantine_petit_prince"]
    with pytest.raises(InvalidInput) as error:
        enrolment.request(demo["users"]["martin"], hugo, activity, weekdays={unit.id: [2]})  # Wednesday: closed
    assert "lundi, mardi, jeudi, vendredi" in error.value.message
    garderie = demo["units"]["garderie_matin_petit_prince"]
    with pytest.raises(InvalidInput):
        enrolment.request(demo["users"]["martin"], hugo, demo["activities"]["garderie_petit_prince"],
                          weekdays={garderie.id: [0]})
    assert Enrolment.select().where(Enrolment.child == hugo.id).count() == 2  # nothing written


def test_a_full_day_without_waiting_list_is_skipped_and_reported(demo, hugo):
    unit = demo["units"]["repas_petit_prince"]
    from models import CapacityOverride
    CapacityOverride.create(unit=unit, date=D(2026, 12, 8), capacity=1)  # Jade already booked? no: take it
    jade = demo["children"]["jade"]
    placement.place_bookings(jade.household, [(jade, unit, D(2026, 12, 8))], by_staff=True)
    row = _subscribe(demo, hugo)
    assert (D(2026, 12, 8), "complet") in row.generation.skipped
    assert D(2026, 12, 8) not in subscriptions.booked_days(hugo, unit)
    assert "non réservé(s) (complet" in row.generation.summary


def test_weekday_change_moves_only_the_future_days_still_modifiable(demo, hugo, freeze):
    unit = demo["units"]["repas_petit_prince"]
    row = _subscribe(demo, hugo)
    freeze("2027-01-08T10:00")  # Friday: the week of 11 January is locked (deadline Thursday 7, 18 h)
    report = subscriptions.change_weekdays(demo["users"]["martin"], row, {unit.id: [0, 3, 4]})  # Tue → Fri
    booked = _future(hugo, unit)
    assert D(2027, 1, 12) in booked and D(2027, 1, 15) not in booked  # locked week untouched
    assert D(2027, 1, 19) not in booked and D(2027, 1, 22) in booked  # from the next week on
    assert D(2026, 12, 8) in booked  # the past stays
    assert report.cancelled[0] == D(2027, 1, 19) and report.booked[0] == D(2027, 1, 22)
    later = [day for day in booked if day >= D(2027, 1, 18)]
    assert later == _expected_days(unit, D(2027, 1, 18), {0, 3, 4})
    assert Subscription.get(Subscription.enrolment == row.id).weekday_list() == [0, 3, 4]
    # No weekday left: the subscription goes, its future days too.
    subscriptions.change_weekdays(demo["users"]["martin"], row, {})
    assert _future(hugo, unit, D(2027, 1, 18)) == []
    assert Subscription.select().where(Subscription.enrolment == row.id).count() == 0


def test_an_exception_is_cancelled_before_the_deadline_and_not_after(demo, hugo):
    unit = demo["units"]["repas_petit_prince"]
    row = _subscribe(demo, hugo)
    household = hugo.household
    before = placement.place_bookings(household, [(hugo, unit, D(2026, 12, 14), "remove")])
    assert before[0].outcome == "cancelled"
    friday = dt.datetime(2026, 12, 4, 9, 0, tzinfo=clock.PARIS)  # past Thursday 3, 18 h: Monday 7 is locked
    locked = placement.place_bookings(household, [(hugo, unit, D(2026, 12, 7), "remove")], now=friday)
    assert locked[0].outcome == "refused" and "délai" in locked[0].message.lower()
    assert Booking.get((Booking.child == hugo.id) & (Booking.unit == unit.id)
                       & (Booking.date == D(2026, 12, 7))).status == "booked"
    # The exception stays when the year is generated again.
    subscriptions.generate(row)
    assert Booking.get((Booking.child == hugo.id) & (Booking.unit == unit.id)
                       & (Booking.date == D(2026, 12, 14))).status == "cancelled"


def test_forfait_line_replaces_the_subscribed_days_with_deductions(demo, hugo):
    from services.billing import forfaits, invoicing
    from models import InvoiceLine
    unit = demo["units"]["repas_petit_prince"]
    unit.monthly_fee = 2000
    unit.save()
    _subscribe(demo, hugo)
    household = hugo.household
    extra = placement.place_bookings(household, [(hugo, unit, D(2027, 1, 15))])  # a Friday, outside the abonnement
    assert extra[0].outcome == "booked"
    days = Booking.select().where((Booking.child == hugo.id) & (Booking.unit == unit.id) & (Booking.status == "booked")
                                  & Booking.date.between(D(2027, 1, 1), D(2027, 1, 31))).order_by(Booking.date)
    by_day = {row.date: row for row in days}
    Booking.update(attendance="absent_justified").where(Booking.id == by_day[D(2027, 1, 11)].id).execute()
    Booking.update(attendance="absent").where(Booking.id == by_day[D(2027, 1, 12)].id).execute()
    subscribed = [row for day, row in by_day.items() if day.weekday() in MON_TUE_THU]
    price = subscribed[0].price
    assert sum(row.price for row in subscribed) > 2000  # a full month: the forfait applies

    draft = invoicing.collect(D(2027, 1, 1), D(2027, 1, 31), households=[household.id])[household.id]
    lines = [line for line in draft.lines if line.unit.id == unit.id]
    forfait = [line for line in lines if line.label.startswith("Forfait")]
    assert len(forfait) == 1
    assert forfait[0].label == "Forfait restauration – janvier 2027 (1 absence(s) justifiée(s) déduite(s))"
    assert forfait[0].amount == 2000 - price and forfait[0].quantity == 1
    assert len(forfait[0].days) == len(subscribed)
    per_day = [line for line in lines if not line.label.startswith("Forfait")]
    assert [(line.label, line.days) for line in per_day] == [("Repas", [D(2027, 1, 15)])]  # no absence fee either

    invoice = invoicing.issue_invoice(unit.activity.regie, household, D(2027, 1, 1), D(2027, 1, 31), draft.lines)
    stored = InvoiceLine.get((InvoiceLine.invoice == invoice.id) & InvoiceLine.label.startswith("Forfait"))
    assert (stored.amount, stored.quantity, stored.unit_price) == (2000 - price, 1, 2000 - price)
    assert stored.heading == "Restauration scolaire – École du Petit Prince, janvier 2027"

    # December is cut by the holidays: the forfait is capped at the days' prices.
    december = invoicing.collect(D(2026, 12, 1), D(2026, 12, 31), households=[household.id])[household.id]
    line = next(line for line in december.lines if line.label.startswith("Forfait"))
    assert line.amount == 6 * price < 2000
    assert line.label == "Forfait restauration – décembre 2026 (plafonné au prix des 6 jour(s) réservé(s))"
    assert forfaits.forfait_amount(2000, [300] * 10, [300, 300]) == 1400


def test_without_monthly_fee_each_day_is_billed(demo, hugo):
    from services.billing import invoicing
    unit = demo["units"]["repas_petit_prince"]
    unit.monthly_fee = None
    unit.save()
    _subscribe(demo, hugo)
    household = hugo.household
    draft = invoicing.collect(D(2027, 1, 1), D(2027, 1, 31), households=[household.id])[household.id]
    lines = [line for line in draft.lines if line.unit.id == unit.id]
    assert [line.label for line in lines] == ["Repas"] and lines[0].quantity == len(_future(hugo, unit, D(2027, 1, 1))
                                                                                     ) - len(_future(hugo, unit, D(2027, 2, 1)))
