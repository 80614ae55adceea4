"""Payments never lost (issue 9): « Payer » twice reuses the open transaction; a second payment of a
paid invoice becomes an avoir and an anomaly; the worker settles a payment whose return never came
(once) and abandons one the bank never saw paid; a PayFiP outage is a message, never a 500 nor a
404, and nothing is marked paid; a failing order confirmation never rolls the payment back; the
staff page « Paiements en ligne ». PayFiP is stubbed at its transport (tests/payfip_stub.py)."""
from __future__ import annotations

import threading
import time

import pytest

import jobs
from models import (
    AuditLog,
    Booking,
    Invoice,
    OnlineTransaction,
    Order,
    OutgoingMail,
    Payment,
    PaymentAllocation,
    db,
)
from services.billing import ledger, online_payments
from services.booking import orders
from services.core import clock, outbox
from services.demo import DEMO_PASSWORD
from tests import payfip_stub
from tests.conftest import outbox_messages, post_form
from tests.test_payments import SETTINGS, URLS, invoices  # noqa: F401 - the fixture
from tests.test_prepayment import _held_order, _lea_status, prepaid  # noqa: F401 - the fixture

PAYFIP = online_payments.PaymentSettings(backend="payfip_ws", numcli="123456", mode="T", timeout=2)
UNAVAILABLE = "Le service de paiement ne répond pas, réessayez plus tard"


@pytest.fixture
def payfip(monkeypatch, app):
    """The portal configured for PayFiP (views and worker), its web service stubbed at the transport."""
    app.config.update(PAYMENT_BACKEND="payfip_ws", PAYFIP_NUMCLI="123456", PAYFIP_MODE="T", PAYFIP_TIMEOUT="2")
    online_payments.configure(PAYFIP)
    stub = payfip_stub.install(monkeypatch)
    yield stub
    online_payments.configure(online_payments.PaymentSettings())


@pytest.fixture
def martin(invoices, auth):
    auth.login("famille.martin@example.fr")
    return invoices


def _page(client, response) -> str:
    assert response.status_code == 302, response.status_code
    final = client.get(response.headers["Location"], follow_redirects=True)
    assert final.status_code == 200
    return final.get_data(as_text=True)


def _pay_button(client, invoice):
    return post_form(client, f"/factures/{invoice.id}/payer", token_page=f"/factures/{invoice.id}")


def _ledger() -> dict:
    """Everything a payment can write, to check that a second run changes nothing."""
    return {"transactions": [(t.id, t.status, t.open_key, t.payment_id) for t in OnlineTransaction.select()],
            "payments": Payment.select().count(), "allocations": PaymentAllocation.select().count(),
            "mails": OutgoingMail.select().count(), "paid": [(i.id, i.paid) for i in Invoice.select()]}


def _mails(subject_start: str) -> list[dict]:
    return [m for m in outbox_messages() if m["subject"].startswith(subject_start)]


# --- « Payer » twice ---------------------------------------------------------------------------


def test_payer_twice_goes_back_to_the_same_bank_session(martin, client):
    january = martin[0]
    first, second = _pay_button(client, january), _pay_button(client, january)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]  # the same page at the bank
    transaction = OnlineTransaction.get()
    assert OnlineTransaction.select().count() == 1
    assert transaction.open_key == f"invoice:{january.id}" and transaction.amount == 580
    assert f"transaction_id={transaction.transaction_id}" in first.headers["Location"]


def test_payer_twice_with_payfip_reuses_the_idop(martin, client, payfip):
    january = martin[0]
    first, second = _pay_button(client, january), _pay_button(client, january)
    idop = OnlineTransaction.get().transaction_id
    assert first.headers["Location"] == second.headers["Location"] == \
        f"https://www.payfip.gouv.fr/tpa/paiementws.web?idop={idop}"
    assert payfip.calls == ["creerPaiementSecurise"]  # one session asked of PayFiP, not two


def test_concurrent_payer_opens_one_transaction(invoices, payfip):
    """Four « Payer » at once while PayFiP is slow: one transaction, everyone sent to it."""
    payfip.delay = 0.3
    barrier, results, errors = threading.Barrier(4), [], []

    def click():
        try:
            with db.connection_context():
                barrier.wait()
                results.append(online_payments.start_online_payment(invoices[0], PAYFIP, **URLS)[0].transaction_id)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert OnlineTransaction.select().count() == 1
    assert set(results) == {OnlineTransaction.get().transaction_id}


def test_a_second_payment_of_a_paid_invoice_is_an_avoir_and_an_anomaly(martin, client, freeze):
    january = martin[0]
    _pay_button(client, january)
    stale = OnlineTransaction.get()
    freeze("2027-03-05T10:13")  # the first session is over: « Payer » asks the bank, then opens a new one
    _pay_button(client, january)
    fresh = OnlineTransaction.select().order_by(OnlineTransaction.id.desc()).first()
    assert fresh.id != stale.id and OnlineTransaction.get_by_id(stale.id).open_key is None
    assert OnlineTransaction.get_by_id(stale.id).status == "pending"  # left for the worker
    # The parent had kept the first bank page open and pays both.
    pages = []
    for transaction in (stale, fresh):
        back = post_form(client, "/factures/paiement/banque-de-test", {
            "transaction_id": transaction.transaction_id, "amount": "5.80", "outcome": "paid"},
            token_page=f"/factures/{january.id}")
        pages.append(_page(client, back))
    assert "Paiement accepté : la facture est payée" in pages[0]
    assert "déjà réglée : il est gardé en avoir" in pages[1]
    assert Invoice.get_by_id(january.id).paid == 580  # never allocated twice
    assert ledger.household_credit(january.household) == 580
    second = OnlineTransaction.get_by_id(fresh.id)
    assert second.status == "anomaly" and second.payment_id is not None and "en avoir" in second.note
    assert len(_mails("Paiement reçu – facture")) == 1 and len(_mails("Paiement reçu en double")) == 1
    # The avoir pays part of the next invoice before any card.
    assert online_payments.start_online_payment(martin[1], SETTINGS, **URLS)[0].amount == 870 - 580


def test_a_stale_session_paid_at_the_bank_is_settled_instead_of_a_second_charge(martin, client, freeze):
    january = martin[0]
    _pay_button(client, january)
    transaction = OnlineTransaction.get()
    online_payments.simulate_bank(transaction.transaction_id, "paid", transaction.amount)  # no return
    freeze("2027-03-05T10:20")
    page = _page(client, _pay_button(client, january))
    assert "Cette facture est déjà réglée." in page
    assert OnlineTransaction.select().count() == 1 and OnlineTransaction.get().status == "paid"
    assert Invoice.get_by_id(january.id).balance == 0 and Payment.select().count() == 1


# --- The worker settles what the return never told -------------------------------------------


def test_a_payment_whose_return_never_arrives_is_settled_once_by_the_worker(invoices, freeze):
    january = invoices[0]
    transaction, _url = online_payments.start_online_payment(january, SETTINGS, **URLS)
    online_payments.simulate_bank(transaction.transaction_id, "paid", transaction.amount)  # the bank has it
    freeze("2027-03-05T10:03")
    jobs.reconcile_payments.call_local()
    assert OnlineTransaction.get_by_id(transaction.id).status == "pending"  # the parent may still be coming back
    freeze("2027-03-05T10:06")
    assert jobs.reconcile_payments.call_local().startswith("1 transaction(s) vérifiée(s), 1 réglée(s)")
    assert OnlineTransaction.get_by_id(transaction.id).status == "paid"
    assert Invoice.get_by_id(january.id).balance == 0
    assert Payment.get().amount == 580 and Payment.get().mode == "carte"
    before = _ledger()
    freeze("2027-03-05T10:11")
    assert jobs.reconcile_payments.call_local().startswith("0 transaction(s) vérifiée(s)")
    assert _ledger() == before  # idempotent
    assert len(_mails("Paiement reçu – facture")) == 1
    # The return arriving late changes nothing either.
    assert not online_payments.handle_bank_answer(f"transaction_id={transaction.transaction_id}", SETTINGS).changed
    assert _ledger() == before


def test_payfip_payment_without_return_is_settled_by_the_worker(invoices, payfip, freeze):
    transaction, _url = online_payments.start_online_payment(invoices[0], PAYFIP, **URLS)
    freeze("2027-03-05T10:06")
    jobs.reconcile_payments.call_local()  # PayFiP answers P5: no result yet
    assert OnlineTransaction.get_by_id(transaction.id).status == "pending"
    assert OnlineTransaction.get_by_id(transaction.id).checked_at is not None
    payfip.pay(transaction.transaction_id)
    freeze("2027-03-05T10:11")
    jobs.reconcile_payments.call_local()
    jobs.reconcile_payments.call_local()
    assert OnlineTransaction.get_by_id(transaction.id).status == "paid"
    assert Payment.select().count() == 1 and Invoice.get_by_id(invoices[0].id).balance == 0
    assert payfip.calls.count("recupererDetailPaiementSecurise") == 2  # a settled one is not asked again
    assert len(_mails("Paiement reçu – facture")) == 1


def test_a_session_never_paid_is_abandoned_after_two_hours(martin, client, freeze):
    january = martin[0]
    _pay_button(client, january)
    transaction = OnlineTransaction.get()
    freeze("2027-03-05T11:30")
    jobs.reconcile_payments.call_local()
    assert OnlineTransaction.get_by_id(transaction.id).status == "pending"
    freeze("2027-03-05T12:01")
    jobs.reconcile_payments.call_local()
    abandoned = OnlineTransaction.get_by_id(transaction.id)
    assert abandoned.status == "cancelled" and abandoned.open_key is None and "Abandonnée" in abandoned.note
    assert Invoice.get_by_id(january.id).balance == 580 and Payment.select().count() == 0
    # The dummy bank's session is over; « Payer » opens a new one.
    refused = post_form(client, "/factures/paiement/banque-de-test", {
        "transaction_id": transaction.transaction_id, "amount": "5.80", "outcome": "paid"},
        token_page=f"/factures/{january.id}")
    assert "Cette session de paiement a expiré" in _page(client, refused)
    assert "Payer en ligne" in client.get(f"/factures/{january.id}").get_data(as_text=True)
    _pay_button(client, january)
    assert OnlineTransaction.select().count() == 2


@pytest.mark.parametrize("forgotten", [False, True])
def test_payfip_p5_for_two_hours_or_p1_abandons(invoices, payfip, freeze, forgotten):
    transaction, _url = online_payments.start_online_payment(invoices[0], PAYFIP, **URLS)
    if forgotten:  # PayFiP's night clean-up forgot the idop: fault P1
        payfip.records.clear()
        freeze("2027-03-05T10:06")
    else:
        freeze("2027-03-05T12:00")
    jobs.reconcile_payments.call_local()
    assert OnlineTransaction.get_by_id(transaction.id).status == "cancelled"
    assert Payment.select().count() == 0


def test_a_late_paid_answer_after_abandonment_still_counts(invoices, payfip, freeze):
    """Money the bank took is never dropped, even after we gave up waiting."""
    transaction, _url = online_payments.start_online_payment(invoices[0], PAYFIP, **URLS)
    freeze("2027-03-05T12:01")
    jobs.reconcile_payments.call_local()
    assert OnlineTransaction.get_by_id(transaction.id).status == "cancelled"
    payfip.pay(transaction.transaction_id)
    online_payments.handle_bank_answer(f"idop={transaction.transaction_id}", PAYFIP)
    assert OnlineTransaction.get_by_id(transaction.id).status == "paid"
    assert Invoice.get_by_id(invoices[0].id).balance == 0


# --- PayFiP outage -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["down", "timeout", "garbage", "hang"])
def test_payfip_outage_when_starting_is_a_message_and_nothing_is_recorded(martin, client, payfip, app, mode):
    payfip.mode = mode
    if mode == "hang":  # a server that accepts the connection and never answers: our timeout holds
        server = payfip_stub.SilentServer()
        payfip.hang_address = server.address
        app.config["PAYFIP_TIMEOUT"] = "0.5"
    started = time.monotonic()
    response = _pay_button(client, martin[0])
    elapsed = time.monotonic() - started
    if mode == "hang":
        server.close()
        assert elapsed < 5
    page = _page(client, response)
    assert UNAVAILABLE in page and "transaction inconnue" not in page.lower()
    assert OnlineTransaction.select().count() == 0 and Payment.select().count() == 0
    assert Invoice.get_by_id(martin[0].id).balance == 580


@pytest.mark.parametrize("mode", ["down", "timeout", "garbage"])
def test_payfip_outage_on_return_leaves_the_payment_pending_for_the_worker(martin, client, payfip, freeze, mode):
    january = martin[0]
    _pay_button(client, january)
    idop = OnlineTransaction.get().transaction_id
    payfip.pay(idop)
    payfip.mode = mode
    back = client.get(f"/factures/paiement/retour?idop={idop}")
    page = _page(client, back)
    assert UNAVAILABLE in page and "ne payez pas une seconde fois" in page
    assert client.post("/factures/paiement/notification", data={"idop": idop}).status_code == 503
    assert OnlineTransaction.get().status == "pending" and Payment.select().count() == 0
    assert Invoice.get_by_id(january.id).balance == 580
    freeze("2027-03-05T10:06")
    assert "1 sans réponse" in jobs.reconcile_payments.call_local()
    payfip.mode = "ok"  # PayFiP is back
    jobs.reconcile_payments.call_local()
    assert OnlineTransaction.get().status == "paid" and Invoice.get_by_id(january.id).balance == 0


def test_the_worker_stops_asking_payfip_for_this_pass_once_it_does_not_answer(invoices, payfip, freeze):
    for invoice in invoices:
        online_payments.start_online_payment(invoice, PAYFIP, **URLS)
    payfip.mode, payfip.calls[:] = "timeout", []
    freeze("2027-03-05T10:06")
    assert jobs.reconcile_payments.call_local().startswith("2 transaction(s) vérifiée(s), 0 réglée(s), 2 sans réponse")
    assert payfip.calls == ["recupererDetailPaiementSecurise"]  # one timeout, not one per transaction
    assert OnlineTransaction.select().where(OnlineTransaction.status == "pending").count() == 2


def test_payfip_garbage_amount_is_not_a_payment(invoices, payfip):
    transaction, _url = online_payments.start_online_payment(invoices[0], PAYFIP, **URLS)
    payfip.pay(transaction.transaction_id, montant="cinq euros")
    with pytest.raises(online_payments.PaymentServiceUnavailable):
        online_payments.handle_bank_answer(f"idop={transaction.transaction_id}", PAYFIP)
    assert OnlineTransaction.get_by_id(transaction.id).status == "pending" and Payment.select().count() == 0


# --- A failing side effect never rolls the payment back -----------------------------------------


def test_a_failing_order_confirmation_keeps_the_payment_and_the_worker_confirms_later(prepaid, auth, client,
                                                                                     monkeypatch, freeze):
    order = _held_order(prepaid)
    auth.login("famille.martin@example.fr")
    post_form(client, f"/commandes/{order.id}/payer", token_page=f"/commandes/{order.id}")
    transaction = OnlineTransaction.get()

    def broken(*args, **kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(outbox, "send", broken)  # confirming the order tells the family: that step fails
    back = post_form(client, "/factures/paiement/banque-de-test", {
        "transaction_id": transaction.transaction_id, "amount": f"{transaction.amount / 100:.2f}",
        "outcome": "paid"}, token_page=f"/commandes/{order.id}")
    page = _page(client, back)
    assert "Paiement accepté : la confirmation de votre commande est en cours" in page
    paid = OnlineTransaction.get_by_id(transaction.id)
    assert paid.status == "paid" and "a échoué" in paid.note and "RuntimeError" in paid.note
    assert Payment.select().count() == 1 and PaymentAllocation.get().order_id == order.id
    assert Order.get_by_id(order.id).payment_status == "awaiting_payment"
    assert _lea_status(prepaid) == "held"
    detail = client.get(f"/commandes/{order.id}").get_data(as_text=True)
    assert "Votre paiement est bien arrivé" in detail and "Payer " not in detail
    again = post_form(client, f"/commandes/{order.id}/payer", token_page=f"/commandes/{order.id}")
    assert "la confirmation de la commande est en cours" in _page(client, again)
    assert OnlineTransaction.select().count() == 1  # nothing charged twice
    staff = _staff_page(client)
    assert "Payé – commande à confirmer" in staff and "RuntimeError" in staff
    auth.login("famille.martin@example.fr")
    freeze("2026-11-19T19:30")  # past the hour: the order is paid, it does not expire
    assert orders.expire_unpaid_orders() == 0
    jobs.reconcile_payments.call_local()  # still failing: still paid, still noted
    assert OnlineTransaction.get_by_id(transaction.id).status == "paid"
    monkeypatch.undo()
    assert "1 commande(s) confirmée(s)" in jobs.reconcile_payments.call_local()
    assert Order.get_by_id(order.id).payment_status == "paid" and _lea_status(prepaid) == "booked"
    assert OnlineTransaction.get_by_id(transaction.id).note == ""
    before = _ledger()
    assert "0 commande(s) confirmée(s)" in jobs.reconcile_payments.call_local()
    assert _ledger() == before
    assert len(_mails(f"Commande n° {order.number} payée et confirmée")) == 1


def _staff_page(client) -> str:
    """The régisseur's « Paiements en ligne » (the parent's session is replaced)."""
    post_form(client, "/deconnexion", token_page="/")
    post_form(client, "/connexion", {"email": "regisseur@example.fr", "password": DEMO_PASSWORD})
    page = client.get("/gestion/paiements-en-ligne/").get_data(as_text=True)
    post_form(client, "/deconnexion", token_page="/")
    return page


def test_an_avoir_paying_the_whole_order_never_answers_500_when_confirming_fails(prepaid, auth, client,
                                                                                monkeypatch):
    Payment.create(household=prepaid["martin"], mode="cheque", amount=10_000, received_on=clock.today(),
                   recorded_at=clock.local_now())
    order = _held_order(prepaid)
    auth.login("famille.martin@example.fr")
    monkeypatch.setattr(orders, "held_bookings", lambda order: 1 / 0)  # confirming the order fails
    page = _page(client, post_form(client, f"/commandes/{order.id}/payer", token_page=f"/commandes/{order.id}"))
    assert "Votre avoir a réglé la commande : sa confirmation est en cours" in page
    assert ledger.order_balance(order) == 0 and Order.get_by_id(order.id).payment_status == "awaiting_payment"
    monkeypatch.undo()
    assert "1 commande(s) confirmée(s)" in jobs.reconcile_payments.call_local()
    assert Order.get_by_id(order.id).payment_status == "paid" and _lea_status(prepaid) == "booked"
    assert OnlineTransaction.select().count() == 0


def test_an_order_is_not_expired_while_its_payment_is_under_way(prepaid, freeze):
    order = _held_order(prepaid)
    freeze("2026-11-19T18:50")
    online_payments.start_order_payment(order, SETTINGS, **URLS)
    freeze("2026-11-19T19:00")  # the hour is over, but the parent is at the bank
    assert orders.expire_unpaid_orders() == 0
    freeze("2026-11-19T19:11")
    assert orders.expire_unpaid_orders() == 1
    assert Order.get_by_id(order.id).payment_status == "expired"


def test_a_second_payment_of_a_paid_order_is_an_avoir(prepaid, freeze):
    order = _held_order(prepaid)
    first, _url = online_payments.start_order_payment(order, SETTINGS, **URLS)
    freeze("2026-11-19T18:10")
    second, _url = online_payments.start_order_payment(Order.get_by_id(order.id), SETTINGS, **URLS)
    assert second.id != first.id
    for transaction in (first, second):
        notification = online_payments.simulate_bank(transaction.transaction_id, "paid", transaction.amount)
        online_payments.handle_bank_answer(notification, SETTINGS)
    assert Order.get_by_id(order.id).payment_status == "paid"
    assert OnlineTransaction.get_by_id(second.id).status == "anomaly"
    assert ledger.household_credit(prepaid["martin"]) == second.amount
    assert Booking.select().where(Booking.prepaid).count() == 2


# --- Staff: « Paiements en ligne » ---------------------------------------------------------------


@pytest.fixture
def journal(invoices, freeze):
    """Three transactions of 5 March 2027: one paid (5,80 €), one refused, one pending."""
    january, february = invoices
    paid, _url = online_payments.start_online_payment(january, SETTINGS, **URLS)
    online_payments.handle_bank_answer(online_payments.simulate_bank(paid.transaction_id, "paid", 580), SETTINGS)
    refused, _url = online_payments.start_online_payment(february, SETTINGS, **URLS)
    online_payments.handle_bank_answer(online_payments.simulate_bank(refused.transaction_id, "refused", 870),
                                       SETTINGS)
    freeze("2027-03-05T10:01")
    pending, _url = online_payments.start_online_payment(Invoice.get_by_id(february.id), SETTINGS, **URLS)
    return dict(paid=paid, refused=refused, pending=pending, january=january, february=february)


URL = "/gestion/paiements-en-ligne/"


@pytest.mark.parametrize("email, status", [("famille.martin@example.fr", 404), ("agent@example.fr", 403),
                                           ("regisseur@example.fr", 200), ("admin@example.fr", 200)])
def test_staff_page_roles(journal, client, auth, email, status):
    auth.login(email)
    assert client.get(URL).status_code == status
    assert client.get(f"{URL}export.csv?jour=2027-03-05").status_code == status


def test_staff_page_lists_states_in_words_filters_and_totals(journal, client, auth):
    auth.login("regisseur@example.fr")
    page = client.get(URL).get_data(as_text=True)
    assert "Paiements en ligne" in page and 'aria-current="page">Paiements en ligne' in page
    for label in ("Payé", "Refusé", "En cours"):
        assert f"</span>{label}</span>" in page
    assert page.count("Vérifier auprès de PayFiP<span") == 1  # only the pending one
    assert "<caption>3 transaction(s)" in page and 'scope="col"' in page and "stack-table" in page
    # Totals of the day: one card payment of 5,80 €, the treasury's figure.
    assert "vendredi 5 mars 2027" in page
    totals = page[page.index("Encaissements par jour"):page.index('id="transactions-titre"')]
    assert 'data-label="Paiements">1</td>' in totals and "5,80" in totals and "Total mars 2027" in totals
    only_paid = client.get(f"{URL}?etat=paid").get_data(as_text=True)
    assert "<caption>1 transaction(s)" in only_paid and journal["paid"].transaction_id in only_paid
    assert "<caption>3 transaction(s)" in client.get(f"{URL}?jour=2027-03-05").get_data(as_text=True)
    assert "Aucune transaction pour ce filtre" in client.get(f"{URL}?jour=2027-03-06").get_data(as_text=True)
    for bad_day in ("demain", "9999-12-31", "0001-01-01"):
        bad = client.get(f"{URL}?jour={bad_day}&etat=nimporte")
        assert bad.status_code == 200 and "Date invalide" in bad.get_data(as_text=True)
    assert client.get(f"{URL}export.csv?jour=9999-12-31").status_code == 302
    csv_text = client.get(f"{URL}export.csv?jour=2027-03-05").get_data(as_text=True)
    assert csv_text.startswith("\ufeffCréée le;") and csv_text.count("\n") == 4
    assert "Payé" in csv_text and "5,80" in csv_text
    assert client.get(f"{URL}export.csv").status_code == 302


def test_staff_check_button_settles_a_pending_transaction(journal, client, auth):
    auth.login("regisseur@example.fr")
    pending = journal["pending"]
    online_payments.simulate_bank(pending.transaction_id, "paid", pending.amount)  # paid, the return lost
    assert client.post(f"{URL}{pending.id}/verifier").status_code == 400  # no CSRF token
    assert OnlineTransaction.get_by_id(pending.id).status == "pending"
    response = post_form(client, f"{URL}{pending.id}/verifier", {"etat": "pending"}, token_page=URL)
    assert response.headers["Location"].endswith("?etat=pending")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Transaction {pending.transaction_id} (8,70\xa0€) : payé." in page
    assert OnlineTransaction.get_by_id(pending.id).status == "paid"
    assert Invoice.get_by_id(journal["february"].id).balance == 0
    assert AuditLog.select().where(AuditLog.action == "online_payment_check").count() == 1
    totals = client.get(URL).get_data(as_text=True)
    assert 'data-label="Paiements">2</td>' in totals and "14,50" in totals
    assert post_form(client, f"{URL}999999/verifier", token_page=URL).status_code == 404


def test_staff_check_button_when_payfip_is_down(invoices, client, auth, payfip):
    transaction, _url = online_payments.start_online_payment(invoices[0], PAYFIP, **URLS)
    payfip.mode = "down"
    auth.login("regisseur@example.fr")
    response = post_form(client, f"{URL}{transaction.id}/verifier", token_page=URL)
    assert UNAVAILABLE in _page(client, response)
    assert OnlineTransaction.get_by_id(transaction.id).status == "pending"
