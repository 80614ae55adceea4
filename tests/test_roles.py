"""Staff roles: the kitchen sees headcounts only; each role's menu lists what it may open."""
import pytest

from models import User
from services.accounts import users
from tests.conftest import post_form


def _staff(role: str) -> User:
    return User.create(email=f"{role}@mairie.example.fr", role=role, activated=True,
                       password_hash=users.hash_password("Cuisine-Portail-2026!"), first_name=role)


def _login(client, user):
    return post_form(client, "/connexion", {"email": user.email, "password": "Cuisine-Portail-2026!"})


def test_kitchen_lands_on_headcounts_and_sees_nothing_else(client, demo):
    response = _login(client, _staff("cuisine"))
    assert response.headers["Location"] == "/gestion/effectifs"
    page = client.get("/gestion/effectifs").get_data(as_text=True)
    assert "Effectifs" in page and "Familles</a>" not in page and "Pointage</a>" not in page
    for url in ("/gestion/", "/gestion/familles", "/gestion/activites", "/gestion/pointage",
                "/gestion/reservations/", "/gestion/facturation/", "/gestion/comptes/nouveau"):
        assert client.get(url).status_code in (403, 404), url
    assert client.get("/").headers["Location"] == "/gestion/effectifs"


@pytest.mark.parametrize("role, shown, hidden", [
    ("regisseur", ["Facturation", "Familles", "Tableau de bord"], ["Pointage", "Effectifs"]),
    ("agent", ["Familles", "Pointage", "Effectifs", "Activités"], ["Facturation"]),
    ("admin", ["Familles", "Pointage", "Effectifs", "Facturation", "Activités"], []),
])
def test_menu_follows_the_role(client, demo, role, shown, hidden):
    _login(client, _staff(role))
    page = client.get("/gestion/").get_data(as_text=True)
    nav = page.split('aria-label="Navigation principale"')[1].split("</nav>")[0]
    for label in shown:
        assert f">{label}</a>" in nav, label
    for label in hidden:
        assert f">{label}</a>" not in nav, label


def test_demo_kitchen_and_regisseur_accounts(client, auth, demo):
    assert auth.login("cuisine@example.fr").headers["Location"] == "/gestion/effectifs"
    auth.logout()
    assert auth.login("regisseur@example.fr").headers["Location"] == "/gestion/"
    assert client.get("/gestion/facturation/").status_code == 200


def test_the_matrix_leaves_slash_redirects_and_unknown_pages_to_the_router(client, auth, demo):
    """/inscriptions (no slash) still leads to /inscriptions/ for a parent: the access check runs only
    where a view will."""
    auth.login("famille.martin@example.fr")
    response = client.get("/inscriptions")
    assert response.status_code == 308 and response.headers["Location"].endswith("/inscriptions/")
    assert client.get("/inscriptions", follow_redirects=True).status_code == 200
    assert client.get("/nulle-part").status_code == 404
    assert client.post("/mon-espace").status_code == 405
