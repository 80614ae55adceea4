"""Sign up → read the code in the outbox → activate → sign out → sign in, on a phone and a desktop."""
import re

from playwright.sync_api import expect

from tests.browser.conftest import axe_check


def _code_in(messages, address):
    for message in messages:
        if message["to"] == address and "code" in message["subject"].lower():
            return re.search(r"Voici votre code : (\d{4})", message["body"]).group(1)
    raise AssertionError("no activation code in the outbox")


def test_signup_activate_signin_signout(live_server, page):
    address = f"nouvelle.famille.{page.viewport_name}@example.fr"
    page.goto(live_server.url + "/")
    axe_check(page, "home")
    page.get_by_role("link", name="Créer mon compte").first.click()
    axe_check(page, "signup")

    page.get_by_label("Adresse e-mail").fill(address)
    page.get_by_label("Mot de passe").fill("court")
    page.get_by_role("button", name="S'inscrire").click()
    expect(page.get_by_text("au moins 12 caractères").first).to_be_visible()
    axe_check(page, "signup error")

    page.get_by_role("button", name="Utiliser ce mot de passe").click()
    chosen = page.get_by_label("Mot de passe").input_value()
    assert len(chosen) >= 20
    page.get_by_role("button", name="S'inscrire").click()
    page.wait_for_url("**/creer-mon-compte/confirmation")
    axe_check(page, "confirmation")

    page.get_by_label("Code reçu par e-mail").fill("0000" if _code_in(live_server.outbox(), address) != "0000" else "1111")
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_text("Code incorrect")).to_be_visible()
    page.get_by_label("Code reçu par e-mail").fill(_code_in(live_server.outbox(), address))
    page.get_by_role("button", name="Valider").click()
    page.wait_for_url("**/mon-espace")
    expect(page.get_by_role("status").get_by_text("Votre compte est activé")).to_be_visible()
    axe_check(page, "home after activation")

    if page.viewport_name == "phone":
        page.get_by_text("Menu").click()
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(live_server.url + "/")
    expect(page.get_by_text("Vous êtes déconnecté(e).")).to_be_visible()

    page.get_by_role("link", name="Me connecter").first.click()
    axe_check(page, "login")
    page.get_by_label("Adresse e-mail").fill(address)
    page.get_by_label("Mot de passe").fill(chosen)
    page.get_by_label("Se souvenir de moi").check()
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/mon-espace")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert not page.js_errors


def test_public_pages_are_accessible(live_server, page):
    for path in ("/accessibilite", "/mentions-legales", "/contact", "/mot-de-passe-oublie", "/dev/outbox"):
        page.goto(live_server.url + path)
        axe_check(page, path)


def test_keyboard_sign_in(live_server, page_desktop):
    page = page_desktop
    page.goto(live_server.url + "/connexion")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"
    page.get_by_label("Adresse e-mail").focus()
    page.keyboard.type("famille.martin@example.fr")
    page.keyboard.press("Tab")
    page.keyboard.type("Demo-Portail-2026!")
    page.keyboard.press("Enter")
    page.wait_for_url("**/mon-espace")
    expect(page.get_by_text("Bonjour Claire")).to_be_visible()
