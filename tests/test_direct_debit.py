"""Direct debit: IBAN checked, SEPA mandate, invoices "en prélèvement" not payable by card, pain.008."""
from __future__ import annotations

import datetime as dt

import pytest

from models import DirectDebitMandate, Invoice
from services.billing import direct_debit, invoicing
from services.core import clock
from services.core.errors import InvalidInput
from tests.conftest import post_form

IBAN = "FR76 3000 6000 0112 3456 7890 189"
CREDITOR = direct_debit.Creditor("Mairie de Démo", "FR7630001007941234567890185", "BDFEFRPPCCT", "FR72ZZZ123456")


@pytest.mark.parametrize("holder, iban, bic, accepted, field", [
    ("", IBAN, "", True, "holder"), ("K. Dupont", "FR76 3000 6000 0112 3456 7890 180", "", True, "iban"),
    ("K. Dupont", "123", "", True, "iban"), ("K. Dupont", IBAN, "XX", True, "bic"), ("K. Dupont", IBAN, "", False, "accept"),
])
def test_mandate_refusals_save_nothing(demo, holder, iban, bic, accepted, field):
    with pytest.raises(InvalidInput) as refusal:
        direct_debit.sign_mandate(demo["households"]["dupont"], holder, iban, bic, accepted)
    assert refusal.value.field == field
    assert DirectDebitMandate.select().count() == 0


def test_mandate_puts_unpaid_invoices_en_prelevement_and_pain008(demo):
    dupont = demo["households"]["dupont"]
    unpaid = demo["invoices"]["dupont_unpaid"]
    mandate = direct_debit.sign_mandate(dupont, "Karim Dupont", IBAN, "", True)
    assert mandate.iban == "FR7630006000011234567890189" and mandate.reference == f"PF{dupont.id:06d}M001"
    fresh = Invoice.get_by_id(unpaid.id)
    assert invoicing.status_of(fresh)[1] == "En prélèvement" and not invoicing.is_payable_online(fresh)
    xml, count, total = direct_debit.pain008(demo["regies"]["loisirs"], CREDITOR, clock.today() + dt.timedelta(days=5))
    assert count == 1 and total == fresh.balance
    assert b"pain.008.001.02" in xml and mandate.reference.encode() in xml and b"FR7630006000011234567890189" in xml
    with pytest.raises(InvalidInput):
        direct_debit.pain008(demo["regies"]["loisirs"], CREDITOR, clock.today())
    direct_debit.revoke_mandate(dupont)
    assert invoicing.is_payable_online(Invoice.get_by_id(unpaid.id))
    with pytest.raises(direct_debit.DirectDebitRefused):
        direct_debit.pain008(demo["regies"]["loisirs"], CREDITOR, clock.today() + dt.timedelta(days=5))


def test_parent_signs_mandate_in_the_portal(demo, client, auth):
    auth.login("famille.dupont@example.fr")
    url = "/factures/prelevement"
    bad = post_form(client, url, {"holder": "Karim Dupont", "iban": "FR00 1234", "accept": "1"}, token_page=url)
    assert bad.status_code == 400 and "IBAN invalide" in bad.get_data(as_text=True)
    ok = post_form(client, url, {"holder": "Karim Dupont", "iban": IBAN, "accept": "1"}, token_page=url)
    assert ok.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "FR76 **** " in page and "7890" not in page
    invoice_page = client.get(f"/factures/{demo['invoices']['dupont_unpaid'].id}").get_data(as_text=True)
    assert "En prélèvement" in invoice_page and "Payer en ligne" not in invoice_page
    auth.logout()
    auth.login("admin@example.fr")
    day = (clock.today() + dt.timedelta(days=10)).isoformat()
    response = client.get(f"/gestion/facturation/export/prelevements.xml?regie={demo['regies']['loisirs'].id}&date={day}")
    assert response.status_code == 200 and b"<CstmrDrctDbtInitn>" in response.data
    missing = client.get("/gestion/facturation/export/prelevements.xml?regie=abc&date=demain")
    assert missing.status_code == 302


def test_recording_the_collection_pays_the_invoices_once(demo):
    from models import Payment

    dupont, loisirs = demo["households"]["dupont"], demo["regies"]["loisirs"]
    unpaid = demo["invoices"]["dupont_unpaid"]
    direct_debit.sign_mandate(dupont, "Karim Dupont", IBAN, "", True)
    balance = Invoice.get_by_id(unpaid.id).balance
    with pytest.raises(InvalidInput):
        direct_debit.record_collection(loisirs, clock.today() + dt.timedelta(days=1))
    assert direct_debit.record_collection(loisirs, clock.today()) == (1, balance)
    fresh = Invoice.get_by_id(unpaid.id)
    assert fresh.balance == 0 and invoicing.status_of(fresh)[1] == "Payée"
    payment = Payment.get((Payment.household == dupont.id) & (Payment.mode == "prelevement"))
    assert payment.amount == balance and payment.mode_label == "Prélèvement"
    with pytest.raises(direct_debit.DirectDebitRefused):  # nothing left to collect: no second payment
        direct_debit.record_collection(loisirs, clock.today())
    assert Payment.select().where(Payment.mode == "prelevement").count() == 1


def test_staff_record_the_collection(demo, client, auth):
    direct_debit.sign_mandate(demo["households"]["dupont"], "Karim Dupont", IBAN, "", True)
    auth.login("regisseur@example.fr")
    page = "/gestion/facturation/impayes"
    response = post_form(client, "/gestion/facturation/prelevements/encaisser",
                         {"regie": demo["regies"]["loisirs"].id, "date": clock.today().isoformat()},
                         token_page=page, follow_redirects=True)
    assert "1 prélèvement(s) encaissé(s)" in response.get_data(as_text=True)
    assert Invoice.get_by_id(demo["invoices"]["dupont_unpaid"].id).balance == 0
    bad = post_form(client, "/gestion/facturation/prelevements/encaisser", {"regie": "x", "date": "hier"},
                    token_page=page, follow_redirects=True)
    assert "Choisissez une régie" in bad.get_data(as_text=True)
