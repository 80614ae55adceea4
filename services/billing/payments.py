"""Payments: manual règlements received by the régie, and the confirmation of prepaid orders once
their money is in. Where the money goes (allocation, avoir, refunds) is services/billing/ledger.py;
card payments through the bank are services/billing/online_payments.py.
"""
from __future__ import annotations

import datetime as dt
import logging

from models import Household, OnlineTransaction, Order, Payment, User
from services.billing import ledger
from services.booking import orders
from services.core import clock, events
from services.core.errors import InvalidInput
from services.core.transactions import write_transaction

MANUAL_MODES = ("cheque", "especes", "cesu", "virement")
CONFIRMATION_FAILED = "Payé, mais la confirmation de la commande"
log = logging.getLogger("portail.payments")


# --- Manual payments -------------------------------------------------------------


def record_payment(household: Household, mode: str, amount: int, received_on: dt.date, reference: str = "",
                   user: User | None = None) -> Payment:
    """A règlement received by the régie (chèque, espèces, CESU, virement), oldest invoices first."""
    if mode not in MANUAL_MODES:
        raise InvalidInput("Choisissez un mode de règlement : chèque, espèces, CESU ou virement.", "mode")
    if amount is None or amount <= 0:
        raise InvalidInput("Le montant doit être supérieur à 0 €.", "amount")
    if amount > 10_000_00:
        raise InvalidInput("Le montant dépasse 10 000 € : vérifiez la saisie.", "amount")
    if received_on > clock.today():
        raise InvalidInput("La date de réception ne peut pas être dans le futur.", "received_on")
    with write_transaction():
        payment = Payment.create(household=household, mode=mode, amount=amount, received_on=received_on,
                                 reference=(reference or "").strip()[:120], recorded_at=clock.local_now(),
                                 recorded_by=user)
        ledger.allocate(payment)
    events.emit("payment_recorded", payment=payment.id, mode=mode, amount=amount, household=household.id,
                user=user.id if user else None)
    return payment


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
