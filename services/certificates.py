"""Attestation fiscale de frais de garde: what a household paid in a calendar year for the childcare
of its children under 6 on 1 January of that year (garderie and ALSH; meals excluded, as the tax
credit for "frais de garde" requires).

A payment settles invoices (PaymentAllocation); the eligible share of each allocation is the share
of the invoice's amount that comes from eligible lines (pro rata, in cents, rounded down).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from models import Child, Household, Invoice, InvoiceLine, Payment, PaymentAllocation

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
    allocations = list(PaymentAllocation.select(PaymentAllocation, Payment, Invoice).join(Payment)
                       .switch(PaymentAllocation).join(Invoice)
                       .where((Payment.household == household)
                              & Payment.received_on.between(dt.date(year, 1, 1), dt.date(year, 12, 31))))
    invoice_ids = {a.invoice_id for a in allocations}
    shares: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for line in InvoiceLine.select().where(InvoiceLine.invoice.in_(list(invoice_ids)) if invoice_ids else False):
        if line.child_id in ids and is_childcare_line(line):
            shares[line.invoice_id][line.child_id] += line.amount
    per_child: dict[int, int] = defaultdict(int)
    for allocation in allocations:
        invoice = allocation.invoice
        if not invoice.amount:
            continue
        for child_id, eligible in shares.get(invoice.id, {}).items():
            per_child[child_id] += allocation.amount * eligible // invoice.amount
    for item in result.children:
        item.amount = per_child.get(item.child.id, 0)
    return result


def years_available(household: Household) -> list[int]:
    """Years in which the household paid something, newest first."""
    years = {p.received_on.year for p in Payment.select(Payment.received_on).where(Payment.household == household)}
    return sorted(years, reverse=True)
