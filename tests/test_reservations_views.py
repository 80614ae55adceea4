"""Views of the reservations area: week grid (htmx and no-JS), basket, orders, staff decisions,
month calendar, PDF, iCal, bulk booking and absences."""
from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

import jobs
from models import Alert, BasketLine, Booking, Household, Order
from services.booking import planning
from services.core import clock
from tests.conftest import csrf_token, post_form
from tests.test_crawl import untargeted_htmx

HX = {"HX-Request": "true"}
MON = dt.date(2026, 11, 23)


@pytest.fixture
def parent(demo, auth, freeze):
    freeze("2026-11-19T17:55")
    auth.login()
    return demo


def key(demo, day, child="lea", unit="repas_phare"):
    return f"{demo['children'][child].id}:{demo['units'][unit].id}:{day.isoformat()}"


def toggle(client, demo, day, ticked=True, child="lea", unit="repas_phare", headers=HX):
    token = csrf_token(client, "/reservations")
    k = key(demo, day, child, unit)
    data = {"cell": k, "csrf_token": token}
    if ticked:
        data["cells"] = k
    return client.post("/reservations/case", data=data, headers=headers)


def test_week_grid_shows_children_units_deadlines_and_names(client, parent):
    page = client.get("/reservations?semaine=2026-W48").get_data(as_text=True)
    assert "Cantine : réservations jusqu&#39;au jeudi 19 novembre à 18 h" in page
    assert "Données actualisées le jeudi 19 novembre 2026 à 17 h 55" in page
    assert "Repas – Léa – lundi 23 novembre 2026" in page
    assert 'id="cell-{}-{}-2026-11-23"'.format(parent["children"]["lea"].id, parent["units"]["repas_phare"].id) in page
    assert "Panier (0)" in page and "Mettre à jour le panier" in page
    assert "Hugo" in page and "Novembre" in page  # the other child; the month strip
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "DOM ids must be unique"
    assert page.count("hx-post") > 5 and untargeted_htmx(page) == []  # every box's target inherited from its table


@pytest.mark.parametrize("week", ["2026-W99", "n'importe", "1850-W01", "2026-W"])
def test_bad_week_falls_back_with_a_message(client, parent, week):
    response = client.get(f"/reservations?semaine={week}")
    assert response.status_code == 200
    assert "Semaine" in response.get_data(as_text=True) and "invalide" in response.get_data(as_text=True) \
        or "hors des années" in response.get_data(as_text=True)


def test_htmx_toggle_answers_the_cell_the_counter_and_a_message(client, parent):
    response = toggle(client, parent, MON)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<td id="cell-')
    assert "state-basket_add" in body and " checked" in body
    assert 'id="basket-counter"' in body and 'hx-swap-oob="true"' in body and "Panier (1)" in body
    assert 'hx-swap-oob="innerHTML:#messages"' in body
    assert "Repas de Léa, lundi 23 novembre, ajouté au panier – 1,50\xa0€." in body
    assert '<div id="basket-bar" class="basket-bar" hx-swap-oob="true"><a class="button" href="/panier">' \
           'Panier (1) · Valider</a></div>' in body
    assert len(response.data) < 4096
    assert "HX-Request" in response.headers.get("Vary", "")
    body = toggle(client, parent, MON, ticked=False).get_data(as_text=True)
    assert "state-available" in body and "Panier (0)" in body and "Repas de Léa, lundi 23 novembre, retiré du panier." in body
    assert '<div id="basket-bar" class="basket-bar" hx-swap-oob="true"></div>' in body  # empty: hidden


def test_crafted_post_after_the_deadline_is_refused(client, parent):
    clock.freeze("2026-11-19T18:01")
    response = toggle(client, parent, MON)
    body = response.get_data(as_text=True)
    assert response.status_code == 200  # htmx 2 only swaps 2xx: the unchanged cell and a message
    assert "state-locked" in body and "Hors délai" in body and "Non modifié" in body
    assert 'type="checkbox"' not in body.split("</td>")[0]
    assert BasketLine.select().count() == 0
    # Without htmx: a redirect and a flashed refusal.
    response = toggle(client, parent, MON, headers={})
    assert response.status_code == 302
    assert "Hors délai" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_other_households_cell_is_404_and_bad_key_changes_nothing(client, parent):
    assert toggle(client, parent, MON, child="ines").status_code == 404
    token = csrf_token(client, "/reservations")
    response = client.post("/reservations/case", data={"cell": "x:y:z", "csrf_token": token}, headers=HX)
    assert response.status_code == 200 and response.headers["HX-Reswap"] == "none"
    assert "Case inconnue" in response.get_data(as_text=True)


def test_no_js_form_updates_the_basket(client, parent):
    shown = [key(parent, MON + dt.timedelta(days=i)) for i in (0, 1, 3, 4)]
    response = post_form(client, "/reservations", {"semaine": "2026-W48", "shown": shown,
                                                  "cells": [shown[0], shown[1], shown[3]]}, token_page="/reservations")
    assert response.status_code == 302 and "semaine=2026-W48" in response.headers["Location"]
    assert BasketLine.select().count() == 3
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Panier (3)" in page


def test_basket_validate_order_and_booked_cells(client, parent):
    for offset in (0, 1, 4):
        toggle(client, parent, MON + dt.timedelta(days=offset))
    page = client.get("/panier").get_data(as_text=True)
    assert "Panier (3)" in page and page.count("<td>+ Réservation</td>") == 3
    assert "Total : 4,50" in page and "Valider" in page and "Vider le panier" in page
    response = post_form(client, "/panier/valider", token_page="/panier")
    assert response.status_code == 302
    order = Order.select().order_by(Order.id.desc()).first()
    assert response.headers["Location"].endswith(f"/commandes/{order.id}")
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Commande n° {order.number} enregistrée le jeudi 19 novembre 2026 à 17 h 55" in detail
    listing = client.get("/commandes").get_data(as_text=True)
    assert "Historique" in listing and order.number in listing and "Commandes en attente" in listing
    grid = client.get("/reservations?semaine=2026-W48").get_data(as_text=True)
    cell = grid.split(f'id="cell-{key(parent, MON).replace(":", "-")}"')[1].split("</td>")[0]
    assert "Réservé" in cell


def test_cancellation_line_and_clear(client, parent):
    toggle(client, parent, MON)
    post_form(client, "/panier/valider", token_page="/panier")
    body = toggle(client, parent, MON, ticked=False).get_data(as_text=True)
    assert "state-basket_remove" in body and "Repas de Léa, lundi 23 novembre : annulation ajoutée au panier." in body
    assert "Annulation" in client.get("/panier").get_data(as_text=True)
    post_form(client, "/panier/vider", token_page="/panier")
    assert BasketLine.select().count() == 0


def test_removing_another_households_line_is_404(client, parent):
    dupont = parent["households"]["dupont"]
    line = BasketLine.create(household=dupont, child=parent["children"]["ines"], unit=parent["units"]["repas_phare"],
                             date=MON, action="add", created_at=clock.local_now())
    assert post_form(client, f"/panier/lignes/{line.id}/retirer", token_page="/panier").status_code == 404
    assert client.get("/commandes/999999").status_code == 404


def test_validating_an_empty_basket_says_so(client, parent):
    response = post_form(client, "/panier/valider", token_page="/panier", follow_redirects=True)
    assert "Votre panier est vide" in response.get_data(as_text=True)


def test_staff_validate_requests_and_family_alerts(client, parent, auth):
    request = Booking.get((Booking.child == parent["children"]["lea"]) & (Booking.status == "requested"))
    auth.logout()
    auth.login("agent@example.fr")
    page = client.get("/gestion/reservations/").get_data(as_text=True)
    assert "Léa Martin" in page and "Places restantes" in page and "Hugo Martin" in page
    assert "Réservations à valider" in client.get("/gestion/").get_data(as_text=True)
    response = post_form(client, f"/gestion/reservations/lignes/{request.id}", {"decision": "refuser"},
                         token_page="/gestion/reservations/", follow_redirects=True)
    assert "Indiquez le motif du refus" in response.get_data(as_text=True)
    post_form(client, f"/gestion/reservations/lignes/{request.id}", {"decision": "accepter"},
              token_page="/gestion/reservations/")
    assert Booking.get_by_id(request.id).status == "booked"
    auth.logout()
    auth.login()
    alerts = client.get("/alertes").get_data(as_text=True)
    assert "Mes alertes" in alerts and "Réservation acceptée" in alerts


def test_parents_cannot_open_staff_bookings(client, parent):
    assert client.get("/gestion/reservations/").status_code == 404


def test_unit_week_and_copy_to_siblings(client, demo, auth, freeze):
    freeze("2026-11-19T17:55")
    auth.login("famille.dupont@example.fr")
    ines, repas = demo["children"]["ines"].id, demo["units"]["repas_phare"].id
    post_form(client, "/reservations/semaine-unite", {"semaine": "2026-W48", "unit_week": f"{ines}:{repas}"},
              token_page="/reservations")
    assert BasketLine.select().where(BasketLine.child == ines).count() == 4
    post_form(client, "/reservations/copier", {"semaine": "2026-W48", "copy_from": str(ines)}, token_page="/reservations")
    assert BasketLine.select().where(BasketLine.child == demo["children"]["malo"].id).count() == 4
    response = post_form(client, "/reservations/copier", {"semaine": "2026-W48", "copy_from": str(demo["children"]["lea"].id)},
                         token_page="/reservations")
    assert response.status_code == 404


def test_month_calendar_pdf_and_ical(client, parent):
    page = client.get("/reservations/mois?mois=2026-11").get_data(as_text=True)
    assert "Planning de novembre 2026" in page and "Imprimer" in page and "semaine=2026-W47" in page
    assert client.get("/reservations/mois?mois=2026-13").status_code == 200
    pdf = client.get("/reservations/mois.pdf?mois=2026-11")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    printed = PdfReader(io.BytesIO(pdf.data))
    assert "Famille Martin – planning de novembre 2026" in printed.pages[0].extract_text()
    fonts = {str(font["/BaseFont"]) for font in printed.pages[0]["/Resources"]["/Font"].values()}
    assert any("DejaVu" in name for name in fonts), fonts  # the embedded font (accents, €), as the invoices
    post_form(client, "/reservations/calendrier", {"action": "creer"}, token_page="/reservations/mois")
    token = Household.get_by_id(parent["households"]["martin"].id).ical_token
    feed = client.get(f"/calendrier/{token}.ics")
    assert feed.status_code == 200 and b"BEGIN:VCALENDAR" in feed.data and "Léa – Repas".encode() in feed.data
    post_form(client, "/reservations/calendrier", {"action": "revoquer"}, token_page="/reservations/mois")
    assert client.get(f"/calendrier/{token}.ics").status_code == 404


def test_bulk_preview_then_add(client, parent):
    form = {"enfants": [str(parent["children"]["lea"].id)], "unites": [str(parent["units"]["repas_phare"].id)],
            "du": "2026-11-16", "au": "2026-12-04", "jours": ["0", "1", "3"], "mode": "remplacer",
            "action": "apercu"}
    page = post_form(client, "/reservations/en-masse", form, token_page="/reservations/en-masse").get_data(as_text=True)
    assert "Aperçu" in page and "Jours ajoutés (6)" in page and "Total : 9,00" in page
    assert "Jours ignorés (1)" in page and "Hors délai" in page  # Friday 20th: booked, no longer cancellable
    assert BasketLine.select().count() == 0
    response = post_form(client, "/reservations/en-masse", {**form, "action": "ajouter"},
                         token_page="/reservations/en-masse")
    assert response.status_code == 302 and BasketLine.select().count() == 6
    bad = post_form(client, "/reservations/en-masse", {**form, "au": "2026-01-01"}, token_page="/reservations/en-masse")
    assert bad.status_code == 400 and "avant la date de début" in bad.get_data(as_text=True)


def test_declare_absence_after_the_deadline(client, parent):
    booking = Booking.get((Booking.child == parent["children"]["lea"]) & (Booking.unit == parent["units"]["repas_phare"])
                          & (Booking.date == dt.date(2026, 11, 19)))
    grid = client.get("/reservations?semaine=2026-W47").get_data(as_text=True)
    assert "Déclarer une absence" in grid
    response = post_form(client, f"/reservations/absence/{booking.id}", {"reason": "Maladie"},
                         token_page=f"/reservations/absence/{booking.id}")
    assert response.status_code == 302
    assert booking.absence_declarations.count() == 1
    again = client.get(f"/reservations/absence/{booking.id}").get_data(as_text=True)
    assert "déjà déclarée" in again
    other = Booking.get(Booking.child == parent["children"]["ines"])
    assert client.get(f"/reservations/absence/{other.id}").status_code == 404


def test_stale_basket_emptied_by_the_worker_with_an_alert(client, parent):
    toggle(client, parent, dt.date(2026, 12, 7))
    clock.freeze("2026-11-26T09:00")  # six days later: still kept
    assert "0 panier(s) vidé(s)" in jobs.expire_orders_and_baskets.call_local()
    clock.freeze("2026-11-27T09:00")
    assert "Panier (1)" in client.get("/reservations").get_data(as_text=True)  # page views never expire
    assert "1 panier(s) vidé(s)" in jobs.expire_orders_and_baskets.call_local()
    assert "Panier (0)" in client.get("/reservations").get_data(as_text=True)
    assert "Panier vidé" in client.get("/alertes").get_data(as_text=True)
    assert Alert.select().where(Alert.title == "Panier vidé").count() == 1


def _lea_thursday(parent):
    return Booking.get((Booking.child == parent["children"]["lea"]) & (Booking.unit == parent["units"]["repas_phare"])
                       & (Booking.date == dt.date(2026, 11, 19)))


def test_absence_certificate_is_checked_by_content(client, parent, app):
    import io
    booking = _lea_thursday(parent)
    url = f"/reservations/absence/{booking.id}"
    fake = post_form(client, url, {"reason": "Maladie", "document": (io.BytesIO(b"<html><script>x</script></html>"),
                                                                     "certificat.pdf")},
                     token_page=url, content_type="multipart/form-data")
    assert fake.status_code == 400 and "pas un PDF, un JPEG ou un PNG" in fake.get_data(as_text=True)
    assert booking.absence_declarations.count() == 0
    assert not (Path(app.config["UPLOAD_DIR"]) / "absences").exists() or not any(
        (Path(app.config["UPLOAD_DIR"]) / "absences").iterdir())


def test_absence_certificate_opened_by_the_agent_and_removed_when_refused(client, parent, app):
    import io

    from models import AbsenceDeclaration, AuditLog
    booking = _lea_thursday(parent)
    url = f"/reservations/absence/{booking.id}"
    response = post_form(client, url, {"reason": "Maladie", "document": (io.BytesIO(b"%PDF-1.4 certificat"),
                                                                         "certificat médical.pdf")},
                         token_page=url, content_type="multipart/form-data")
    assert response.status_code == 302
    declaration = AbsenceDeclaration.get(AbsenceDeclaration.booking == booking.id)
    stored = Path(app.config["UPLOAD_DIR"]) / declaration.document_path
    assert stored.read_bytes() == b"%PDF-1.4 certificat" and declaration.document_path.endswith(".pdf")
    from tests.conftest import Auth
    agent = client.application.test_client()
    Auth(agent).login("agent@example.fr")
    queue = agent.get("/gestion/reservations/").get_data(as_text=True)
    assert "Ouvrir le justificatif" in queue
    download = agent.get(f"/gestion/reservations/absences/{declaration.id}/justificatif")
    assert download.status_code == 200 and download.data == b"%PDF-1.4 certificat"
    assert "attachment" in download.headers["Content-Disposition"]
    assert AuditLog.select().where(AuditLog.action == "lecture d'un justificatif d'absence").count() == 1
    assert client.get(f"/gestion/reservations/absences/{declaration.id}/justificatif").status_code == 404  # the parent
    refused = post_form(agent, f"/gestion/reservations/absences/{declaration.id}",
                        {"decision": "refuser", "reason": "Certificat illisible"}, token_page="/gestion/reservations/")
    assert refused.status_code == 302
    assert not stored.exists() and AbsenceDeclaration.get_by_id(declaration.id).document_path == ""
    assert agent.get(f"/gestion/reservations/absences/{declaration.id}/justificatif").status_code == 404


def test_copy_this_week_for_the_siblings_ticked(client, demo, auth, freeze):
    freeze("2026-11-19T17:55")
    auth.login("famille.dupont@example.fr")
    ines, jade, malo = (demo["children"][key].id for key in ("ines", "jade", "malo"))
    page = client.get("/reservations?semaine=2026-W48").get_data(as_text=True)
    assert "Copier cette semaine pour…" in page and f'value="{ines}:{jade}" checked' in page
    post_form(client, "/reservations/semaine-unite", {"semaine": "2026-W48", "unit_week": f"{ines}:{demo['units']['repas_phare'].id}"},
              token_page="/reservations")
    post_form(client, "/reservations", {"semaine": "2026-W48", "cells": f"{ines}:{demo['units']['alsh_journee'].id}:2026-11-25",
                                        "shown": f"{ines}:{demo['units']['alsh_journee'].id}:2026-11-25"}, token_page="/reservations")
    nothing = post_form(client, "/reservations/copier", {"semaine": "2026-W48", "copy_from": str(ines), "copy_choice": "1"},
                        token_page="/reservations", follow_redirects=True)
    assert "Cochez au moins un frère ou une sœur" in nothing.get_data(as_text=True)
    assert BasketLine.select().where(BasketLine.child.in_([jade, malo])).count() == 0
    response = post_form(client, "/reservations/copier", {"semaine": "2026-W48", "copy_from": str(ines), "copy_choice": "1",
                                                          "copy_to": [f"{ines}:{jade}", f"{malo}:{jade}", "x:y"]},
                         token_page="/reservations", follow_redirects=True)
    text = response.get_data(as_text=True)
    assert BasketLine.select().where(BasketLine.child == jade).count() == 4  # her own school's canteen
    assert BasketLine.select().where(BasketLine.child == malo).count() == 0
    assert "Non copié – Jade : pas d&#39;inscription équivalente à « Journée » (ALSH Mercredi)" in text


def test_states_are_svg_icons_and_the_legend_lists_only_the_weeks_states(client, parent):
    page = client.get("/reservations?semaine=2026-W48").get_data(as_text=True)
    assert not re.search("[\U0001F300-\U0001FAFF\u23F3\u231B]", page), "no emoji: they render as boxes"
    # Icons are drawn by the stylesheet from each state's class: no sprite, no <svg> in the cells.
    assert "<svg" not in page and 'class="cell state-available"' in page
    css = (Path(__file__).parents[1] / "static/css/reservations.css").read_text()
    for state in ("available", "basket_add", "basket_remove", "booked", "closed", "waiting_list", "locked"):
        assert re.search(rf"\.state-{state}\b[^{{]*\{{ --icon: url\(\"data:image/svg\+xml,", css), state
    legend = page.split('class="legend card"')[1].split("</details>")[0]
    assert "Disponible" in legend and "Fermé" in legend
    assert "Réservé" not in legend and "Sur liste d'attente" not in legend  # none this week
    assert "Dans le panier" not in page


def test_price_and_deadline_are_text_and_a_unit_closed_all_week_is_said_not_shown(client, demo, auth, freeze):
    freeze("2026-11-19T17:55")
    auth.login("famille.martin@example.fr")
    page = client.get("/reservations?semaine=2026-W48").get_data(as_text=True)
    assert "1,50\xa0€ · jusqu&#39;au jeu. 19 nov. 18 h" in page  # Léa's QF band
    assert "Toute la semaine" in page and "Réserver ou libérer toute la semaine" not in page
    # Léa is enrolled in ALSH Vacances, closed in term time: one line instead of a row of « Fermé ».
    assert "Fermé toute la semaine, donc non affiché : Journée (ALSH Vacances)" in page
    assert page.count('id="cell-') == page.count('class="cell ')


def test_orders_are_folded_and_the_history_comes_in_pages_of_ten(client, demo, auth, freeze):
    from models import Order
    freeze("2026-11-19T17:55")
    auth.login("famille.martin@example.fr")
    martin = demo["households"]["martin"]
    for number in range(25):
        Order.create(household=martin, number=f"2026-9{number:05d}", total=0, status="done",
                     created_at=clock.local_now(), created_by=demo["users"]["martin"])
    first = client.get("/commandes").get_data(as_text=True)
    assert "Page 1 sur" in first and "Commandes plus anciennes" in first
    assert '<details class="order-lines">' in first
    history = first.split('id="titre-historique"')[1]
    assert history.count('class="card order"') == 10
    last = client.get("/commandes?page=999").get_data(as_text=True)  # past the end: the last page
    assert "Commandes plus récentes" in last and "Commandes plus anciennes" not in last
    assert client.get("/commandes?page=abc").status_code == 200


# --- Issue 14: the grid's weight, the status messages, the phone's basket bar, the month as a day list ---


def test_the_three_child_grid_is_at_most_40_kb(client, demo, auth, freeze):
    freeze("2026-11-19T17:55")
    auth.login("famille.dupont@example.fr")
    response = client.get("/reservations?semaine=2026-W48")
    page = response.get_data(as_text=True)
    assert page.count('class="cell ') == 65 and page.count('type="checkbox" id="box-') == 40  # all there
    assert len(response.data) <= 40_000, f"{len(response.data)} bytes"  # was 69,944 (bench/page_weight.py)


def test_the_no_js_form_posts_each_rows_shown_keys(client, parent):
    page = client.get("/reservations?semaine=2026-W48").get_data(as_text=True)
    rows = re.findall(r'<input type="hidden" name="shown" value="([^"]*)">', page)
    first = rows[0].split()
    assert first == [key(parent, MON + dt.timedelta(days=i)) for i in (0, 1, 3, 4)]  # the boxes of Léa's Repas
    response = post_form(client, "/reservations", {"semaine": "2026-W48", "shown": rows, "cells": first[:2]},
                         token_page="/reservations", follow_redirects=True)
    assert "Panier mis à jour : 2 changement(s)." in response.get_data(as_text=True)
    assert sorted(line.date for line in BasketLine.select()) == [MON, MON + dt.timedelta(days=1)]
    response = post_form(client, "/reservations", {"semaine": "2026-W48", "shown": rows, "cells": first[1:2]},
                         token_page="/reservations")  # Monday unticked, Tuesday kept
    assert [line.date for line in BasketLine.select()] == [MON + dt.timedelta(days=1)]


def test_each_toggle_says_child_day_and_price(client, parent):
    body = toggle(client, parent, MON).get_data(as_text=True)
    assert '<p class="message message-success">Repas de Léa, lundi 23 novembre, ajouté au panier – 1,50\xa0€.</p>' in body
    body = toggle(client, parent, MON, ticked=False).get_data(as_text=True)
    assert "Repas de Léa, lundi 23 novembre, retiré du panier." in body and BasketLine.select().count() == 0
    soir = {"unit": "garderie_soir_phare"}  # another unit, another price
    toggle(client, parent, MON, **soir)
    body = toggle(client, parent, MON + dt.timedelta(days=1), **soir).get_data(as_text=True)
    assert "Garderie soir de Léa, mardi 24 novembre, ajouté au panier – 1,40\xa0€." in body
    assert "Panier (2) · Valider" in body
    # A booked day: its cancellation goes into the basket, and comes out again (the booking stays).
    post_form(client, "/panier/valider", token_page="/panier")
    body = toggle(client, parent, MON, ticked=False, **soir).get_data(as_text=True)
    assert "Garderie soir de Léa, lundi 23 novembre : annulation ajoutée au panier." in body
    body = toggle(client, parent, MON, **soir).get_data(as_text=True)
    assert "Garderie soir de Léa, lundi 23 novembre : annulation retirée du panier, la réservation est gardée." in body
    assert BasketLine.select().count() == 0
    # Without JavaScript: the same sentence, flashed into the page's status region after the redirect.
    response = toggle(client, parent, MON + dt.timedelta(days=4), headers={})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    status = page.split('<div id="messages" role="status" aria-live="polite">')[1].split("</div>")[0]
    assert "Repas de Léa, vendredi 27 novembre, ajouté au panier – 1,50\xa0€." in status
    assert '<div id="basket-bar" class="basket-bar"><a class="button" href="/panier">Panier (1) · Valider</a></div>' in page


def test_the_month_is_also_a_day_list_with_its_legend(client, parent):
    toggle(client, parent, dt.date(2026, 12, 1))
    page = client.get("/reservations/mois?mois=2026-12").get_data(as_text=True)
    days = page.split('<ol class="month-days">')[1].split("</ol>")[0]
    view = planning.month_view(parent["households"]["martin"], dt.date(2026, 12, 1))
    shown = [day for week in view.weeks for day in week if day.in_month and day.entries]
    assert days.count('<li class="month-day">') == len(shown) > 15  # one block per day with something
    first = days.split('<li class="month-day">')[1]
    assert first.startswith('<h3><a href="/reservations?semaine=2026-W49">Mardi 1 décembre</a></h3>')
    assert '<li class="state-basket_add">Léa – Repas : À ajouter</li>' in first
    assert '<li class="state-available">Hugo – Repas : Disponible</li>' in first
    assert "Samedi" not in days and "Dimanche" not in days  # only days with something to show
    legend = page.split('<details class="legend card" open>')[1].split("</details>")[0]  # open, this month's states
    assert "À ajouter" in legend and "Disponible" in legend and "Hors délai" not in legend
    assert '<table class="month-grid">' in page  # the desktop's table stays
    assert "Panier (1) · Valider" in page
