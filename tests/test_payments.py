"""Payments: manual règlements over the oldest invoices, online card payment through the dummy
backend (verified server-side, idempotent, amount never trusted), unknown transactions."""
from __future__ import annotations

import datetime as dt

import pytest

from models import DirectDebitMandate, Invoice, OnlineTransaction, Payment, PaymentAllocation
from services.billing import invoicing, invoicing_runs, ledger, online_payments, payments
from services.core import clock
from services.core.errors import InvalidInput
from tests import payfip_stub
from tests.conftest import outbox_messages
from tests.test_invoicing import book, clear_billing

SETTINGS = online_payments.PaymentSettings()
URLS = dict(email="famille.martin@example.fr", return_url="http://portail.test/factures/retour",
            notify_url="http://portail.test/factures/notification", dummy_bank_url="http://portail.test/banque")


@pytest.fixture
def invoices(demo, freeze):
    """Two invoices of the Martin household: January (2 meals) then February (3 meals)."""
    martin, lea = demo["households"]["martin"], demo["children"]["lea"]
    clear_billing()  # the demo's own invoices and payments are out of the way
    regie, repas = demo["regies"]["periscolaire"], demo["units"]["repas_phare"]
    result = []
    for month, days in ((1, (4, 5)), (2, (1, 2, 4))):
        for day in days:
            book(martin, lea, repas, dt.date(2027, month, day), price=290, attendance="present")
        freeze(f"2027-{month + 1:02d}-01T09:00")
        result += invoicing_runs.issue_run(regie, 2027, month).issued
    freeze("2027-03-05T10:00")
    return [inv for inv in result if inv.household_id == martin.id]


def test_manual_payment_spreads_over_oldest_first(invoices, demo):
    january, february = invoices
    assert (january.amount, february.amount) == (580, 870)
    payment = payments.record_payment(demo["households"]["martin"], "cheque", 700, dt.date(2027, 3, 4), "n° 1234567")
    assert [(a.invoice_id, a.amount) for a in payment.allocations.order_by(PaymentAllocation.id)] == [
        (january.id, 580), (february.id, 120)]
    assert Invoice.get_by_id(january.id).balance == 0
    assert Invoice.get_by_id(february.id).balance == 750
    assert invoicing.status_of(Invoice.get_by_id(january.id))[1] == "Payée"
    payments.record_payment(demo["households"]["martin"], "especes", 1000, dt.date(2027, 3, 5))
    assert Invoice.get_by_id(february.id).balance == 0
    assert ledger.household_credit(demo["households"]["martin"]) == 250  # avoir


@pytest.mark.parametrize("mode, amount, day, field", [
    ("carte", 100, dt.date(2027, 3, 1), "mode"), ("cheque", 0, dt.date(2027, 3, 1), "amount"),
    ("cheque", -5, dt.date(2027, 3, 1), "amount"), ("virement", 100, dt.date(2027, 3, 6), "received_on"),
])
def test_manual_payment_refusals_save_nothing(invoices, demo, mode, amount, day, field):
    with pytest.raises(InvalidInput) as refusal:
        payments.record_payment(demo["households"]["martin"], mode, amount, day)
    assert refusal.value.field == field
    assert Payment.select().count() == 0


def pay(invoice, outcome="paid", charged=None):
    transaction, url = online_payments.start_online_payment(invoice, SETTINGS, **URLS)
    assert url.startswith("http://portail.test/banque?") and "transaction_id=" in url
    notification = online_payments.simulate_bank(transaction.transaction_id, outcome,
                                          transaction.amount if charged is None else charged)
    return transaction, notification


def test_online_payment_paid_once_and_replay_changes_nothing(invoices):
    january = invoices[0]
    transaction, notification = pay(january)
    assert transaction.amount == 580
    outcome = online_payments.handle_bank_answer(notification, SETTINGS)
    assert outcome.changed and outcome.transaction.status == "paid"
    assert Invoice.get_by_id(january.id).balance == 0
    assert Payment.get().mode == "carte"
    mails = [m for m in outbox_messages() if m["subject"].startswith("Paiement reçu")]
    assert len(mails) == 1 and "5,80" in mails[0]["body"]
    replay = online_payments.handle_bank_answer(notification, SETTINGS)
    assert not replay.changed
    assert Payment.select().count() == 1 and PaymentAllocation.select().count() == 1
    with pytest.raises(online_payments.NotPayableOnline):
        online_payments.start_online_payment(Invoice.get_by_id(january.id), SETTINGS, **URLS)


def test_amount_mismatch_is_an_anomaly_not_a_payment(invoices):
    transaction, notification = pay(invoices[0], charged=1)
    outcome = online_payments.handle_bank_answer(notification, SETTINGS)
    assert outcome.transaction.status == "anomaly"
    assert Payment.select().count() == 0 and Invoice.get_by_id(invoices[0].id).balance == 580


@pytest.mark.parametrize("outcome, status", [("refused", "refused"), ("cancelled", "cancelled")])
def test_refused_and_abandoned(invoices, outcome, status):
    transaction, notification = pay(invoices[0], outcome)
    assert online_payments.handle_bank_answer(notification, SETTINGS).transaction.status == status
    assert Payment.select().count() == 0


def test_forged_claim_without_bank_record_changes_nothing(invoices):
    transaction, _url = online_payments.start_online_payment(invoices[0], SETTINGS, **URLS)
    forged = f"transaction_id={transaction.transaction_id}&signed=1&ok=1"
    outcome = online_payments.handle_bank_answer(forged, SETTINGS)
    assert not outcome.changed and OnlineTransaction.get_by_id(transaction.id).status == "pending"
    assert Payment.select().count() == 0


@pytest.mark.parametrize("query", ["transaction_id=inconnu&signed=1&ok=1", "", "foo=bar"])
def test_unknown_transaction(invoices, query):
    with pytest.raises(online_payments.UnknownTransaction):
        online_payments.handle_bank_answer(query, SETTINGS)


def test_direct_debit_and_pending_invoices_are_not_payable_by_card(invoices, demo):
    DirectDebitMandate.create(household=demo["households"]["martin"], reference="RUM-1", holder="Claire Martin",
                              iban="FR7630006000011234567890189", signed_at=clock.local_now())
    Invoice.update(direct_debit=True).where(Invoice.id == invoices[0].id).execute()
    with pytest.raises(online_payments.NotPayableOnline, match="prélevée"):
        online_payments.start_online_payment(invoices[0], SETTINGS, **URLS)
    Invoice.update(payable_from=dt.date(2027, 4, 1)).where(Invoice.id == invoices[1].id).execute()
    with pytest.raises(online_payments.NotPayableOnline, match="validation"):
        online_payments.start_online_payment(invoices[1], SETTINGS, **URLS)


def test_avoir_is_used_on_the_next_invoice_and_before_the_card(invoices, demo, freeze):
    january, february = invoices
    martin = demo["households"]["martin"]
    payments.record_payment(martin, "virement", 580 + 870 + 300, dt.date(2027, 3, 4))
    assert ledger.household_credit(martin) == 300
    book(martin, demo["children"]["lea"], demo["units"]["repas_phare"], dt.date(2027, 3, 1), price=290,
         attendance="present")
    freeze("2027-04-01T09:00")
    march = invoicing_runs.issue_run(demo["regies"]["periscolaire"], 2027, 3).issued[0]
    assert Invoice.get_by_id(march.id).balance == 0 and ledger.household_credit(martin) == 10


def test_credit_note_on_a_paid_invoice_becomes_avoir_for_the_next_one(invoices, demo):
    january, february = invoices
    martin = demo["households"]["martin"]
    payments.record_payment(martin, "cheque", 580, dt.date(2027, 3, 4))
    assert Invoice.get_by_id(january.id).balance == 0
    invoicing.issue_credit_note(Invoice.get_by_id(january.id), 290, "Repas non servi")
    fresh_january, fresh_february = Invoice.get_by_id(january.id), Invoice.get_by_id(february.id)
    assert (fresh_january.paid, fresh_january.credited, fresh_january.balance) == (290, 290, 0)
    assert fresh_february.balance == 870 - 290  # the freed 2,90 € went to the next unpaid invoice
    assert ledger.household_credit(martin) == 0
    transaction, _url = online_payments.start_online_payment(fresh_february, SETTINGS, **URLS)
    assert transaction.amount == 580


PAYFIP = online_payments.PaymentSettings(backend="payfip_ws", numcli="123456", mode="T")


@pytest.fixture
def payfip(monkeypatch):
    """PayFiP's web service stubbed at its transport (eopayment and zeep make the real SOAP calls)."""
    return payfip_stub.install(monkeypatch)


def test_payfip_paid_verified_amount_and_idempotent(invoices, payfip):
    transaction, url = online_payments.start_online_payment(invoices[0], PAYFIP, **URLS)
    assert url == f"https://www.payfip.gouv.fr/tpa/paiementws.web?idop={transaction.transaction_id}"
    assert payfip.records[transaction.transaction_id].montant == "580"  # cents, as PayFiP wants them
    answer = f"idop={transaction.transaction_id}"
    assert online_payments.handle_bank_answer(answer, PAYFIP).transaction.status == "pending"  # P5: no result yet
    payfip.pay(transaction.transaction_id)
    assert online_payments.handle_bank_answer(answer, PAYFIP).transaction.status == "paid"
    calls = len(payfip.calls)
    assert not online_payments.handle_bank_answer(answer, PAYFIP).changed
    assert len(payfip.calls) == calls  # a settled transaction is not asked again
    assert Invoice.get_by_id(invoices[0].id).balance == 0 and Payment.select().count() == 1
    assert Payment.get().received_on == clock.today()  # PayFiP's dattrans
    with pytest.raises(online_payments.UnknownTransaction):
        online_payments.handle_bank_answer("idop=AUTRE", PAYFIP)


def test_payfip_amount_mismatch_and_misconfiguration(invoices, payfip):
    transaction, _url = online_payments.start_online_payment(invoices[0], PAYFIP, **URLS)
    payfip.pay(transaction.transaction_id, montant="1")
    outcome = online_payments.handle_bank_answer(f"idop={transaction.transaction_id}", PAYFIP)
    assert outcome.transaction.status == "anomaly" and "différent du montant demandé" in outcome.transaction.note
    assert Payment.select().count() == 0
    with pytest.raises(online_payments.PaymentRefused, match="pas configuré"):
        online_payments.start_online_payment(invoices[1], online_payments.PaymentSettings("payfip_ws", "", "T"), **URLS)
