"""The agent opens Effectifs (tomorrow's counts, meals per régime), then Pointage for today's canteen,
marks Léa absent, saves and sees the confirmation. axe-core on each page, phone and desktop."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import axe_check, sign_in


def test_agent_headcounts_then_attendance(page, live_server):
    sign_in(page, live_server.url, "agent@example.fr")

    page.goto(live_server.url + "/gestion/effectifs")
    expect(page.get_by_role("heading", name="Effectifs du vendredi 20 novembre 2026")).to_be_visible()
    expect(page.get_by_role("heading", name="Repas à préparer")).to_be_visible()
    expect(page.get_by_text("Sans porc").first).to_be_visible()
    axe_check(page, "effectifs")

    page.get_by_role("link", name="Jour précédent").click()
    expect(page.get_by_role("heading", name="Effectifs du jeudi 19 novembre 2026")).to_be_visible()
    page.get_by_role("link", name="Pointage de ce jour").click()
    page.get_by_label("Prestation", exact=True).select_option(label="Restauration scolaire – École du Phare – Repas")
    page.get_by_role("button", name="Afficher").click()
    expect(page.get_by_text("Léa Martin").first).to_be_visible()
    axe_check(page, "pointage")

    state = "Absent" if page.viewport_name == "phone" else "Absence justifiée"
    page.get_by_role("radio", name=re.compile(f"^{state} : Léa")).check()
    page.get_by_role("button", name="Enregistrer le pointage").click()
    confirmation = page.get_by_role("status").filter(has_text="Pointage enregistré")
    expect(confirmation).to_contain_text("Restauration scolaire – École du Phare – Repas, 19/11/2026")
    expect(page.get_by_role("radio", name=re.compile(f"^{state} : Léa"))).to_be_checked()
    axe_check(page, "pointage enregistré")

    # Issue 15: the evening care « sans réservation »: every enrolled child, arrival and departure typed,
    # saved by htmx without reloading the page (the status region says so).
    page.get_by_label("Prestation", exact=True).select_option(
        label="Accueil du soir (sans réservation) – École du Phare – Accueil du soir")
    page.get_by_role("button", name="Afficher").click()
    expect(page.get_by_role("heading", name=re.compile("Enfants inscrits"))).to_be_visible()
    page.get_by_label(re.compile("^Arrivée de Léa")).fill("16:35")
    page.get_by_label(re.compile("^Départ de Léa")).fill("17:50")
    page.get_by_role("button", name=re.compile("^Enregistrer : Léa")).click()
    expect(page.get_by_role("status").filter(has_text="Léa Martin : Présent 16:35–17:50")).to_be_visible()
    expect(page.locator("li.attendance-item").filter(has_text="Léa Martin")).to_contain_text("État actuel : Présent 16:35–17:50")
    axe_check(page, "pointage sans réservation")
