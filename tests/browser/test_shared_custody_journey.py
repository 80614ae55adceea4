"""Garde alternée: an agent shares Hugo (Famille Martin) with Famille Dupont on odd weeks from the family
file; the Martins see week 49 as « Semaine de l'autre parent » (read-only, nothing to tick) and book
week 50; the Duponts tick Hugo's meal on week 49. axe-core on each page, phone then desktop."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import axe_check, sign_in


def test_a_shared_child_shows_the_other_parents_weeks_read_only(page_phone, page_desktop, live_server):
    url = live_server.url
    staff = page_desktop
    sign_in(staff, url, "agent@example.fr")
    staff.goto(url + "/gestion/familles?q=Martin")
    staff.get_by_role("link", name="Famille Martin").first.click()
    staff.get_by_role("link", name="Garde alternée de Hugo").click()
    axe_check(staff, "garde alternée")
    staff.get_by_label("Foyer de l'autre parent").fill("famille.dupont@example.fr")
    staff.get_by_label("Semaines impaires chez l'autre foyer").check()
    staff.get_by_role("button", name="Enregistrer la garde alternée").click()
    expect(staff.get_by_role("status").first).to_contain_text("Garde alternée de Hugo enregistrée")
    axe_check(staff, "garde alternée enregistrée")

    # The Martins (phone): week 49 is the other parent's, nothing of Hugo's can be ticked there.
    parent = page_phone
    sign_in(parent, url, "famille.martin@example.fr")
    parent.goto(url + "/reservations?semaine=2026-W49")
    hugo = parent.locator("section.child-week", has=parent.get_by_role("heading", name="Hugo"))
    expect(hugo).to_contain_text("Semaine de l'autre parent")
    expect(hugo.get_by_role("checkbox")).to_have_count(0)
    axe_check(parent, "semaine de l'autre parent")
    parent.goto(url + "/reservations?semaine=2026-W50")
    expect(parent.locator("section.child-week", has=parent.get_by_role("heading", name="Hugo"))
           .get_by_role("checkbox").first).to_be_visible()

    # The Duponts (desktop): Hugo is in their grid on week 49 and his meal can be ticked.
    sign_in(staff, url, "famille.dupont@example.fr")
    staff.goto(url + "/reservations?semaine=2026-W49")
    meal = staff.get_by_role("checkbox", name="Repas – Hugo – lundi 30 novembre 2026")
    meal.check()
    expect(staff.locator("td", has=meal)).to_contain_text("À ajouter")
    axe_check(staff, "grille de l'autre foyer")
    assert not parent.js_errors and not staff.js_errors
