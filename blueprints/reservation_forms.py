"""Forms of the parents' reservation pages (blueprints/reservations.py). Weeks and months are read by
services/booking/planning's parsers, grid cell keys by services/booking/basket: the forms only carry
them, so each rule stays written once."""
from __future__ import annotations

from wtforms import Field, FileField

from blueprints.form_fields import Checked, Identifier, Ids, InputForm, Typed
from services.booking import planning


class WeekForm(InputForm):
    """?semaine=2026-W48 (or the grid's hidden field): the Monday of that week."""

    semaine = Checked(planning.parse_week)


class MonthForm(InputForm):
    """?mois=2026-11: the first day of that month; ?imprimer=1 for the printable page."""

    mois = Checked(planning.parse_month)
    imprimer = Typed()

    @property
    def printable(self) -> bool:
        return self.imprimer.data == "1"


class ChildAndUnit(Typed):
    """A unit's row of the grid, « child id:unit id »."""

    def parse(self, text: str) -> tuple[int, int]:
        try:
            child_id, unit_id = (int(part) for part in text.split(":"))
        except ValueError:
            raise ValueError(self.empty) from None
        return child_id, unit_id


class UnitWeekForm(InputForm):
    unit_week = ChildAndUnit(required=True, empty="Prestation inconnue : rechargez la page.")


class CopyTargets(Field):
    """The « source:target » boxes ticked under each child's « Copier cette semaine pour… »."""

    def process_formdata(self, valuelist) -> None:
        self.data = []
        for value in valuelist:
            left, _, right = value.partition(":")
            if all(part.isascii() and part.isdigit() and len(part) < 19 for part in (left, right)):
                self.data.append((int(left), int(right)))

    def process_data(self, value) -> None:
        self.data = list(value or [])


class CopyWeekForm(InputForm):
    copy_from = Identifier()  # the child whose week is copied
    copy_to = CopyTargets()
    copy_choice = Typed()  # "1" when the page offered the siblings to tick (otherwise: every sibling)

    def targets(self, source: int) -> list[int] | None:
        """The siblings ticked for this child's copy; None (every sibling) when the page offered no choice."""
        if self.copy_choice.data != "1":
            return None
        return [target for origin, target in self.copy_to.data if origin == source]


class CalendarLinkForm(InputForm):
    action = Typed()  # creer, renouveler or revoquer
    mois = Typed()  # the month page to go back to


class BulkForm(InputForm):
    """« Réserver en masse »: read by planning.parse_bulk; these fields only give the page back its values."""

    enfants = Ids()
    unites = Ids()
    jours = Ids()
    du = Typed()
    au = Typed()
    mode = Typed()
    action = Typed()  # « ajouter » adds to the basket; anything else previews


class AbsenceForm(InputForm):
    reason = Typed(default="Maladie")  # checked by services.booking.absences.declare_absence
    document = FileField()


class PageForm(InputForm):
    """?page= of a long list (1 when absent or not a page number)."""

    page = Identifier(bounds=range(1, 10_000))

    @property
    def number(self) -> int:
        return self.page.data or 1
