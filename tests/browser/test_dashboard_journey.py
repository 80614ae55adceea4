"""Martin's dashboard on a phone (also at 320 px) and on a desktop: the blocks, the unread alerts counted in
the menu, « Tout marquer comme lu », then « Préférences de courriels » saved. axe-core on every page.

The live server is shared by the module: each run adds its own alert and switches off its own e-mail kind."""
from __future__ import annotations

import re
import sqlite3

from playwright.sync_api import expect

from tests.browser.conftest import axe_check, sign_in

RUNS = {"phone": ("Place libérée (téléphone)", "Actualités de la commune"),
        "desktop": ("Place libérée (ordinateur)", "Rappels de réservation avant la date limite")}


def add_unread_alert(live_server, title: str) -> None:
    """An alert for the Martin household, written in the server's database (as a staff decision would)."""
    with sqlite3.connect(live_server.instance / "portail.db") as connection:
        household_id = connection.execute(
            "SELECT household_id FROM user WHERE email = 'famille.martin@example.fr'").fetchone()[0]
        connection.execute("INSERT INTO alert (household_id, created_at, title, body, read) VALUES (?, ?, ?, ?, 0)",
                           (household_id, "2026-11-19 17:00:00", title, "Une place s'est libérée."))


def open_menu(page) -> None:
    if page.viewport_name == "phone":
        page.locator("summary", has_text="Menu").click()


def test_dashboard_alerts_and_mail_preferences(live_server, page):
    title, switched_off = RUNS[page.viewport_name]
    live_server.set_clock("2026-11-19T17:55")
    add_unread_alert(live_server, title)
    sign_in(page, live_server.url, "famille.martin@example.fr", landing="**/mon-espace")

    for heading in ("Aujourd'hui et demain", "Prochaines dates limites", "Factures à payer", "Alertes non lues",
                    "En attente de la mairie"):
        expect(page.get_by_role("heading", name=re.compile("^" + re.escape(heading)))).to_be_visible()
    expect(page.get_by_text("Léa – Aujourd'hui (jeudi 19 novembre) : Repas (Cantine) : Réservé")).to_be_visible()
    expect(page.get_by_text("Cantine : jusqu'à aujourd'hui 18 h pour la semaine du 23 novembre")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"^Payer : Facture ALSH-"))).to_be_visible()
    axe_check(page, "dashboard")
    if page.viewport_name == "phone":
        page.set_viewport_size({"width": 320, "height": 700})
        axe_check(page, "dashboard at 320 px")  # also asserts no horizontal scroll
        box = page.get_by_role("link", name=re.compile(r"^Payer : Facture")).bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, box

    open_menu(page)
    alerts_link = page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name=re.compile(r"^Alertes \d+ non lues?$"))
    expect(alerts_link).to_be_visible()
    alerts_link.click()
    page.wait_for_url("**/alertes")
    expect(page.get_by_role("heading", name=re.compile(re.escape(title)))).to_be_visible()
    axe_check(page, "alerts")
    page.get_by_role("button", name="Tout marquer comme lu").click()
    page.wait_for_url("**/alertes")
    expect(page.get_by_role("status").get_by_text(re.compile(r"marquées? comme lues?\."))).to_be_visible()
    assert page.locator(".nav-count").count() == 0
    expect(page.get_by_role("button", name="Tout marquer comme lu")).to_have_count(0)
    axe_check(page, "alerts, all read")

    page.goto(live_server.url + "/mon-compte")
    page.get_by_role("link", name="Préférences de courriels").click()
    page.wait_for_url("**/mon-compte/courriels")
    expect(page.get_by_role("heading", name="Toujours envoyés")).to_be_visible()
    axe_check(page, "mail preferences")
    page.get_by_label(switched_off).uncheck()
    page.get_by_role("button", name="Enregistrer mes préférences").click()
    page.wait_for_url("**/mon-compte/courriels")
    expect(page.get_by_role("status").get_by_text("Vos préférences de courriels sont enregistrées.")).to_be_visible()
    expect(page.get_by_label(switched_off)).not_to_be_checked()
    expect(page.get_by_label("Réponses de la mairie à mes messages")).to_be_checked()
    assert not page.js_errors
