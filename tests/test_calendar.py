"""Opening days: weekly pattern, public holidays (French names), school holidays of the zone,
closures and extra days, holiday-only units; holidays loaded into the database."""
import datetime as dt

from models import Closure, ExtraDay, PublicHoliday, SchoolHoliday
from services.booking import calendar
from services.booking.calendar import CalendarData

D = dt.date


def test_holidays_loaded_in_database_with_french_names(demo):
    assert PublicHoliday.get(PublicHoliday.date == D(2026, 11, 11)).name == "Armistice"
    assert PublicHoliday.get(PublicHoliday.date == D(2027, 5, 6)).name == "Ascension"
    toussaint = SchoolHoliday.get((SchoolHoliday.zone == "B") & (SchoolHoliday.starts_on == D(2026, 10, 17)))
    assert toussaint.name == "Vacances de la Toussaint" and toussaint.ends_on == D(2026, 11, 1)


def test_refresh_is_idempotent(demo):
    before = (PublicHoliday.select().count(), SchoolHoliday.select().count())
    calendar.refresh_holidays([2026, 2027], zone="B")
    assert (PublicHoliday.select().count(), SchoolHoliday.select().count()) == before


def test_canteen_week_pattern_and_public_holiday(demo):
    repas = demo["units"]["repas_phare"]
    days = calendar.opening_days(repas, D(2026, 11, 9), D(2026, 11, 15))
    # Mon 9, Tue 10, (Wed closed), Thu 12, Fri 13; Armistice Wednesday 11 not a canteen day anyway.
    assert days == [D(2026, 11, 9), D(2026, 11, 10), D(2026, 11, 12), D(2026, 11, 13)]
    info = calendar.day_info(repas, D(2026, 12, 25))
    assert not info.open and info.reason == "Férié : Noël"  # the holiday wins over the school holidays
    info = calendar.day_info(repas, D(2027, 5, 6))
    assert not info.open and info.label == "Férié" and info.reason == "Férié : Ascension"


def test_school_holidays_close_school_units_and_open_holiday_units(demo):
    repas, vacances = demo["units"]["repas_phare"], demo["units"]["vacances_journee"]
    assert calendar.day_info(repas, D(2026, 10, 20)).reason == "Vacances de la Toussaint"
    assert calendar.day_info(vacances, D(2026, 10, 20)).open
    assert not calendar.day_info(vacances, D(2026, 11, 17)).open
    assert calendar.opening_days(vacances, D(2026, 10, 17), D(2026, 11, 1)) == [
        D(2026, 10, 19), D(2026, 10, 20), D(2026, 10, 21), D(2026, 10, 22), D(2026, 10, 23),
        D(2026, 10, 26), D(2026, 10, 27), D(2026, 10, 28), D(2026, 10, 29), D(2026, 10, 30)]


def test_closures_and_extra_days(demo):
    repas, matin = demo["units"]["repas_phare"], demo["units"]["garderie_matin_phare"]
    Closure.create(activity=repas.activity, starts_on=D(2026, 11, 19), ends_on=D(2026, 11, 20), reason="Grève")
    Closure.create(starts_on=D(2027, 5, 7), ends_on=D(2027, 5, 7), reason="Pont de l'Ascension")
    ExtraDay.create(unit=repas, date=D(2026, 11, 18), reason="Mercredi travaillé")
    days = calendar.opening_days(repas, D(2026, 11, 16), D(2026, 11, 22))
    assert days == [D(2026, 11, 16), D(2026, 11, 17), D(2026, 11, 18)]
    assert calendar.day_info(repas, D(2026, 11, 19)).reason == "Fermeture : Grève"
    assert calendar.day_info(matin, D(2026, 11, 19)).open  # another activity
    assert not calendar.day_info(matin, D(2027, 5, 7)).open  # a closure for everything
    assert calendar.day_info(matin, D(2026, 11, 18)).open is False  # the extra day is for the canteen only


def test_outside_school_year(demo):
    repas = demo["units"]["repas_phare"]
    info = calendar.day_info(repas, D(2026, 6, 1))
    assert not info.open and "2026-2027" in info.reason


def test_range_in_bounded_queries(demo, app):
    units = list(demo["units"].values())
    from tests.test_booking_rules import count_queries
    with count_queries() as counter:
        data = CalendarData.load(D(2026, 9, 1), D(2027, 8, 31), [u.id for u in units], zone="B")
        for unit in units:
            unit.activity  # noqa: B018 — already loaded by the demo objects
            data.opening_days(unit)
    assert counter.count <= 5, counter.sql  # the token, then the four tables (cold cache)


def test_school_year_helpers():
    assert calendar.school_year_of(D(2026, 9, 1)) == 2026
    assert calendar.school_year_of(D(2027, 8, 31)) == 2026
    assert calendar.school_year_bounds(2026) == (D(2026, 9, 1), D(2027, 8, 31))
