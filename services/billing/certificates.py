"""Attestation fiscale de frais de garde: what a household paid in a calendar year for the childcare
of its children under 6 on 1 January of that year (garderie and ALSH; meals excluded, as the tax
credit for "frais de garde" requires).

A payment settles invoices, or prepaid orders (PaymentAllocation); the eligible share of each
allocation is the share of the invoice's (or order's) amount that comes from eligible lines (pro
rata, in cents, rounded down).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from models import (
    Activity,
    Child,
    Household,
    Invoice,
    InvoiceLine,
    Order,
    OrderLine,
    Payment,
    PaymentAllocation,
    Unit,
)

CHILDCARE_KINDS = ("garderie", "alsh_mercredi", "alsh_vacances")


def under_six_on_first_january(child: Child, year: int) -> bool:
    """Born after 1 January of year − 6 (a child turning 6 on 1 January is no longer eligible)."""
    if child.birth_date is None:
        return False
    return child.birth_date > dt.date(year - 6, 1, 1)


def is_childcare_line(line: InvoiceLine) -> bool:
    """Garderie and ALSH lines, meals (a "Repas" unit, even within the ALSH) excluded."""
    return line.activity_kind in CHILDCARE_KINDS and "repas" not in line.label.lower()


@dataclass
class ChildAmount:
    child: Child
    amount: int = 0


@dataclass
class Statement:
    household: Household
    year: int
    children: list[ChildAmount] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(c.amount for c in self.children)


def eligible_children(household: Household, year: int) -> list[Child]:
    children = Child.select().where(Child.household == household).order_by(Child.position, Child.id)
    return [c for c in children if under_six_on_first_january(c, year)]


def statement(household: Household, year: int) -> Statement:
    """Amounts paid in `year` for each eligible child's childcare."""
    children = eligible_children(household, year)
    result = Statement(household, year, [ChildAmount(c) for c in children])
    if not children:
        return result
    ids = {c.id for c in children}
    paid_in_year = (Payment.household == household) & Payment.received_on.between(dt.date(year, 1, 1),
                                                                                   dt.date(year, 12, 31))
    per_child: dict[int, int] = defaultdict(int)
    _add_pro_rata(per_child, _invoice_allocations(paid_in_year, ids), lambda invoice: invoice.amount)
    _add_pro_rata(per_child, _order_allocations(paid_in_year, ids), lambda order: order.amount_due)
    for item in result.children:
        item.amount = per_child.get(item.child.id, 0)
    return result


def _invoice_allocations(paid_in_year, child_ids: set[int]):
    """Allocations to invoices paid in the year, with each invoice's eligible amount per child."""
    allocations = list(PaymentAllocation.select(PaymentAllocation, Payment, Invoice).join(Payment)
                       .switch(PaymentAllocation).join(Invoice).where(paid_in_year))
    shares: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    invoice_ids = list({a.invoice_id for a in allocations})
    if invoice_ids:
        for line in InvoiceLine.select().where(InvoiceLine.invoice.in_(invoice_ids)):
            if line.child_id in child_ids and is_childcare_line(line):
                shares[line.invoice_id][line.child_id] += line.amount
    return [(a, a.invoice, shares.get(a.invoice_id, {})) for a in allocations]


def _order_allocations(paid_in_year, child_ids: set[int]):
    """Allocations to prepaid orders paid in the year, with each order's eligible amount per child."""
    allocations = list(PaymentAllocation.select(PaymentAllocation, Payment, Order).join(Payment)
                       .switch(PaymentAllocation).join(Order).where(paid_in_year))
    shares: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    order_ids = list({a.order_id for a in allocations})
    if order_ids:
        lines = (OrderLine.select(OrderLine, Unit, Activity).join(Unit).join(Activity)
                 .where(OrderLine.order.in_(order_ids) & (OrderLine.action == "add")))
        for line in lines:
            childcare = line.unit.activity.kind in CHILDCARE_KINDS and "repas" not in line.unit.name.lower()
            if line.child_id in child_ids and childcare:
                shares[line.order_id][line.child_id] += line.price or 0
    return [(a, a.order, shares.get(a.order_id, {})) for a in allocations]


def _add_pro_rata(per_child: dict[int, int], allocations, total_of) -> None:
    """Add to each child the eligible share of every allocation (pro rata of the settled document)."""
    for allocation, document, shares in allocations:
        total = total_of(document)
        if not total:
            continue
        for child_id, eligible in shares.items():
            per_child[child_id] += allocation.amount * eligible // total


def years_available(household: Household) -> list[int]:
    """Years in which the household paid something, newest first."""
    years = {p.received_on.year for p in Payment.select(Payment.received_on).where(Payment.household == household)}
    return sorted(years, reverse=True)
