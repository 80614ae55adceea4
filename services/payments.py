"""Payments: manual règlements spread over the oldest unpaid invoices, and card payments through
eopayment (`payfip_ws` in production, `dummy` with a local simulated bank in development/tests).

A bank answer is never trusted as such: PayFiP's is re-read from the DGFiP web service by
eopayment, the dummy's from what the local simulated bank recorded; the amount charged must equal
the amount we asked for (an "anomalie" otherwise); processing is idempotent (one row lock, one
state change from "pending"), so a replayed notification changes nothing.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import parse_qs, urlencode, urlsplit

import eopayment
from peewee import fn

from models import Booking, Household, Invoice, OnlineTransaction, Order, OrderLine, Payment, PaymentAllocation, User
from services import clock, formatting, invoicing, mail, orders
from services.errors import DomainError, InvalidInput, NotFound
from services.transactions import is_sqlite, write_transaction

MANUAL_MODES = ("cheque", "especes", "cesu", "virement")
PAYFIP_MINIMUM = 100  # cents: PayFiP refuses smaller amounts
DUMMY_OUTCOMES = {"paid": "Payé", "refused": "Refusé", "cancelled": "Abandonné"}


class PaymentRefused(DomainError):
    """The payment cannot be made or recorded."""


class NotPayableOnline(PaymentRefused):
    pass


class OrderNotPayable(PaymentRefused):
    pass


class UnknownTransaction(NotFound):
    """No transaction of ours matches the bank's answer (the view answers 404)."""


@dataclass(frozen=True)
class PaymentSettings:
    backend: str = "dummy"  # dummy, payfip_ws
    numcli: str = ""  # PayFiP client number (6 digits, given by the DGFiP)
    mode: str = "T"  # PayFiP saisie: T test, X activation, W production


def settings_from(config: Mapping) -> PaymentSettings:
    return PaymentSettings(backend=config.get("PAYMENT_BACKEND") or "dummy",
                           numcli=config.get("PAYFIP_NUMCLI") or "", mode=config.get("PAYFIP_MODE") or "T")


# --- Manual payments and allocation -------------------------------------------------------------


def _locked_unpaid(household: Household, first: Invoice | None = None) -> list[Invoice]:
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


def _allocate(payment: Payment, first: Invoice | None = None, amount: int | None = None) -> int:
    """Spread a payment (or `amount` of it) over unpaid invoices; returns what is left (avoir)."""
    remaining = payment.amount if amount is None else amount
    for invoice in _locked_unpaid(payment.household, first):
        if remaining <= 0:
            break
        take = min(invoice.balance, remaining)
        PaymentAllocation.create(payment=payment, invoice=invoice, amount=take)
        Invoice.update(paid=Invoice.paid + take).where(Invoice.id == invoice.id).execute()
        remaining -= take
    return remaining


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
        _allocate(payment)
    return payment


def apply_household_credit(household: Household) -> int:
    """Use the household's avoir (payment money not yet allocated) on its unpaid invoices, oldest
    first; returns the cents used. Called when an invoice is issued and before a card payment."""
    used = 0
    with write_transaction():
        allocated = (PaymentAllocation.select(PaymentAllocation.payment, fn.SUM(PaymentAllocation.amount))
                     .join(Payment).where(Payment.household == household).group_by(PaymentAllocation.payment).tuples())
        taken = {payment_id: int(total or 0) for payment_id, total in allocated}
        for payment in Payment.select().where(Payment.household == household).order_by(Payment.received_on, Payment.id):
            left = payment.amount - taken.get(payment.id, 0)
            if left > 0:
                used += left - _allocate(payment, amount=left)
    return used


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


# --- Online payment ------------------------------------------------------------------------------


def _backend(settings: PaymentSettings, return_url: str, notify_url: str, origin: str) -> eopayment.Payment:
    if settings.backend == "payfip_ws":
        if not (settings.numcli.isdigit() and len(settings.numcli) == 6) or settings.mode not in ("T", "X", "W"):
            raise PaymentRefused("Le paiement en ligne n'est pas configuré (numéro client PayFiP). "
                                 "Réglez cette facture au guichet ou contactez la mairie.")
        options = {"numcli": settings.numcli, "saisie": settings.mode, "normal_return_url": return_url,
                   "automatic_return_url": notify_url}
    elif settings.backend == "dummy":
        options = {"normal_return_url": return_url, "automatic_return_url": notify_url, "origin": origin}
    else:
        raise PaymentRefused("Le paiement en ligne n'est pas configuré.")
    return eopayment.Payment(settings.backend, options)


def start_online_payment(invoice: Invoice, settings: PaymentSettings, *, email: str, return_url: str,
                         notify_url: str, dummy_bank_url: str, origin: str = "Portail famille"
                         ) -> tuple[OnlineTransaction, str]:
    """Ask the backend for a payment of what is left to pay; returns the transaction and where to go."""
    apply_household_credit(invoice.household)  # an avoir is used before the card
    invoice = Invoice.get_by_id(invoice.id)  # fresh amounts, never the browser's
    if invoice.kind != "invoice" or invoice.balance <= 0:
        raise NotPayableOnline("Cette facture est déjà réglée.")
    if invoice.direct_debit:
        raise NotPayableOnline("Cette facture sera prélevée automatiquement : elle ne se paie pas par carte.")
    if not invoicing.is_payable_online(invoice):
        raise NotPayableOnline("Cette facture est en cours de validation par la trésorerie : "
                               "le paiement par carte n'est pas encore disponible.")
    amount = invoice.balance
    if settings.backend == "payfip_ws" and amount < PAYFIP_MINIMUM:
        raise NotPayableOnline("PayFiP n'accepte pas les paiements de moins de 1 € : réglez ce montant au guichet.")
    return _ask_bank(settings, amount, dict(invoice=invoice), household_id=invoice.household_id, email=email,
                     reference=invoice.number, subject=f"Facture {invoice.number}", year=invoice.issued_on.year,
                     return_url=return_url, notify_url=notify_url, dummy_bank_url=dummy_bank_url, origin=origin)


def _ask_bank(settings: PaymentSettings, amount: int, link: dict, *, household_id: int, email: str,
              reference: str, subject: str, year: int, return_url: str, notify_url: str, dummy_bank_url: str,
              origin: str) -> tuple[OnlineTransaction, str]:
    """Ask the backend for a card payment of `amount` cents; record the transaction (linked to an
    invoice or an order by `link`); return it and where to send the parent."""
    backend = _backend(settings, return_url, notify_url, origin)
    try:
        transaction_id, _kind, url = backend.request(
            Decimal(amount) / 100, email=email, orderid=reference, subject=subject, exer=str(year))
    except Exception as error:  # the bank's web service is down or refuses: say so, never a 500
        raise PaymentRefused("Le service de paiement ne répond pas. Réessayez dans quelques minutes.") from error
    transaction = OnlineTransaction.create(
        household=household_id, backend=settings.backend, transaction_id=transaction_id,
        amount=amount, created_at=clock.local_now(), **link)
    if settings.backend == "dummy":
        url = f"{dummy_bank_url}?{urlsplit(url).query}"
    return transaction, url


def simulate_bank(transaction_id: str, outcome: str, charged: int | None) -> str:
    """The local dummy bank: record what it "did", return the notification it sends (a query string)."""
    if outcome not in DUMMY_OUTCOMES:
        raise InvalidInput("Choisissez « Payé », « Refusé » ou « Abandonné ».", "outcome")
    with write_transaction():
        transaction = OnlineTransaction.get_or_none((OnlineTransaction.transaction_id == transaction_id)
                                                    & (OnlineTransaction.backend == "dummy"))
        if transaction is None:
            raise UnknownTransaction("Transaction inconnue.")
        if not transaction.simulated_result:
            OnlineTransaction.update(simulated_result=outcome, simulated_amount=charged).where(
                OnlineTransaction.id == transaction.id).execute()
    query = {"transaction_id": transaction_id, "signed": "1"}
    if outcome == "paid":
        query["ok"] = "1"
    else:
        query["reason"] = outcome
    return urlencode(query)


@dataclass
class Outcome:
    transaction: OnlineTransaction
    changed: bool  # False when this answer was already processed (a replay)


def handle_bank_answer(query_string: str, settings: PaymentSettings) -> Outcome:
    """Process a return or a notification from the bank, verified server-side and idempotent."""
    backend = _backend(settings, "", "", "")
    try:
        response = backend.response(query_string)
    except Exception as error:  # malformed answer, unknown idop at PayFiP…
        raise UnknownTransaction("Transaction inconnue.") from error
    order_id = response.order_id or ""
    transaction = OnlineTransaction.get_or_none((OnlineTransaction.transaction_id == order_id)
                                                & (OnlineTransaction.backend == settings.backend))
    if transaction is None:
        raise UnknownTransaction("Transaction inconnue.")
    if settings.backend == "dummy":
        # What our simulated bank recorded is the truth; the query's "ok" is only a claim.
        fresh = OnlineTransaction.get_by_id(transaction.id)
        result = {"paid": eopayment.PAID, "refused": eopayment.DENIED,
                  "cancelled": eopayment.CANCELLED}.get(fresh.simulated_result, eopayment.WAITING)
        charged = fresh.simulated_amount
        bank_status, bank_data = fresh.simulated_result, {"simulated": fresh.simulated_result}
    else:
        if not response.signed:
            return Outcome(transaction, False)
        result = response.result
        montant = (response.bank_data or {}).get("montant")
        charged = int(montant) if montant not in (None, "") else None
        bank_status = response.bank_status or ""
        bank_data = {k: str(v) for k, v in (response.bank_data or {}).items()}
    return _settle(transaction, result, charged, bank_status, bank_data)


def _settle(transaction: OnlineTransaction, result: int, charged: int | None, bank_status: str,
            bank_data: dict) -> Outcome:
    """Move a pending transaction to its final state once; create and allocate the payment if paid."""
    if result == eopayment.WAITING:
        return Outcome(transaction, False)
    with write_transaction():
        query = OnlineTransaction.select().where(OnlineTransaction.id == transaction.id)
        fresh = query.get() if is_sqlite() else query.for_update().get()
        if fresh.status != "pending":
            return Outcome(fresh, False)
        fresh.bank_status = bank_status[:250]
        fresh.bank_data = json.dumps(bank_data, ensure_ascii=False)[:4000]
        fresh.completed_at = clock.local_now()
        if result == eopayment.PAID and charged != fresh.amount:
            fresh.status = "anomaly"  # never credit an amount we did not ask for
        elif result == eopayment.PAID:
            payment = Payment.create(household=fresh.household, mode="carte", amount=fresh.amount,
                                     received_on=clock.today(), reference=fresh.transaction_id[:120],
                                     recorded_at=clock.local_now())
            if fresh.order_id is not None:
                _settle_order(fresh.order, payment)
            else:
                _allocate(payment, first=fresh.invoice)
            fresh.status, fresh.payment = "paid", payment
        elif result == eopayment.CANCELLED:
            fresh.status = "cancelled"
        else:
            fresh.status = "refused"
        fresh.save()
    if fresh.status == "paid" and fresh.invoice_id is not None:
        _mail_paid(fresh)
    return Outcome(fresh, True)


# --- Prepaid orders (régie "au comptant") -------------------------------------------------------


def order_balance(order: Order) -> int:
    """What is left to pay on a prepaid order (cents): its amount due minus avoir and card money."""
    paid = (PaymentAllocation.select(fn.COALESCE(fn.SUM(PaymentAllocation.amount), 0))
            .where(PaymentAllocation.order == order.id).scalar())
    return max(order.amount_due - int(paid), 0)


def _locked_order(order: Order) -> Order:
    query = Order.select().where(Order.id == order.id)
    return query.get() if is_sqlite() else query.for_update().get()


def _credit_to_order(order: Order) -> int:
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


def _settle_order(order: Order, payment: Payment) -> None:
    """A card payment for an order: it pays the order if still awaiting payment (then confirmed);
    otherwise (expired meanwhile) the money stays an avoir for the family."""
    order = _locked_order(order)
    if order.payment_status != "awaiting_payment":
        orders.notify(order.household, f"Paiement reçu – commande n° {order.number}",
                      f"Votre paiement de {formatting.money(payment.amount)} est arrivé après l'expiration de la "
                      f"commande n° {order.number} : il est gardé en avoir et servira à vos prochaines "
                      "commandes ou factures.")
        return
    take = min(payment.amount, order_balance(order))
    if take > 0:
        PaymentAllocation.create(payment=payment, order=order, amount=take)
    if order_balance(order) == 0:
        orders.confirm_prepaid_order(order)


def start_order_payment(order: Order, settings: PaymentSettings, *, email: str, return_url: str,
                        notify_url: str, dummy_bank_url: str, origin: str = "Portail famille",
                        now: dt.datetime | None = None) -> tuple[OnlineTransaction | None, str | None]:
    """"Payer" a prepaid order: the avoir first, then a card payment of what is left. Returns
    (None, None) when the avoir paid it all (the order is then confirmed), else the transaction and
    where to send the parent. OrderNotPayable if it is paid, expired or not prepaid."""
    orders.expire_unpaid_orders(now)
    with write_transaction():
        order = _locked_order(order)
        if order.payment_status == "paid":
            raise OrderNotPayable("Cette commande est déjà payée.")
        if order.payment_status == "expired":
            raise OrderNotPayable("Cette commande a expiré : les places ont été libérées. Refaites votre panier.")
        if order.payment_status != "awaiting_payment":
            raise OrderNotPayable("Cette commande ne se paie pas en ligne : elle sera facturée.")
        _credit_to_order(order)
        amount = order_balance(order)
        if amount == 0:
            orders.confirm_prepaid_order(order)
            return None, None
    if settings.backend == "payfip_ws" and amount < PAYFIP_MINIMUM:
        raise OrderNotPayable("PayFiP n'accepte pas les paiements de moins de 1 € : contactez la mairie.")
    return _ask_bank(settings, amount, dict(order=order), household_id=order.household_id, email=email,
                     reference=order.number, subject=f"Commande {order.number}", year=order.created_at.year,
                     return_url=return_url, notify_url=notify_url, dummy_bank_url=dummy_bank_url, origin=origin)


def _mail_paid(transaction: OnlineTransaction) -> None:
    invoice = transaction.invoice
    body = (f"Bonjour,\n\nNous avons bien reçu votre paiement par carte de {formatting.money(transaction.amount)} "
            f"pour la facture {invoice.number}.\nVotre reçu est disponible dans votre espace, rubrique "
            f"« Mes règlements ».\n\nRéférence de la transaction : {transaction.transaction_id}\n\n"
            f"Le service enfance")
    for email in transaction.household.parent_emails():
        mail.send(email, f"Paiement reçu – facture {invoice.number}", body)


def parse_query(query_string: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(query_string).items()}
