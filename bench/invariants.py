"""Database invariants after a concurrent or interrupted run, each reported as OK or FAILED."""
from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

from peewee import JOIN, fn

from models import (
    BasketLine,
    Booking,
    CapacityOverride,
    Child,
    Household,
    Invoice,
    InvoiceLine,
    InvoicingRun,
    NumberCounter,
    Order,
    OrderCounter,
    OrderLine,
    OutgoingMail,
    Unit,
)

CHARGED = ("booked", "requested", "held")  # services.booking.basket._line_total: what an order line adds
REFUNDED = ("cancelled", "cancel_requested")  # … and what it takes off


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""

    def line(self) -> str:
        return f"  {'OK    ' if self.ok else 'FAILED'}  {self.name}" + (f" : {self.detail}" if self.detail else "")


@dataclass
class Before:
    """What the database held before the run, to tell what the run created or changed."""

    last_order: int = 0
    last_booking: int = 0
    statuses: dict[int, str] = field(default_factory=dict)
    days: tuple | None = None  # (first, last): only bookings of these days are followed (a big commune)


def _on_days(query, days):
    return query.where(Booking.date.between(*days)) if days else query


def before(days: tuple | None = None) -> Before:
    """What the database holds now; `days` (first, last) limits the bookings followed to that range."""
    return Before(last_order=Order.select(fn.MAX(Order.id)).scalar() or 0,
                  last_booking=Booking.select(fn.MAX(Booking.id)).scalar() or 0,
                  statuses=dict(_on_days(Booking.select(Booking.id, Booking.status), days).tuples()), days=days)


def _sample(items, n: int = 5) -> str:
    items = list(items)
    return ", ".join(str(i) for i in items[:n]) + (f" … ({len(items)} en tout)" if len(items) > n else "")


def no_duplicate_booking() -> Check:
    rows = list(Booking.select(Booking.child, Booking.unit, Booking.date, fn.COUNT(Booking.id))
                .group_by(Booking.child, Booking.unit, Booking.date).having(fn.COUNT(Booking.id) > 1).tuples())
    return Check("aucune réservation en double (enfant, prestation, jour)", not rows, _sample(rows))


def capacity_respected() -> Check:
    capacities = {u.id: u.capacity for u in Unit.select() if u.capacity is not None}
    overrides = {(o.unit_id, str(o.date)): o.capacity for o in CapacityOverride.select()}
    counts = (Booking.select(Booking.unit, Booking.date, fn.COUNT(Booking.id))
              .where(Booking.status.in_(Booking.OCCUPYING)).group_by(Booking.unit, Booking.date).tuples())
    over = []
    for unit_id, day, n in counts:
        capacity = overrides.get((unit_id, str(day)), capacities.get(unit_id))
        if capacity is not None and n > capacity:
            over.append(f"prestation {unit_id} le {day} : {n} > {capacity}")
    return Check("aucune prestation au-delà de sa capacité", not over, _sample(over))


def orders_whole(since: int = 0) -> Check:
    """Every order (created after `since`) has lines, and a total equal to their signed prices."""
    lines = defaultdict(list)
    for line in OrderLine.select(OrderLine.order, OrderLine.outcome, OrderLine.price).where(OrderLine.order > since):
        lines[line.order_id].append(line)
    bad = []
    orders = list(Order.select(Order.id, Order.number, Order.total).where(Order.id > since))
    for order in orders:
        mine = lines.get(order.id, [])
        total = sum((l.price or 0) if l.outcome in CHARGED else -(l.price or 0) if l.outcome in REFUNDED else 0
                    for l in mine)
        if not mine:
            bad.append(f"{order.number} sans ligne")
        elif total != order.total:
            bad.append(f"{order.number} : total {order.total} ≠ lignes {total}")
    return Check(f"chaque commande a ses lignes et un total égal à leur somme ({len(orders)} commandes)",
                 not bad, _sample(bad))


def numbering_gapless() -> Check:
    by_year = defaultdict(list)
    for number in Order.select(Order.number).tuples():
        year, _, n = number[0].partition("-")
        by_year[int(year)].append(int(n))
    problems = []
    for year, numbers in sorted(by_year.items()):
        if len(numbers) != len(set(numbers)):
            problems.append(f"{year} : numéros en double")
        expected = set(range(1, max(numbers) + 1))
        if set(numbers) != expected:
            problems.append(f"{year} : manquent {_sample(sorted(expected - set(numbers)))}")
        counter = OrderCounter.get_or_none(OrderCounter.year == year)
        if counter is None or counter.last != max(numbers):
            problems.append(f"{year} : compteur à {counter.last if counter else '-'}, dernier numéro {max(numbers)}")
    summary = ", ".join(f"{year} : 1 → {max(n)}" for year, n in sorted(by_year.items()))
    return Check(f"numéros de commande uniques et sans trou ({summary})", not problems, "; ".join(problems))


def basket_lines_attached() -> Check:
    """No basket line for a missing household, child or unit, nor for a child of another household."""
    rows = list(BasketLine.select(BasketLine.id)
                .join(Child, JOIN.LEFT_OUTER, on=(BasketLine.child == Child.id)).switch(BasketLine)
                .join(Household, JOIN.LEFT_OUTER, on=(BasketLine.household == Household.id)).switch(BasketLine)
                .join(Unit, JOIN.LEFT_OUTER, on=(BasketLine.unit == Unit.id))
                .where(Child.id.is_null() | Household.id.is_null() | Unit.id.is_null()
                       | (Child.household != BasketLine.household)).tuples())
    return Check("aucune ligne de panier orpheline", not rows, _sample(r[0] for r in rows))


def bookings_have_order_lines(start: Before) -> Check:
    """Every booking the run created or changed is on an order line."""
    # A waiting booking promoted to a freed place keeps the line of the order that queued it.
    referenced = {r[0] for r in OrderLine.select(OrderLine.booking).where(OrderLine.booking.is_null(False)).tuples()}
    missing, touched = [], 0
    for booking_id, status in _on_days(Booking.select(Booking.id, Booking.status), start.days).tuples():
        was = start.statuses.get(booking_id)
        if was == status:
            continue
        touched += 1
        promoted = was == "waiting_list" and status in Booking.OCCUPYING
        if booking_id not in referenced and not promoted:
            missing.append(f"{booking_id} ({was or 'nouvelle'} → {status})")
    return Check(f"chaque réservation créée ou modifiée a sa ligne de commande ({touched} touchées)",
                 not missing, _sample(missing))


def reported_orders_exist(order_ids) -> Check:
    ids = set(order_ids)
    found = {r[0] for r in Order.select(Order.id).where(Order.id.in_(list(ids))).tuples()} if ids else set()
    return Check(f"chaque commande annoncée à un parent existe ({len(ids)})", found == ids, _sample(ids - found))


def wait_for_outbox(timeout: float) -> Check:
    """Wait until the worker has sent every mail (none pending or being sent), or the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        counts = dict(OutgoingMail.select(OutgoingMail.status, fn.COUNT(OutgoingMail.id))
                      .group_by(OutgoingMail.status).tuples())
        waiting = counts.get("pending", 0) + counts.get("sending", 0)
        if (not waiting and not counts.get("failed")) or time.monotonic() > deadline:
            break
        time.sleep(1)
    detail = ", ".join(f"{status} : {n}" for status, n in sorted(counts.items()))
    return Check(f"courriels tous envoyés par le worker ({detail})", not waiting and not counts.get("failed"))


def invoices_whole() -> Check:
    """Every invoice has lines, and an amount equal to their sum."""
    sums = dict(InvoiceLine.select(InvoiceLine.invoice, fn.SUM(InvoiceLine.amount)).group_by(InvoiceLine.invoice).tuples())
    bad = [f"{i.number} : {i.amount} ≠ lignes {sums.get(i.id)}"
           for i in Invoice.select(Invoice.id, Invoice.number, Invoice.amount).where(Invoice.kind == "invoice")
           if sums.get(i.id) != i.amount]
    total = Invoice.select().where(Invoice.kind == "invoice").count()
    return Check(f"chaque facture a ses lignes et un montant égal à leur somme ({total} factures)", not bad, _sample(bad))


def invoice_numbers_gapless() -> Check:
    """Per régie, kind and year: ranks 1 → the counter's last, each once (numbers since régie codes)."""
    ranks = defaultdict(list)
    for regie_id, number in (Invoice.select(Invoice.regie, Invoice.number)
                             .where(Invoice.legacy_series == "").tuples()):
        # « PERI-2026-11-00002 » (invoice, counter kind F), « PERI-A2026-11-00001 » (credit note, kind A)
        _code, year, _month, rank = number.split("-")
        kind = "A" if year.startswith("A") else "F"
        ranks[(regie_id, kind, int(year.lstrip("A")))].append(int(rank))
    problems, summary = [], []
    for counter in NumberCounter.select():
        got = ranks.pop((counter.regie_id, counter.kind, counter.year), [])
        if sorted(got) != list(range(1, counter.last + 1)):
            missing = sorted(set(range(1, counter.last + 1)) - set(got))
            problems.append(f"régie {counter.regie_id} {counter.kind}{counter.year} : {len(got)} numéros pour "
                            f"{counter.last}, manquent {_sample(missing)}")
        summary.append(f"{counter.regie.code} {counter.kind}{counter.year} : 1 → {counter.last}")
    problems += [f"numéros sans compteur : {key}" for key in ranks]
    return Check(f"numéros de facture uniques et sans trou ({', '.join(summary)})", not problems, "; ".join(problems))


def run_resumed_whole(run_id: int) -> Check:
    """An invoicing run resumed after a kill: done, exact counters, one invoice per household and period."""
    run = InvoicingRun.get_by_id(run_id)
    issued = Invoice.select().where(Invoice.run == run_id).count()
    twice = list(Invoice.select(Invoice.household, fn.COUNT(Invoice.id))
                 .where((Invoice.regie == run.regie_id) & (Invoice.period_start == run.period_start)
                        & (Invoice.kind == "invoice"))
                 .group_by(Invoice.household).having(fn.COUNT(Invoice.id) > 1).tuples())
    problems = []
    if run.status != "done" or run.households_done != run.households_total:
        problems.append(f"état {run.status}, {run.households_done} / {run.households_total} foyers")
    if issued != run.invoices_issued:
        problems.append(f"{issued} factures pour un compteur à {run.invoices_issued}")
    if twice:
        problems.append(f"foyers facturés deux fois : {_sample(twice)}")
    return Check(f"facturation reprise terminée : {run.households_done} / {run.households_total} foyers, "
                 f"{issued} factures, tentative n° {run.attempt}, aucun foyer facturé deux fois",
                 not problems, "; ".join(problems))


def nothing_changed_after(moment, tried: int) -> Check:
    """No booking, basket line, order or order line written at or after `moment` (a deadline passed
    while `tried` changes were attempted)."""
    late = {"réservations": Booking.select().where((Booking.created_at >= moment) | (Booking.updated_at >= moment)),
            "lignes de panier": BasketLine.select().where(BasketLine.created_at >= moment),
            "commandes": Order.select().where(Order.created_at >= moment)}
    found = {name: query.count() for name, query in late.items()}
    written = [f"{name} : {n}" for name, n in found.items() if n]
    return Check(f"aucun changement enregistré après {moment:%H:%M} ({tried} tentatives, toutes refusées)",
                 not written, ", ".join(written))


def all_checks(start: Before, order_ids=()) -> list[Check]:
    return [no_duplicate_booking(), capacity_respected(), orders_whole(), numbering_gapless(),
            basket_lines_attached(), bookings_have_order_lines(start), reported_orders_exist(order_ids),
            invoices_whole(), invoice_numbers_gapless()]
