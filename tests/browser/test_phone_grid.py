"""The week grid a parent uses with one thumb (issue 14): at 320, 390 and 1280 px, the first day to tick
is on the first screen at 390 px, nothing overflows its cell or the page, every tap on a cell changes
that cell (no tooltip or overlay swallows it) and says so (« Repas de Léa, lundi 30 novembre, ajouté au
panier – 1,50 € »), the phone's sticky « Panier (n) · Valider » bar follows; the month is a day list on a
phone, with its legend; copying Inès's week reaches Jade's canteen; axe-core finds nothing on any page."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import _new_page, axe_check, sign_in

WEEK = "/reservations?semaine=2026-W49"
MONTH = "/reservations/mois?mois=2026-12"
BOX = "td.cell input[type=checkbox]"
SETTLED = re.compile(r"^cell state-[a-z_]+$")


def _signed_in_page(browser, live_server, width: int, email: str = "famille.martin@example.fr"):
    context, page = _new_page(browser, "phone" if width < 700 else "desktop")
    page.set_viewport_size({"width": width, "height": 844 if width < 700 else 900})
    sign_in(page, live_server.url, email, landing="**/mon-espace")
    return context, page


@pytest.mark.parametrize("width", [320, 390, 1280])
def test_the_week_fits_the_screen_and_every_tap_lands(browser, live_server, width):
    context, page = _signed_in_page(browser, live_server, width)
    page.goto(live_server.url + WEEK)
    axe_check(page, f"grille à {width} px")  # also: no horizontal scroll
    first = page.locator(BOX).first.bounding_box()
    if width == 390:
        assert first["y"] + first["height"] <= 844, f"first box at {first['y']} px, below the first screen"
    overflowing = page.evaluate("""() => [...document.querySelectorAll('td.cell')]
        .filter(td => td.scrollWidth > td.clientWidth + 1).map(td => td.id)""")
    assert overflowing == [], overflowing
    page.locator("td.cell").first.hover()
    tooltips = page.evaluate("""() => [...document.querySelectorAll('.cell-reason')]
        .filter(reason => reason.getBoundingClientRect().width > 1).length""")
    assert tooltips == 0, "a tooltip covers the next row"
    # Every open day of Léa's first unit: a tap adds it to the basket, a second tap takes it out.
    row = page.locator("#enfant-1 tbody tr").first
    boxes = row.locator(BOX)
    assert boxes.count() >= 3
    status, bar = page.get_by_role("status"), page.locator("#basket-bar")
    phone = width < 600
    for index in range(boxes.count()):
        cell_id = row.locator(BOX).nth(index).locator("xpath=ancestor::td").get_attribute("id")
        cell = page.locator(f"#{cell_id}")
        before = cell.get_attribute("class")
        was = cell.locator("input").is_checked()
        cell.click(position={"x": 8, "y": 30})  # the cell's lower corner, not the box itself
        expect(cell).not_to_have_class(before)  # the server answered with the new state…
        expect(cell).to_have_class(SETTLED)  # …and htmx has settled it (no htmx-added, htmx-request)
        expect(cell.locator("input")).to_be_checked(checked=not was)
        if index == 0:  # the status message names child, day and price; the phone's bar counts the basket
            expect(status).to_have_text("Repas de Léa, lundi 30 novembre, ajouté au panier – 1,50\xa0€.")
            expect(bar.locator("a")).to_have_text("Panier (1) · Valider")
            expect(bar.locator("a")).to_be_visible(visible=phone)  # from 600 px the menu's « Panier (n) » does
            assert bar.locator("a").get_attribute("href") == "/panier"
        cell.click(position={"x": 8, "y": 30})
        expect(cell).to_have_class(before)
        expect(cell).to_have_class(SETTLED)
        expect(cell.locator("input")).to_be_checked(checked=was)
        if index == 0:
            expect(status).to_have_text("Repas de Léa, lundi 30 novembre, retiré du panier.")
            expect(bar).to_be_empty()  # an empty basket: no bar
    if phone:  # two days ticked: « Panier (2) · Valider » held at the foot of the screen, 44 px high
        for index in (0, 1):
            row.locator(BOX).nth(index).locator("xpath=ancestor::td").click(position={"x": 8, "y": 30})
            expect(bar).to_have_text(f"Panier ({index + 1}) · Valider")
        axe_check(page, f"grille et barre du panier à {width} px")
        page.evaluate("window.scrollTo(0, 0)")
        box = bar.get_by_role("link").bounding_box()
        assert box["height"] >= 44 and 844 - 80 <= box["y"] + box["height"] <= 844, box
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # at the end it covers nothing
        legend = page.locator(".legend").bounding_box()
        assert legend["y"] + legend["height"] <= bar.bounding_box()["y"], "the bar covers the legend"
        for index in (0, 1):  # two quick taps: the answers come in order (hx-sync), the bar ends empty
            row.locator(BOX).nth(index).locator("xpath=ancestor::td").click(position={"x": 8, "y": 30})
        expect(bar).to_be_empty()  # the next width starts from an empty basket
    assert not page.js_errors
    context.close()


def test_the_month_is_a_day_list_on_a_phone_with_its_legend(browser, live_server):
    context, page = _signed_in_page(browser, live_server, 390)
    page.goto(live_server.url + MONTH)
    axe_check(page, "mois à 390 px")
    expect(page.locator("table.month-grid")).to_be_hidden()
    days = page.locator("ol.month-days > li")
    assert days.count() >= 15  # the school days of December
    first = days.first
    expect(first.get_by_role("heading")).to_have_text("Mardi 1 décembre")
    expect(first.locator("li").first).to_have_text(re.compile(r"^(Léa|Hugo) – .+ : .+$"))
    wrapped = page.evaluate("""() => [...document.querySelectorAll('.month-day li')].filter(li =>
        li.getBoundingClientRect().height > 1.8 * parseFloat(getComputedStyle(li).lineHeight)).map(li => li.textContent)""")
    assert wrapped == [], wrapped  # one line each
    legend = page.locator(".legend")
    expect(legend.get_by_text("Disponible")).to_be_visible()  # open, with only this month's states
    expect(legend.get_by_text("Hors délai")).to_have_count(0)
    assert not page.js_errors
    context.close()


def test_copying_ines_week_books_her_siblings_canteens_jades_included(browser, live_server):
    """Observed in issue 14: copying Inès's week gave Jade (École du Petit Prince, another canteen) nothing.
    Each service goes to the sibling's service of the same kind."""
    context, page = _signed_in_page(browser, live_server, 390, "famille.dupont@example.fr")
    page.goto(live_server.url + "/reservations?semaine=2026-W48")
    for day in ("lundi 23", "jeudi 26"):
        box = page.get_by_role("checkbox", name=f"Repas – Inès – {day} novembre 2026")
        box.check()
        expect(page.locator("td", has=box)).to_have_class(SETTLED)
        expect(box).to_be_checked()
    ines = page.locator("#enfant-" + page.get_by_role("heading", name="Inès").get_attribute("id").split("-")[-1])
    ines.get_by_text("Copier cette semaine pour…").click()
    axe_check(page, "copier la semaine")
    ines.get_by_role("button", name="Copier la semaine de Inès").click()
    for child in ("Malo", "Jade"):
        for day in ("lundi 23", "jeudi 26"):
            expect(page.get_by_role("checkbox", name=f"Repas – {child} – {day} novembre 2026")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Repas – Jade – mardi 24 novembre 2026")).not_to_be_checked()
    axe_check(page, "semaine copiée")
    assert not page.js_errors
    context.close()
