"""The staff journal of card payments (« Paiements en ligne »): every online transaction with its state
in words, filters by state and day, and the money received per day that a régisseur reconciles with
the treasury's statement (DGFiP). Reads only; checking a transaction is online_payments.check_transaction."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from peewee import JOIN

from models import Household, Invoice, OnlineTransaction, Order, Payment
from services.billing.online_payments import STATE_LABELS

FILTERS = [("", "Tous les états"), *STATE_LABELS.items()]
ICONS = {"pending": "⏳", "paid": "✔", "refused": "✖", "cancelled": "↩", "anomaly": "⚠"}


@dataclass
class Row:
    transaction: OnlineTransaction
    label: str  # the state in words, e.g. « Payé – commande à confirmer »
    what: str  # « Facture F2026-11-00001 » or « Commande n° 2026-000123 »
    to_confirm: bool = False  # paid, but its order's confirmation failed (the worker retries)

    @property
    def checkable(self) -> bool:
        """Whether « Vérifier auprès de PayFiP » applies: pending, or paid with its order still to confirm."""
        return self.transaction.status == "pending" or self.to_confirm


def _row(transaction: OnlineTransaction) -> Row:
    label = STATE_LABELS.get(transaction.status, transaction.status)
    order = transaction.order if transaction.order_id else None
    to_confirm = transaction.status == "paid" and order is not None and order.payment_status == "awaiting_payment"
    if to_confirm:
        label += " – commande à confirmer"
    if order is not None:
        what = f"Commande n° {order.number}"
    else:
        what = f"Facture {transaction.invoice.number}" if transaction.invoice_id else "—"
    return Row(transaction, label, what, to_confirm)


def transactions(state: str = "", day: dt.date | None = None, limit: int = 500) -> list[Row]:
    """Newest first; `state` one of STATE_LABELS; `day` keeps those started or completed that day."""
    query = (OnlineTransaction.select(OnlineTransaction, Household, Invoice, Order)
             .join(Household, attr="household").switch(OnlineTransaction)
             .join(Invoice, JOIN.LEFT_OUTER, on=(OnlineTransaction.invoice == Invoice.id), attr="invoice")
             .switch(OnlineTransaction)
             .join(Order, JOIN.LEFT_OUTER, on=(OnlineTransaction.order == Order.id), attr="order")
             .order_by(OnlineTransaction.created_at.desc(), OnlineTransaction.id.desc()).limit(limit))
    if state in STATE_LABELS:
        query = query.where(OnlineTransaction.status == state)
    if day is not None:
        start, end = dt.datetime.combine(day, dt.time()), dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
        query = query.where(((OnlineTransaction.created_at >= start) & (OnlineTransaction.created_at < end))
                            | ((OnlineTransaction.completed_at >= start) & (OnlineTransaction.completed_at < end)))
    return [_row(t) for t in query]


@dataclass
class DayTotal:
    day: dt.date
    count: int = 0
    amount: int = 0  # cents received by card that day
    surplus: int = 0  # of which paid twice (anomalies kept as avoir)


def day_totals(month: dt.date) -> tuple[list[DayTotal], DayTotal]:
    """Card money received per day of `month` (the bank's day of payment), and the month's total:
    every transaction that produced a Payment, paid ones and second payments kept as avoir."""
    first = month.replace(day=1)
    after = (first + dt.timedelta(days=32)).replace(day=1)
    rows = (Payment.select(Payment.received_on, Payment.amount, OnlineTransaction.status)
            .join(OnlineTransaction, on=(OnlineTransaction.payment == Payment.id))
            .where((Payment.received_on >= first) & (Payment.received_on < after))
            .order_by(Payment.received_on).tuples())
    days: dict[dt.date, DayTotal] = {}
    total = DayTotal(first)
    for received_on, amount, status in rows:
        for bucket in (days.setdefault(received_on, DayTotal(received_on)), total):
            bucket.count += 1
            bucket.amount += amount
            bucket.surplus += amount if status == "anomaly" else 0
    return list(days.values()), total


CSV_HEADER = ["Créée le", "Terminée le", "État", "Foyer", "Objet", "Montant", "Transaction", "Note"]


def csv_rows(day: dt.date) -> list[list[str]]:
    """The transactions of one day for a spreadsheet (oldest first, amounts in euros with a comma)."""
    rows = []
    for row in reversed(transactions(day=day, limit=10_000)):
        item = row.transaction
        rows.append([f"{item.created_at:%d/%m/%Y %H:%M}", f"{item.completed_at:%d/%m/%Y %H:%M}" if item.completed_at else "",
                     row.label, item.household.name, row.what, f"{item.amount / 100:.2f}".replace(".", ","),
                     item.transaction_id, item.note])
    return rows
