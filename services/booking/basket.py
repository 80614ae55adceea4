"""The household's basket: pending changes (réserver / annuler a day) until "Valider".

Every decision about a cell is the rules engine's (services.booking): this module only asks it
(day_status / week_statuses) and keeps basket lines. Validation re-checks every line through
place_bookings in one locked transaction and records a numbered Order.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from peewee import fn

from models import Activity, Alert, BasketLine, Booking, Child, Household, Order, OrderCounter, OrderLine, Unit, User
from models.prepared import prepared, run_insert
from services.booking import day_status as engine
from services.booking import placement
from services.booking.order_mail import describe_result, send_summary  # noqa: F401 (desk, checkout)
from services.core import clock, formatting
from services.core.errors import DomainError, NotFound
from services.core.transactions import as_datetime, lock_rows, next_in_series, write_transaction
from services.family import custody

STALE_AFTER = dt.timedelta(days=7)
PAYMENT_HOLD = dt.timedelta(hours=1)  # a prepaid order not paid within this frees its places
MAX_RANGE_DAYS = 400  # a school year and a little
SOON = dt.timedelta(hours=1)  # a deadline closer than this is announced in the basket


class BasketError(DomainError):
    """A basket change was refused."""


class CellRefused(BasketError):
    """The engine says this cell cannot change (hors délai, complet, fermé…)."""


class EmptyBasket(BasketError):
    pass


# --- Cells -------------------------------------------------------------------------------------


def cell_key(child_id: int, unit_id: int, day: dt.date) -> str:
    """'12:3:2026-11-30': the form value of a cell."""
    return f"{child_id}:{unit_id}:{day.isoformat()}"


def parse_cell_key(value: str) -> tuple[int, int, dt.date]:
    """Inverse of cell_key; InvalidCell on anything else."""
    try:
        child_id, unit_id, day = (value or "").split(":")
        return int(child_id), int(unit_id), dt.date.fromisoformat(day)
    except ValueError:
        raise BasketError("Case inconnue : rechargez la page.") from None


def owned_cell(household: Household, child_id: int, unit_id: int) -> tuple[Child, Unit]:
    """The child and unit of a cell, only if the child belongs to the household (else NotFound)."""
    child = custody.child_of(household, child_id)
    unit = Unit.select(Unit, Activity).join(Activity).where(Unit.id == unit_id).first()
    if child is None or unit is None:
        raise NotFound("Cette case n'existe pas.")
    return child, unit


def _lock_basket(household: Household) -> None:
    """One change to a household's basket at a time (two guardians, a double click), before it is read."""
    lock_rows(Household, [household.id])


_restart_clock = prepared(lambda household, at: BasketLine.update(created_at=at).where(
    BasketLine.household == household))
_whole_basket = prepared(lambda household: BasketLine.select().where(BasketLine.household == household)
                         .order_by(BasketLine.child, BasketLine.unit, BasketLine.date))  # toggle, /panier, Valider
_drop_lines = prepared(lambda ids: BasketLine.delete().where(BasketLine.id.in_(ids)))
_drop_cell = prepared(lambda household, child, units, day: BasketLine.delete().where(  # a cell's lines
    (BasketLine.household == household) & (BasketLine.child == child) & BasketLine.unit.in_(units)
    & (BasketLine.date == day)))


ADDED, DROPPED = "added", "dropped"  # what a change did to the basket (_apply)


def _touch(household: Household, now: dt.datetime, changes: Iterable[str | None]) -> None:
    """Restart the basket's 7-day clock (its newest stamp) unless a line stamped now was added; with the COMMIT."""
    changes = set(changes)
    if DROPPED in changes and ADDED not in changes:
        _restart_clock.say(household.id, clock.to_local_naive(now))


def _apply(household: Household, child: Child, unit: Unit, day: dt.date, status: engine.DayStatus,
           want: bool, now: dt.datetime, context: engine.StatusContext | None = None,
           swapped: list[int] | None = None) -> str | None:
    """Make the cell's ticked state `want` by adding or deleting one basket line. Returns what changed
    (ADDED: a line stamped now; DROPPED: lines deleted only), None if nothing; raises CellRefused (with the
    engine's reason) when the cell can't change.
    With the engine's context, its basket view is kept in step so it can answer the new state, and
    exclusive units are swapped: the lines this one replaces are deleted (their ids added to `swapped`)."""
    if status.checked == want:
        return None
    refusal, swap = context.rule_tick(child, unit, day, want) if context is not None else (None, [])
    if status.basket is not None and not refusal:
        # Undoing a pending change is allowed unless a dependent unit needs it: nothing was booked yet.
        action = None
    elif want and status.can_book and not refusal:
        action = "add"
    elif not want and status.can_cancel and not refusal:
        action = "remove"
    else:
        raise CellRefused(refusal or _refusal(status))
    # Unread writes (say, create_unread): on PostgreSQL they travel with the COMMIT (one round trip).
    if context is None or status.basket is not None or swap:  # else the context saw no line to delete
        _drop_cell.say(household.id, child.id, [unit.id, *swap], day)
    for unit_id in [unit.id, *swap] if context is not None else ():
        context.basket.pop((child.id, unit_id, day), None)
    if swapped is not None:
        swapped.extend(swap)
    if action is None:
        return DROPPED
    line = BasketLine.create_unread(household=household, child=child, unit=unit, date=day, action=action,
                                    created_at=clock.to_local_naive(now))
    if context is not None:
        context.basket[(child.id, unit.id, day)] = line
    return ADDED


def _refusal(status: engine.DayStatus) -> str:
    return status.reason or status.label


@dataclass
class CellChange:
    child: Child
    unit: Unit
    day: dt.date
    status: engine.DayStatus  # after the change (or unchanged, with refusal set)
    changed: bool
    refusal: str = ""
    swapped: list[Unit] = field(default_factory=list)  # exclusive units this tick took out of the basket
    others: list[tuple[Unit, engine.DayStatus]] = field(default_factory=list)  # cells of that day it changed
    basket_count: int | None = None  # the basket's lines after a change (None: unchanged, not counted)


def change_cell(household: Household, child_id: int, unit_id: int, day: dt.date, want: bool,
                now: dt.datetime | None = None) -> CellChange:
    """Tick (want=True) or untick one cell, answering the engine's new status; a refusal is
    reported in the result (nothing changed). NotFound for another household's child."""
    now = now or clock.now()
    child = custody.child_of(household, child_id)
    units = engine.activity_units(unit_id)  # the configuration cache: no query
    unit = next((u for u in units if u.id == unit_id), None)
    if child is None or unit is None:
        raise NotFound("Cette case n'existe pas.")
    with write_transaction(draft=True):  # a tick: nothing is booked until « Valider »
        _lock_basket(household)
        lines = _whole_basket(household.id)  # its count is the counter's: no count after the change
        context = engine.week_statuses(household, day, day, now, units=units, children=[child], use_basket=lines)
        status, seen = context.status(child, unit, day), len(context.basket)
        swapped: list[int] = []
        try:
            what = _apply(household, child, unit, day, status, want, now, context, swapped)
        except CellRefused as refusal:
            return CellChange(child, unit, day, status, False, refusal.message)
        basket_count, changed = None, what is not None
        if changed:
            _touch(household, now, [what])
            basket_count = len(lines) + len(context.basket) - seen  # the context holds every line it changed
            status = context.status(child, unit, day)
    by_id = {u.id: u for u in units}
    touched = context.rules.partners(unit.id).union(*(context.rules.partners(u) for u in swapped)) - {unit.id}
    others = [(by_id[u], context.status(child, by_id[u], day)) for u in context.rules.sorted(touched)
              if u in by_id and context.is_enrolled(child, by_id[u])] if changed else []
    return CellChange(child, unit, day, status, changed, swapped=[by_id[u] for u in swapped],
                      others=[(u, s) for u, s in others if s.state != "closed"], basket_count=basket_count)


def set_cell(household: Household, child_id: int, unit_id: int, day: dt.date, want: bool,
             now: dt.datetime | None = None) -> tuple[engine.DayStatus, bool]:
    """Tick (want=True) or untick one cell: returns (new status, changed). CellRefused if the
    engine forbids it; NotFound for another household's child."""
    result = change_cell(household, child_id, unit_id, day, want, now)
    if result.refusal:
        raise CellRefused(result.refusal)
    return result.status, result.changed


@dataclass
class GridChange:
    """What a batch of cell changes did: counts and refusals (French, one per refused cell)."""

    changed: int = 0
    refused: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # swaps of exclusive units, said once each


def apply_cells(household: Household, wanted: dict[tuple[int, int, dt.date], bool],
                now: dt.datetime | None = None) -> GridChange:
    """Set many cells at once (the no-JavaScript grid form, a unit's week, a copied week)."""
    now = now or clock.now()
    result = GridChange()
    if not wanted:
        return result
    days = [key[2] for key in wanted]
    start, end = min(days), max(days)
    if (end - start).days > MAX_RANGE_DAYS:
        raise BasketError("Période trop longue : choisissez au plus une année scolaire.")
    children = custody.children_of(household, {key[0] for key in wanted})
    if len(children) != len({key[0] for key in wanted}):
        raise NotFound("Cette case n'existe pas.")
    units = list(Unit.select(Unit, Activity).join(Activity).where(Unit.id.in_(list({key[1] for key in wanted}))))
    by_child = {c.id: c for c in children}
    by_unit = {u.id: u for u in units}
    if len(by_unit) != len({key[1] for key in wanted}):
        raise NotFound("Cette case n'existe pas.")
    with write_transaction(draft=True):
        _lock_basket(household)
        context = engine.week_statuses(household, start, end, now, units=units, children=children)
        pending = sorted(wanted.items(), key=lambda item: (item[0][2], item[0][0]))
        done: list[str] = []  # what each change did: the basket's clock follows (_touch)
        for attempt in (1, 2):  # exclusive or dependent units of one day may need another order: once more
            changed, retry, swapped_keys = result.changed, [], set()
            for (child_id, unit_id, day), want in pending:
                child, unit = by_child[child_id], by_unit[unit_id]
                if (child_id, unit_id, day) in swapped_keys:
                    continue  # taken out of the basket by the exclusive unit ticked with it
                status, swapped = context.status(child, unit, day), []
                try:
                    what = _apply(household, child, unit, day, status, want, now, context, swapped)
                    if what:
                        result.changed += 1
                        done.append(what)
                except CellRefused as refusal:
                    if status.state != "closed":
                        retry.append(((child_id, unit_id, day), want, refusal.message))
                for other in swapped:
                    swapped_keys.add((child_id, other, day))
                    result.notes.append(f"{formatting.cell_name(child, unit, day)} : remplace "
                                        f"{context.rules.names.get(other, '')} dans le panier.")
            pending = [(key, want) for key, want, _message in retry]
            if attempt == 2 or not retry or result.changed == changed:
                result.refused += [f"{formatting.cell_name(by_child[key[0]], by_unit[key[1]], key[2])} : {message}"
                                   for key, _want, message in retry]
                break
        _touch(household, now, done)
    return result


def week_of_unit(household: Household, child_id: int, unit_id: int, start: dt.date, end: dt.date,
                 now: dt.datetime | None = None) -> GridChange:
    """Clicking a unit's name: book the whole week where allowed, or un-book it when every
    changeable day is already ticked."""
    now = now or clock.now()
    child, unit = owned_cell(household, child_id, unit_id)
    context = engine.week_statuses(household, start, end, now, units=[unit], children=[child])
    statuses = {day: context.status(child, unit, day) for day in context.days()}
    changeable = {day: s for day, s in statuses.items() if s.can_toggle}
    if not changeable:
        return GridChange(refused=[f"{unit.name} – {child.first_name} : aucun jour modifiable cette semaine."])
    want = not all(s.checked for s in changeable.values())
    return apply_cells(household, {(child.id, unit.id, day): want for day, s in statuses.items()
                                   if s.state != "closed" and s.checked != want}, now)


# --- The basket --------------------------------------------------------------------------------


@dataclass
class BasketItem:
    line: BasketLine
    child: Child
    unit: Unit
    status: engine.DayStatus

    @property
    def price(self) -> int:
        return self.status.price or 0

    @property
    def signed_price(self) -> int:
        return self.price if self.line.action == "add" else -self.price

    @property
    def action_label(self) -> str:
        return "+ Réservation" if self.line.action == "add" else "Annulation"

    @property
    def deadline(self) -> dt.datetime | None:
        """Until when this change can still be validated (booking or cancellation deadline)."""
        return self.status.deadline if self.line.action == "add" else self.status.cancel_deadline

    @property
    def deadline_soon(self) -> bool:
        """Less than an hour left: the basket says so before « Valider » (17:55 on a Thursday)."""
        return self.deadline is not None and dt.timedelta(0) <= self.deadline - clock.now() < SOON

    @property
    def problem(self) -> str:
        """Why the line would be refused if validated now ("" when fine)."""
        allowed = self.status.can_book if self.line.action == "add" else self.status.can_cancel
        return "" if allowed else self.status.reason


@dataclass
class BasketView:
    items: list[BasketItem]
    prepaid: bool = False  # a line's régie is « au comptant »: payment due at once, places held 1 hour

    @property
    def soonest(self) -> BasketItem | None:
        """The line whose deadline is nearest, when it is less than an hour away."""
        soon = [item for item in self.items if item.deadline_soon]
        return min(soon, key=lambda item: item.deadline) if soon else None

    @property
    def total(self) -> int:
        return sum(item.signed_price for item in self.items)

    @property
    def count(self) -> int:
        return len(self.items)

    def groups(self) -> list[tuple[Child, Unit, list[BasketItem]]]:
        """Lines grouped by child then unit, dates in order."""
        grouped: dict[tuple[int, int], tuple[Child, Unit, list[BasketItem]]] = {}
        for item in self.items:
            grouped.setdefault((item.child.id, item.unit.id), (item.child, item.unit, []))[2].append(item)
        return list(grouped.values())


@prepared
def _count(household):
    return BasketLine.select(fn.COUNT(BasketLine.id)).where(BasketLine.household == household)


def count(household: Household) -> int:
    """The basket's lines (« Panier (n) » on every booking page)."""
    return _count.scalar(household.id)


def contents(household: Household, now: dt.datetime | None = None) -> BasketView:
    """Every line with its current status and price (one StatusContext, bounded queries)."""
    now = now or clock.now()
    lines = _whole_basket(household.id)
    if not lines:
        return BasketView([])
    wanted = {l.child_id for l in lines}
    children = custody.children_of(household, wanted)  # with their custody: no query more
    if len(children) < len(wanted):  # a share ended while its lines waited: shown, and refused at « Valider »
        children += list(Child.select().where(Child.id.in_(list(wanted - {c.id for c in children}))))
    units = list(engine.units_with_rules({l.unit_id for l in lines}).values())
    context = engine.week_statuses(household, min(l.date for l in lines), max(l.date for l in lines), now,
                                   units=units, children=children, use_basket=lines)  # lines read once
    by_child = {c.id: c for c in children}
    by_unit = {u.id: u for u in units}
    items = []
    for line in lines:
        child, unit = by_child[line.child_id], by_unit[line.unit_id]
        items.append(BasketItem(line, child, unit, context.status(child, unit, line.date)))
    items.sort(key=lambda i: (i.child.position, i.child.id, i.unit.activity.position, i.unit.position,
                              i.unit.id, i.line.date))
    added = {item.unit.activity_id for item in items if item.line.action == "add"}
    return BasketView(items, prepaid=bool(placement.prepaid_activities(added)))


def remove_line(household: Household, line_id: int) -> None:
    deleted = BasketLine.delete().where((BasketLine.id == line_id) & (BasketLine.household == household.id)).execute()
    if not deleted:
        raise NotFound("Cette ligne n'est plus dans le panier.")


def clear(household: Household) -> int:
    """"Vider le panier"."""
    return BasketLine.delete().where(BasketLine.household == household.id).execute()


def expire_if_stale(household: Household, now: dt.datetime | None = None) -> int:
    """A basket untouched for 7 days is emptied, with a notice under "Mes alertes".
    Returns the number of lines removed (0 if the basket is fresh or empty)."""
    now = clock.to_local_naive(now or clock.now())
    with write_transaction():  # checked under the lock: a line added meanwhile keeps the basket
        _lock_basket(household)
        last = (BasketLine.select(BasketLine.created_at).where(BasketLine.household == household.id)
                .order_by(BasketLine.created_at.desc()).scalar())
        if last is None or now - as_datetime(last) < STALE_AFTER:
            return 0
        removed = clear(household)
        Alert.create(household=household, created_at=now, title="Panier vidé",
                     body=f"Votre panier n'avait pas été validé depuis 7 jours : ses {removed} ligne(s) "
                          "ont été retirées. Aucune réservation n'a été faite.")
    return removed


def expire_stale_baskets(now: dt.datetime | None = None) -> int:
    """Empty every basket untouched for 7 days (the worker's periodic job); returns how many."""
    now = clock.to_local_naive(now or clock.now())
    stale = (BasketLine.select(BasketLine.household).group_by(BasketLine.household)
             .having(fn.MAX(BasketLine.created_at) <= now - STALE_AFTER))
    return sum(1 for row in list(stale) if expire_if_stale(Household(id=row.household_id), now))


# --- Validation → order ------------------------------------------------------------------------


@dataclass
class Validation:
    order: Order | None
    results: list[placement.LineResult]

    @property
    def refused(self) -> list[placement.LineResult]:
        return [r for r in self.results if r.outcome == "refused"]

    @property
    def placed(self) -> list[placement.LineResult]:
        return [r for r in self.results if r.outcome not in ("refused", "unchanged")]

    @property
    def cancelled_prepaid(self) -> list[Booking]:
        """Paid days this validation cancelled: their money goes back to the household (the ledger)."""
        return [r.booking for r in self.results if r.outcome == "cancelled" and r.booking and r.booking.prepaid]

    @property
    def freed(self) -> list[Booking]:
        """Waiting-list bookings that got a place freed by this validation's cancellations."""
        return [booking for result in self.results for booking in result.freed]


def next_order_number(year: int) -> str:
    """Take the year's next order number (call inside the validation transaction: gapless)."""
    return f"{year}-{next_in_series(OrderCounter, year=year):06d}"


def _line_total(result: placement.LineResult) -> int:
    price = result.price if result.price is not None else (result.booking.price if result.booking else 0) or 0
    if result.outcome in ("booked", "requested", "held"):  # a waiting-list day is not charged unless it gets a place
        return price
    if result.outcome in ("cancelled", "cancel_requested"):
        return -price
    return 0


def validate(household: Household, user: User | None = None, now: dt.datetime | None = None, *,
             notify: bool = True) -> Validation:
    """"Valider", the booking side: re-check every line in one locked transaction (place_bookings),
    create the numbered order with the lines that went through, report the refused ones, empty the
    basket and e-mail a summary. EmptyBasket if there is nothing to validate. What it freed and the
    paid days it cancelled are in the Validation: services/billing/checkout.py settles them."""
    now = now or clock.now()
    with write_transaction(savepoint=False):  # an error here undoes the caller's all: no savepoint to pay
        _lock_basket(household)  # a second « Valider » waits, then finds the basket empty
        lines = _whole_basket(household.id)  # sorted below: cancellations first
        if not lines:
            raise EmptyBasket("Votre panier est vide.")
        # Cancellations first: a freed place can go to this household's own additions.
        lines.sort(key=lambda l: (l.action != "remove", l.date, l.child_id, l.unit_id))
        validation = place_as_order(household, lines, user, now, notify=notify)
        _drop_lines.say([line.id for line in lines])  # with the transaction's last statement, or its COMMIT
    return validation


def place_as_order(household: Household, lines: Sequence, user: User | None, now: dt.datetime, *,
                   notify: bool = True, by_staff: bool = False, **order_fields) -> Validation:
    """Place lines in their order, record the numbered order of those that went through and e-mail it, in one
    write transaction: the basket's « Valider », and the desk's (by_staff; at_desk, staff_reason in order_fields)."""
    with write_transaction(savepoint=False):  # an error undoes the caller's all (nobody goes on after one)
        validation = Validation(None, placement.place_bookings(household, lines, now, by_staff=by_staff))
        placed = validation.placed
        if placed:
            order = Order.create(household=household, number=next_order_number(clock.to_local_naive(now).year),
                                 created_at=clock.to_local_naive(now), created_by=user,
                                 total=sum(_line_total(r) for r in placed), **order_fields)
            validation.order = order
            rows = [dict(order=order.id, child=r.child.id, unit=r.unit.id, date=r.date, action=r.action,
                         outcome=r.outcome, message=r.message[:250], booking=r.booking.id if r.booking else None,
                         price=r.price if r.price is not None else (r.booking.price if r.booking else None))
                    for r in placed]
            for start in range(0, len(rows), 100):  # one statement for 100 lines, not one a line
                run_insert(OrderLine.insert_many(rows[start:start + 100]), unread=True)
            held = [r for r in placed if r.outcome == "held"]
            if held:  # régie "au comptant": confirmed only once paid, within the hour
                order.payment_status = "awaiting_payment"
                order.amount_due = sum(r.price or 0 for r in held)
                order.expires_at = clock.to_local_naive(now) + PAYMENT_HOLD
                order.save()
        # The mails are written with the order they report (the outbox): both or neither.
        if notify and (validation.order is not None or validation.refused):
            send_summary(household, validation)
    return validation


def wanted_from_form(keys_shown: Iterable[str], keys_ticked: Sequence[str]) -> dict[tuple[int, int, dt.date], bool]:
    """The no-JavaScript grid form: every shown cell with whether it is ticked."""
    ticked = set(keys_ticked)
    wanted = {}
    for key in keys_shown:
        wanted[parse_cell_key(key)] = key in ticked
    return wanted
