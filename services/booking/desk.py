"""The desk (guichet): staff book, cancel and record absences for a family through the parents' rules
engine and order path, with the staff's rights (past the parents' deadline, with a reason), audited.

The desk's basket is its week grid: the cells the agent ticked or unticked become lines, placed by
place_bookings(by_staff=True) into a numbered order (basket.place_as_order), so capacity, enrolment,
closures and invoiced months are checked under the same lock as the parents' « Valider ». The parents'
own pending basket is left as it is.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from models import AbsenceDeclaration, Activity, Booking, Child, Household, Unit, User
from services.booking import basket, frozen_days, planning
from services.booking import day_status as engine
from services.booking.placement import LineRequest
from services.core import audit, clock, formatting, notifications
from services.core.errors import DomainError, NotFound
from services.core.transactions import write_transaction
from services.family import custody

# What staff may change at the desk: book a free day (even past the deadline or in a month closed for
# invoicing), cancel a day the family holds. Full days, closed days, days attended or passed are not theirs.
BOOKABLE = ("available", "locked", "period_closed")
CANCELLABLE = ("booked", "requested", "waiting_list")
REASON_NEEDED = ("Indiquez le motif : au moins un changement est hors délai pour les familles "
                 "(par exemple : demande de la famille au guichet, situation d'urgence).")


NOTHING_TO_DO = "Aucun changement : cochez ou décochez des jours, puis validez."


class DeskRefused(DomainError):
    """A desk change was refused (nothing changed)."""


def clean_text(text: str, limit: int) -> str:
    """A reason as typed, on one line, printable characters only, at most `limit` characters."""
    return " ".join("".join(c if c.isprintable() else " " for c in (text or "")).split())[:limit]


def can_change(status: engine.DayStatus, day: dt.date, today: dt.date) -> bool:
    """Whether staff may tick or untick this cell at the desk."""
    if day < today:
        return False  # a passed day is the attendance sheet's (pointage), not a booking
    if status.booking_status in engine.ACTIVE:
        return status.state in CANCELLABLE
    return status.state in BOOKABLE


def is_late(status: engine.DayStatus, want: bool) -> bool:
    """Whether this change is past what parents may do themselves (so a reason is required)."""
    return not status.can_book if want else not status.can_cancel


def can_record_absence(status: engine.DayStatus) -> bool:
    """A booked day no longer cancellable and not yet attended: staff may record a justified absence."""
    return status.state == "booked" and not status.can_cancel


@dataclass
class DeskGrid:
    """The family's week as staff see it (planning.week_grid without the parents' basket)."""

    grid: planning.WeekGrid
    today: dt.date
    editable: bool  # the signed-in staff member may book (agents, admins)

    def can_change(self, day: dt.date, status: engine.DayStatus) -> bool:
        return self.editable and can_change(status, day, self.today)

    def late(self, day: dt.date, status: engine.DayStatus) -> bool:
        return self.can_change(day, status) and is_late(status, not status.checked)

    def can_record_absence(self, status: engine.DayStatus) -> bool:
        return self.editable and can_record_absence(status)


def desk_grid(household: Household, start: dt.date, editable: bool, now: dt.datetime | None = None) -> DeskGrid:
    now = now or clock.now()
    grid = planning.week_grid(household, start, now, use_basket=False)
    return DeskGrid(grid, clock.to_local_naive(now).date(), editable)


@dataclass
class DeskLine:
    request: LineRequest
    late: bool


@dataclass
class DeskResult:
    """What « Valider » at the desk did: the order path's validation and the cells it would not try."""

    validation: basket.Validation
    not_changeable: list[str] = field(default_factory=list)


def _cells(household: Household, wanted: dict) -> tuple[dict[int, Child], dict[int, Unit]]:
    """The children (of this household only: NotFound otherwise) and units of the posted cells."""
    child_ids, unit_ids = {key[0] for key in wanted}, {key[1] for key in wanted}
    children = {c.id: c for c in custody.children_of(household, child_ids)}
    units = {u.id: u for u in Unit.select(Unit, Activity).join(Activity).where(Unit.id.in_(list(unit_ids)))}
    if len(children) != len(child_ids) or len(units) != len(unit_ids):
        raise NotFound("Cette case n'existe pas.")
    return children, units


def plan_changes(household: Household, wanted: dict[tuple[int, int, dt.date], bool],
                 now: dt.datetime) -> tuple[list[DeskLine], list[str]]:
    """The lines the ticked/unticked cells ask for (cancellations first), and the cells staff may not change."""
    days = [key[2] for key in wanted]
    if (max(days) - min(days)).days > basket.MAX_RANGE_DAYS:
        raise DeskRefused("Période trop longue : choisissez au plus une année scolaire.")
    children, units = _cells(household, wanted)
    context = engine.StatusContext(household, list(children.values()), list(units.values()), min(days), max(days),
                                   now, use_basket=False)
    today = context.now.date()
    lines, refused = [], []
    for (child_id, unit_id, day), want in wanted.items():
        child, unit = children[child_id], units[unit_id]
        status = context.status(child, unit, day)
        if status.checked == want:
            continue
        if not can_change(status, day, today):
            refused.append(f"{formatting.cell_name(child, unit, day)} : {status.reason or status.label}")
            continue
        lines.append(DeskLine(LineRequest(child, unit, day, "add" if want else "remove"), is_late(status, want)))
    lines.sort(key=lambda line: (line.request.action != "remove", line.request.date, line.request.child.id,
                                 line.request.unit.id))
    return lines, refused


def book_at_desk(household: Household, staff: User, wanted: dict[tuple[int, int, dt.date], bool], reason: str = "",
                 now: dt.datetime | None = None) -> DeskResult:
    """« Valider » at the desk: the changes become an order made by staff (by_staff rights), the family
    gets the usual confirmation e-mail, the journal says who and why. Past the parents' deadline a
    reason is required (DeskRefused, nothing changes); so is at least one change."""
    now = now or clock.now()
    reason = clean_text(reason, 500)
    if not wanted:
        raise DeskRefused(NOTHING_TO_DO)
    with write_transaction():
        lines, refused = plan_changes(household, wanted, now)
        if not lines:
            raise DeskRefused(refused[0] if refused else NOTHING_TO_DO)
        if any(line.late for line in lines) and not reason:
            raise DeskRefused(REASON_NEEDED, "motif")
        validation = basket.place_as_order(household, [line.request for line in lines], staff, now, notify=False,
                                           by_staff=True, at_desk=True, staff_reason=reason)
        if validation.order is not None:
            basket.send_summary(household, validation)
        entries = [(result.booking or household, f"{basket.describe_result(result)}"
                    + (f" – commande {validation.order.number}" if validation.order else "")
                    + (f" – motif : {reason}" if reason else "")) for result in validation.results]
        audit.record_many(staff, "réservation au guichet", entries)
    return DeskResult(validation, refused)


def record_absence(household: Household, staff: User, booking_id: int, reason: str,
                   now: dt.datetime | None = None) -> AbsenceDeclaration:
    """Staff record a justified absence at the desk: accepted at once (the day is « Absence justifiée »,
    not charged), the family is told, the journal says who and why."""
    reason = clean_text(reason, 1000)
    booking = Booking.get_or_none((Booking.id == booking_id) & (Booking.household == household.id))
    if booking is None:
        raise NotFound("Réservation introuvable.")
    if not reason:
        raise DeskRefused("Indiquez le motif de l'absence (par exemple : maladie, certificat apporté au guichet).",
                          "motif")
    with write_transaction():
        booking = Booking.get_by_id(booking.id)
        status = engine.day_status(booking.child, booking.unit, booking.date, now)
        if AbsenceDeclaration.select().where((AbsenceDeclaration.booking == booking.id)
                                             & (AbsenceDeclaration.status == "pending")).exists():
            raise DeskRefused("La famille a déjà déclaré une absence pour ce jour : acceptez-la ou refusez-la "
                              "dans la liste des absences à examiner.")
        if status.state != "booked":
            raise DeskRefused(f"Pas d'absence à enregistrer pour ce jour : {status.reason or status.label}.")
        if status.can_cancel:
            raise DeskRefused("Ce jour est encore annulable : décochez-le dans la grille des réservations.")
        frozen_days.check_not_invoiced(household.id, booking.unit, booking.date)
        stamp = clock.local_now()
        declaration = AbsenceDeclaration.create(booking=booking, household=household, reason=reason, status="accepted",
                                                created_at=stamp, decided_at=stamp, decided_by=staff,
                                                declared_by=staff)
        booking.attendance, booking.updated_at = "absent_justified", stamp
        booking.save()
        name = formatting.cell_name(booking.child, booking.unit, booking.date)
        notifications.notify(household, "Absence justifiée",
                             f"La mairie a enregistré une absence justifiée : {name}. Ce jour ne sera pas facturé.\n"
                             f"Motif : {reason}")
        audit.record(staff, "absence enregistrée au guichet", declaration, f"{name} – motif : {reason}")
    return declaration
