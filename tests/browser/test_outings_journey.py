"""« Sortie Océanopolis » (8 places, 3-11 ans): on a phone, Famille Martin registers Léa and Hugo in one
step; six more children fill the places (registered in the live server's database by a small helper);
on a desktop, Famille Dupont registers Inès, the ninth child, who goes to the waiting list; the agent's
« Liste des inscrits » shows 8 registered and Inès first on the waiting list. axe-core on every page."""
from __future__ import annotations

import re
import subprocess
import sys

from playwright.sync_api import expect

from tests.browser.conftest import ROOT, axe_check, sign_in

# Run inside the live server's instance: a household of six children aged 6 to 10 takes the six places left.
FILL_PLACES = """
import datetime as dt
from app import create_app
from models import Child, Household, Outing
from services.booking import outings
create_app()
household = Household.create(name="Famille LE GOFF", status="validated", created_at=dt.datetime(2026, 9, 1))
children = [Child.create(household=household, first_name=f"Enfant {i}", last_name="Le Goff",
                         birth_date=dt.date(2016 + i, 5, 1)) for i in range(6)]
outing = outings.get_outing(Outing.get().id)
outings.register(None, household, outing, [child.id for child in children])
"""


def test_martin_registers_lea_and_hugo_and_the_ninth_child_waits(page_phone, page_desktop, live_server):
    page = page_phone
    sign_in(page, live_server.url, "famille.martin@example.fr")
    page.locator("summary", has_text="Menu").click()
    page.get_by_role("navigation").get_by_role("link", name="Sorties et activités").click()
    card = page.locator("#sortie-1")
    expect(card).to_contain_text("8 places restantes")
    expect(card).to_contain_text("12,00")
    axe_check(page, "sorties et activités (téléphone)")
    card.get_by_role("link", name=re.compile("Voir le programme et inscrire")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sortie Océanopolis")
    axe_check(page, "détail de la sortie (téléphone)")
    page.get_by_label("Inscrire Léa à « Sortie Océanopolis »").check()
    page.get_by_label("Inscrire Hugo à « Sortie Océanopolis »").check()
    page.get_by_role("button", name=re.compile("Valider l'inscription")).click()
    expect(page.get_by_role("status")).to_contain_text(re.compile(r"Commande n° 2026-\d+ enregistrée – Léa : Inscrit\(e\) ; Hugo : Inscrit\(e\)"))
    expect(page.locator("#places")).to_have_text("6 places restantes")
    expect(page.get_by_role("link", name="Envoyer le document : Autorisation de sortie de Léa")).to_be_visible()
    axe_check(page, "inscription enregistrée (téléphone)")

    subprocess.run([sys.executable, "-c", FILL_PLACES], cwd=ROOT, env=live_server.env, check=True, capture_output=True)

    page = page_desktop
    sign_in(page, live_server.url, "famille.dupont@example.fr")
    page.goto(live_server.url + "/activites/1")
    expect(page.locator("#places")).to_have_text("Complet – liste d'attente")
    axe_check(page, "sortie complète (bureau)")
    page.get_by_label("Inscrire Inès à « Sortie Océanopolis »").check()
    page.get_by_role("button", name=re.compile("M'inscrire sur la liste d'attente")).click()
    expect(page.get_by_role("status")).to_contain_text("Inès : En liste d'attente (position 1)")
    expect(page.locator("#inscription")).to_contain_text("Inès : En liste d'attente (position 1)")
    axe_check(page, "liste d'attente (bureau)")

    sign_in(page, live_server.url, "agent@example.fr")
    page.goto(live_server.url + "/gestion/sorties/1/inscrits")
    expect(page.get_by_role("heading", name="Inscrits (8)")).to_be_visible()
    waiting = page.locator("#table-attente")
    expect(waiting.get_by_role("row").nth(1)).to_contain_text("Inès Dupont")
    expect(page.locator("#table-inscrits")).to_contain_text("Arachide")  # Léa's allergy, for the agent
    axe_check(page, "liste des inscrits (gestion)")
    assert not page_phone.js_errors and not page_desktop.js_errors
