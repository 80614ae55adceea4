"""What the reservation screens show: the week grid, the month calendar, bulk-booking plans and
the iCal feed. Every cell's state comes from the rules engine (week_statuses); this module only
arranges it (weeks, months, banners) and parses the screens' parameters.
"""
from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass, field

from models import Booking, Child, Household, Unit
from services.booking import basket
from services.booking import day_status as engine
from services.booking import deadlines, timed_attendance
from services.booking.calendar import daterange, school_year_bounds, school_year_of
from services.core import clock, formatting
from services.core.errors import InvalidInput
from services.family import custody

SHORT_DAYS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
KIND_LABELS = {"cantine": "Cantine", "garderie": "Garderie"}
MIN_YEAR, MAX_YEAR = 2000, 2100


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week_param(day: dt.date) -> str:
    """'2026-W48' for any day of that ISO week."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(value: str | None, today: dt.date | None = None) -> dt.date:
    """The Monday of ?semaine=2026-W48; the current week (next one on a weekend) when absent.
    InvalidInput on anything malformed or out of range."""
    today = today or clock.today()
    if not value:
        return monday(today + dt.timedelta(days=2 if today.weekday() >= 5 else 0))
    match = re.fullmatch(r"(\d{4})-W(\d{1,2})", value.strip())
    if not match:
        raise InvalidInput("Semaine invalide : utilisez la forme 2026-W48.")
    year, week = int(match.group(1)), int(match.group(2))
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInput("Semaine hors des années disponibles.")
    try:
        return dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        raise InvalidInput("Semaine invalide : cette année n'a pas autant de semaines.") from None


def parse_month(value: str | None, today: dt.date | None = None) -> dt.date:
    """The first day of ?mois=2026-11 (the current month when absent)."""
    today = today or clock.today()
    if not value:
        return today.replace(day=1)
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or not MIN_YEAR <= int(match.group(1)) <= MAX_YEAR:
        raise InvalidInput("Mois invalide : utilisez la forme 2026-11.")
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def month_param(day: dt.date) -> str:
    return f"{day.year}-{day.month:02d}"



def add_months(day: dt.date, n: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def school_year_months(day: dt.date) -> list[dt.date]:
    """The first days of September → August of the school year containing `day`."""
    start, _end = school_year_bounds(school_year_of(day))
    return [add_months(start, i) for i in range(12)]


def short_day(day: dt.date) -> str:
    """'lun. 23'."""
    return f"{SHORT_DAYS[day.weekday()]} {day.day}"


# --- Week grid ---------------------------------------------------------------------------------


CHANGEABLE = ("available", "basket_add", "basket_remove", "booked")


@dataclass
class Row:
    unit: Unit
    cells: list[tuple[dt.date, engine.DayStatus]]

    @property
    def summary(self) -> str:
        """Price and deadline as text under the unit's name (« 2,90 € · jusqu'au jeu. 26 nov. 18 h »),
        from the first day that can still change: no tooltip to find them in. A unit « sans réservation »
        says so, with its price (« Sans réservation · 0,60 € le quart d'heure commencé »)."""
        if self.unit.attendance_only:
            price = next((status.price for _, status in self.cells if status.price), None)
            return "Sans réservation" + (f" · {formatting.money(price)} {timed_attendance.price_unit_words(self.unit)}"
                                         if price else "")
        for _, status in self.cells:
            if status.state in CHANGEABLE and status.deadline is not None:
                price = f"{formatting.money(status.price)} · " if status.price else ""
                return f"{price}jusqu'au {formatting.date_brief(status.deadline)} {formatting.hour(status.deadline)}"
        return ""


@dataclass
class ChildWeek:
    child: Child
    rows: list[Row]
    hidden: list[Unit] = field(default_factory=list)  # enrolled, but closed every day of this week
    shared: bool = False  # garde alternée
    other_parent: bool = False  # this week the child is with the other household: nothing to book here


@dataclass
class WeekGrid:
    start: dt.date
    days: list[dt.date]
    children: list[ChildWeek]
    banner: list[str]
    months: list[tuple[str, str, bool]]  # (label, ?semaine=, is the shown month)
    fetched_at: dt.datetime
    context: engine.StatusContext = field(repr=False)

    @property
    def end(self) -> dt.date:
        return self.days[-1]

    @property
    def states(self) -> set[str]:
        """The cell states of this week, for a legend of only what is shown."""
        return {status.state for week in self.children for row in week.rows for _, status in row.cells}

    @property
    def previous(self) -> str:
        return week_param(self.start - dt.timedelta(days=7))

    @property
    def next(self) -> str:
        return week_param(self.start + dt.timedelta(days=7))

    @property
    def param(self) -> str:
        return week_param(self.start)

    @property
    def title(self) -> str:
        return f"Semaine du {formatting.date_long(self.start)} au {formatting.date_long(self.end)}"


def activity_label(unit: Unit) -> str:
    return KIND_LABELS.get(unit.activity.kind, unit.activity.name)


def deadline_banner(context: engine.StatusContext, units: list[Unit], days: list[dt.date]) -> list[str]:
    """'Cantine : réservations jusqu'au jeudi 26 novembre à 18 h', one line per activity and rule,
    from the engine's deadlines for this week's open days (or the month closed for invoicing)."""
    lines: list[str] = []
    for unit in units:
        if unit.attendance_only:  # nothing to book, so no deadline
            continue
        open_days = [d for d in days if context.calendar.day_info(unit, d).open]
        closed = sorted({d.replace(day=1) for d in open_days
                         if context.is_period_closed(unit, d) and d >= context.now.date()})
        for first in closed:  # staff closed that month for invoicing: say so instead of a deadline
            text = (f"{activity_label(unit)} : {formatting.month_label(first)} est clôturé pour la facturation, "
                    "contactez la mairie pour tout changement")
            if text not in lines:
                lines.append(text)
        open_days = [d for d in open_days if d.replace(day=1) not in closed]
        if not open_days:
            continue
        limits = sorted({context.booking_deadline(unit, d) for d in open_days})
        if len(limits) == 1:
            limit = limits[0]
            if context.now > limit:
                text = f"{activity_label(unit)} : hors délai depuis le {deadlines.format_deadline(limit)}"
            else:
                text = f"{activity_label(unit)} : réservations jusqu'au {deadlines.format_deadline(limit)}"
        else:
            rule = deadlines.describe(context.booking_policy(unit))
            text = f"{activity_label(unit)} : réservations jusqu'à {rule}".replace("jusqu'à le ", "jusqu'au ")
        if text not in lines:
            lines.append(text)
    return lines


def week_grid(household: Household, start: dt.date, now: dt.datetime | None = None, *,
              use_basket: bool = True) -> WeekGrid:
    """The week of `start` (a Monday) for every child of the household: bounded queries (use_basket:
    see week_statuses)."""
    now = now or clock.now()
    saturday = start + dt.timedelta(days=5)
    context = engine.week_statuses(household, start, saturday, now, use_basket=use_basket)
    enrolled = {child.id: context.units_for(child) for child in context.children}
    all_units = [u for u in context.units if any(u in units for units in enrolled.values())]
    with_saturday = any(5 in u.weekday_set() for u in all_units)
    days = [start + dt.timedelta(days=i) for i in range(6 if with_saturday else 5)]
    children = []
    for child in context.children:
        shared = context.custody.is_shared(child)
        if shared and not context.custody.has_child(household.id, child, start):
            children.append(ChildWeek(child, [], shared=True, other_parent=True))
            continue
        rows = [Row(unit, [(day, context.status(child, unit, day)) for day in days]) for unit in enrolled[child.id]]
        # A row closed all week (the holiday centre in term time) is a line of « Fermé »: said once instead.
        shut = [row for row in rows if all(status.state == "closed" for _, status in row.cells)]
        children.append(ChildWeek(child, [row for row in rows if row not in shut], [row.unit for row in shut], shared))
    months = [(formatting.month_name(m).capitalize(), week_param(m + dt.timedelta(days=(7 - m.weekday()) % 7
                                                                             if m.weekday() >= 5 else 0)),
               m.month == start.month and m.year == start.year)
              for m in school_year_months(start + dt.timedelta(days=3))]
    return WeekGrid(start, days, children, deadline_banner(context, all_units, days), months, now, context)


# --- Month calendar ----------------------------------------------------------------------------


@dataclass
class MonthDay:
    day: dt.date
    in_month: bool
    entries: list[tuple[Child, Unit, engine.DayStatus]]  # only days with something to show


@dataclass
class MonthView:
    first: dt.date
    weeks: list[list[MonthDay]]
    children: list[Child]

    @property
    def label(self) -> str:
        return formatting.month_label(self.first)

    @property
    def states(self) -> set[str]:
        """The states shown this month, for its legend."""
        return {status.state for week in self.weeks for day in week for _, _, status in day.entries}

    @property
    def previous(self) -> str:
        return month_param(add_months(self.first, -1))

    @property
    def next(self) -> str:
        return month_param(add_months(self.first, 1))

    @property
    def param(self) -> str:
        return month_param(self.first)


SHOWN_IN_MONTH = {"available", "basket_add", "basket_remove", "requested", "booked", "waiting_list",
                  "cancel_requested", "absent", "absent_justified", "present", "anomaly", "full"}


def month_view(household: Household, first: dt.date, now: dt.datetime | None = None) -> MonthView:
    """Every child and enrolled unit over a month (Monday → Saturday weeks), same states."""
    now = now or clock.now()
    last = add_months(first, 1) - dt.timedelta(days=1)
    start, end = monday(first), monday(last) + dt.timedelta(days=5)
    context = engine.week_statuses(household, start, end, now)
    enrolled = {child.id: context.units_for(child) for child in context.children}
    weeks = []
    week_start = start
    while week_start <= last:
        week = []
        for offset in range(6):
            day = week_start + dt.timedelta(days=offset)
            entries = []
            for child in context.children:
                for unit in enrolled[child.id]:
                    if not context.calendar.day_info(unit, day).open:
                        continue  # never shown: not worth a status (two thirds of a month's cells)
                    status = context.status(child, unit, day)
                    if status.state in SHOWN_IN_MONTH:
                        entries.append((child, unit, status))
            week.append(MonthDay(day, day.month == first.month, entries))
        weeks.append(week)
        week_start += dt.timedelta(days=7)
    if not any(day.entries for week in weeks for day in week if day.day.weekday() == 5):
        weeks = [week[:5] for week in weeks]
    return MonthView(first, weeks, context.children)


# --- Bulk booking ------------------------------------------------------------------------------


@dataclass
class PlanLine:
    child: Child
    unit: Unit
    day: dt.date
    status: engine.DayStatus
    reason: str = ""


@dataclass
class BulkPlan:
    added: list[PlanLine] = field(default_factory=list)
    removed: list[PlanLine] = field(default_factory=list)
    skipped: list[PlanLine] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(l.status.price or 0 for l in self.added) - sum(
            l.status.price or 0 for l in self.removed if l.status.booking_status in engine.ACTIVE)

    def wanted(self) -> dict[tuple[int, int, dt.date], bool]:
        wanted = {(l.child.id, l.unit.id, l.day): True for l in self.added}
        wanted.update({(l.child.id, l.unit.id, l.day): False for l in self.removed})
        return wanted


@dataclass
class BulkRequest:
    child_ids: list[int]
    unit_ids: list[int]
    start: dt.date
    end: dt.date
    weekdays: set[int]
    mode: str  # ajouter, remplacer


def parse_bulk(form) -> BulkRequest:
    """The bulk-booking form (a MultiDict): InvalidInput with a French message when incomplete."""
    def ints(name):
        values = []
        for raw in form.getlist(name):
            if not str(raw).isdigit():
                raise InvalidInput("Choix invalide : rechargez la page.")
            values.append(int(raw))
        return values

    child_ids, unit_ids = ints("enfants"), ints("unites")
    weekdays = set(ints("jours"))
    if not child_ids:
        raise InvalidInput("Choisissez au moins un enfant.", "enfants")
    if not unit_ids:
        raise InvalidInput("Choisissez au moins une prestation.", "unites")
    if not weekdays or not weekdays <= set(range(6)):
        raise InvalidInput("Choisissez au moins un jour de la semaine.", "jours")
    try:
        start = dt.date.fromisoformat(form.get("du", ""))
        end = dt.date.fromisoformat(form.get("au", ""))
    except ValueError:
        raise InvalidInput("Indiquez les dates de début et de fin (jj/mm/aaaa).", "du") from None
    if end < start:
        raise InvalidInput("La date de fin est avant la date de début.", "au")
    if (end - start).days > 366:
        raise InvalidInput("Choisissez une période d'au plus un an.", "au")
    if not MIN_YEAR <= start.year <= MAX_YEAR or not MIN_YEAR <= end.year <= MAX_YEAR:
        raise InvalidInput("Période hors des années disponibles.", "du")
    mode = form.get("mode", "ajouter")
    if mode not in ("ajouter", "remplacer"):
        raise InvalidInput("Choisissez « ajouter » ou « remplacer ».", "mode")
    return BulkRequest(child_ids, unit_ids, start, end, weekdays, mode)


def bulk_plan(household: Household, request: BulkRequest, now: dt.datetime | None = None) -> BulkPlan:
    """What bulk booking would change: days added, removed ("remplacer"), skipped with the reason."""
    now = now or clock.now()
    children = custody.children_of(household, request.child_ids)
    if len(children) != len(set(request.child_ids)):
        raise InvalidInput("Enfant inconnu : rechargez la page.")
    units = list(Unit.select().where(Unit.id.in_(request.unit_ids)))
    if len(units) != len(set(request.unit_ids)):
        raise InvalidInput("Prestation inconnue : rechargez la page.")
    context = engine.week_statuses(household, request.start, request.end, now, units=units, children=children)
    plan = BulkPlan()
    for child in context.children:
        enrolled = {u.id for u in context.bookable_units_for(child)}
        for unit in context.units:
            if unit.id not in enrolled:
                continue
            for day in daterange(request.start, request.end):
                status = context.status(child, unit, day)
                line = PlanLine(child, unit, day, status)
                if day.weekday() in request.weekdays:
                    if status.checked:
                        continue
                    if status.state == "closed":
                        if day.weekday() in unit.weekday_set():
                            line.reason = status.reason or "Fermé"
                            plan.skipped.append(line)
                        continue
                    if status.can_book or status.basket == "remove":
                        plan.added.append(line)
                    else:
                        line.reason = status.reason or status.label
                        plan.skipped.append(line)
                elif request.mode == "remplacer" and status.checked:
                    if status.basket == "add" or status.can_cancel:
                        plan.removed.append(line)
                    else:
                        line.reason = status.reason or status.label
                        plan.skipped.append(line)
    return plan


def apply_bulk(household: Household, request: BulkRequest, now: dt.datetime | None = None) -> basket.GridChange:
    """"Ajouter au panier": the plan recomputed now, then applied cell by cell (engine re-checked)."""
    now = now or clock.now()
    plan = bulk_plan(household, request, now)
    return basket.apply_cells(household, plan.wanted(), now)


# --- iCal --------------------------------------------------------------------------------------


def ical_token(household: Household, renew: bool = False) -> str:
    """The household's secret feed token (created on first use, replaced when renewed)."""
    if household.ical_token and not renew:
        return household.ical_token
    household.ical_token = secrets.token_urlsafe(24)
    Household.update(ical_token=household.ical_token).where(Household.id == household.id).execute()
    return household.ical_token


def revoke_ical(household: Household) -> None:
    household.ical_token = None
    Household.update(ical_token=None).where(Household.id == household.id).execute()


def ical_feed(token: str, now: dt.datetime | None = None) -> bytes | None:
    """The iCalendar of a household's active bookings from last month on (None: unknown token)."""
    from icalendar import Calendar, Event

    if not token or len(token) > 100:
        return None
    household = Household.get_or_none(Household.ical_token == token)
    if household is None:
        return None
    today = (now or clock.now()).date()
    since = add_months(today.replace(day=1), -1)
    calendar = Calendar()
    calendar.add("prodid", "-//Portail Famille//FR")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Réservations – {household.name or 'Portail famille'}")
    query = (Booking.select(Booking, Child, Unit).join(Child, attr="child").switch(Booking)
             .join(Unit, attr="unit")
             .where((Booking.household == household.id) & (Booking.date >= since)
                    & Booking.status.in_(engine.ACTIVE))
             .order_by(Booking.date).limit(2000))
    for booking in query:
        event = Event()
        unit = booking.unit
        event.add("uid", f"booking-{booking.id}@portail-famille")
        event.add("summary", f"{booking.child.first_name} – {unit.name} ({engine.STATE_LABELS[booking.status]})")
        start_time, end_time = deadlines.parse_time(unit.start_time) if unit.start_time else None, \
            deadlines.parse_time(unit.end_time) if unit.end_time else None
        if start_time and end_time:
            event.add("dtstart", dt.datetime.combine(booking.date, start_time, tzinfo=clock.PARIS))
            event.add("dtend", dt.datetime.combine(booking.date, end_time, tzinfo=clock.PARIS))
        else:
            event.add("dtstart", booking.date)
        event.add("dtstamp", clock.now())
        calendar.add_component(event)
    return calendar.to_ical()
