"""View tests of the household file: the wizard over two visits, staff validation, Mon compte."""
from __future__ import annotations

import re

import pytest

from models import ChangeRequest, Child, Guardian, Household, User
from services.accounts import signup
from tests.conftest import DEMO_PASSWORD, last_code_for, outbox_messages, post_form


def new_parent(client, auth, email="famille.nouvelle@example.fr"):
    """Sign up and confirm the code: the parent has an empty draft household."""
    signup.register(email, DEMO_PASSWORD)
    signup.confirm_code(email, last_code_for(email))
    auth.login(email)
    return User.get(User.email == email)


FOYER = {"organisme": "CAF", "allocataire_number": "1234567", "family_situation": "Marié(e)",
         "quotient_familial": "780"}
GUARDIAN = {"g0-present": "1", "g0-quality": "Mère", "g0-civility": "Madame", "g0-last_name": "Durand",
            "g0-first_name": "Anne", "g0-address": "3 rue Haute", "g0-postal_code": "29999",
            "g0-city": "Démo-sur-Mer", "g0-email": "famille.nouvelle@example.fr", "g0-phone_mobile": "0612345678"}
CHILDREN = {"child_count": "2",
            "c0-sex": "F", "c0-last_name": "Durand", "c0-first_name": "Zoé", "c0-birth_date": "2018-05-04",
            "c1-sex": "M", "c1-last_name": "Durand", "c1-first_name": "Noé", "c1-birth_date": "2020-09-12"}


def step(client, name, data, action="next"):
    return post_form(client, f"/mon-dossier/{name}", {**data, "action": action}, token_page="/mon-espace")


def test_home_links_to_the_wizard(client, demo, auth):
    new_parent(client, auth)
    page = client.get("/mon-espace").get_data(as_text=True)
    assert "/mon-dossier" in page and "Compléter mon dossier famille" in page


def test_wizard_over_two_visits_then_staff_validates(client, demo, auth):
    user = new_parent(client, auth)
    response = step(client, "foyer", FOYER)
    assert response.status_code == 302 and response.headers["Location"].endswith("/mon-dossier/responsables")
    response = step(client, "responsables", GUARDIAN, action="later")
    assert response.headers["Location"].endswith("/mon-espace")
    auth.logout()

    auth.login("famille.nouvelle@example.fr")  # second visit: what was saved is still there
    page = client.get("/mon-dossier/responsables").get_data(as_text=True)
    assert 'value="Durand"' in page and "06 12 34 56 78" in page
    assert step(client, "enfants", CHILDREN).status_code == 302
    response = step(client, "besoins", {"needs": ["garderie"]}, action="submit")
    assert response.status_code == 302 and response.headers["Location"].endswith("/mon-compte")
    household = Household.get_by_id(user.household_id)
    assert household.status == "submitted" and household.name == "Famille DURAND"
    assert [c.first_name for c in Child.select().where(Child.household == household)] == ["Zoé", "Noé"]
    assert "en attente de validation" in client.get("/mon-compte").get_data(as_text=True)
    auth.logout()

    auth.login("agent@example.fr")
    assert "Dossiers famille à valider" in client.get("/gestion/").get_data(as_text=True)
    queue = client.get("/gestion/dossiers-a-valider").get_data(as_text=True)
    assert "Famille DURAND" in queue
    response = post_form(client, "/gestion/dossiers-a-valider", {"ids": [household.id], "decision": "accept"},
                         token_page="/gestion/")
    assert response.status_code == 302
    assert Household.get_by_id(household.id).status == "validated"
    assert any(m["to"] == "famille.nouvelle@example.fr" and "validé" in m["subject"] for m in outbox_messages())
    auth.logout()

    auth.login("famille.nouvelle@example.fr")
    page = client.get("/mon-compte").get_data(as_text=True)
    for text in ("Mon foyer", "Responsables", "Mes enfants", "Zoé Durand", "Noé Durand", "780 €", "Modifier"):
        assert text in page


def test_add_and_remove_child_and_spouse_without_javascript(client, demo, auth):
    user = new_parent(client, auth)
    page = step(client, "enfants", {"child_count": "1", "c0-last_name": "Durand", "c0-first_name": "Zoé"},
                action="add").get_data(as_text=True)
    assert "Enfant 2" in page
    assert Child.select().where(Child.household == user.household_id).count() == 1
    step(client, "enfants", {"child_count": "2", "c0-id": str(Child.get().id), "c0-last_name": "Durand",
                             "c0-first_name": "Zoé", "c1-last_name": "Durand", "c1-first_name": "Noé"}, action="later")
    ids = [c.id for c in Child.select().where(Child.household == user.household_id)]
    assert len(ids) == 2
    step(client, "enfants", {"child_count": "2", "c0-id": ids[0], "c0-last_name": "Durand", "c0-first_name": "Zoé",
                             "c1-id": ids[1], "c1-last_name": "Durand", "c1-first_name": "Noé"}, action="remove-0")
    assert [c.first_name for c in Child.select().where(Child.household == user.household_id)] == ["Noé"]
    page = step(client, "responsables", GUARDIAN, action="add_spouse").get_data(as_text=True)
    assert "Conjoint" in page and "Retirer le conjoint" in page


@pytest.mark.parametrize("name, data, field_id, message", [
    ("foyer", {**FOYER, "quotient_familial": "beaucoup"}, "quotient_familial", "Quotient familial invalide"),
    ("responsables", {**GUARDIAN, "g0-postal_code": "2999"}, "g0-postal_code", "Code postal invalide"),
    ("responsables", {**GUARDIAN, "g0-phone_mobile": "12345"}, "g0-phone_mobile", "Téléphone portable invalide"),
    ("enfants", {**CHILDREN, "c1-birth_date": "2099-01-01"}, "c1-birth_date", "ne peut pas être dans le futur"),
])
def test_bad_input_is_refused_next_to_the_field_and_saves_nothing(client, demo, auth, name, data, field_id, message):
    user = new_parent(client, auth)
    response = step(client, name, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(rf'id="{field_id}-error"[^>]*>.*{message}', page)
    household = Household.get_by_id(user.household_id)
    assert household.organisme == "" and not Guardian.select().where(Guardian.household == household).exists()
    assert not Child.select().where(Child.household == household).exists()


def test_incomplete_file_cannot_be_submitted(client, demo, auth):
    new_parent(client, auth)
    response = step(client, "besoins", {"needs": ["garderie"]}, action="submit")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "organisme (CAF, MSA ou autre)" in page and "Ajoutez au moins un enfant" in page


def test_staff_refusal_returns_the_file_with_its_reason(client, demo, auth):
    auth.login("agent@example.fr")
    bernard = demo["households"]["bernard"]
    response = post_form(client, f"/gestion/familles/{bernard.id}/decision", {"decision": "refuse"},
                         token_page="/gestion/")
    assert response.status_code == 302
    assert Household.get_by_id(bernard.id).status == "submitted"  # no reason: nothing changes
    post_form(client, f"/gestion/familles/{bernard.id}/decision",
              {"decision": "refuse", "reason": "Il manque le second responsable."}, token_page="/gestion/")
    assert Household.get_by_id(bernard.id).status == "draft"
    auth.logout()
    auth.login("famille.bernard@example.fr")
    assert "Il manque le second responsable." in client.get("/mon-dossier/foyer").get_data(as_text=True)


def test_validated_change_goes_to_the_mairie(client, demo, auth):
    auth.login()
    martin = demo["households"]["martin"]
    response = post_form(client, "/mon-compte/foyer", {"organisme": "CAF", "allocataire_number": "1234567",
                                                       "family_situation": "Marié(e)", "quotient_familial": "910"},
                         token_page="/mon-compte")
    assert response.status_code == 302
    assert Household.get_by_id(martin.id).quotient_familial == 850  # unchanged until staff accept
    page = client.get("/mon-compte").get_data(as_text=True)
    assert "En attente de validation" in page and "850 €" in page and "910 €" in page
    change = ChangeRequest.get()
    auth.logout()
    auth.login("agent@example.fr")
    assert "910 €" in client.get("/gestion/modifications").get_data(as_text=True)
    post_form(client, "/gestion/modifications", {"ids": [change.id], "decision": "refuse",
                                                 "reason": "Attestation illisible"}, token_page="/gestion/")
    assert ChangeRequest.get_by_id(change.id).status == "refused"
    auth.logout()
    auth.login()
    assert "Attestation illisible" in client.get("/mon-compte").get_data(as_text=True)


def test_child_record_shows_and_certifies(client, demo, auth, freeze):
    freeze("2026-11-23T10:00")
    auth.login()
    lea = demo["children"]["lea"]
    page = client.get(f"/mon-compte/enfants/{lea.id}").get_data(as_text=True)
    for text in ("Sans porc", "Arachide", "Dr Le Bihan", "Annick Martin", "Photo : oui", "Je certifie exactes"):
        assert text in page
    post_form(client, f"/mon-compte/enfants/{lea.id}/certifier", token_page="/mon-compte")
    assert "lundi 23 novembre 2026" in client.get(f"/mon-compte/enfants/{lea.id}").get_data(as_text=True)


def test_closure_is_a_request(client, demo, auth):
    auth.login()
    response = post_form(client, "/mon-compte/suppression", {"confirm": "y"}, token_page="/mon-compte")
    assert response.status_code == 302
    martin = Household.get_by_id(demo["households"]["martin"].id)
    assert martin.status == "closing_requested"
    assert Child.select().where(Child.household == martin).count() == 2  # nothing deleted


def test_conjoint_gets_a_login_to_the_same_household(client, demo, auth):
    auth.login()
    thomas = Guardian.get(Guardian.email == "thomas.martin@example.fr")
    assert "Créer un accès au portail pour Thomas" in client.get("/mon-compte").get_data(as_text=True)
    response = post_form(client, f"/mon-compte/responsables/{thomas.id}/acces", token_page="/mon-compte")
    assert response.status_code == 302
    login = User.get(User.email == "thomas.martin@example.fr")
    assert login.household_id == demo["households"]["martin"].id and login.guardian_id == thomas.id
    assert any(m["to"] == "thomas.martin@example.fr" for m in outbox_messages())
