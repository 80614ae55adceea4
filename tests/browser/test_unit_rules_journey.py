"""Exclusive units in the browser (issue 15): Famille Martin, Léa, a Wednesday of the ALSH: tick « Matin »,
then « Journée » → Matin is swapped out of the basket in one change (its cell « Incompatible avec
Journée », no checkbox), the basket counter does not grow. axe-core on the grid, 390 px and 1280 px.

The live server is shared by the module (and its clock, the demo's Thursday 19 November 17:55, when the
Wednesdays of December are bookable « 48 h avant »), so each viewport takes its own Wednesday."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import axe_check, sign_in

RUNS = {"phone": ("2026-W49", "mercredi 2 décembre 2026"), "desktop": ("2026-W50", "mercredi 9 décembre 2026")}


def test_ticking_journee_swaps_out_matin(live_server, page):
    week, day = RUNS[page.viewport_name]
    sign_in(page, live_server.url, "famille.martin@example.fr", landing="**/mon-espace")
    page.goto(f"{live_server.url}/reservations?semaine={week}")
    counter = page.locator("#basket-counter")
    before = int(re.search(r"\((\d+)\)", counter.inner_text()).group(1))

    matin = page.get_by_role("checkbox", name=f"Matin – Léa – {day}")
    matin_cell = page.locator(f"td#{matin.locator('xpath=ancestor::td').get_attribute('id')}")
    matin.check()
    expect(page.get_by_role("status")).to_contain_text("ajouté au panier")
    expect(counter).to_have_text(f"Panier ({before + 1})")

    journee = page.get_by_role("checkbox", name=f"Journée – Léa – {day}")
    journee.check()
    expect(page.get_by_role("status")).to_contain_text("ajouté au panier à la place de Matin")
    expect(page.get_by_role("status")).to_contain_text("Journée de Léa")
    expect(journee).to_be_checked()
    expect(matin_cell).to_contain_text("Incompatible avec Journée")
    expect(matin_cell.get_by_role("checkbox")).to_have_count(0)
    expect(page.get_by_role("checkbox", name=f"Après-midi – Léa – {day}")).to_have_count(0)
    expect(counter).to_have_text(f"Panier ({before + 1})")  # one basket change: Matin out, Journée in
    axe_check(page, "grille après l'échange Matin → Journée")
    assert not page.js_errors
