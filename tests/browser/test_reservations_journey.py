"""Thursday 17:55: tick Monday, Tuesday and Friday of next week for Léa, see "Panier (3)" and the
prices, validate, see the order and the booked cells; at 18:01 next week is "Hors délai" and a
crafted POST is refused. At phone and desktop sizes, and once with the keyboard only.

The live server is shared by the module, so each run uses its own Thursday and week."""
from __future__ import annotations

import datetime as dt
import json
import re

from playwright.sync_api import expect

from tests.browser.conftest import axe_check, sign_in

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi")
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
RUNS = {"phone": dt.date(2026, 11, 19), "desktop": dt.date(2026, 11, 26), "keyboard": dt.date(2026, 12, 3)}


def name(day: dt.date) -> str:
    return f"Repas – Léa – {DAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"


def week(thursday: dt.date) -> list[dt.date]:
    monday = thursday + dt.timedelta(days=4)
    return [monday + dt.timedelta(days=i) for i in range(5)]


def crafted_post(page, live_server, cell_id: str) -> str:
    """A POST the page would never send (the cell is locked): the server must refuse it."""
    token = json.loads(page.locator("body").get_attribute("hx-headers"))["X-CSRFToken"]
    child, unit, day = cell_id.removeprefix("cell-").split("-", 2)
    key = f"{child}:{unit}:{day}"
    response = page.request.post(live_server.url + "/reservations/case",
                                 form={"cell": key, "cells": key},
                                 headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status == 200
    return response.text()


def after_deadline(page, live_server, thursday: dt.date, days: list[dt.date]) -> None:
    live_server.set_clock(f"{thursday.isoformat()}T18:01")
    iso_year, iso_week, _ = days[0].isocalendar()
    page.goto(f"{live_server.url}/reservations?semaine={iso_year}-W{iso_week:02d}")
    locked = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=re.compile("^Repas"))).first \
        .locator(f"td[id$='-{days[3].isoformat()}']")
    assert "Hors délai" in locked.inner_text()
    assert page.get_by_role("checkbox", name=name(days[3])).count() == 0
    axe_check(page, "grid after the deadline")
    body = crafted_post(page, live_server, locked.get_attribute("id"))
    assert "Hors délai" in body and "Non modifié" in body
    page.goto(live_server.url + "/panier")
    expect(page.get_by_role("heading", name="Panier (0)")).to_be_visible()


def test_book_three_days_then_deadline(live_server, page):
    thursday = RUNS[page.viewport_name]
    days = week(thursday)
    live_server.set_clock(f"{thursday.isoformat()}T17:55")
    sign_in(page, live_server.url, "famille.martin@example.fr", landing="**/mon-espace")
    page.get_by_role("link", name="Réservations").first.click() if page.viewport_name == "desktop" else \
        page.goto(live_server.url + "/reservations")
    page.wait_for_url("**/reservations*")
    page.get_by_role("link", name="Semaine suivante").click()
    page.wait_for_url("**semaine=*")
    expect(page.get_by_text("Cantine : réservations jusqu'au").first).to_be_visible()
    axe_check(page, "week grid")

    for count, day in enumerate((days[0], days[1], days[4]), start=1):
        page.get_by_role("checkbox", name=name(day)).check()
        page.get_by_role("link", name=f"Panier ({count})", exact=True).wait_for()
        expect(page.get_by_role("checkbox", name=name(day))).to_be_checked()
    expect(page.get_by_role("status").get_by_text("Ajouté au panier")).to_be_visible()
    axe_check(page, "grid with a basket")

    page.get_by_role("link", name="Panier (3)", exact=True).click()
    page.wait_for_url("**/panier")
    expect(page.get_by_text("Total : 4,50 €")).to_be_visible()
    assert page.get_by_text("1,50 €").count() == 3
    axe_check(page, "basket")
    page.get_by_role("button", name="Valider").click()
    page.wait_for_url("**/commandes/*")
    expect(page.get_by_role("status").get_by_text(re.compile(r"Commande n° 2026-\d{6} enregistrée le"))).to_be_visible()
    axe_check(page, "order")
    assert any("Commande n°" in m["subject"] for m in live_server.outbox())

    page.get_by_role("link", name="Voir dans la grille").click()
    for day in (days[0], days[1], days[4]):
        expect(page.get_by_role("checkbox", name=name(day))).to_be_checked()
    page.goto(live_server.url + "/commandes")
    axe_check(page, "orders")
    after_deadline(page, live_server, thursday, days)
    assert not page.js_errors


def tab_to(page, accessible_name: str, limit: int = 400) -> None:
    """Press Tab until the focused element's accessible text starts with `accessible_name`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        label = page.evaluate("""() => { const e = document.activeElement; if (!e) return '';
            if (e.getAttribute('aria-label')) return e.getAttribute('aria-label');
            if (e.labels && e.labels.length) { const l = e.labels[0].cloneNode(true);
                l.querySelectorAll('[aria-hidden="true"]').forEach(n => n.remove());  // as the accessible name
                return l.textContent.replace(/\s+/g, ' ').trim(); }
            return (e.textContent || '').trim(); }""")
        if label.startswith(accessible_name):
            return
    raise AssertionError(f"could not reach « {accessible_name} » with the keyboard")


def test_keyboard_only_journey(live_server, page_desktop):
    page = page_desktop
    thursday = RUNS["keyboard"]
    days = week(thursday)
    live_server.set_clock(f"{thursday.isoformat()}T17:55")
    sign_in(page, live_server.url, "famille.martin@example.fr", landing="**/mon-espace")
    iso_year, iso_week, _ = days[0].isocalendar()
    page.goto(f"{live_server.url}/reservations?semaine={iso_year}-W{iso_week:02d}")
    for count, day in enumerate((days[0], days[1], days[4]), start=1):
        tab_to(page, name(day))
        page.keyboard.press("Space")
        page.get_by_role("link", name=f"Panier ({count})", exact=True).wait_for()
        # htmx swaps the cell; the focus stays on the same checkbox (same id).
        assert page.evaluate("() => document.activeElement.type") == "checkbox"
        expect(page.get_by_role("checkbox", name=name(day))).to_be_checked()
    axe_check(page, "grid, keyboard")
    tab_to(page, "Mettre à jour le panier")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # the no-JS path: same basket, nothing lost
    expect(page.get_by_role("status").get_by_text("Aucun changement")).to_be_visible()
    tab_to(page, "Panier (3)")
    page.keyboard.press("Enter")
    page.wait_for_url("**/panier")
    expect(page.get_by_text("Total : 4,50 €")).to_be_visible()
    tab_to(page, "Valider")
    page.keyboard.press("Enter")
    page.wait_for_url("**/commandes/*")
    expect(page.get_by_role("status").get_by_text(re.compile(r"Commande n° 2026-\d{6} enregistrée le"))).to_be_visible()
    axe_check(page, "order, keyboard")
    after_deadline(page, live_server, thursday, days)
