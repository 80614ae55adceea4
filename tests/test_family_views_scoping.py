"""Every parent route is scoped to the signed-in household: another household's objects answer 404."""
from __future__ import annotations

import io

import pytest
from werkzeug.datastructures import MultiDict

from blueprints.family.forms import FoyerForm
from models import AuditLog, ChangeRequest, Child, FamilyDocument, Guardian, Household
from services.family import household as rules
from services.family import household_changes as changes
from tests.conftest import post_form


@pytest.fixture
def objects(demo):
    """One object of each kind for both demo households (a pending change and a pending document each)."""
    made = {}
    for key in ("martin", "dupont"):
        household = Household.get_by_id(demo["households"][key].id)
        user = demo["users"][key]
        child = household.children_in_file()[0]
        guardian = rules.guardians_of(household)[0]
        changes.change_household(household, user, FoyerForm(MultiDict({
            "organisme": "Autre", "allocataire_number": "99", "family_situation": "Célibataire"})).values())
        document = FamilyDocument.select().where(FamilyDocument.household == household).first()
        made[key] = {"child": child.id, "guardian": guardian.id, "document": document.id,
                     "change": ChangeRequest.select().where(ChangeRequest.household == household).get().id}
    return made


GET_ROUTES = [
    ("child", "/mon-compte/enfants/{}"),
    ("child", "/mon-compte/enfants/{}/modifier"),
    ("guardian", "/mon-compte/responsables/{}"),
    ("document", "/mon-compte/documents/{}/fichier"),
]
POST_ROUTES = [
    ("child", "/mon-compte/enfants/{}/modifier"),
    ("child", "/mon-compte/enfants/{}/certifier"),
    ("child", "/mon-compte/enfants/{}/supprimer"),
    ("guardian", "/mon-compte/responsables/{}"),
    ("guardian", "/mon-compte/responsables/{}/acces"),
    ("document", "/mon-compte/documents/{}/supprimer"),
    ("change", "/mon-compte/modifications/{}/annuler"),
]


@pytest.mark.parametrize("kind, route", GET_ROUTES)
def test_get_routes_of_another_household_are_404(client, auth, objects, kind, route):
    auth.login("famille.martin@example.fr")
    assert client.get(route.format(objects["dupont"][kind])).status_code == 404
    assert client.get(route.format(objects["martin"][kind])).status_code == 200


@pytest.mark.parametrize("kind, route", POST_ROUTES)
def test_post_routes_of_another_household_are_404_and_change_nothing(client, auth, objects, kind, route):
    auth.login("famille.dupont@example.fr")
    counts = (ChangeRequest.select().count(), FamilyDocument.select().count(), Child.select().count(),
              Guardian.select().count())
    response = post_form(client, route.format(objects["martin"][kind]), {"last_name": "Pirate"},
                         token_page="/mon-compte")
    assert response.status_code == 404
    assert counts == (ChangeRequest.select().count(), FamilyDocument.select().count(), Child.select().count(),
                      Guardian.select().count())
    assert Child.get_by_id(objects["martin"]["child"]).certified_at is not None  # unchanged demo value


def test_upload_for_a_child_of_another_household_is_refused(client, auth, objects):
    auth.login("famille.dupont@example.fr")
    response = post_form(client, "/mon-compte/documents",
                         {"doc_type": "2", "child": str(objects["martin"]["child"]),
                          "file": (io.BytesIO(b"%PDF-1.4 x"), "v.pdf")},
                         token_page="/mon-compte", content_type="multipart/form-data")
    assert response.status_code == 400
    assert not FamilyDocument.select().where(FamilyDocument.child == objects["martin"]["child"],
                                             FamilyDocument.status == "pending").exists()


def test_staff_routes_need_staff(client, auth, demo):
    auth.login("famille.martin@example.fr")
    martin = demo["households"]["martin"].id
    for url in ("/gestion/familles", f"/gestion/familles/{martin}", "/gestion/modifications", "/gestion/documents",
                "/gestion/dossiers-a-valider", "/gestion/documents/1/fichier"):
        assert client.get(url).status_code == 404, url
    auth.logout()
    assert client.get("/gestion/familles").status_code == 302


@pytest.mark.parametrize("query, expected", [("martin", "Famille Martin"), ("Inès", "Famille Dupont"),
                                             ("famille.bernard@", "Famille BERNARD")])
def test_staff_search(client, auth, demo, query, expected):
    auth.login("agent@example.fr")
    page = client.get("/gestion/familles", query_string={"q": query}).get_data(as_text=True)
    assert expected in page


def test_staff_pages_render_and_health_is_for_allowed_roles(client, auth, demo, objects):
    from models import User
    from services.accounts.users import hash_password
    martin = demo["households"]["martin"]
    lea = demo["children"]["lea"]
    auth.login("agent@example.fr")
    for url in ("/gestion/", "/gestion/familles", f"/gestion/familles/{martin.id}", "/gestion/modifications",
                "/gestion/documents", "/gestion/dossiers-a-valider", "/gestion/suppressions-de-compte",
                "/gestion/parametres-familles", f"/gestion/familles/{martin.id}/foyer",
                f"/gestion/familles/{martin.id}/enfants/{lea.id}",
                f"/gestion/familles/{martin.id}/responsables/{objects['martin']['guardian']}"):
        assert client.get(url).status_code == 200, url
    assert "Arachide" in client.get(f"/gestion/familles/{martin.id}").get_data(as_text=True)
    assert client.get(f"/gestion/familles/{martin.id}/enfants/{objects['dupont']['child']}").status_code == 404
    auth.logout()
    User.create(email="regie@example.fr", role="regisseur", password_hash=hash_password("Demo-Portail-2026!"),
                activated=True)
    auth.login("regie@example.fr")
    page = client.get(f"/gestion/familles/{martin.id}").get_data(as_text=True)
    assert "Léa" in page and "Arachide" not in page and "Dr Le Bihan" not in page


def test_staff_direct_edit_is_logged(client, auth, demo):
    martin = demo["households"]["martin"]
    auth.login("agent@example.fr")
    response = post_form(client, f"/gestion/familles/{martin.id}/foyer",
                         {"organisme": "CAF", "allocataire_number": "1234567", "family_situation": "Marié(e)",
                          "quotient_familial": "700"}, token_page="/gestion/")
    assert response.status_code == 302
    assert Household.get_by_id(martin.id).quotient_familial == 700
    entry = AuditLog.select().where(AuditLog.action == "modification du dossier famille par la mairie").get()
    assert "850 € → 700 €" in entry.detail and entry.user.email == "agent@example.fr"
    bad = post_form(client, f"/gestion/familles/{martin.id}/foyer", {"organisme": "CAF", "quotient_familial": "x"},
                    token_page="/gestion/")
    assert bad.status_code == 400 and Household.get_by_id(martin.id).quotient_familial == 700
