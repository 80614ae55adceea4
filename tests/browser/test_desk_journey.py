"""The desk (guichet): an agent opens the Dupont family, goes to its bookings, ticks Malo's meal of a
day past the parents' deadline, is asked for a reason, gives it, validates and sees the day booked.
axe-core on the desk pages, phone and desktop."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import axe_check, sign_in


def test_agent_books_at_the_desk_past_the_deadline_with_a_reason(page, live_server):
    # Thursday 19/11 at 18:30: the canteen's deadline for the week of 23/11 passed at 18 h.
    live_server.set_clock("2026-11-19T18:30")
    sign_in(page, live_server.url, "agent@example.fr")

    page.goto(live_server.url + "/gestion/familles?q=Dupont")
    page.get_by_role("link", name=re.compile("Dupont")).first.click()
    tabs = page.get_by_role("navigation", name="Dossier de la famille")
    axe_check(page, "dossier famille")
    tabs.get_by_role("link", name="Réservations").click()
    page.get_by_role("link", name="Semaine suivante").click()
    week = "Semaine du lundi 23 novembre 2026 au vendredi 27 novembre 2026"
    expect(page.get_by_role("heading", name=week)).to_be_visible()
    axe_check(page, "guichet, réservations")

    # Both viewports share the server: each books its own day.
    day = "Repas – Malo – " + ("jeudi 26" if page.viewport_name == "phone" else "mardi 24") + " novembre 2026"
    box = page.get_by_role("checkbox", name=day)
    expect(box).not_to_be_checked()
    box.check()
    page.get_by_role("button", name="Valider les changements pour la famille").click()
    expect(page.get_by_role("alert")).to_contain_text("Indiquez le motif")
    expect(page.get_by_role("checkbox", name=day)).not_to_be_checked()  # nothing changed
    axe_check(page, "motif manquant")

    page.get_by_role("checkbox", name=day).check()
    page.get_by_label("Motif du changement (obligatoire hors délai)").fill("Demande de la famille au guichet")
    page.get_by_role("button", name="Valider les changements pour la famille").click()
    expect(page.get_by_role("status")).to_contain_text("enregistrée au guichet")
    booked = page.get_by_role("checkbox", name=day)
    expect(booked).to_be_checked()
    expect(page.locator("td", has=booked)).to_contain_text("Réservé")
    axe_check(page, "réservé au guichet")

    tabs.get_by_role("link", name="Commandes").click()
    expect(page.get_by_text("motif : Demande de la famille au guichet").first).to_be_visible()
    axe_check(page, "commandes")
    assert not page.js_errors
