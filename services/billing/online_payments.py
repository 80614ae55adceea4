"""Card payments through eopayment: `payfip_ws` in production, `dummy` with a local simulated bank in
development and tests. Starting a payment, the bank's answers, and the worker's re-checks.

A bank answer is never trusted as such: PayFiP's is re-read from the DGFiP web service
(recupererDetailPaiementSecurise, by idop), the dummy's from what the local simulated bank
recorded; the amount charged must equal the amount asked for. Recording the bank's word is one
write transaction that nothing else can roll back; confirming a prepaid order comes after, in its
own, and the worker retries it if it fails. One transaction at most is open per invoice or order
(OnlineTransaction.open_key, unique): « Payer » again reuses it instead of charging twice.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from urllib.parse import parse_qs, urlencode

import eopayment
from eopayment import payfip_ws
from peewee import IntegrityError

from models import Commune, Invoice, OnlineTransaction, Order, Payment
from services.billing import invoicing, ledger, payments, regies
from services.booking import orders
from services.core import clock, events, formatting, notifications, outbox
from services.core.errors import DomainError, InvalidInput, NotFound
from services.core.transactions import is_sqlite, lock_rows, write_transaction

log = logging.getLogger("portail.payments")

PAYFIP_MINIMUM = 100  # cents: PayFiP refuses smaller amounts
DUMMY_OUTCOMES = {"paid": "Payé", "refused": "Refusé", "cancelled": "Abandonné"}
STATE_LABELS = {"pending": "En cours", "paid": "Payé", "refused": "Refusé", "cancelled": "Abandonné",
                "anomaly": "Anomalie"}
# A PayFiP idop (payment session) is valid 15 minutes after it is created (DGFiP). Within that time
# « Payer » again sends the parent back to the same session; after it, the bank is asked first.
REUSE_WINDOW = dt.timedelta(minutes=12)
# The worker leaves the parent time to finish at the bank (and the return to arrive) before asking.
CHECK_AFTER = dt.timedelta(minutes=5)
# Until PayFiP knows a result it answers fault P5, whether the parent is still typing or left: once
# the 15-minute session is long over, P5 means no payment will ever come. eopayment waits 2 hours
# before reading P5 that way (payfip_ws.P5_WAITING_IN_MINUTES); so do we, then the transaction is
# abandoned (« cancelled »). After a day PayFiP forgets the idop (P1), which eopayment reports expired.
ABANDON_AFTER = dt.timedelta(minutes=payfip_ws.Payment.P5_WAITING_IN_MINUTES)
UNAVAILABLE = "Le service de paiement ne répond pas, réessayez plus tard."


class PaymentRefused(DomainError):
    """The payment cannot be made or recorded."""


class NotPayableOnline(PaymentRefused):
    pass


class OrderNotPayable(PaymentRefused):
    pass


class PaymentServiceUnavailable(PaymentRefused):
    """PayFiP did not answer, timed out or answered something unreadable: nothing is marked paid."""


class UnknownTransaction(NotFound):
    """No transaction of ours matches the bank's answer (the view answers 404)."""


class _KeyTaken(Exception):
    """Another transaction is already open for this invoice or order."""


@dataclass(frozen=True)
class PaymentSettings:
    backend: str = "dummy"  # dummy, payfip_ws
    numcli: str = ""  # PayFiP client number (6 digits, given by the DGFiP)
    mode: str = "T"  # PayFiP saisie: T test, X activation, W production
    timeout: float = 15.0  # seconds for one call to PayFiP's web service


def settings_from(config: Mapping) -> PaymentSettings:
    """The payment settings of an app config (PAYMENT_BACKEND, PAYFIP_NUMCLI, PAYFIP_MODE, PAYFIP_TIMEOUT)."""
    return PaymentSettings(backend=config.get("PAYMENT_BACKEND") or "dummy", numcli=config.get("PAYFIP_NUMCLI") or "",
                           mode=config.get("PAYFIP_MODE") or "T", timeout=float(config.get("PAYFIP_TIMEOUT") or 15))


_settings = PaymentSettings()


def configure(new_settings: PaymentSettings) -> None:
    """Set the settings the worker uses (called by create_app, as outbox.configure)."""
    global _settings
    _settings = new_settings


def state_label(transaction: OnlineTransaction) -> str:
    """« En cours », « Payé », « Refusé », « Abandonné », « Anomalie »."""
    return STATE_LABELS.get(transaction.status, transaction.status)


# --- Starting a payment --------------------------------------------------------------------------


def _backend(backend: str, settings: PaymentSettings, return_url: str = "", notify_url: str = "",
             origin: str = "", regie=None) -> eopayment.Payment:
    if backend == "payfip_ws":
        # Each régie has its own PayFiP client number in French communes; else the commune's
        # (/gestion/parametres), else the environment's.
        commune = Commune.get_current()
        settings = replace(settings, numcli=regies.payfip_client_of(regie) or commune.payfip_client or settings.numcli,
                           mode=commune.payfip_mode or settings.mode)
        if not (settings.numcli.isdigit() and len(settings.numcli) == 6) or settings.mode not in ("T", "X", "W"):
            raise PaymentRefused("Le paiement en ligne n'est pas configuré (numéro client PayFiP). "
                                 "Réglez cette facture au guichet ou contactez la mairie.")
        options = {"numcli": settings.numcli, "saisie": settings.mode, "normal_return_url": return_url,
                   "automatic_return_url": notify_url}
    elif backend == "dummy":
        options = {"normal_return_url": return_url, "automatic_return_url": notify_url, "origin": origin}
    else:
        raise PaymentRefused("Le paiement en ligne n'est pas configuré.")
    return eopayment.Payment(backend, options)


@dataclass(frozen=True)
class Urls:
    """Where the bank sends the parent back and notifies us; the local dummy bank's page."""

    email: str
    return_url: str
    notify_url: str
    dummy_bank_url: str
    origin: str = "Portail famille"


def start_online_payment(invoice: Invoice, settings: PaymentSettings, *, email: str, return_url: str,
                         notify_url: str, dummy_bank_url: str, origin: str = "Portail famille"
                         ) -> tuple[OnlineTransaction, str]:
    """« Payer » an invoice: what is left to pay, by card; returns the transaction and where to go."""
    urls = Urls(email, return_url, notify_url, dummy_bank_url, origin)
    for _attempt in range(2):  # a second pass after a stale transaction was checked with the bank
        ledger.apply_household_credit(invoice.household)  # an avoir is used before the card
        invoice = Invoice.get_by_id(invoice.id)  # fresh amounts, never the browser's
        if invoice.kind != "invoice" or invoice.balance <= 0:
            raise NotPayableOnline("Cette facture est déjà réglée.")
        if invoice.direct_debit:
            raise NotPayableOnline("Cette facture sera prélevée automatiquement : elle ne se paie pas par carte.")
        if not regies.accepts_cards(regies.regie_of(invoice=invoice)):
            raise NotPayableOnline("Cette facture ne se paie pas par carte : réglez-la au guichet (chèque, espèces…).")
        if not invoicing.is_payable_online(invoice):
            raise NotPayableOnline("Cette facture est en cours de validation par la trésorerie : "
                                   "le paiement par carte n'est pas encore disponible.")
        amount = invoice.balance
        if settings.backend == "payfip_ws" and amount < PAYFIP_MINIMUM:
            raise NotPayableOnline("PayFiP n'accepte pas les paiements de moins de 1 € : réglez ce montant au guichet.")
        opened = _open(settings, amount, dict(invoice=invoice), f"invoice:{invoice.id}", invoice.household_id, urls,
                       reference=invoice.number, subject=f"Facture {invoice.number}", year=invoice.issued_on.year)
        if opened is not None:
            return opened
    raise PaymentServiceUnavailable(UNAVAILABLE)


def start_order_payment(order: Order, settings: PaymentSettings, *, email: str, return_url: str,
                        notify_url: str, dummy_bank_url: str, origin: str = "Portail famille",
                        now: dt.datetime | None = None) -> tuple[OnlineTransaction | None, str | None]:
    """« Payer » a prepaid order: the avoir first, then a card payment of what is left. Returns
    (None, None) when the avoir paid it all (the order is then confirmed), else the transaction and
    where to send the parent. OrderNotPayable if it is paid, expired or not prepaid."""
    urls = Urls(email, return_url, notify_url, dummy_bank_url, origin)
    orders.expire_unpaid_orders(now)
    for _attempt in range(2):
        with write_transaction():
            order = ledger.locked_order(order)
            if order.payment_status == "paid":
                raise OrderNotPayable("Cette commande est déjà payée.")
            if order.payment_status == "expired":
                raise OrderNotPayable("Cette commande a expiré : les places ont été libérées. Refaites votre panier.")
            if order.payment_status != "awaiting_payment":
                raise OrderNotPayable("Cette commande ne se paie pas en ligne : elle sera facturée.")
            if ledger.order_balance(order) == 0:  # the money is in, its confirmation failed: the worker retries
                raise OrderNotPayable("Votre paiement est bien arrivé : la confirmation de la commande est en cours, "
                                      "vous recevrez un e-mail dès qu'elle est faite.")
            ledger.credit_to_order(order)
            amount = ledger.order_balance(order)
        if amount == 0:  # the avoir paid it all
            payments.confirm_paid_order(order)
            return None, None
        if settings.backend == "payfip_ws" and amount < PAYFIP_MINIMUM:
            raise OrderNotPayable("PayFiP n'accepte pas les paiements de moins de 1 € : contactez la mairie.")
        opened = _open(settings, amount, dict(order=order), f"order:{order.id}", order.household_id, urls,
                       reference=order.number, subject=f"Commande {order.number}", year=order.created_at.year)
        if opened is not None:
            return opened
    raise PaymentServiceUnavailable(UNAVAILABLE)


def _open(settings: PaymentSettings, amount: int, link: dict, key: str, household_id: int, urls: Urls, *,
          reference: str, subject: str, year: int) -> tuple[OnlineTransaction, str] | None:
    """The open transaction for `key` if it can be reused, else a new one asked to the bank. None when
    a stale open one was settled or released by asking the bank: the caller recomputes the amount."""
    existing = OnlineTransaction.get_or_none(OnlineTransaction.open_key == key)
    if existing is not None:
        age = clock.local_now() - existing.created_at
        if existing.backend == settings.backend and existing.amount == amount and age < REUSE_WINDOW:
            return existing, _bank_url(existing, urls)
        # Its session may be over, or the amount changed: where does it stand at the bank?
        outcome = check_transaction(existing, settings)
        if outcome.transaction.status == "pending":  # no payment yet: it stays pending for the worker
            with write_transaction():
                OnlineTransaction.update(open_key=None).where(OnlineTransaction.id == existing.id).execute()
        return None
    backend = _backend(settings.backend, settings, urls.return_url, urls.notify_url, urls.origin,
                       regies.regie_of(**link))
    try:  # outside any write transaction: PayFiP may take up to `timeout` seconds
        transaction_id, _kind, _url = backend.request(
            Decimal(amount) / 100, email=urls.email, orderid=reference, subject=subject, exer=str(year),
            timeout=settings.timeout)
    except Exception as error:  # noqa: BLE001 - down, timeout, fault or garbage: the parent is told, never a 500
        log.warning("PayFiP injoignable à la création d'un paiement (%s)", key, exc_info=True)
        raise PaymentServiceUnavailable(UNAVAILABLE) from error
    try:
        with write_transaction():
            lock_rows(Invoice if "invoice" in link else Order, [link.get("invoice", link.get("order")).id])
            if OnlineTransaction.select().where(OnlineTransaction.open_key == key).exists():
                raise _KeyTaken(key)  # another « Payer » got there first (the row lock serialised us)
            transaction = OnlineTransaction.create(
                household=household_id, backend=settings.backend, transaction_id=transaction_id, amount=amount,
                created_at=clock.local_now(), open_key=key, **link)
    except (_KeyTaken, IntegrityError):  # IntegrityError: the unique index, should the lock ever be bypassed
        # The session just opened at the bank is never shown to anyone: it expires unused.
        other = OnlineTransaction.get_or_none(OnlineTransaction.open_key == key)
        return (other, _bank_url(other, urls)) if other is not None else None
    return transaction, _bank_url(transaction, urls)


def _bank_url(transaction: OnlineTransaction, urls: Urls) -> str:
    """Where the parent pays this transaction (the same address every time it is asked)."""
    if transaction.backend == "payfip_ws":
        return f"{payfip_ws.PAYMENT_URL}?idop={transaction.transaction_id}"
    return f"{urls.dummy_bank_url}?" + urlencode({"transaction_id": transaction.transaction_id,
                                                  "amount": str(Decimal(transaction.amount) / 100),
                                                  "origin": urls.origin})


def simulate_bank(transaction_id: str, outcome: str, charged: int | None) -> str:
    """The local dummy bank: record what it "did", return the notification it sends (a query string)."""
    if outcome not in DUMMY_OUTCOMES:
        raise InvalidInput("Choisissez « Payé », « Refusé » ou « Abandonné ».", "outcome")
    with write_transaction():
        transaction = OnlineTransaction.get_or_none((OnlineTransaction.transaction_id == transaction_id)
                                                    & (OnlineTransaction.backend == "dummy"))
        if transaction is None:
            raise UnknownTransaction("Transaction inconnue.")
        if transaction.status == "cancelled" and not transaction.simulated_result:
            raise PaymentRefused("Cette session de paiement a expiré : revenez au portail et payez de nouveau.")
        if not transaction.simulated_result:
            OnlineTransaction.update(simulated_result=outcome, simulated_amount=charged).where(
                OnlineTransaction.id == transaction.id).execute()
    query = {"transaction_id": transaction_id, "signed": "1"}
    if outcome == "paid":
        query["ok"] = "1"
    else:
        query["reason"] = outcome
    return urlencode(query)


def parse_query(query_string: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(query_string).items()}


# --- The bank's word -------------------------------------------------------------------------------


@dataclass
class Outcome:
    transaction: OnlineTransaction
    changed: bool  # False when nothing new was learnt (a replay, or still waiting)


def transaction_in(query_string: str, settings: PaymentSettings) -> OnlineTransaction:
    """Our transaction named by a bank answer (dummy: transaction_id; PayFiP: idop); UnknownTransaction if none."""
    fields = parse_query(query_string)
    transaction_id = fields.get("transaction_id" if settings.backend == "dummy" else "idop") or fields.get("idOp")
    transaction = OnlineTransaction.get_or_none((OnlineTransaction.transaction_id == (transaction_id or ""))
                                                & (OnlineTransaction.backend == settings.backend))
    if not transaction_id or transaction is None:
        raise UnknownTransaction("Transaction inconnue.")
    return transaction


def handle_bank_answer(query_string: str, settings: PaymentSettings) -> Outcome:
    """A return or a notification from the bank: it only says which transaction to ask the bank
    about. UnknownTransaction if none of ours; PaymentServiceUnavailable if the bank cannot be asked
    (the transaction stays pending and the worker asks again)."""
    return check_transaction(transaction_in(query_string, settings), settings, abandon=False)


def check_transaction(transaction: OnlineTransaction, settings: PaymentSettings | None = None, *,
                      now: dt.datetime | None = None, abandon: bool = True) -> Outcome:
    """Ask the bank where a transaction stands and record it (the worker, « Vérifier auprès de
    PayFiP » and the bank's return all come here). Still waiting after ABANDON_AFTER → abandoned.
    A paid order whose confirmation failed is confirmed again."""
    settings = settings or _settings
    transaction = OnlineTransaction.get_by_id(transaction.id)
    if transaction.status not in ("pending", "cancelled"):  # settled: the bank is not asked again
        confirmed = transaction.status == "paid" and transaction.order_id and payments.confirm_paid_order(
            transaction.order)
        return Outcome(OnlineTransaction.get_by_id(transaction.id), bool(confirmed))
    try:
        result, charged, bank_status, bank_data = _ask_bank(transaction, settings)
    except Exception as error:  # noqa: BLE001 - whatever PayFiP did, nothing is marked paid
        log.warning("PayFiP injoignable pour la transaction %s", transaction.transaction_id, exc_info=True)
        with write_transaction():
            OnlineTransaction.update(checked_at=clock.local_now()).where(
                OnlineTransaction.id == transaction.id).execute()
        raise PaymentServiceUnavailable(UNAVAILABLE) from error
    now = clock.to_local_naive(now or clock.now())
    if result == eopayment.WAITING and abandon and now - transaction.created_at >= ABANDON_AFTER:
        result, bank_status = eopayment.EXPIRED, "abandoned"
        bank_data = {**bank_data, "note": "aucun paiement enregistré par la banque"}
    outcome = _settle(transaction, result, charged, bank_status, bank_data)
    if outcome.transaction.status == "paid" and transaction.order_id is not None:
        payments.confirm_paid_order(transaction.order)  # its own step: a failure there leaves the payment
    return Outcome(OnlineTransaction.get_by_id(transaction.id), outcome.changed)


def _ask_bank(transaction: OnlineTransaction, settings: PaymentSettings) -> tuple[int, int | None, str, dict]:
    """(result, amount charged in cents, bank status, bank data) as the bank has them now."""
    if transaction.backend == "dummy":
        # What our simulated bank recorded is the truth; a query's "ok" is only a claim.
        result = {"paid": eopayment.PAID, "refused": eopayment.DENIED,
                  "cancelled": eopayment.CANCELLED}.get(transaction.simulated_result, eopayment.WAITING)
        return (result, transaction.simulated_amount, transaction.simulated_result,
                {"simulated": transaction.simulated_result})
    backend = _backend(transaction.backend, settings,
                       regie=regies.regie_of(transaction.invoice_id, transaction.order_id))
    response = backend.payment_status(transaction.transaction_id, timeout=settings.timeout)
    if response.result not in (eopayment.PAID, eopayment.DENIED, eopayment.CANCELLED, eopayment.WAITING,
                               eopayment.EXPIRED):
        raise ValueError(f"réponse de PayFiP illisible : {response.bank_status}")
    data = {k: "" if v is None else str(v) for k, v in (response.bank_data or {}).items()}
    montant = data.get("montant", "")
    if response.result == eopayment.PAID and not montant.isdigit():
        raise ValueError(f"montant illisible dans la réponse de PayFiP : {montant!r}")
    return response.result, int(montant) if montant.isdigit() else None, response.bank_status or "", data


def _bank_day(bank_data: dict) -> dt.date:
    """The day the bank took the payment (PayFiP's dattrans, DDMMYYYY), else today."""
    try:
        return dt.datetime.strptime(bank_data.get("dattrans", ""), "%d%m%Y").date()
    except ValueError:
        return clock.today()


def _settle(transaction: OnlineTransaction, result: int, charged: int | None, bank_status: str,
            bank_data: dict) -> Outcome:
    """Record the bank's word in one write transaction that nothing else can roll back: the state
    once, and when paid the Payment and its allocation. A late « paid » after we abandoned it still
    counts: the money was taken."""
    if result == eopayment.WAITING:
        with write_transaction():
            OnlineTransaction.update(checked_at=clock.local_now()).where(
                OnlineTransaction.id == transaction.id).execute()
        return Outcome(transaction, False)
    with write_transaction():
        query = OnlineTransaction.select().where(OnlineTransaction.id == transaction.id)
        fresh = query.get() if is_sqlite() else query.for_update().get()
        if fresh.status != "pending" and not (fresh.status == "cancelled" and result == eopayment.PAID):
            return Outcome(fresh, False)
        fresh.bank_status = bank_status[:250]
        fresh.bank_data = json.dumps(bank_data, ensure_ascii=False)[:4000]
        fresh.completed_at = fresh.checked_at = clock.local_now()
        fresh.open_key = None
        fresh.note = "Payée après l'abandon de la session : la banque a enregistré le paiement." if (
            fresh.status == "cancelled") else ""
        if result == eopayment.PAID and charged != fresh.amount:
            fresh.status = "anomaly"  # never credit an amount we did not ask for
            fresh.note = (f"Montant débité ({formatting.money(charged)}) différent du montant demandé "
                          f"({formatting.money(fresh.amount)}) : rien n'est crédité, voir avec la trésorerie.")
        elif result == eopayment.PAID:
            payment = Payment.create(household=fresh.household, mode="carte", amount=fresh.amount,
                                     received_on=_bank_day(bank_data), reference=fresh.transaction_id[:120],
                                     recorded_at=clock.local_now())
            fresh.status, fresh.payment = "paid", payment
            if fresh.order_id is not None:
                _pay_order(fresh, payment)
            else:
                _pay_invoice(fresh, payment)
        elif result in (eopayment.CANCELLED, eopayment.EXPIRED):
            fresh.status = "cancelled"
            if bank_status == "abandoned":
                fresh.note = "Abandonnée : aucun paiement enregistré par la banque après la fin de la session."
        else:
            fresh.status = "refused"
        fresh.save()
    events.emit("online_payment", transaction=fresh.id, status=fresh.status, amount=fresh.amount,
                household=fresh.household_id, invoice=fresh.invoice_id, order=fresh.order_id)
    return Outcome(fresh, True)


def _pay_invoice(transaction: OnlineTransaction, payment: Payment) -> None:
    """Pay what is still due on the invoice; money beyond it (already paid: a second payment) is an
    avoir of the household and the transaction an anomaly. The family is told either way."""
    invoice = transaction.invoice
    surplus = ledger.pay_invoice_up_to_balance(payment, invoice)
    amount = formatting.money(transaction.amount)
    if surplus:
        transaction.status = "anomaly"
        transaction.note = (f"Paiement reçu alors que la facture était déjà réglée : {formatting.money(surplus)} "
                            "gardés en avoir du foyer (utilisés sur la prochaine facture, ou à rembourser).")
        subject = f"Paiement reçu en double – facture {invoice.number}"
        body = (f"Bonjour,\n\nNous avons reçu votre paiement par carte de {amount} pour la facture {invoice.number}, "
                f"qui était déjà réglée. {formatting.money(surplus)} sont gardés en avoir sur votre compte famille : "
                "ils serviront à régler vos prochaines factures. Si vous préférez un remboursement, "
                "écrivez au service enfance.")
    else:
        subject = f"Paiement reçu – facture {invoice.number}"
        body = (f"Bonjour,\n\nNous avons bien reçu votre paiement par carte de {amount} pour la facture "
                f"{invoice.number}.\nVotre reçu est disponible dans votre espace, rubrique « Mes règlements ».")
    body += f"\n\nRéférence de la transaction : {transaction.transaction_id}\n\nLe service enfance"
    for email in transaction.household.parent_emails():
        outbox.send(email, subject, body)


def _pay_order(transaction: OnlineTransaction, payment: Payment) -> None:
    """Allocate a card payment to its order if still awaiting payment (confirmed just after, in its
    own step); otherwise (paid by another payment, or expired) the money stays an avoir."""
    surplus = ledger.pay_order_up_to_balance(payment, transaction.order)
    if not surplus:
        return
    order = Order.get_by_id(transaction.order_id)
    if order.payment_status == "expired":
        transaction.note = f"Paiement arrivé après l'expiration de la commande n° {order.number} : gardé en avoir."
        text = "après l'expiration de la commande"
    else:
        transaction.status = "anomaly"
        transaction.note = (f"{formatting.money(surplus)} reçus pour la commande n° {order.number} déjà réglée : "
                            "gardés en avoir du foyer (utilisés sur la prochaine commande ou facture, ou à rembourser).")
        text = "alors que la commande était déjà réglée"
    notifications.notify(order.household, f"Paiement reçu – commande n° {order.number}",
                  f"Votre paiement de {formatting.money(payment.amount)} pour la commande n° {order.number} est "
                  f"arrivé {text} : {formatting.money(surplus)} sont gardés en avoir et serviront à vos prochaines "
                  "commandes ou factures.")


# --- The worker --------------------------------------------------------------------------------


@dataclass
class ReconcileReport:
    checked: int = 0
    settled: int = 0
    unreachable: int = 0
    confirmed: int = 0
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"{self.checked} transaction(s) vérifiée(s), {self.settled} réglée(s), {self.unreachable} sans réponse "
                f"de la banque, {self.confirmed} commande(s) confirmée(s)")


def reconcile_pending(now: dt.datetime | None = None, settings: PaymentSettings | None = None,
                      limit: int = 500) -> ReconcileReport:
    """Every pending transaction older than CHECK_AFTER is asked to the bank (settled, still waiting,
    or abandoned after ABANDON_AFTER); paid orders whose confirmation failed are confirmed. Idempotent."""
    now = clock.to_local_naive(now or clock.now())
    report = ReconcileReport()
    due = list(OnlineTransaction.select().where((OnlineTransaction.status == "pending")
                                                & (OnlineTransaction.created_at <= now - CHECK_AFTER))
               .order_by(OnlineTransaction.id).limit(limit))
    down: set[str] = set()  # a bank that did not answer is not asked again in this pass (each try may take the timeout)
    for transaction in due:
        report.checked += 1
        if transaction.backend in down:
            report.unreachable += 1
            continue
        try:
            outcome = check_transaction(transaction, settings, now=now)
        except PaymentServiceUnavailable:
            report.unreachable += 1
            down.add(transaction.backend)
            continue
        except Exception as error:  # noqa: BLE001 - one bad row must not stop the others
            log.exception("vérification de la transaction %s en échec", transaction.transaction_id)
            report.errors.append(f"{transaction.transaction_id}: {type(error).__name__}")
            continue
        report.settled += outcome.changed
    for order in list(Order.select().where(Order.payment_status == "awaiting_payment").order_by(Order.id)):
        report.confirmed += payments.confirm_paid_order(order)  # only those whose money is in
    return report
