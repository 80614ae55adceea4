"""Orders after validation: the parents' list, staff decisions, waiting lists, alerts, absences.

Decisions go through the rules engine (decide_request, confirm_waiting, day_status); this module
records what families are told ("Mes alertes" and e-mails).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from peewee import JOIN, fn

from models import (
    Activity,
    Booking,
    Child,
    Household,
    OnlineTransaction,
    Order,
    OrderLine,
    PaymentAllocation,
    Unit,
    User,
)
from services.booking import day_status as engine
from services.booking import placement, unit_rules
from services.core import clock, formatting, notifications
from services.core.errors import DomainError, NotFound
from services.core.transactions import as_datetime, is_sqlite, lock_rows, write_transaction

PENDING = ("requested", "waiting_list", "cancel_requested", "held")
# A parent at the bank when the hour runs out may finish paying: a PayFiP session lasts 15 minutes.
PAYMENT_SESSION = dt.timedelta(minutes=20)
LINE_LABELS = {**engine.OUTCOME_LABELS, "booked": "Validé"}


class OrderError(DomainError):
    pass


# --- Orders for parents ------------------------------------------------------------------------


@dataclass
class OrderView:
    order: Order
    lines: list[OrderLine]
    positions: dict[int, int] = field(default_factory=dict)  # booking id → place on its waiting list

    def line_status(self, line: OrderLine) -> str:
        """The line's status now (the booking may have been decided since)."""
        if line.booking is not None:
            status = line.booking.status
            if line.action == "remove" and status == "booked":
                return "booked"  # cancellation refused: the day stays booked
            return status
        return line.outcome

    def line_label(self, line: OrderLine) -> str:
        status = self.line_status(line)
        if line.action == "remove" and status == "booked":
            return "Annulation refusée"
        if status == "waiting_list" and line.booking is not None:
            position = self.positions.get(line.booking.id) or waiting_position(line.booking)
            return f"Sur liste d'attente, position {position}"
        if status == "refused":
            reason = line.booking.refusal_reason if line.booking else ""
            return "Refusé" + (f" : {reason}" if reason else "")
        return LINE_LABELS.get(status, status)

    @property
    def pending(self) -> bool:
        return self.awaiting_payment or any(self.line_status(line) in PENDING for line in self.lines)

    @property
    def awaiting_payment(self) -> bool:
        return self.order.payment_status == "awaiting_payment"

    @property
    def status_label(self) -> str:
        if self.awaiting_payment:
            return f"En attente de paiement, avant le {formatting.datetime_long(as_datetime(self.order.expires_at))}"
        if self.order.payment_status == "expired":
            return "Expirée (non payée) : les places ont été libérées"
        if self.pending:
            waiting = [line for line in self.lines if self.line_status(line) in PENDING]
            if all(self.line_status(line) == "waiting_list" for line in waiting):
                return "En liste d'attente"  # nothing for staff to validate: the family waits for a place
            return "En attente de validation"
        return "Payée" if self.order.payment_status == "paid" else "Traitée"


def waiting_position(booking: Booking) -> int:
    return (Booking.select().where((Booking.unit == booking.unit_id) & (Booking.date == booking.date)
                                   & (Booking.status == "waiting_list") & (Booking.sequence < booking.sequence))
            .count()) + 1


def waiting_positions(bookings: list[Booking]) -> dict[int, int]:
    """waiting_position of each booking on a waiting list, by booking id: one query for them all."""
    waiting = {b.id: b for b in bookings if b.status == "waiting_list"}
    if not waiting:
        return {}
    keys = {(b.unit_id, b.date) for b in waiting.values()}
    queues: dict[tuple, list[int]] = defaultdict(list)
    for unit_id, day, sequence in (Booking.select(Booking.unit, Booking.date, Booking.sequence)
                                   .where(Booking.unit.in_(sorted({u for u, _d in keys}))
                                          & Booking.date.in_(sorted({d for _u, d in keys}))
                                          & (Booking.status == "waiting_list")).tuples()):
        queues[(unit_id, day)].append(sequence)
    return {b.id: sum(1 for sequence in queues[(b.unit_id, b.date)] if sequence < b.sequence) + 1
            for b in waiting.values()}


def household_orders(household: Household, limit: int = 100) -> tuple[list[OrderView], list[OrderView]]:
    """("Commandes en attente", "Historique"), newest first; three queries whatever the count."""
    orders = list(Order.select().where(Order.household == household.id).order_by(Order.id.desc()).limit(limit))
    return split_orders(orders)


def split_orders(orders: list[Order]) -> tuple[list[OrderView], list[OrderView]]:
    if not orders:
        return [], []
    lines_by_order: dict[int, list[OrderLine]] = defaultdict(list)
    query = (OrderLine.select(OrderLine, Booking, Child, Unit)
             .join(Booking, on=(OrderLine.booking == Booking.id), join_type=JOIN.LEFT_OUTER, attr="booking")
             .switch(OrderLine).join(Child, attr="child")
             .switch(OrderLine).join(Unit, attr="unit")
             .where(OrderLine.order.in_([o.id for o in orders]))
             .order_by(OrderLine.date, OrderLine.child, OrderLine.unit))
    lines = list(query)
    for line in lines:
        lines_by_order[line.order_id].append(line)
    positions = waiting_positions([line.booking for line in lines if line.booking is not None])
    views = [OrderView(order, lines_by_order.get(order.id, []), positions) for order in orders]
    return [v for v in views if v.pending], [v for v in views if not v.pending]


def get_order(household: Household, order_id: int) -> OrderView:
    order = Order.get_or_none((Order.id == order_id) & (Order.household == household.id))
    if order is None:
        raise NotFound("Commande introuvable.")
    pending, history = split_orders([order])
    return (pending or history)[0]


# --- Staff decisions ---------------------------------------------------------------------------


@dataclass
class PendingRequest:
    booking: Booking
    order_line: OrderLine | None
    places_left: int | None


def pending_requests(limit: int = 500) -> list[PendingRequest]:
    """Bookings waiting for a staff decision (requests and cancellation requests), oldest first,
    with the places left on their day (live) and the order they came with."""
    bookings = list(Booking.select(Booking, Child, Unit, Activity, Household)
                    .join(Child, attr="child").switch(Booking)
                    .join(Unit, attr="unit").join(Activity, attr="activity").switch(Booking)
                    .join(Household, attr="household")
                    .where(Booking.status.in_(("requested", "cancel_requested")))
                    .order_by(Booking.created_at, Booking.id).limit(limit))
    lines = {}
    if bookings:
        for line in (OrderLine.select(OrderLine, Order).join(Order, attr="order")
                     .where(OrderLine.booking.in_([b.id for b in bookings])).order_by(OrderLine.id)):
            lines[line.booking_id] = line
    places = _places_left_bulk({(b.unit_id, b.date) for b in bookings}, {b.unit_id: b.unit for b in bookings})
    return [PendingRequest(b, lines.get(b.id), places.get((b.unit_id, b.date))) for b in bookings]


def _places_left_bulk(keys, units) -> dict:
    """places_left for several unit × day (placement.places_left_many: two queries in all)."""
    return placement.places_left_many(units, keys)


def _decision_text(booking: Booking, accepted: bool, was: str, reason: str) -> tuple[str, str]:
    name = formatting.cell_name(booking.child, booking.unit, booking.date)
    if was == "cancel_requested":
        if accepted:
            return "Annulation acceptée", f"Votre demande d'annulation a été acceptée : {name}."
        return "Annulation refusée", f"Votre demande d'annulation a été refusée, la réservation est maintenue : {name}."
    if accepted:
        return "Réservation acceptée", f"Votre réservation a été acceptée : {name}."
    return "Réservation refusée", f"Votre réservation a été refusée : {name}." + (f"\nMotif : {reason}" if reason else "")


def decide(booking_id: int, accept: bool, reason: str = "", staff: User | None = None) -> Booking:
    """Accept or refuse one request through the engine; the family is told (alert + e-mail)."""
    booking = Booking.get_or_none(Booking.id == booking_id)
    if booking is None:
        raise NotFound("Réservation introuvable.")
    was = booking.status
    freed: list[Booking] = []
    with write_transaction():
        booking = placement.decide_request(booking, accept, reason, freed=freed)
        title, body = _decision_text(booking, accept, was, reason.strip())
        notifications.notify(booking.household, title, body)
        notify_promotions(freed)
    return booking


def decide_order(order_id: int, accept: bool, reason: str = "", staff: User | None = None) -> int:
    """Accept or refuse every pending line of an order at once; returns how many were decided."""
    order = Order.get_or_none(Order.id == order_id)
    if order is None:
        raise NotFound("Commande introuvable.")
    if not accept and not reason.strip():
        raise engine.BookingRefused("Indiquez le motif du refus.", "reason")
    bookings = [line.booking for line in OrderLine.select().where(OrderLine.order == order.id)
                if line.booking_id and line.booking.status in ("requested", "cancel_requested")]
    if not bookings:
        raise OrderError("Cette commande n'a plus de ligne en attente.")
    if not accept:  # a meal refused before its morning, never left alone in between (unit_rules)
        rules = unit_rules.Rules.load({b.unit_id for b in bookings})
        bookings.sort(key=lambda b: not rules.required(b.unit_id))
    decided = []
    freed: list[Booking] = []
    with write_transaction():
        for booking in bookings:
            was = booking.status
            decided.append((placement.decide_request(booking, accept, reason, freed=freed), was))
        verb = "acceptée" if accept else "refusée"
        body = "\n".join(f"- {_decision_text(b, accept, was, '')[1]}" for b, was in decided)
        if reason.strip() and not accept:
            body += f"\nMotif : {reason.strip()}"
        notifications.notify(order.household, f"Commande n° {order.number} {verb}", body)
        notify_promotions(freed)
    return len(decided)


@dataclass
class WaitingSlot:
    booking: Booking
    position: int
    places_left: int | None


def waiting_lists(today: dt.date | None = None, limit: int = 500) -> list[WaitingSlot]:
    """Waiting bookings from today on, in arrival order per day, with the places left (a place that
    freed up is offered to staff: the first of the queue can be confirmed)."""
    today = today or clock.today()
    bookings = list(Booking.select(Booking, Child, Unit, Activity, Household)
                    .join(Child, attr="child").switch(Booking)
                    .join(Unit, attr="unit").join(Activity, attr="activity").switch(Booking)
                    .join(Household, attr="household")
                    .where((Booking.status == "waiting_list") & (Booking.date >= today))
                    .order_by(Booking.date, Booking.unit, Booking.sequence).limit(limit))
    places = _places_left_bulk({(b.unit_id, b.date) for b in bookings}, {b.unit_id: b.unit for b in bookings})
    slots, positions = [], defaultdict(int)
    for booking in bookings:
        positions[(booking.unit_id, booking.date)] += 1
        slots.append(WaitingSlot(booking, positions[(booking.unit_id, booking.date)],
                                 places.get((booking.unit_id, booking.date))))
    return slots


def confirm_waiting(booking_id: int, staff: User | None = None) -> Booking:
    """Give a freed place to a waiting booking (placement.confirm_waiting); the family is told."""
    booking = Booking.get_or_none(Booking.id == booking_id)
    if booking is None:
        raise NotFound("Réservation introuvable.")
    with write_transaction():
        booking = placement.confirm_waiting(booking)
        notifications.notify(booking.household, "Place attribuée",
               f"Une place s'est libérée : votre réservation sur liste d'attente est confirmée : "
               f"{formatting.cell_name(booking.child, booking.unit, booking.date)}.")
    return booking


def notify_promotions(freed: list[Booking]) -> int:
    """Tell the families whose waiting booking a freed place went to: confirmed automatically (the
    booking is now booked or requested), or offered to staff (still "waiting_list": staff confirm it
    from /gestion/reservations). An offer is only told while a place is still free. Returns how many
    families were told."""
    told = 0
    seen: set[int] = set()
    for booking in freed:
        if booking.id in seen:
            continue
        seen.add(booking.id)
        booking = Booking.get_by_id(booking.id)
        name = formatting.cell_name(booking.child, booking.unit, booking.date)
        if booking.status == "waiting_list":
            left = placement.places_left(booking.unit, booking.date)
            if left is not None and left <= 0:
                continue
            notifications.notify(booking.household, "Place libérée",
                   f"Une place s'est libérée : {name}. Votre réservation sur liste d'attente est proposée "
                   "au service, qui vous confirmera la place.")
        elif booking.status in ("booked", "requested"):
            notifications.notify(booking.household, "Place attribuée",
                   f"Une place s'est libérée : {name} "
                   f"({engine.STATE_LABELS.get(booking.status, booking.status)}).")
        else:
            continue
        told += 1
    return told


def format_order_heading(order: Order) -> str:
    """'Commande n° 2026-000123 enregistrée le jeudi 19 novembre 2026 à 17 h 56'."""
    created = order.created_at
    if isinstance(created, str):
        created = dt.datetime.fromisoformat(created)
    return f"Commande n° {order.number} enregistrée le {formatting.date_long(created)} à {formatting.hour(created)}"


# --- Prepaid orders (régie "au comptant") ------------------------------------------------------



def held_bookings(order: Order) -> list[Booking]:
    return list(Booking.select().join(OrderLine, on=(OrderLine.booking == Booking.id))
                .where((OrderLine.order == order.id) & (Booking.status == "held")).order_by(Booking.date))


def confirm_prepaid_order(order: Order) -> Order:
    """The order is paid: its held days become booked (and prepaid: the monthly run skips them), the
    family is told. Its own write transaction (a savepoint when called inside one); a no-op unless
    the order awaits payment."""
    with write_transaction():
        lock_rows(Order, [order.id])  # two workers confirming at once: one books and tells the family
        order = Order.get_by_id(order.id)
        if order.payment_status != "awaiting_payment":
            return order
        held = held_bookings(order)
        lock_rows(Unit, {b.unit_id for b in held})
        for booking in held:
            Booking.update(status="booked", prepaid=True, updated_at=clock.local_now()).where(
                (Booking.id == booking.id) & (Booking.status == "held")).execute()
        order.payment_status = "paid"
        order.save()
        days = "\n".join(f"- {formatting.cell_name(b.child, b.unit, b.date)}" for b in held)
        notifications.notify(order.household, f"Commande n° {order.number} payée et confirmée",
               f"Nous avons bien reçu le paiement de {formatting.money(order.amount_due)} : "
               f"votre commande n° {order.number} est confirmée.\n{days}")
    return order


def _payment_under_way(order: Order, now: dt.datetime) -> bool:
    """Paid in full (confirmation pending), or a card payment started less than PAYMENT_SESSION ago."""
    allocated = (PaymentAllocation.select(fn.COALESCE(fn.SUM(PaymentAllocation.amount), 0))
                 .where(PaymentAllocation.order == order.id).scalar())
    if order.amount_due and int(allocated) >= order.amount_due:
        return True
    return OnlineTransaction.select().where((OnlineTransaction.order == order.id)
                                            & (OnlineTransaction.status == "pending")
                                            & (OnlineTransaction.created_at > now - PAYMENT_SESSION)).exists()


def expire_unpaid_orders(now: dt.datetime | None = None) -> int:
    """Prepaid orders not paid within the hour: their held days are cancelled, an avoir used on them
    is given back, the freed places go to the waiting lists, the family is told. Not an order whose
    money arrived (its confirmation is being retried) nor one with a card payment under way at the
    bank. Idempotent; run by the worker and by `flask expire-orders`. Returns the orders expired."""
    limit = clock.to_local_naive(now or clock.now())
    due = list(Order.select(Order.id).where((Order.payment_status == "awaiting_payment")
                                             & (Order.expires_at <= limit)).order_by(Order.id))
    expired = 0
    for row in due:
        freed: list[Booking] = []
        with write_transaction():
            query = Order.select().where(Order.id == row.id)
            order = query.get() if is_sqlite() else query.for_update().get()
            if order.payment_status != "awaiting_payment" or _payment_under_way(order, limit):
                continue  # paid (or expired) meanwhile, or the parent is paying right now
            held = held_bookings(order)
            lock_rows(Unit, {b.unit_id for b in held})
            for booking in held:
                booking.status, booking.updated_at = "cancelled", clock.local_now()
                booking.save()
            # The avoir used on this order is the family's again.
            PaymentAllocation.delete().where(PaymentAllocation.order == order.id).execute()
            order.payment_status = "expired"
            order.save()
            for unit_id, day in sorted({(b.unit_id, b.date) for b in held}):
                freed.extend(placement.free_places(Unit.get_by_id(unit_id), day))
            notifications.notify(order.household, f"Commande n° {order.number} expirée",
                   f"Votre commande n° {order.number} n'a pas été payée dans l'heure : les jours réservés "
                   "ont été libérés. Vous pouvez les remettre dans votre panier s'il reste de la place.")
            notify_promotions(freed)
            expired += 1
    return expired
