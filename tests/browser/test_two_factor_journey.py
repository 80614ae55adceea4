"""A staff member enables two-factor sign-in on « Sécurité » (secret read on the page, code computed as
the phone's application would), keeps the recovery codes, signs out and signs in again with a code.
axe-core on /gestion/securite and /connexion/code, phone and desktop."""
from __future__ import annotations

import re

import pyotp
from playwright.sync_api import expect

from services.core import clock
from tests.browser.conftest import axe_check, sign_in

# One account per viewport: the live server is shared by both runs of the test.
ACCOUNTS = {"phone": ("cuisine@example.fr", "/gestion/effectifs"), "desktop": ("regisseur@example.fr", "/gestion/")}


def code_at(secret: str, moment: str) -> str:
    """The code the authentication application shows at the server's (frozen) time."""
    return pyotp.TOTP(secret).at(clock.parse_frozen(moment))


def test_enable_two_factor_then_sign_in_with_a_code(live_server, page):
    email, home = ACCOUNTS[page.viewport_name]
    live_server.set_clock("2026-11-19T17:55")
    sign_in(page, live_server.url, email, landing=f"**{home}")

    page.goto(live_server.url + "/gestion/securite")
    expect(page.get_by_role("heading", name="Double authentification non activée")).to_be_visible()
    axe_check(page, "sécurité, non activée")
    page.get_by_role("button", name="Activer la double authentification").click()
    expect(page.locator(".qr-code svg")).to_be_visible()
    axe_check(page, "sécurité, QR code")
    secret = page.locator("#cle-secrete").inner_text().replace(" ", "")

    page.get_by_label("Code à 6 chiffres de l'application d'authentification").fill("000000")
    page.get_by_role("button", name="Confirmer et activer").click()
    expect(page.get_by_text("Code incorrect")).to_be_visible()
    axe_check(page, "sécurité, code refusé")
    page.get_by_label("Code à 6 chiffres de l'application d'authentification").fill(
        code_at(secret, "2026-11-19T17:55"))
    page.get_by_role("button", name="Confirmer et activer").click()
    expect(page.get_by_role("heading", name="Vos 10 codes de secours")).to_be_visible()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger les codes de secours (fichier texte)").click()
    assert download.value.suggested_filename == "codes-de-secours-portail-famille.txt"
    axe_check(page, "codes de secours")
    page.get_by_role("link", name="J'ai noté mes codes : retour à la page Sécurité").click()
    expect(page.get_by_role("heading", name="Double authentification activée")).to_be_visible()
    axe_check(page, "sécurité, activée")

    page.goto(live_server.url + "/deconnexion")
    page.locator("main").get_by_role("button", name="Se déconnecter").click()
    live_server.set_clock("2026-11-19T17:56")  # a new code: the one used to enable is never accepted again
    sign_in(page, live_server.url, email, landing="**/connexion/code")
    expect(page.get_by_role("heading", name="Code de l'application d'authentification")).to_be_visible()
    axe_check(page, "connexion, second code")
    page.goto(live_server.url + "/gestion/securite")  # nobody is signed in yet
    expect(page).to_have_url(re.compile(r"/connexion\?next=/gestion/securite$"))
    page.go_back()
    page.get_by_label("Code de l'application d'authentification").fill(code_at(secret, "2026-11-19T17:56"))
    page.get_by_role("button", name="Valider et me connecter").click()
    page.wait_for_url(f"**{home}")
    page.goto(live_server.url + "/gestion/securite")
    expect(page.get_by_role("heading", name="Double authentification activée")).to_be_visible()
