"""Parents' /factures and staff /gestion/facturation through the test client: scoping (another
household's invoice, PDF, receipt → 404), PDF text, dummy payment round trip, staff run, manual
payment, reminders, exports."""
from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

import jobs
from models import AuditLog, Invoice, InvoicingRun, OnlineTransaction, Payment
from services.core import clock
from tests.conftest import outbox_messages, post_form


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def martin(demo, auth):
    auth.login("famille.martin@example.fr")
    return demo


def test_invoices_page_lists_consumptions_and_invoices(martin, client):
    page = client.get("/factures/").get_data(as_text=True)
    unpaid = martin["invoices"]["martin_unpaid"]
    assert "Consommations à facturer" in page
    assert re.search(r"Repas</strong> 1,50\xa0€ × \d+ = ", page)
    assert unpaid.number in page and "Payée" in page and "À payer avant le" in page
    filtered = client.get(f"/factures/?annee={unpaid.issued_on.year}&mois={unpaid.issued_on.month}")
    assert unpaid.number in filtered.get_data(as_text=True)
    assert "Aucune facture" in client.get("/factures/?annee=2001").get_data(as_text=True)
    assert client.get("/factures/?annee=abc&mois=99").status_code == 200


def test_a_long_invoice_history_comes_in_pages_of_twelve(martin, client):
    """Issue 14: years of invoices made /factures a long scroll on a phone; 12 a page, filters kept."""
    model = Invoice.get_by_id(martin["invoices"]["martin_paid"].id)
    first = model.issued_on.replace(day=1)
    for n in range(30):
        issued = first.replace(year=first.year - 3 + (first.month + n - 1) // 12, month=(first.month + n - 1) % 12 + 1)
        Invoice.create(regie=model.regie, household=model.household, number=f"T-{n:03d}", period_start=issued,
                       period_end=issued, issued_at=model.issued_at, issued_on=issued, payable_from=issued,
                       due_on=issued, amount=100, paid=100)
    total = Invoice.select().where(Invoice.household == model.household).count()
    pages = -(-total // 12)
    page = client.get("/factures/").get_data(as_text=True)
    assert len(re.findall(r'<th scope="row">', page)) == 12
    assert f"Page 1 sur {pages}" in page and "Factures plus anciennes" in page
    last = client.get(f"/factures/?page={pages}").get_data(as_text=True)
    assert "T-000" in last and "T-000" not in page and f"Page {pages} sur {pages}" in last
    assert len(re.findall(r'<th scope="row">', last)) == total - 12 * (pages - 1)
    year = first.year - 3 + (first.month - 1) // 12
    filtered = client.get(f"/factures/?annee={year}").get_data(as_text=True)
    assert "Page 1 sur" not in filtered or f"annee={year}" in filtered.split("Page 1 sur")[1]
    assert client.get("/factures/?page=999").status_code == 200
    assert f"Page {pages} sur {pages}" in client.get("/factures/?page=999").get_data(as_text=True)


def test_invoice_detail_and_pdf(martin, client):
    paid = Invoice.get_by_id(martin["invoices"]["martin_paid"].id)
    page = client.get(f"/factures/{paid.id}").get_data(as_text=True)
    assert "absence non justifiée" in page and "Payer en ligne" not in page
    response = client.get(f"/factures/{paid.id}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    for expected in (f"Facture n° {paid.number}", "Mairie de Démo", "1 place de la Mairie", "Famille Martin",
                     "Madame Claire Martin", "Léa Martin – Restauration scolaire – École du Phare",
                     "Tarif PAI (panier repas)", "QF de 600 à 999 €", "Référence de paiement",
                     "Trésor public", "à payer avant le"):
        assert expected in text, expected
    total = f"{paid.amount // 100},{paid.amount % 100:02d}\xa0€".replace("\xa0", " ")
    assert total in text.replace("\xa0", " ")
    page = PdfReader(io.BytesIO(response.data)).pages[0]
    fonts = {str(font["/BaseFont"]).split("+")[-1] for font in page["/Resources"]["/Font"].values()}
    assert {"DejaVuSans", "DejaVuSans-Bold"} <= fonts, fonts  # the family registered once per process, bold too


def test_other_households_objects_are_404(martin, client):
    other = martin["invoices"]["dupont_unpaid"]
    other_payment = Payment.get(Payment.household == martin["households"]["dupont"])
    for url in (f"/factures/{other.id}", f"/factures/{other.id}/pdf",
                f"/factures/reglements/{other_payment.id}/recu.pdf", "/factures/999999"):
        assert client.get(url).status_code == 404, url
    assert post_form(client, f"/factures/{other.id}/payer", token_page="/factures/").status_code == 404
    assert OnlineTransaction.select().count() == 0


def test_pay_online_through_dummy_bank(martin, client):
    unpaid = martin["invoices"]["martin_unpaid"]
    response = post_form(client, f"/factures/{unpaid.id}/payer", token_page="/factures/")
    assert response.status_code == 302
    bank = response.headers["Location"]
    assert "/factures/paiement/banque-de-test?" in bank and "amount=9" in bank
    page = client.get(bank).get_data(as_text=True)
    assert "Payé" in page and "Refusé" in page and "Abandonné" in page
    transaction = OnlineTransaction.get()
    back = post_form(client, "/factures/paiement/banque-de-test", {
        "transaction_id": transaction.transaction_id, "amount": "9.00", "outcome": "paid"}, token_page="/factures/")
    assert "/factures/paiement/retour?" in back.headers["Location"]
    final = client.get(back.headers["Location"], follow_redirects=True).get_data(as_text=True)
    assert "Paiement accepté" in final and "Payée" in final
    assert Invoice.get_by_id(unpaid.id).balance == 0
    assert any(m["subject"] == f"Paiement reçu – facture {unpaid.number}" for m in outbox_messages())
    # A replayed notification changes nothing; an unknown one is a 404.
    notification = f"/factures/paiement/notification?transaction_id={transaction.transaction_id}&signed=1&ok=1"
    assert client.post(notification).status_code == 200
    assert Payment.select().where(Payment.mode == "carte").count() == 1
    assert client.post("/factures/paiement/notification?transaction_id=nope&signed=1&ok=1").status_code == 404
    assert client.get("/factures/paiement/notification").status_code == 404
    assert client.get("/factures/paiement/retour?transaction_id=nope").status_code == 404
    payments_page = client.get("/factures/reglements").get_data(as_text=True)
    assert "Carte bancaire (PayFiP)" in payments_page
    receipt = client.get(f"/factures/reglements/{Payment.get(Payment.mode == 'carte').id}/recu.pdf")
    assert "9,00 €" in pdf_text(receipt.data).replace("\xa0", " ")


def pay_at_dummy_bank(client, invoice, amount: str, outcome: str) -> str:
    """Start a payment, answer at the dummy bank, follow the way back; returns the final page."""
    post_form(client, f"/factures/{invoice.id}/payer", token_page="/factures/")
    transaction = OnlineTransaction.get()
    back = post_form(client, "/factures/paiement/banque-de-test", {
        "transaction_id": transaction.transaction_id, "amount": amount, "outcome": outcome}, token_page="/factures/")
    return client.get(back.headers["Location"], follow_redirects=True).get_data(as_text=True)


def test_tampered_amount_at_the_bank_is_not_a_payment(martin, client):
    unpaid = martin["invoices"]["martin_unpaid"]
    assert "ne correspond pas" in pay_at_dummy_bank(client, unpaid, "0,01", "paid")
    assert Invoice.get_by_id(unpaid.id).balance == unpaid.amount


def test_refused_payment_keeps_invoice_due(martin, client):
    final = pay_at_dummy_bank(client, martin["invoices"]["martin_unpaid"], "9.00", "refused")
    assert "Paiement refusé" in final and "Payer en ligne" in final


def test_certificates(martin, client, freeze):
    page = client.get("/factures/attestations").get_data(as_text=True)
    year = Payment.get(Payment.household == martin["households"]["martin"]).received_on.year
    assert f"Année {year}" in page and "Hugo Martin" in page and "Léa Martin" not in page
    text = pdf_text(client.get(f"/factures/attestations/{year}.pdf").data)
    assert "Attestation de frais de garde" in text and "Hugo Martin" in text and "repas exclus" in text
    assert client.get("/factures/attestations/1999.pdf").status_code == 404


def test_staff_run_preview_issue_and_exports(demo, client, auth, freeze):
    auth.login("admin@example.fr")
    regie = demo["regies"]["periscolaire"]
    today = clock.today()
    page = client.get(f"/gestion/facturation/?regie={regie.id}&annee={today.year}&mois={today.month}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Aperçu" in body and "Famille Martin" in body
    period = {"regie": regie.id, "annee": today.year, "mois": today.month}
    refused = post_form(client, "/gestion/facturation/emettre", period, token_page="/gestion/facturation/")
    assert "clôturez la période" in client.get(refused.headers["Location"]).get_data(as_text=True)
    post_form(client, "/gestion/facturation/cloturer", period, token_page="/gestion/facturation/")
    response = post_form(client, "/gestion/facturation/emettre", period, token_page="/gestion/facturation/")
    assert response.status_code == 302 and "/gestion/facturation/campagnes/" in response.headers["Location"]
    run = InvoicingRun.get_by_id(int(response.headers["Location"].rsplit("/", 1)[1]))
    assert run.status == "queued" and "En attente" in client.get(response.headers["Location"]).get_data(as_text=True)
    jobs.run_invoicing.call_local(run.id)
    assert "facture(s) émise(s)" in client.get(response.headers["Location"]).get_data(as_text=True)
    again = post_form(client, "/gestion/facturation/emettre", period, token_page="/gestion/facturation/")
    jobs.run_invoicing.call_local(InvoicingRun.select().order_by(InvoicingRun.id.desc()).get().id)
    assert "0 facture(s) émise(s)" in client.get(again.headers["Location"]).get_data(as_text=True)
    assert AuditLog.select().where(AuditLog.action == "invoicing_run").count() == 2
    csv_text = client.get("/gestion/facturation/export/factures.csv").get_data(as_text=True)
    assert csv_text.startswith("\ufeffRégie;Numéro") and demo["invoices"]["martin_unpaid"].number in csv_text
    assert "Chèque" in client.get("/gestion/facturation/export/reglements.csv").get_data(as_text=True)
    bad = client.get("/gestion/facturation/?regie=abc&annee=2026&mois=13")
    assert bad.status_code == 400 and "Choisissez une régie" in bad.get_data(as_text=True)


def test_staff_manual_payment_and_credit_note(demo, client, auth):
    auth.login("admin@example.fr")
    dupont = demo["households"]["dupont"]
    unpaid = demo["invoices"]["dupont_unpaid"]
    url = "/gestion/facturation/reglement"
    bad = post_form(client, url, {"household": dupont.id, "mode": "cheque", "amount": "douze",
                                  "received_on": clock.today().isoformat()}, token_page=url)
    assert bad.status_code == 400 and "Montant invalide" in bad.get_data(as_text=True)
    assert Payment.select().where(Payment.household == dupont).count() == 1
    ok = post_form(client, url, {"household": dupont.id, "mode": "cesu", "amount": "10,00",
                                 "received_on": clock.today().isoformat(), "reference": "CESU 42"}, token_page=url)
    assert ok.status_code == 302
    assert Invoice.get_by_id(unpaid.id).balance == unpaid.amount - 1000
    invoice_url = f"/gestion/facturation/factures/{unpaid.id}"
    refused = post_form(client, invoice_url, {"amount": "1000", "reason": "Trop"}, token_page=invoice_url)
    assert refused.status_code == 400 and "compris entre" in refused.get_data(as_text=True)
    done = post_form(client, invoice_url, {"amount": "5", "reason": "Journée annulée par le service"},
                     token_page=invoice_url)
    assert done.status_code == 302
    assert Invoice.get_by_id(unpaid.id).balance == unpaid.amount - 1500
    assert Invoice.select().where(Invoice.kind == "credit").count() == 1


def test_staff_reminders_and_role(demo, client, auth):
    auth.login("admin@example.fr")
    page = client.get("/gestion/facturation/impayes").get_data(as_text=True)
    unpaid = demo["invoices"]["dupont_unpaid"]
    assert unpaid.number in page
    response = post_form(client, "/gestion/facturation/impayes/relance", {"facture": unpaid.id},
                         token_page="/gestion/facturation/impayes")
    assert response.status_code == 302
    assert any(m["subject"] == f"Rappel : facture {unpaid.number} à régler" and m["to"] == "famille.dupont@example.fr"
               for m in outbox_messages())
    auth.logout()
    auth.login("agent@example.fr")
    assert client.get("/gestion/facturation/impayes").status_code == 403
    auth.logout()
    auth.login("famille.martin@example.fr")
    assert client.get("/gestion/facturation/").status_code == 404


def test_bank_return_posted_cross_site_without_session(martin, client, app):
    """PayFiP may POST the return without our cookies: it is still processed, then the invoice asks to sign in."""
    unpaid = martin["invoices"]["martin_unpaid"]
    post_form(client, f"/factures/{unpaid.id}/payer", token_page="/factures/")
    transaction = OnlineTransaction.get()
    from services.billing import online_payments
    online_payments.simulate_bank(transaction.transaction_id, "paid", transaction.amount)
    stranger = app.test_client()
    response = stranger.post("/factures/paiement/retour", data={"transaction_id": transaction.transaction_id})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/factures/{unpaid.id}")
    assert stranger.get(response.headers["Location"]).status_code == 302  # to the sign-in page
    assert Invoice.get_by_id(unpaid.id).balance == 0


def test_each_unpaid_invoice_has_its_payer_button_in_the_list(client, auth, demo):
    from models import Invoice
    from services.billing import invoicing
    auth.login("famille.martin@example.fr")
    page = client.get("/factures/").get_data(as_text=True)
    invoices = list(Invoice.select().where(Invoice.household == demo["households"]["martin"].id))
    assert invoices
    for item in invoices:
        payable = item.kind == "invoice" and invoicing.is_payable_online(item) and item.balance > 0
        assert (f'action="/factures/{item.id}/payer"' in page) == payable, item.number
    assert any(invoicing.is_payable_online(i) for i in invoices), "the demo has an unpaid invoice"
