"""/gestion/ecoles: administrators list, add and edit the commune's schools and the classes they teach."""
import html

from models import AuditLog, School
from tests.conftest import DEMO_PASSWORD, post_form


def _admin(auth):
    auth.login("admin@example.fr", DEMO_PASSWORD)


def test_add_and_edit_a_school(demo, client, auth):
    _admin(auth)
    page = client.get("/gestion/ecoles").get_data(as_text=True)
    assert "École du Phare" in page and "Ajouter une école" in page
    response = post_form(client, "/gestion/ecoles", {"name": "  École des   Dunes ", "address": "1 rue du Port",
                                                      "classes": ["CP", "PS", "CM2"]}, token_page="/gestion/ecoles")
    assert response.status_code == 302
    school = School.get(School.name == "École des Dunes")
    assert school.classes == "PS,CP,CM2"  # in school order
    assert "PS, CP, CM2" in client.get("/gestion/ecoles").get_data(as_text=True)
    response = post_form(client, f"/gestion/ecoles/{school.id}", {"name": "École des Dunes", "address": "",
                                                                  "classes": ["GS"]}, token_page="/gestion/ecoles")
    assert response.status_code == 302
    assert (School.get_by_id(school.id).classes, School.get_by_id(school.id).address) == ("GS", "")
    assert AuditLog.select().where(AuditLog.action.in_(["école ajoutée", "école modifiée"])).count() == 2


def test_refusals_say_why_and_change_nothing(demo, client, auth):
    _admin(auth)
    before = [(s.name, s.classes) for s in School.select().order_by(School.id)]
    for data, message in (({"name": "école du phare"}, "Une école s'appelle déjà"),
                          ({"name": "   "}, "Indiquez le nom de l'école"),
                          ({"name": "École X", "classes": ["6e"]}, "Cochez des classes de la liste")):
        response = post_form(client, "/gestion/ecoles", data, token_page="/gestion/ecoles")
        assert response.status_code == 400 and message in html.unescape(response.get_data(as_text=True)), data
    assert [(s.name, s.classes) for s in School.select().order_by(School.id)] == before
    assert client.get("/gestion/ecoles/999999").status_code == 404


def test_only_administrators(demo, client, auth):
    auth.login("agent@example.fr", DEMO_PASSWORD)
    assert client.get("/gestion/ecoles").status_code == 403
    auth.logout()
    auth.login("famille.martin@example.fr", DEMO_PASSWORD)
    assert client.get("/gestion/ecoles").status_code == 404
