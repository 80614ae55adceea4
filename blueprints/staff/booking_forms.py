"""Forms of the staff day screens (pointage, effectifs) and of the booking decisions. Days are read
by services.booking.headcounts.parse_day; who may be recorded or decided is checked by the services."""
from __future__ import annotations

import datetime as dt

from wtforms import Field

from blueprints.form_fields import Checked, Choice, InputForm, Typed
from services.booking import headcounts
from services.core import clock


class Search(Field):
    """A search box: None when the page did not send it, else its text (maybe empty: every name)."""

    def process_formdata(self, valuelist) -> None:
        self.data = valuelist[0].strip() if valuelist else None


def _day_or(default) -> Checked:
    """?date= (2026-11-20 or 20/11/2026); empty means `default()`."""
    return Checked(lambda text: headcounts.parse_day(text, default()))


def _tomorrow() -> dt.date:
    return clock.today() + dt.timedelta(days=1)


class SheetForm(InputForm):
    """The unit and day of a pointage sheet (query string or its forms)."""

    date = _day_or(clock.today)
    unit = Typed()
    recherche = Search()  # a child present without booking, by name
    child_id = Typed()  # checked by services.booking.attendance.add_unbooked


class TimesForm(SheetForm):
    """One child's day at a unit « sans réservation »: state and times, checked by
    services.booking.timed_attendance.record_times (formats, bounds, departure after arrival)."""

    etat = Typed()
    arrivee = Typed()
    depart = Typed()


class HeadcountForm(InputForm):
    date = _day_or(_tomorrow)
    impression = Typed()

    @property
    def printable(self) -> bool:
        return self.impression.data == "1"


class DecisionForm(InputForm):
    decision = Choice(("accepter", "refuser"), "Choisissez une décision.")
    reason = Typed()  # the family reads it; required by the services where a refusal needs one
