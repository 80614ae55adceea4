"""Payments: manual règlements received by the régie, and the confirmation of prepaid orders once
their money is in. Where the money goes (allocation, avoir, refunds) is services/billing/ledger.py;
card payments through the bank are services/billing/online_payments.py.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from models import Household, Invoice, OnlineTransaction, Order, Payment, PaymentAllocation, ReceiptCounter, User
from services.billing import ledger
from services.booking import orders
from services.core import clock, events
from services.core.errors import InvalidInput
from services.core.transactions import next_in_series, write_transaction

MANUAL_MODES = ("cheque", "especes", "cesu", "ancv", "virement")
CONFIRMATION_FAILED = "Payé, mais la confirmation de la commande"
log = logging.getLogger("portail.payments")


# --- Manual payments -------------------------------------------------------------


def record_payment(household: Household, mode: str, amount: int, received_on: dt.date, reference: str = "",
                   user: User | None = None) -> Payment:
    """A règlement received by the régie (espèces, chèque, CESU, chèques-vacances, virement), oldest
    invoices first, with the next receipt number of the year (gapless: taken in the same transaction)."""
    if mode not in MANUAL_MODES:
        raise InvalidInput("Choisissez un mode de règlement : espèces, chèque, CESU, chèques-vacances ou virement.",
                           "mode")
    if amount is None or amount <= 0:
        raise InvalidInput("Le montant doit être supérieur à 0 €.", "amount")
    if amount > 10_000_00:
        raise InvalidInput("Le montant dépasse 10 000 € : vérifiez la saisie.", "amount")
    if received_on > clock.today():
        raise InvalidInput("La date de réception ne peut pas être dans le futur.", "received_on")
    with write_transaction():
        payment = Payment.create(household=household, mode=mode, amount=amount, received_on=received_on,
                                 reference=(reference or "").strip()[:120], recorded_at=clock.local_now(),
                                 recorded_by=user, receipt_number=next_receipt_number(clock.today().year))
        ledger.allocate(payment)
    events.emit("payment_recorded", payment=payment.id, mode=mode, amount=amount, household=household.id,
                user=user.id if user else None)
    return payment


def next_receipt_number(year: int) -> str:
    """« R2026-000012 »: the year's next receipt number (inside the transaction that records the payment)."""
    return f"R{year}-{next_in_series(ReceiptCounter, year=year):06d}"


@dataclass
class Receipt:
    """What a « Reçu » prints: the payment, what it settled (label, date, cents) and the rest kept as avoir."""

    payment: Payment
    settled: list[tuple[str, dt.date | None, int]]

    @property
    def number(self) -> str:
        return self.payment.receipt_number or str(self.payment.id)

    @property
    def unallocated(self) -> int:
        return self.payment.amount - sum(amount for _label, _day, amount in self.settled)

    @property
    def staff_name(self) -> str:
        """The staff member who recorded it (empty for a card payment or a direct debit)."""
        user = self.payment.recorded_by
        return user.display_name if user is not None and user.is_staff else ""


def receipt(payment: Payment) -> Receipt:
    """The receipt of a payment: the invoices (and prepaid orders) it settled, oldest first."""
    settled = []
    for allocation in (PaymentAllocation.select().where(PaymentAllocation.payment == payment.id)
                       .order_by(PaymentAllocation.id)):
        if allocation.invoice_id:
            invoice = Invoice.get_by_id(allocation.invoice_id)
            settled.append((f"Facture {invoice.number} ({invoice.regie.name})", invoice.issued_on, allocation.amount))
        elif allocation.order_id:
            order = Order.get_by_id(allocation.order_id)
            settled.append((f"Commande n° {order.number}", order.created_at.date(), allocation.amount))
    return Receipt(payment, settled)


# --- Prepaid orders (régie "au comptant") -------------------------------------------------------


def confirm_paid_order(order: Order) -> bool:
    """Once an order's money is in (card or avoir), confirm it in its own write transaction, after
    the one that recorded the money. A failure leaves the money where it is and a note on the card
    transaction for staff; the worker retries. Returns whether it was confirmed now."""
    order = Order.get_by_id(order.id)
    if order.payment_status != "awaiting_payment" or ledger.order_balance(order) > 0:
        return False
    card = (OnlineTransaction.select().where((OnlineTransaction.order == order.id) & (OnlineTransaction.status == "paid"))
            .order_by(OnlineTransaction.id.desc()).first())
    try:
        orders.confirm_prepaid_order(order)
    except Exception as error:  # noqa: BLE001 - whatever failed, the money stays recorded
        log.exception("confirmation de la commande %s en échec", order.number)
        if card is not None:
            note = (f"{CONFIRMATION_FAILED} n° {order.number} a échoué le {clock.local_now():%d/%m/%Y à %H:%M} "
                    f"({type(error).__name__}) : nouvel essai automatique.")
            with write_transaction():
                OnlineTransaction.update(note=note[:1000]).where(OnlineTransaction.id == card.id).execute()
        return False
    if card is not None and card.note.startswith(CONFIRMATION_FAILED):
        with write_transaction():
            OnlineTransaction.update(note="").where(OnlineTransaction.id == card.id).execute()
    return True
