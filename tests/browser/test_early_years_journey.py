"""Crèche pre-registration: Famille Dupont files a request (« Demandes d'accueil ») for a child, the agent
puts it in commission and accepts it, the family sees « Acceptée ». axe-core on each page, 390 and
1280 px (each viewport files for another child: they share the server)."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import axe_check, sign_in

# (option of « Enfant », link in the staff queue, heading of the family's request)
CHILD = {"phone": ("Enfant à naître", "Enfant à naître (Dupont)", "Enfant à naître"),
         "desktop": ("Jade Dupont", "Jade Dupont", "Jade")}
STRUCTURE = "Crèche familiale Les P'tits Mousses"


def test_a_family_asks_a_place_and_the_commission_accepts(page, live_server):
    option, staff_name, heading = CHILD[page.viewport_name]
    sign_in(page, live_server.url, "famille.dupont@example.fr")
    page.goto(live_server.url + "/petite-enfance")
    expect(page.locator(".badge-commission")).to_have_text(re.compile("En commission"))  # the demo's request
    axe_check(page, "demandes d'accueil de la famille")
    page.get_by_role("link", name="Faire une demande d'accueil").click()
    axe_check(page, "nouvelle demande d'accueil")
    child = page.get_by_label("Enfant", exact=True)
    child.select_option(child.locator("option", has_text=option).first.get_attribute("value"))
    page.get_by_label("Structure souhaitée").select_option(label=f"{STRUCTURE} (Crèche familiale)")
    page.get_by_label("Date d'entrée souhaitée").fill("2027-09-01")
    for day in ("lundi", "mardi", "jeudi"):
        page.get_by_label(f"Arrivée le {day}").fill("08:30")
        page.get_by_label(f"Départ le {day}").fill("17:00")
    page.get_by_label("Votre situation").select_option("Les deux parents travaillent")
    page.get_by_role("button", name="Envoyer la demande").click()
    expect(page.get_by_role("status")).to_contain_text("Votre demande d'accueil pour")
    mine = page.get_by_role("article", name=f"{heading} – {STRUCTURE}")
    expect(mine).to_contain_text("Envoyée")
    expect(mine).to_contain_text("25 h 30 par semaine")

    sign_in(page, live_server.url, "agent@example.fr")
    page.goto(live_server.url + "/gestion/petite-enfance?etat=sent")
    axe_check(page, "demandes d'accueil (gestion)")
    page.get_by_role("link", name=re.compile("^" + re.escape(staff_name))).click()
    axe_check(page, "détail de la demande d'accueil")
    page.get_by_label("Date de la commission").fill("2026-11-26")
    page.get_by_role("button", name="Passer en commission").click()
    expect(page.get_by_role("status")).to_contain_text("Demande passée en commission du 26/11/2026")
    page.get_by_label("Acceptée").check()
    page.get_by_role("button", name="Enregistrer la décision").click()
    expect(page.get_by_role("status")).to_contain_text("Décision enregistrée : Acceptée")
    axe_check(page, "demande acceptée (gestion)")

    sign_in(page, live_server.url, "famille.dupont@example.fr")
    page.goto(live_server.url + "/petite-enfance")
    mine = page.get_by_role("article", name=f"{heading} – {STRUCTURE}")
    expect(mine).to_contain_text("Acceptée")
    expect(mine).to_contain_text("Une place vous est proposée")
    axe_check(page, "demande acceptée (famille)")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
