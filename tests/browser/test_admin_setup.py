"""The administrator sees the setup checklist on the dashboard, sends a test e-mail (the status
message says so), then opens Régies and creates one. axe-core on each page, phone and desktop."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import axe_check, sign_in


def test_admin_checklist_then_regies(page, live_server):
    sign_in(page, live_server.url, "admin@example.fr")

    page.goto(live_server.url + "/gestion/")
    expect(page.get_by_role("heading", name="Avant d'ouvrir le portail aux familles")).to_be_visible()
    expect(page.get_by_text("Paramètres de la commune : à faire")).to_be_visible()
    axe_check(page, "tableau de bord, liste de mise en service")
    page.get_by_role("button", name="M'envoyer un e-mail de test").click()
    expect(page.get_by_role("status").filter(has_text="E-mail de test mis en file d'envoi")).to_be_visible()

    code = "PH" if page.viewport_name == "phone" else "DK"
    page.goto(live_server.url + "/gestion/regies")
    expect(page.get_by_role("heading", name="Régies", exact=True)).to_be_visible()
    axe_check(page, "régies")
    form = page.locator("form[aria-labelledby=nouvelle]")
    form.get_by_label("Nom de la régie").fill(f"Régie test {code}")
    form.get_by_label("Code de la régie").fill(code.lower())
    form.get_by_label("Numéro client PayFiP de la régie").fill("123456")
    form.get_by_role("button", name="Créer la régie").click()
    expect(page.get_by_role("status").filter(has_text=f"Régie « Régie test {code} » créée")).to_be_visible()
    expect(page.locator("td[data-label=Code]", has_text=code)).to_be_visible()
    axe_check(page, "régie créée")
