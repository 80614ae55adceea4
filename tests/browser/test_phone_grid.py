"""The week grid a parent uses with one thumb (issue 14): at 320, 390 and 1280 px, the first day to tick
is on the first screen at 390 px, nothing overflows its cell or the page, every tap on a cell changes
that cell (no tooltip or overlay swallows it), axe-core finds nothing."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import _new_page, axe_check

WEEK = "/reservations?semaine=2026-W49"
SETTLED = re.compile(r"^cell state-[a-z_]+$")


def _signed_in_page(browser, live_server, width: int):
    context, page = _new_page(browser, "phone" if width < 700 else "desktop")
    page.set_viewport_size({"width": width, "height": 844 if width < 700 else 900})
    page.goto(live_server.url + "/connexion")
    page.get_by_label("Adresse e-mail").fill("famille.martin@example.fr")
    page.get_by_label("Mot de passe").fill("Demo-Portail-2026!")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/mon-espace")
    return context, page


@pytest.mark.parametrize("width", [320, 390, 1280])
def test_the_week_fits_the_screen_and_every_tap_lands(browser, live_server, width):
    context, page = _signed_in_page(browser, live_server, width)
    page.goto(live_server.url + WEEK)
    axe_check(page, f"grille à {width} px")  # also: no horizontal scroll
    first = page.locator("input.cell-box").first.bounding_box()
    if width == 390:
        assert first["y"] + first["height"] <= 844, f"first box at {first['y']} px, below the first screen"
    overflowing = page.evaluate("""() => [...document.querySelectorAll('td.cell')]
        .filter(td => td.scrollWidth > td.clientWidth + 1).map(td => td.id)""")
    assert overflowing == [], overflowing
    first_cell = page.locator("td.cell").first
    first_cell.hover()
    reason = first_cell.locator(".cell-reason").bounding_box()
    assert reason is None or reason["width"] <= 1, "a tooltip covers the next row"
    # Every open day of Léa's first unit: a tap adds it to the basket, a second tap takes it out.
    row = page.locator("#enfant-1 tbody tr").first
    boxes = row.locator("input.cell-box")
    assert boxes.count() >= 3
    for index in range(boxes.count()):
        cell_id = row.locator("input.cell-box").nth(index).locator("xpath=ancestor::td").get_attribute("id")
        cell = page.locator(f"#{cell_id}")
        before = cell.get_attribute("class")
        was = cell.locator("input.cell-box").is_checked()
        cell.click(position={"x": 8, "y": 30})  # the corner under the day's name, not the box itself
        expect(cell).not_to_have_class(before)  # the server answered with the new state…
        expect(cell).to_have_class(SETTLED)  # …and htmx has settled it (no htmx-added, htmx-request)
        expect(cell.locator("input.cell-box")).to_be_checked(checked=not was)
        cell.click(position={"x": 8, "y": 30})
        expect(cell).to_have_class(before)
        expect(cell).to_have_class(SETTLED)
        expect(cell.locator("input.cell-box")).to_be_checked(checked=was)
    assert not page.js_errors
    context.close()
