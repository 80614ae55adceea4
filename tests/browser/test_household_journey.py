"""At phone size: sign up → foyer, one guardian, two children over two visits → submit → staff validate →
the parent sees the validated file; upload an attestation → staff accept → « Valide du … au … »."""
import re
from pathlib import Path

from playwright.sync_api import expect

from services.demo import DEMO_PASSWORD
from tests.browser.conftest import axe_check, sign_in


def _code_in(messages, address):
    for message in messages:
        if message["to"] == address and "code" in message["subject"].lower():
            return re.search(r"Voici votre code : (\d{4})", message["body"]).group(1)
    raise AssertionError("no activation code in the outbox")


def _sign_out(page):
    page.get_by_text("Menu").click()
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/")


def test_household_file_journey(live_server, page_phone, tmp_path):
    page, url = page_phone, live_server.url
    address = "famille.lemoine@example.fr"
    page.goto(url + "/creer-mon-compte")
    page.get_by_label("Adresse e-mail").fill(address)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)  # the demo's: sign_in's default, like the agent's
    page.get_by_role("button", name="S'inscrire").click()
    page.wait_for_url("**/creer-mon-compte/confirmation")
    page.get_by_label("Code reçu par e-mail").fill(_code_in(live_server.outbox(), address))
    page.get_by_role("button", name="Valider").click()
    page.wait_for_url("**/mon-espace")

    # First visit: foyer and the responsable, then « Enregistrer et finir plus tard ».
    page.get_by_role("link", name="Compléter mon dossier famille").click()
    page.wait_for_url("**/mon-dossier/foyer")
    axe_check(page, "foyer")
    page.get_by_label("Organisme").select_option("CAF")
    page.get_by_label("Numéro d'allocataire", exact=True).fill("7654321")
    page.get_by_label("Situation familiale").select_option("Vie maritale")
    page.get_by_label("Quotient familial (en euros)").fill("abc")
    page.get_by_role("button", name="Enregistrer et continuer").click()
    expect(page.get_by_text("Quotient familial invalide")).to_be_visible()
    axe_check(page, "foyer error")
    page.get_by_label("Quotient familial (en euros)").fill("720")
    page.get_by_role("button", name="Enregistrer et continuer").click()
    page.wait_for_url("**/mon-dossier/responsables")
    axe_check(page, "responsables")
    page.get_by_label("Qualité").select_option("Père")
    page.get_by_label("Civilité").select_option("Monsieur")
    page.get_by_label("Nom", exact=True).fill("Lemoine")
    page.get_by_label("Prénom", exact=True).fill("Julien")
    page.get_by_label("Adresse", exact=True).fill("9 rue du Port")
    page.get_by_label("Code postal").fill("29999")
    page.get_by_label("Ville").fill("Démo-sur-Mer")
    page.get_by_label("Téléphone portable").fill("0611223344")
    page.get_by_role("button", name="Enregistrer et finir plus tard").click()
    page.wait_for_url("**/mon-espace")
    expect(page.get_by_role("status").get_by_text("Votre saisie est enregistrée")).to_be_visible()
    _sign_out(page)

    # Second visit: two children, needs, submit.
    sign_in(page, url, address, landing="**/mon-espace")
    page.get_by_role("link", name="Compléter mon dossier famille").click()
    page.get_by_role("link", name="Mes enfants").click()
    page.wait_for_url("**/mon-dossier/enfants")
    axe_check(page, "enfants")
    first = page.locator("#enfant-1")
    first.get_by_label("Sexe").select_option("F")
    first.get_by_label("Prénom de l'enfant").fill("Rose")
    first.get_by_label("Date de naissance", exact=True).fill("2017-02-03")
    page.get_by_role("button", name="Ajouter un enfant").click()
    second = page.locator("#enfant-2")
    second.get_by_label("Sexe").select_option("M")
    second.get_by_label("Prénom de l'enfant").fill("Paul")
    second.get_by_label("Date de naissance", exact=True).fill("2020-06-30")
    axe_check(page, "enfants, two children")
    page.get_by_role("button", name="Enregistrer et continuer").click()
    page.wait_for_url("**/mon-dossier/besoins")
    axe_check(page, "besoins")
    page.get_by_label("Accueil périscolaire").check()
    page.get_by_role("button", name="Valider mon compte").click()
    page.wait_for_url("**/mon-compte")
    expect(page.get_by_text("en attente de validation par la mairie")).to_be_visible()
    axe_check(page, "mon compte, submitted")
    _sign_out(page)

    # Staff validate.
    sign_in(page, url, "agent@example.fr", landing="**/gestion/")
    page.get_by_role("link", name="Dossiers famille à valider").click()
    axe_check(page, "staff queue")
    page.get_by_label("Sélectionner Famille LEMOINE").check()
    page.get_by_role("button", name="Accepter les dossiers cochés").click()
    expect(page.get_by_role("status").get_by_text("acceptée(s)")).to_be_visible()
    _sign_out(page)

    # The parent sees the validated file, sends the attestation.
    sign_in(page, url, address)
    page.goto(url + "/mon-compte")
    for text in ("Mon foyer", "Responsables", "Mes enfants", "Rose Lemoine", "Paul Lemoine", "720 €"):
        expect(page.get_by_text(text).first).to_be_visible()
    axe_check(page, "mon compte, validated")
    page.get_by_role("link", name="Mes documents").click()
    axe_check(page, "documents")
    attestation = Path(tmp_path) / "attestation.pdf"
    attestation.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    page.get_by_label("Type de document").select_option(label="Attestation de quotient familial")
    page.get_by_label("Fichier").set_input_files(str(attestation))
    page.get_by_role("button", name="Envoyer le document").click()
    expect(page.get_by_role("status").get_by_text("En attente")).to_be_visible()
    _sign_out(page)

    sign_in(page, url, "agent@example.fr")
    page.goto(url + "/gestion/documents")
    axe_check(page, "staff documents")
    page.get_by_label(re.compile("Sélectionner : Attestation de quotient familial, Famille LEMOINE")).check()
    page.get_by_role("button", name="Accepter les documents cochés").click()
    expect(page.get_by_role("status").get_by_text("acceptée(s)")).to_be_visible()
    _sign_out(page)

    sign_in(page, url, address)
    page.goto(url + "/mon-compte/documents")
    # The live server's clock is frozen at jeudi 19 novembre 2026; an attestation lasts 12 months.
    expect(page.get_by_text("Valide du jeudi 19 novembre 2026 au jeudi 18 novembre 2027")).to_be_visible()
    axe_check(page, "documents, accepted")
    assert not page.js_errors
