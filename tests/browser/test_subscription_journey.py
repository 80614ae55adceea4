"""Abonnement restauration (issue 15), Thursday 19 November 17:55: a parent gives the Petit Prince canteen
fixed days (lundi, mardi, jeudi) on /inscriptions; a later week of the grid shows those days booked, the
Christmas holiday week none; the parent cancels one day (the cell goes to the basket, « Valider », the day
is free again). Famille Martin's Hugo on a phone, Famille Dupont's Jade on a desktop (the server is shared
by both runs). axe-core on every page."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import axe_check, sign_in

RUNS = {"phone": ("famille.martin@example.fr", "Hugo"), "desktop": ("famille.dupont@example.fr", "Jade")}
CANTEEN = "Restauration scolaire – École du Petit Prince"


def test_subscribe_monday_tuesday_thursday_then_cancel_one_day(live_server, page):
    email, child = RUNS[page.viewport_name]
    live_server.set_clock("2026-11-19T17:55")
    sign_in(page, live_server.url, email, landing="**/mon-espace")

    page.goto(live_server.url + "/inscriptions/")
    row = page.get_by_role("row").filter(has_text=CANTEEN).filter(has_text="Abonnement : aucun")
    expect(row).to_have_count(1)
    details = row.locator("details")
    details.get_by_text("Modifier les jours").click()
    for day in ("lundi", "mardi", "jeudi"):
        details.get_by_label(day, exact=True).check()
    axe_check(page, "inscriptions, jours de l'abonnement")
    details.get_by_role("button", name="Enregistrer les jours").click()
    page.wait_for_url("**/inscriptions/")
    expect(page.get_by_role("status")).to_contain_text(
        re.compile(rf"Abonnement de {child} à « {CANTEEN} » enregistré\. Abonnement : lundi, mardi, jeudi\. "
                   r"\d+ jour\(s\) réservé\(s\)"))
    expect(page.get_by_role("row").filter(has_text=CANTEEN)).to_contain_text("Abonnement : lundi, mardi, jeudi")
    axe_check(page, "inscriptions avec abonnement")

    # A later week: Monday, Tuesday and Thursday booked, Friday free.
    page.goto(live_server.url + "/reservations?semaine=2027-W02")
    for day in ("lundi 11", "mardi 12", "jeudi 14"):
        expect(page.get_by_role("checkbox", name=f"Repas – {child} – {day} janvier 2027")).to_be_checked()
    expect(page.get_by_role("checkbox", name=f"Repas – {child} – vendredi 15 janvier 2027")).not_to_be_checked()
    axe_check(page, "grille d'une semaine de l'abonnement")

    # The Christmas holidays: nothing booked, nothing to tick.
    page.goto(live_server.url + "/reservations?semaine=2026-W52")
    expect(page.get_by_role("checkbox", name=re.compile(f"^Repas – {child} – "))).to_have_count(0)
    axe_check(page, "grille des vacances de Noël")

    # Cancel Monday 30 November (its deadline is Thursday 26 November, 18 h): basket, then « Valider ».
    page.goto(live_server.url + "/reservations?semaine=2026-W49")
    monday = page.get_by_role("checkbox", name=f"Repas – {child} – lundi 30 novembre 2026")
    expect(monday).to_be_checked()
    expect(page.get_by_role("checkbox", name=f"Repas – {child} – vendredi 4 décembre 2026")).not_to_be_checked()
    monday.uncheck()
    page.get_by_role("link", name="Panier (1)", exact=True).wait_for()
    expect(monday).not_to_be_checked()
    page.get_by_role("link", name="Panier (1)", exact=True).click()
    page.wait_for_url("**/panier")
    expect(page.get_by_text("Annulation").first).to_be_visible()
    axe_check(page, "panier avec une annulation")
    page.get_by_role("button", name="Valider").click()
    page.wait_for_url("**/commandes/*")
    expect(page.get_by_role("status").get_by_text(re.compile(r"Commande n° 2026-\d{6} enregistrée le"))).to_be_visible()
    axe_check(page, "commande d'annulation")
    page.goto(live_server.url + "/reservations?semaine=2026-W49")
    expect(page.get_by_role("checkbox", name=f"Repas – {child} – lundi 30 novembre 2026")).not_to_be_checked()
    expect(page.get_by_role("checkbox", name=f"Repas – {child} – mardi 1 décembre 2026")).to_be_checked()
    expect(page.get_by_role("link", name="Panier (0)")).to_be_visible()  # the basket is empty again
    assert not page.js_errors
