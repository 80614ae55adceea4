"""Views of exclusive and dependent units (issue 15): the week grid's « Incompatible avec Journée »,
the swap (htmx: out-of-band cells of the day; without JavaScript: the grid form), the staff unit screen."""
from __future__ import annotations

import datetime as dt
import re

from models import BasketLine, Household, UnitRule
from tests.conftest import csrf_token, post_form

HX = {"HX-Request": "true"}
WEDNESDAY = dt.date(2026, 12, 2)
WEEK = "/reservations?semaine=2026-W49"


def key(demo, unit, child="lea"):
    return f"{demo['children'][child].id}:{demo['units'][unit].id}:{WEDNESDAY.isoformat()}"


def cell(page, demo, unit, child="lea"):
    """The <td> of one cell in a page or an htmx answer."""
    dom = key(demo, unit, child).replace(":", "-", 2)
    match = re.search(rf'<td id="cell-{dom}".*?</td>', page, re.S)
    assert match, f"no cell {unit}"
    return match.group(0)


def toggle(client, demo, unit, ticked=True, headers=HX):
    token = csrf_token(client, WEEK)
    data = {"cell": key(demo, unit), "csrf_token": token, **({"cells": key(demo, unit)} if ticked else {})}
    return client.post("/reservations/case", data=data, headers=headers)


def basket_units(demo):
    household = Household.get_by_id(demo["households"]["martin"].id)
    return {line.unit.name for line in BasketLine.select().where(BasketLine.household == household.id)}


def test_htmx_swap_updates_every_cell_of_the_day(client, demo, auth):
    auth.login()
    page = client.get(WEEK).get_data(as_text=True)
    assert "avec Matin ou Journée" in cell(page, demo, "alsh_repas")  # the meal's hint
    body = toggle(client, demo, "alsh_matin").get_data(as_text=True)
    assert "ajouté au panier" in body and "remplace Matin du panier" in cell(body, demo, "alsh_journee")
    body = toggle(client, demo, "alsh_journee").get_data(as_text=True)
    assert body.lstrip().startswith(f'<td id="cell-{key(demo, "alsh_journee").replace(":", "-", 2)}"')
    assert "Journée de Léa, mercredi 2 décembre, ajouté au panier à la place de Matin – " in body and "Panier (1)" in body
    matin = cell(body, demo, "alsh_matin")
    assert 'hx-swap-oob="true"' in matin and "Incompatible avec Journée" in matin
    assert 'type="checkbox"' not in matin and "hx-post" not in matin  # not clickable
    assert "Incompatible avec Journée" in cell(body, demo, "alsh_apres_midi")
    assert "avec Matin ou Journée" not in cell(body, demo, "alsh_repas")
    assert basket_units(demo) == {"Journée"}
    # The page says the same, with the state in the legend.
    page = client.get(WEEK).get_data(as_text=True)
    assert "Incompatible avec Journée" in cell(page, demo, "alsh_matin") and "<strong>Incompatible</strong>" in page
    # A hand-posted tick of the excluded cell changes nothing and says why.
    body = toggle(client, demo, "alsh_matin").get_data(as_text=True)
    assert "Non modifié : Incompatible avec Journée" in body and basket_units(demo) == {"Journée"}


def test_without_javascript_the_grid_form_swaps_and_says_so(client, demo, auth):
    auth.login()
    toggle(client, demo, "alsh_matin", headers={})  # a single cell, no htmx: redirect with a message
    assert basket_units(demo) == {"Matin"}
    shown = [key(demo, u) for u in ("alsh_journee", "alsh_matin", "alsh_apres_midi", "alsh_repas")]
    response = post_form(client, WEEK, {"shown": shown, "cells": [key(demo, "alsh_journee"), key(demo, "alsh_matin")]},
                         token_page=WEEK, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Journée – Léa – mercredi 2 décembre 2026 : remplace Matin dans le panier." in page
    assert "Non modifié" not in page and basket_units(demo) == {"Journée"}
    assert "Incompatible avec Journée" in cell(page, demo, "alsh_matin")


def test_a_lone_meal_is_refused_at_the_toggle(client, demo, auth):
    auth.login()
    body = toggle(client, demo, "alsh_repas").get_data(as_text=True)
    assert "Non modifié : Repas : réservez aussi Matin ou Journée" in body and basket_units(demo) == set()


def test_staff_set_the_rules_on_the_unit_screen(client, demo, auth):
    auth.login("admin@example.fr")
    units = demo["units"]
    url = f"/gestion/prestations/{units['alsh_matin'].id}"
    page = client.get(url).get_data(as_text=True)
    assert "Prestations exclusives et dépendantes" in page
    assert "« Journée » exclut déjà cette prestation" in page
    bad = post_form(client, url, {"section": "rules", "excludes": [str(units["alsh_repas"].id)]}, token_page=url)
    assert bad.status_code == 400
    assert "« Repas » requiert cette prestation : elle ne peut pas l&#39;exclure." in bad.get_data(as_text=True)
    assert UnitRule.select().where(UnitRule.unit == units["alsh_matin"].id).count() == 0
    url = f"/gestion/prestations/{units['alsh_apres_midi'].id}"
    ok = post_form(client, url, {"section": "rules", "requires": [str(units["alsh_repas"].id)]}, token_page=url,
                   follow_redirects=True)
    assert "Règles avec les autres prestations enregistrées." in ok.get_data(as_text=True)
    assert [(r.other.name, r.kind) for r in UnitRule.select().where(UnitRule.unit == units["alsh_apres_midi"].id)] \
        == [("Repas", "requires")]
