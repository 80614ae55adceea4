"""Deadline policies: every kind, summer-time changes, public holidays, year change, French texts."""
import datetime as dt

import pytest

from services.booking import deadlines
from services.booking.deadlines import Policy, deadline, describe, preview
from services.core.errors import InvalidInput

D = dt.date
HOLIDAYS_2026 = {D(2026, 5, 14), D(2026, 11, 11), D(2026, 12, 25), D(2027, 1, 1), D(2026, 5, 1), D(2026, 5, 8)}

CANTINE = Policy(kind="weekday_previous_week", weekday=3, amount=1, at_time="18:00", skip_public_holidays=True)
VEILLE = Policy(kind="days_before", amount=1, at_time="18:00")
H48 = Policy(kind="hours_before", amount=48, at_time="00:00")


def local(moment):
    """(date, hour, minute, utc offset hours) of an aware deadline, to assert on wall clock and DST."""
    return moment.date(), moment.hour, moment.minute, moment.utcoffset().total_seconds() / 3600


def test_previous_week_thursday():
    assert local(deadline(CANTINE, D(2026, 11, 30))) == (D(2026, 11, 26), 18, 0, 1)
    # Every day of the week shares the same deadline.
    assert deadline(CANTINE, D(2026, 12, 4)) == deadline(CANTINE, D(2026, 11, 30))


def test_previous_week_deadline_on_public_holiday_moves_earlier():
    # Thursday 12 November 2026 is not a holiday, but Ascension 14 May 2026 is a Thursday.
    assert local(deadline(CANTINE, D(2026, 5, 18), HOLIDAYS_2026)) == (D(2026, 5, 13), 18, 0, 2)
    without_skip = Policy(kind="weekday_previous_week", weekday=3, amount=1, at_time="18:00")
    assert local(deadline(without_skip, D(2026, 5, 18), HOLIDAYS_2026))[0] == D(2026, 5, 14)


def test_skip_weekends_moves_to_friday():
    policy = Policy(kind="days_before", amount=1, at_time="18:00", skip_weekends=True)
    assert local(deadline(policy, D(2026, 11, 30))) == (D(2026, 11, 27), 18, 0, 1)  # Sunday → Friday
    plain = deadline(VEILLE, D(2026, 11, 30))
    assert local(plain)[0] == D(2026, 11, 29)


def test_skip_weekend_then_holiday_chain():
    # Deadline Sunday 1 Nov 2026 (Toussaint): weekend → Saturday 31 Oct → Friday 30 Oct.
    policy = Policy(kind="days_before", amount=1, at_time="12:00", skip_weekends=True, skip_public_holidays=True)
    assert local(deadline(policy, D(2026, 11, 2), {D(2026, 11, 1)}))[0] == D(2026, 10, 30)
    # Deadline Wednesday 11 Nov (Armistice) for Thursday 12: → Tuesday 10.
    assert local(deadline(policy, D(2026, 11, 12), HOLIDAYS_2026))[0] == D(2026, 11, 10)


def test_working_days_skip_weekends_and_holidays():
    policy = Policy(kind="days_before", amount=2, working_days=True, at_time="12:00")
    # Monday 30 Nov: two working days before = Thursday 26 Nov.
    assert local(deadline(policy, D(2026, 11, 30))) == (D(2026, 11, 26), 12, 0, 1)
    # Thursday 12 Nov: Wed 11 is Armistice → Tue 10, Mon 9.
    assert local(deadline(policy, D(2026, 11, 12), HOLIDAYS_2026))[0] == D(2026, 11, 9)


def test_weeks_before():
    policy = Policy(kind="weeks_before", amount=2, at_time="12:00")
    assert local(deadline(policy, D(2026, 10, 19))) == (D(2026, 10, 5), 12, 0, 2)


def test_same_day():
    policy = Policy(kind="same_day", at_time="08:30")
    assert local(deadline(policy, D(2026, 11, 30))) == (D(2026, 11, 30), 8, 30, 1)


def test_previous_month_clamped_and_across_new_year():
    policy = Policy(kind="previous_month", month_day=31, at_time="12:00")
    assert local(deadline(policy, D(2026, 12, 15))) == (D(2026, 11, 30), 12, 0, 1)  # 31 Nov → 30 Nov
    assert local(deadline(policy, D(2027, 1, 4))) == (D(2026, 12, 31), 12, 0, 1)
    policy20 = Policy(kind="previous_month", month_day=20, at_time="12:00")
    assert local(deadline(policy20, D(2027, 3, 1))) == (D(2027, 2, 20), 12, 0, 1)


def test_new_year_week():
    # Monday 4 January 2027: Thursday of the previous week is 31 December 2026.
    assert local(deadline(CANTINE, D(2027, 1, 4), HOLIDAYS_2026)) == (D(2026, 12, 31), 18, 0, 1)
    # The week of 1 January (Thu 1 Jan 2027 is a holiday): deadline Thursday 24 Dec.
    assert local(deadline(CANTINE, D(2026, 12, 28), HOLIDAYS_2026)) == (D(2026, 12, 24), 18, 0, 1)
    # "La veille" for Friday 1 January → Thursday 31 December.
    assert local(deadline(VEILLE, D(2027, 1, 1)))[0] == D(2026, 12, 31)


@pytest.mark.parametrize("day, expected", [
    # Spring forward 29 March 2026 (02:00 → 03:00). Monday 30 March 00:00 CEST minus 48 elapsed hours
    # is Friday 27 March 23:00 CET, not Saturday midnight: Sunday 29 March has only 23 hours.
    (D(2026, 3, 30), (D(2026, 3, 27), 23, 0, 1)),
    # Fall back 25 October 2026: Monday 26 Oct 00:00 CET − 48 h = Saturday 24 Oct 01:00 CEST.
    (D(2026, 10, 26), (D(2026, 10, 24), 1, 0, 2)),
    # Spring forward 28 March 2027.
    (D(2027, 3, 29), (D(2027, 3, 26), 23, 0, 1)),
    # An ordinary week: exactly two days before.
    (D(2026, 12, 2), (D(2026, 11, 30), 0, 0, 1)),
])
def test_hours_before_counts_elapsed_hours_across_summer_time(day, expected):
    assert local(deadline(H48, day)) == expected


@pytest.mark.parametrize("day, expected", [
    (D(2026, 3, 30), (D(2026, 3, 26), 18, 0, 1)),  # deadline before the change: CET
    (D(2026, 4, 2), (D(2026, 3, 26), 18, 0, 1)),
    (D(2026, 4, 6), (D(2026, 4, 2), 18, 0, 2)),  # after: CEST, still 18 h wall clock
    (D(2026, 10, 26), (D(2026, 10, 22), 18, 0, 2)),
    (D(2026, 11, 2), (D(2026, 10, 29), 18, 0, 1)),
    (D(2027, 3, 29), (D(2027, 3, 25), 18, 0, 1)),
    (D(2027, 4, 5), (D(2027, 4, 1), 18, 0, 2)),
])
def test_wall_clock_deadlines_keep_their_hour_across_summer_time(day, expected):
    assert local(deadline(CANTINE, day)) == expected


def test_veille_on_the_change_night():
    # "La veille à 2 h 30" on 29 March 2026: 02:30 does not exist → 03:30 CEST, still the same day.
    policy = Policy(kind="days_before", amount=1, at_time="02:30")
    moment = deadline(policy, D(2026, 3, 30))
    assert moment.date() == D(2026, 3, 29) and moment.utcoffset() == dt.timedelta(hours=2)
    assert local(deadline(VEILLE, D(2026, 3, 30))) == (D(2026, 3, 29), 18, 0, 2)
    assert local(deadline(VEILLE, D(2026, 10, 26))) == (D(2026, 10, 25), 18, 0, 1)


def test_late_absence_window():
    moment = deadlines.late_absence_deadline(D(2026, 11, 30), 48)
    assert local(moment) == (D(2026, 12, 3), 0, 0, 1)
    assert deadlines.late_absence_deadline(D(2026, 11, 30), 0) is None


@pytest.mark.parametrize("policy, text", [
    (CANTINE, "le jeudi de la semaine précédente à 18 h (avancé si ce jour tombe sur les jours fériés)"),
    (VEILLE, "la veille à 18 h"),
    (Policy(kind="days_before", amount=2, working_days=True, at_time="12:00"), "2 jours ouvrés avant à 12 h"),
    (Policy(kind="days_before", amount=3, at_time="09:15"), "3 jours avant à 9 h 15"),
    (Policy(kind="same_day", at_time="08:30"), "le jour même avant 8 h 30"),
    (Policy(kind="weeks_before", amount=2, at_time="12:00"), "2 semaines avant, à 12 h"),
    (Policy(kind="previous_month", month_day=20, at_time="12:00"), "le mois précédent, le 20 à 12 h"),
    (H48, "48 h avant le début de la journée"),
])
def test_describe(policy, text):
    assert describe(policy) == text


def test_preview_text():
    assert preview(CANTINE, D(2026, 11, 30)) == \
        "Pour le lundi 30 novembre : réservable jusqu'au jeudi 26 novembre à 18 h"


@pytest.mark.parametrize("policy, field", [
    (Policy(kind="nope"), "kind"),
    (Policy(kind="weekday_previous_week", weekday=None), "weekday"),
    (Policy(kind="previous_month", month_day=40), "month_day"),
    (Policy(kind="days_before", amount=-1), "amount"),
    (Policy(kind="days_before", at_time="25:00"), "at_time"),
    (Policy(kind="hours_before", amount=0), "amount"),
])
def test_validate_refuses_bad_values_in_french(policy, field):
    with pytest.raises(InvalidInput) as error:
        deadlines.validate(policy)
    assert error.value.field == field


def test_parse_time_french_forms():
    assert deadlines.parse_time("8 h 30") == dt.time(8, 30)
    assert deadlines.parse_time("18h") == dt.time(18, 0)
    assert deadlines.parse_time("18:00") == dt.time(18, 0)
