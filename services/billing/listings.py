"""What the régisseur reads: overdue counts, the latest invoices and payments, and what the CSV
exports of invoices and payments list. Each is a bounded number of queries however many households
the commune has (joins, one query per related table, date ranges in SQL); the views write the cells."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from peewee import JOIN, SQL

from models import Household, Invoice, Order, Payment, PaymentAllocation, Regie
from services.core import clock


def with_regie_and_household(query):
    """An invoice query joined to its régie and household (select them too: one query for a list)."""
    return query.join(Regie, attr="regie").switch(Invoice).join(Household, attr="household").switch(Invoice)


UNPAID = (Invoice.kind == "invoice") & (Invoice.amount > Invoice.paid + Invoice.credited)


def overdue_count(today: dt.date | None = None) -> int:
    """How many unpaid invoices are past their due date (counted by the database)."""
    today = today or clock.today()
    return Invoice.select().where(UNPAID & (Invoice.due_on < today)).count()


def recent_invoices(limit: int = 15) -> list[Invoice]:
    query = with_regie_and_household(Invoice.select(Invoice, Regie, Household))
    return list(query.order_by(Invoice.issued_at.desc(), Invoice.id.desc()).limit(limit))


def recent_payments(limit: int = 10) -> list[Payment]:
    return list(Payment.select(Payment, Household).join(Household, attr="household")
                .order_by(Payment.recorded_at.desc(), Payment.id.desc()).limit(limit))


def in_period(field, year: int | None, month: int | None):
    """The SQL condition « the date is in that year (and month) », or « in that month of any year »
    when only the month is given; None when neither is (0 counts as not given)."""
    year, month = year or None, month or None
    if year is None:
        return None if month is None else field.month == month
    if not 1 <= year <= 9999:
        return SQL("1 = 0")
    start = dt.date(year, month or 1, 1)
    if month is None or month == 12:
        end = dt.date(year + 1, 1, 1) if year < 9999 else None
    else:
        end = dt.date(year, month + 1, 1)
    return (field >= start) if end is None else ((field >= start) & (field < end))


def invoices_for_export(year: int | None = None, month: int | None = None,
                        run_id: int | None = None) -> list[Invoice]:
    """The invoices and credit notes of the CSV export, by régie, date and number, with their régie,
    household and corrected invoice (one query); optionally of one year and/or month of issue, or
    of one invoicing run."""
    corrected = Invoice.alias("corrected")
    query = (with_regie_and_household(Invoice.select(Invoice, Regie, Household, corrected.id, corrected.number))
             .join(corrected, JOIN.LEFT_OUTER, on=(Invoice.corrects == corrected.id), attr="corrects")
             .order_by(Invoice.regie, Invoice.issued_on, Invoice.number))
    if run_id is not None:
        query = query.where(Invoice.run == run_id)
    period = in_period(Invoice.issued_on, year, month)
    if period is not None:
        query = query.where(period)
    return list(query)


def payments_for_export(year: int | None = None,
                        month: int | None = None) -> list[tuple[Payment, list[tuple[str, int]]]]:
    """The payments of the CSV export by date of receipt, with their household, each with what it
    settled: (invoice number, or « commande n° … » for a prepaid order; cents), in two queries;
    optionally of one year and/or month."""
    query = (Payment.select(Payment, Household).join(Household, attr="household")
             .order_by(Payment.received_on, Payment.id))
    period = in_period(Payment.received_on, year, month)
    if period is not None:
        query = query.where(period)
    payments = list(query)
    settled: dict[int, list[tuple[str, int]]] = {}
    if payments:
        allocations = (PaymentAllocation.select(PaymentAllocation.payment, PaymentAllocation.amount,
                                                Invoice.number, Order.number)
                       .join(Invoice, JOIN.LEFT_OUTER, on=(PaymentAllocation.invoice == Invoice.id))
                       .switch(PaymentAllocation)
                       .join(Order, JOIN.LEFT_OUTER, on=(PaymentAllocation.order == Order.id))
                       .where(PaymentAllocation.payment.in_(query.select(Payment.id).order_by()))
                       .order_by(PaymentAllocation.payment, PaymentAllocation.id).tuples())
        for payment_id, amount, invoice_number, order_number in allocations:
            what = invoice_number if invoice_number is not None else f"commande n° {order_number}"
            settled.setdefault(payment_id, []).append((what, amount))
    return [(item, settled.get(item.id, [])) for item in payments]


INVOICES_PER_PAGE = 12


@dataclass
class HouseholdInvoices:
    """One page of a family's invoices (newest first) with the year and month filters' counts."""

    rows: list[Invoice]
    years: list[tuple[int, int]]  # (year, invoices that year), newest first
    months: list[tuple[int, int]]  # (month, invoices that month) within the chosen year, or every year
    due: int  # cents left to pay on every invoice, whatever the filter
    page: int
    pages: int


def household_invoices(household: Household, year: int | None, month: int | None, page: int,
                       per_page: int = INVOICES_PER_PAGE) -> HouseholdInvoices:
    """The family's invoices and credit notes, filtered by year/month, `page` clamped to the last."""
    every = list(Invoice.select(Invoice, Regie).join(Regie, attr="regie").where(Invoice.household == household)
                 .order_by(Invoice.issued_on.desc(), Invoice.id.desc()))
    shown = [i for i in every if (year is None or i.issued_on.year == year)
             and (month is None or i.issued_on.month == month)]
    pages = max(1, -(-len(shown) // per_page))
    page = min(max(page, 1), pages)
    return HouseholdInvoices(
        rows=shown[(page - 1) * per_page:page * per_page],
        years=sorted(Counter(i.issued_on.year for i in every).items(), reverse=True),
        months=sorted(Counter(i.issued_on.month for i in every if year is None or i.issued_on.year == year).items()),
        due=sum(i.balance for i in every), page=page, pages=pages)
