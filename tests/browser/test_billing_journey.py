"""A demo parent opens an unpaid invoice, downloads its PDF (the text holds the total), pays through
the dummy bank and sees it paid; another household's invoice PDF is a 404. Staff invoicing pages; the
régisseur closes November, « Émettre » hands the run to the live server's worker and the page follows
its progress (htmx) to the result; the parent's grid then says the month is closed.
axe-core on every page visited (phone for Martin, desktop for Dupont and the régisseur)."""
from __future__ import annotations

import io
import re
import sqlite3

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.conftest import axe_check, sign_in


def _db(live_server):
    return sqlite3.connect(live_server.instance / "portail.db")


def _unpaid_invoice(live_server, email: str) -> tuple[int, str, int]:
    """(id, number, amount) of the household's unpaid invoice, read from the server's database."""
    with _db(live_server) as conn:
        return conn.execute(
            "SELECT i.id, i.number, i.amount FROM invoice i JOIN user u ON u.household_id = i.household_id "
            "WHERE u.email = ? AND i.kind = 'invoice' AND i.amount > i.paid + i.credited ORDER BY i.id LIMIT 1",
            (email,)).fetchone()


def _any_invoice_id(live_server, email: str) -> int:
    with _db(live_server) as conn:
        return conn.execute("SELECT i.id FROM invoice i JOIN user u ON u.household_id = i.household_id "
                            "WHERE u.email = ? ORDER BY i.id LIMIT 1", (email,)).fetchone()[0]


def _no_scroll_at_320(page) -> None:
    """The smallest phones: nothing may scroll sideways at 320 px."""
    size = page.viewport_size
    page.set_viewport_size({"width": 320, "height": 700})
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    page.set_viewport_size(size)
    assert overflow <= 0, f"horizontal scroll of {overflow}px at 320 px on {page.url}"


def _euros(cents: int) -> str:
    return f"{cents // 100},{cents % 100:02d}"


@pytest.mark.parametrize("viewport, email, other", [
    ("phone", "famille.martin@example.fr", "famille.dupont@example.fr"),
    ("desktop", "famille.dupont@example.fr", "famille.martin@example.fr"),
])
def test_parent_pays_an_unpaid_invoice(live_server, browser, viewport, email, other, request):
    page = request.getfixturevalue(f"page_{viewport}")
    invoice_id, number, amount = _unpaid_invoice(live_server, email)
    other_id = _any_invoice_id(live_server, other)
    sign_in(page, live_server.url, email)
    page.goto(live_server.url + "/factures/")
    expect(page.get_by_role("heading", name="Mes factures")).to_be_visible()
    expect(page.get_by_text("Consommations à facturer").first).to_be_visible()
    axe_check(page, "invoices")
    _no_scroll_at_320(page)

    page.get_by_role("link", name=f"Facture {number}").first.click()
    page.wait_for_url(f"**/factures/{invoice_id}")
    expect(page.get_by_text("À payer avant le").first).to_be_visible()
    axe_check(page, "invoice detail")
    _no_scroll_at_320(page)

    pdf = page.context.request.get(live_server.url + f"/factures/{invoice_id}/pdf")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages).replace("\xa0", " ")
    assert f"{_euros(amount)} €" in text and number in text
    assert page.context.request.get(live_server.url + f"/factures/{other_id}/pdf").status == 404
    assert page.context.request.get(live_server.url + f"/factures/{other_id}").status == 404

    page.get_by_role("button", name="Payer en ligne").click()
    page.wait_for_url("**/factures/paiement/banque-de-test*")
    expect(page.get_by_text("Montant demandé")).to_be_visible()
    axe_check(page, "dummy bank")
    page.get_by_role("button", name="Payé", exact=True).click()
    page.wait_for_url(f"**/factures/{invoice_id}")
    expect(page.get_by_role("status").get_by_text("Paiement accepté")).to_be_visible()
    expect(page.get_by_text("Payée").first).to_be_visible()
    expect(page.get_by_role("button", name="Payer en ligne")).to_be_hidden()
    axe_check(page, "invoice paid")
    assert any(m["to"] == email and m["subject"] == f"Paiement reçu – facture {number}" for m in live_server.outbox())

    page.goto(live_server.url + "/factures/reglements")
    expect(page.get_by_text("Carte bancaire (PayFiP)").first).to_be_visible()
    axe_check(page, "payments")
    page.goto(live_server.url + "/factures/attestations")
    expect(page.get_by_role("heading", name="Attestations de frais de garde")).to_be_visible()
    axe_check(page, "certificates")
    page.goto(live_server.url + "/factures/prelevement")
    page.get_by_label("Titulaire du compte").fill("Titulaire Test")
    page.get_by_label("IBAN").fill("FR76 1234")
    page.get_by_role("button", name="Signer le mandat de prélèvement").click()
    expect(page.get_by_text("IBAN invalide").first).to_be_visible()
    axe_check(page, "direct debit form with error")
    assert not page.js_errors


def test_staff_invoicing_pages(live_server, page_desktop):
    page = page_desktop
    sign_in(page, live_server.url, "admin@example.fr")
    page.goto(live_server.url + "/gestion/facturation/")
    axe_check(page, "invoicing")
    page.get_by_label("Régie").select_option(label="Régie périscolaire")
    page.get_by_role("button", name="Prévisualiser").click()
    expect(page.get_by_role("heading", name="Aperçu", exact=False)).to_be_visible()
    axe_check(page, "preview")
    page.get_by_role("link", name="Impayés et relances").click()
    axe_check(page, "unpaid")
    page.get_by_role("link", name="Enregistrer un règlement").first.click()
    page.get_by_role("button", name="Enregistrer le règlement").click()
    expect(page.get_by_text("Choisissez le foyer.").first).to_be_visible()
    axe_check(page, "payment form with errors")
    # The card payments the parents made above, for the régisseur's reconciliation.
    page.get_by_role("link", name="Paiements en ligne").click()
    page.wait_for_url("**/gestion/paiements-en-ligne/")
    expect(page.get_by_role("heading", name="Paiements en ligne", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Encaissements par jour", exact=False)).to_be_visible()
    with _db(live_server) as conn:  # the parents' payments above, when this test runs after them
        paid = conn.execute("SELECT COUNT(*) FROM online_transaction WHERE status = 'paid'").fetchone()[0]
    if paid:
        expect(page.locator("td[data-label='État']", has_text="Payé").first).to_be_visible()
    else:
        expect(page.get_by_text("Aucune transaction")).to_be_visible()
    axe_check(page, "online payments")
    _no_scroll_at_320(page)
    page.get_by_label("État").select_option(label="Payé")
    page.get_by_role("button", name="Filtrer").click()
    assert "etat=paid" in page.url
    axe_check(page, "online payments filtered")
    assert not page.js_errors


def test_staff_close_and_issue_a_month_as_a_job(live_server, page_desktop, page_phone):
    page = page_desktop
    sign_in(page, live_server.url, "admin@example.fr")
    page.goto(live_server.url + "/gestion/facturation/")
    page.get_by_label("Régie").select_option(label="Régie périscolaire")
    page.get_by_label("Mois").select_option(label="Novembre")
    page.get_by_label("Année").fill("2026")
    page.get_by_role("button", name="Prévisualiser").click()
    expect(page.get_by_text("Le mois n'est pas terminé")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Émettre"))).to_have_count(0)
    page.get_by_role("button", name="Clôturer la période").click()
    expect(page.get_by_text("Période clôturée").first).to_be_visible()
    axe_check(page, "closed period")
    page.get_by_role("button", name=re.compile(r"^Émettre les \d+ facture")).click()
    page.wait_for_url("**/gestion/facturation/campagnes/*")
    status = page.get_by_role("status").filter(has_text="foyers")
    expect(status).to_be_visible()
    axe_check(page, "run in progress")
    # The worker does it; htmx replaces the progress every 2 s until « Facturation terminée ».
    page.get_by_text("Facturation terminée").wait_for(timeout=20_000)
    assert re.search(r"(\d+) / \1 foyers", status.inner_text())
    page.get_by_role("link", name="Voir les factures émises").click()
    expect(page.get_by_role("link", name=re.compile("^PERI-2026-11-")).first).to_be_visible()
    expect(page.get_by_role("link", name="Rafraîchir")).to_have_count(0)
    axe_check(page, "run done")
    assert not page.js_errors

    parent = page_phone
    sign_in(parent, live_server.url, "famille.martin@example.fr")
    parent.goto(live_server.url + "/reservations?semaine=2026-W48")
    expect(parent.get_by_text("novembre 2026 est clôturé pour la facturation").first).to_be_visible()
    expect(parent.get_by_text("Ce mois est clôturé pour la facturation : contactez la mairie.").first).to_be_visible()
    axe_check(parent, "closed month grid")
    assert not parent.js_errors
