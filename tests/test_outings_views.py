"""Outings pages: /activites for families (list by age group, detail, one-step registration, scoping) and
/gestion/sorties for staff (form, « Liste des inscrits » by role, CSV export)."""
from __future__ import annotations

import datetime as dt

import pytest

from models import Booking, Enrolment, Order, Outing
from tests.conftest import post_form

MARTIN, DUPONT = "famille.martin@example.fr", "famille.dupont@example.fr"


@pytest.fixture
def outing(demo):
    return Outing.get_by_id(demo["outings"]["oceanopolis"].id)


@pytest.fixture
def youth(demo):
    return Outing.get_by_id(demo["outings"]["espace_jeunes"].id)


def _registered(outing):
    return sorted(b.child_id for b in Booking.select().where(Booking.unit == outing.unit_id))


def test_families_see_upcoming_outings_by_age_group(client, auth, outing, youth):
    auth.login(MARTIN)
    page = client.get("/activites/").get_data(as_text=True)
    assert page.index("3-11 ans") < page.index("Sortie Océanopolis") < page.index("11-17 ans") < page.index("patinoire")
    assert "12,00\u00a0€" in page and "8 places restantes" in page
    assert "6,00\u00a0€" in page  # Espace jeunes at the Martins' QF band (850 €)
    assert 'href="/activites/"' in client.get("/mon-espace").get_data(as_text=True)  # the menu links it


def test_the_detail_page_shows_programme_eligible_and_ineligible_children(client, auth, demo, outing, youth):
    auth.login(MARTIN)
    page = client.get(f"/activites/{outing.id}").get_data(as_text=True)
    assert "Pique-nique" in page or "pique-nique" in page
    assert "Inscrire Léa à « Sortie Océanopolis »" in page and "Inscrire Hugo à « Sortie Océanopolis »" in page
    assert "Documents à fournir" in page and "Autorisation de sortie de Léa" in page  # told before registering
    page = client.get(f"/activites/{youth.id}").get_data(as_text=True)
    assert 'name="child_ids"' not in page
    assert "Réservé aux 11-17 ans : Hugo aura 4 ans." in page


def test_registering_two_children_in_one_post(client, auth, demo, outing):
    auth.login(MARTIN)
    lea, hugo = demo["children"]["lea"].id, demo["children"]["hugo"].id
    response = post_form(client, f"/activites/{outing.id}/inscription", {"child_ids": [lea, hugo]}, token_page="/activites/")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/activites/{outing.id}")
    assert _registered(outing) == sorted([lea, hugo])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Léa : Inscrit(e) ; Hugo : Inscrit(e)" in page and "Commande n° 2026-" in page
    assert "6 places restantes" in page
    assert "Envoyer le document" in page and f"type={demo['document_types']['sortie'].id}" in page


def test_htmx_registration_answers_with_a_full_navigation(client, auth, demo, outing):
    auth.login(MARTIN)
    response = post_form(client, f"/activites/{outing.id}/inscription", {"child_ids": demo["children"]["lea"].id},
                         token_page="/activites/", headers={"HX-Request": "true"})
    assert response.headers.get("HX-Redirect", "").endswith(f"/activites/{outing.id}")


def test_another_households_child_is_a_404_and_changes_nothing(client, auth, demo, outing):
    auth.login(MARTIN)
    orders = Order.select().count()
    response = post_form(client, f"/activites/{outing.id}/inscription",
                         {"child_ids": [demo["children"]["lea"].id, demo["children"]["ines"].id]}, token_page="/activites/")
    assert response.status_code == 404
    assert _registered(outing) == [] and Order.select().count() == orders


def test_a_forged_ineligible_child_is_refused_with_the_reason(client, auth, demo, youth):
    auth.login(DUPONT)
    response = post_form(client, f"/activites/{youth.id}/inscription", {"child_ids": demo["children"]["ines"].id},
                         token_page="/activites/")
    assert response.status_code == 400
    assert "Réservé aux 11-17 ans : Inès aura 10 ans." in response.get_data(as_text=True)
    assert _registered(youth) == [] and not Enrolment.select().where(Enrolment.activity == youth.activity_id).exists()


@pytest.mark.parametrize("data,status", [({}, 400), ({"child_ids": "abc"}, 400),
                                         ({"child_ids": "99999999999999999999"}, 404)])
def test_bad_input_changes_nothing(client, auth, outing, data, status):
    auth.login(MARTIN)
    response = post_form(client, f"/activites/{outing.id}/inscription", data, token_page="/activites/")
    assert response.status_code == status
    if status == 400:
        assert "Cochez au moins un enfant" in response.get_data(as_text=True)
    assert _registered(outing) == []


def test_an_unpublished_or_unknown_outing_is_a_404(client, auth, outing):
    auth.login(MARTIN)
    Outing.update(published=False).where(Outing.id == outing.id).execute()
    assert client.get(f"/activites/{outing.id}").status_code == 404
    assert "Océanopolis" not in client.get("/activites/").get_data(as_text=True)
    assert client.get("/activites/99999").status_code == 404


@pytest.mark.parametrize("email,status,health", [("agent@example.fr", 200, True), ("admin@example.fr", 200, True),
                                                 ("regisseur@example.fr", 200, False),
                                                 ("cuisine@example.fr", 403, False), ("animateur@example.fr", 403, False),
                                                 (MARTIN, 404, False)])
def test_the_register_by_role(client, auth, demo, outing, email, status, health):
    from services.booking import outings as rules

    rules.register(None, demo["households"]["martin"], outing, [demo["children"]["lea"].id])
    auth.login(email)
    for url in (f"/gestion/sorties/{outing.id}/inscrits", f"/gestion/sorties/{outing.id}/inscrits.csv"):
        response = client.get(url)
        assert response.status_code == status, url
        if status == 200:
            text = response.get_data(as_text=True)
            assert "Léa Martin" in text and ("Arachide" in text) == health
            assert "06 12 34 56 78" in text or "Famille MARTIN" in text


def test_the_register_page_lists_the_waiting_list_in_order(client, auth, demo, outing):
    from services.booking import outings as rules

    outing.unit.capacity = 1
    outing.unit.save()
    c = demo["children"]
    rules.register(None, demo["households"]["martin"], outing, [c["lea"].id, c["hugo"].id])
    rules.register(None, demo["households"]["dupont"], outing, [c["malo"].id])
    auth.login("agent@example.fr")
    page = client.get(f"/gestion/sorties/{outing.id}/inscrits").get_data(as_text=True)
    waiting = page[page.index('id="table-attente"'):]
    assert waiting.index("Hugo Martin") < waiting.index("Malo Dupont")
    assert "En liste d&#39;attente (position 2)" in waiting
    csv = client.get(f"/gestion/sorties/{outing.id}/inscrits.csv")
    assert csv.mimetype == "text/csv" and "attachment" in csv.headers["Content-Disposition"]
    assert csv.get_data(as_text=True).startswith("\ufeffEnfant;Âge;Foyer")


def test_staff_create_and_edit_an_outing_through_the_form(client, auth, demo):
    auth.login("agent@example.fr")
    assert client.get("/gestion/sorties/nouvelle").status_code == 200
    before = Outing.select().count()
    bad = post_form(client, "/gestion/sorties/nouvelle", {"name": "Cinéma", "kind": "sortie", "starts_on": "pas une date"},
                    token_page="/gestion/sorties/")
    assert bad.status_code == 400 and "Indiquez la date de la sortie au format jj/mm/aaaa." in bad.get_data(as_text=True)
    assert Outing.select().count() == before
    data = {"name": "Cinéma de Noël", "kind": "sortie", "starts_on": "2026-12-16", "start_time": "14:00",
            "end_time": "17:00", "min_age": "6", "max_age": "11", "price": "4,50", "capacity": "15", "waiting_list": "1",
            "deadline": "2026-12-14T12:00", "required_documents": str(demo["document_types"]["sortie"].id),
            "regie_id": str(demo["regies"]["loisirs"].id), "published": "1", "programme": "Film puis goûter"}
    response = post_form(client, "/gestion/sorties/nouvelle", data, token_page="/gestion/sorties/")
    assert response.status_code == 302
    created = Outing.select().order_by(Outing.id.desc()).first()
    assert (created.activity.name, created.unit.default_price, created.unit.capacity, created.min_age) == (
        "Cinéma de Noël", 450, 15, 6)
    edit = client.get(f"/gestion/sorties/{created.id}").get_data(as_text=True)
    assert 'value="4,50"' in edit and 'value="2026-12-14T12:00"' in edit
    response = post_form(client, f"/gestion/sorties/{created.id}", {**data, "capacity": "20"}, token_page="/gestion/sorties/")
    assert response.status_code == 302 and Outing.get_by_id(created.id).unit.capacity == 20
    auth.logout()
    auth.login("regisseur@example.fr")
    assert post_form(client, f"/gestion/sorties/{created.id}", {**data, "capacity": "2"},
                     token_page="/gestion/sorties/").status_code == 403
    assert Outing.get_by_id(created.id).unit.capacity == 20
    assert dt.date(2026, 12, 16) == Outing.get_by_id(created.id).starts_on
