"""The ledger: where a household's money goes. Payments spread over the oldest unpaid invoices, the
avoir (money received and not allocated), refunds of paid days cancelled, and the money of prepaid
orders. A leaf: it reads and writes only models, inside its caller's write transaction.
"""
from __future__ import annotations

from peewee import fn

from models import Booking, Household, Invoice, Order, OrderLine, Payment, PaymentAllocation
from models.prepared import prepared
from services.core.transactions import is_sqlite, lock_rows, write_transaction


def locked_unpaid(household: Household, first: Invoice | None = None) -> list[Invoice]:
    """The household's unpaid invoices, oldest first (`first` before the others), rows locked."""
    query = (Invoice.select().where((Invoice.household == household) & (Invoice.kind == "invoice")
                                    & (Invoice.amount > Invoice.paid + Invoice.credited))
             .order_by(Invoice.issued_on, Invoice.id))
    if not is_sqlite():
        query = query.for_update()
    rows = list(query)
    if first is not None:
        rows.sort(key=lambda inv: inv.id != first.id)
    return rows


def allocate(payment: Payment, first: Invoice | None = None, amount: int | None = None) -> int:
    """Spread a payment (or `amount` of it) over unpaid invoices; returns what is left (avoir)."""
    remaining = payment.amount if amount is None else amount
    for invoice in locked_unpaid(payment.household, first):
        if remaining <= 0:
            break
        take = min(invoice.balance, remaining)
        PaymentAllocation.create(payment=payment, invoice=invoice, amount=take)
        Invoice.update(paid=Invoice.paid + take).where(Invoice.id == invoice.id).execute()
        remaining -= take
    return remaining


def apply_household_credit(household: Household) -> int:
    """Use the household's avoir (payment money not yet allocated) on its unpaid invoices, oldest
    first; returns the cents used. Called when an invoice is issued and before a card payment."""
    used = 0
    with write_transaction(savepoint=False):  # an error here is one of the caller's: it undoes all
        for payment in _payments_with_money_left(household.id):
            if payment.left > 0:
                used += payment.left - allocate(payment, amount=payment.left)
    return used


@prepared  # asked for each household an invoicing run issues to (most have no payment): one query, composed once
def _payments_with_money_left(household):
    """The household's payments, oldest first, each with `left`: its money not allocated yet."""
    allocated = (PaymentAllocation.select(fn.COALESCE(fn.SUM(PaymentAllocation.amount), 0))
                 .where(PaymentAllocation.payment == Payment.id))
    return (Payment.select(Payment, (Payment.amount - allocated).alias("left"))
            .where(Payment.household == household).order_by(Payment.received_on, Payment.id))


def refund_prepaid_days(bookings) -> int:
    """Cancelled days that were paid with their order become an avoir: the order's allocations shrink
    by each day's price (newest payment first), so the money counts as household credit again.
    Call inside the transaction that cancels them; returns the cents refunded."""
    refunded = 0
    for booking in bookings:
        if not booking.prepaid:
            continue
        line = (OrderLine.select().where((OrderLine.booking == booking.id) & (OrderLine.action == "add"))
                .order_by(OrderLine.id.desc()).first())
        due = (line.price if line and line.price is not None else booking.price) or 0
        if line is not None:
            for allocation in (PaymentAllocation.select().where(PaymentAllocation.order == line.order_id)
                               .order_by(PaymentAllocation.id.desc())):
                take = min(due, allocation.amount)
                if take <= 0:
                    break
                if take == allocation.amount:
                    allocation.delete_instance()
                else:
                    PaymentAllocation.update(amount=PaymentAllocation.amount - take).where(
                        PaymentAllocation.id == allocation.id).execute()
                due -= take
                refunded += take
        Booking.update(prepaid=False).where(Booking.id == booking.id).execute()
    return refunded


def household_credit(household: Household) -> int:
    """Money received and not allocated to any invoice (avoir), in cents."""
    received = Payment.select(fn.COALESCE(fn.SUM(Payment.amount), 0)).where(Payment.household == household).scalar()
    allocated = (PaymentAllocation.select(fn.COALESCE(fn.SUM(PaymentAllocation.amount), 0))
                 .join(Payment).where(Payment.household == household).scalar())
    return int(received) - int(allocated)


def order_balance(order: Order) -> int:
    """What is left to pay on a prepaid order (cents): its amount due minus avoir and card money."""
    paid = (PaymentAllocation.select(fn.COALESCE(fn.SUM(PaymentAllocation.amount), 0))
            .where(PaymentAllocation.order == order.id).scalar())
    return max(order.amount_due - int(paid), 0)


def locked_order(order: Order) -> Order:
    """The order, its row locked (PostgreSQL; SQLite's write transaction already holds the lock)."""
    query = Order.select().where(Order.id == order.id)
    return query.get() if is_sqlite() else query.for_update().get()


def credit_to_order(order: Order) -> int:
    """Use the household's avoir (unallocated payment money, oldest first) on the order; returns cents used."""
    needed = order_balance(order)
    used = 0
    allocated = (PaymentAllocation.select(PaymentAllocation.payment, fn.SUM(PaymentAllocation.amount))
                 .join(Payment).where(Payment.household == order.household_id)
                 .group_by(PaymentAllocation.payment).tuples())
    taken = {payment_id: int(total or 0) for payment_id, total in allocated}
    for payment in (Payment.select().where(Payment.household == order.household_id)
                    .order_by(Payment.received_on, Payment.id)):
        if used >= needed:
            break
        take = min(payment.amount - taken.get(payment.id, 0), needed - used)
        if take > 0:
            PaymentAllocation.create(payment=payment, order=order, amount=take)
            used += take
    return used


def pay_invoice_up_to_balance(payment: Payment, invoice: Invoice) -> int:
    """Allocate a payment to one invoice, up to what is still due on it (row locked); returns the
    surplus, which stays the household's avoir (never spread silently over other invoices)."""
    lock_rows(Invoice, [invoice.id])
    invoice = Invoice.get_by_id(invoice.id)
    take = min(max(invoice.balance, 0), payment.amount)
    if take > 0:
        PaymentAllocation.create(payment=payment, invoice=invoice, amount=take)
        Invoice.update(paid=Invoice.paid + take).where(Invoice.id == invoice.id).execute()
    return payment.amount - take


def pay_order_up_to_balance(payment: Payment, order: Order) -> int:
    """Allocate a payment to an order awaiting payment, up to its balance (row locked); returns the
    surplus (all of it when the order is paid or expired), which stays the household's avoir."""
    order = locked_order(order)
    take = min(payment.amount, order_balance(order)) if order.payment_status == "awaiting_payment" else 0
    if take > 0:
        PaymentAllocation.create(payment=payment, order=order, amount=take)
    return payment.amount - take
