"""L'équipe (/gestion/equipe): admins invite, edit, deactivate and reactivate staff accounts; the rules
(self, last administrator) hold on the server, each change is in the audit log, sessions end at once."""
from __future__ import annotations

import re

import pytest

from models import AuditLog, User
from services.demo import DEMO_PASSWORD
from tests.conftest import Auth, link_in_last_mail, outbox_messages, post_form


def _post(client, url, data=None):
    return post_form(client, url, data or {}, token_page="/gestion/")


def _page(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def admin_client(client, auth, demo):
    auth.login("admin@example.fr")
    return client


def test_list_shows_every_staff_account_with_role_and_state(admin_client, demo):
    User.update(deactivated_at=User.created_at).where(User.email == "cuisine@example.fr").execute()
    page = _page(admin_client.get("/gestion/equipe"))
    assert "Sophie Le Gall" in page and "agent@example.fr" in page
    row = page.split(f'id="membre-{demo["users"]["regisseur"].id}"')[1].split("</tr>")[0]
    assert "Régisseur" in row and "Actif" in row and "Jamais" in row
    row = page.split(f'id="membre-{demo["users"]["cuisine"].id}"')[1].split("</tr>")[0]
    assert "Cuisine" in row and "Désactivé" in row and "Réactiver" in row
    assert "famille.martin@example.fr" not in page  # parents are not the team
    nav = page.split('aria-label="Navigation principale"')[1].split("</nav>")[0]
    assert ">Équipe</a>" in nav


@pytest.mark.parametrize("email", ["agent@example.fr", "regisseur@example.fr", "cuisine@example.fr"])
def test_only_admins_open_the_team(client, auth, demo, email):
    auth.login(email)
    assert client.get("/gestion/equipe").status_code == 403
    assert client.get("/gestion/equipe/nouveau").status_code == 403
    member = demo["users"]["agent"].id
    assert _post(client, f"/gestion/equipe/{member}/desactiver").status_code == 403
    assert User.get_by_id(member).deactivated_at is None


def test_invitation_creates_the_account_and_mails_a_set_password_link(admin_client, client, demo):
    response = _post(admin_client, "/gestion/equipe/nouveau", {
        "email": " Nouvel.Agent@Mairie.example.fr ", "first_name": "Maël", "last_name": "Tanguy", "role": "agent"})
    assert response.status_code == 302 and response.headers["Location"] == "/gestion/equipe"
    member = User.get(User.email == "nouvel.agent@mairie.example.fr")
    assert member.role == "agent" and not member.activated and member.password_hash is None
    assert "Invitation envoyée" in _page(admin_client.get("/gestion/equipe"))
    mail = next(m for m in outbox_messages() if m["to"] == member.email)
    assert "« Agent »" in mail["body"] and "Mairie de Démo" in mail["body"]
    assert AuditLog.get(AuditLog.object_id == member.id).action == "invitation d'un membre de l'équipe"
    # The member sets a password through the existing page and signs in on the staff side.
    link = link_in_last_mail(member.email)
    Auth(client).logout()
    path = re.sub(r"^https?://[^/]+", "", link)
    assert "Définir un nouveau mot de passe" in _page(client.get(path))
    response = post_form(client, path, {"password": "Nouvel-Agent-2026!", "confirm": "Nouvel-Agent-2026!"},
                         token_page=path)
    assert response.headers["Location"] == "/connexion"
    assert Auth(client).login(member.email, "Nouvel-Agent-2026!").headers["Location"] == "/gestion/"


@pytest.mark.parametrize("data, message", [
    ({"email": "", "first_name": "A", "last_name": "B", "role": "agent"}, "Indiquez l&#39;adresse e-mail."),
    ({"email": "pas-une-adresse", "first_name": "A", "last_name": "B", "role": "agent"}, "Adresse e-mail invalide"),
    ({"email": "x@example.fr", "first_name": "", "last_name": "B", "role": "agent"}, "Indiquez le prénom."),
    ({"email": "x@example.fr", "first_name": "A", "last_name": " ", "role": "agent"}, "Indiquez le nom."),
    ({"email": "x@example.fr", "first_name": "A", "last_name": "B", "role": "parent"}, "Choisissez un rôle dans la liste."),
    ({"email": "x@example.fr", "first_name": "A", "last_name": "B", "role": "roi"}, "Choisissez un rôle dans la liste."),
    ({"email": "x@example.fr", "first_name": "A", "last_name": "B"}, "Choisissez un rôle dans la liste."),
    ({"email": "agent@example.fr", "first_name": "A", "last_name": "B", "role": "agent"}, "Un compte existe déjà"),
    ({"email": "x@example.fr", "first_name": "é" * 81, "last_name": "B", "role": "agent"}, "80 caractères au plus"),
])
def test_bad_invitation_changes_nothing(admin_client, demo, data, message):
    before = User.select().count()
    response = _post(admin_client, "/gestion/equipe/nouveau", data)
    assert response.status_code == 400
    assert message in _page(response)
    assert User.select().count() == before
    assert not [m for m in outbox_messages() if m["to"] == "x@example.fr"]


def test_edit_changes_name_and_role_and_ends_the_members_sessions(admin_client, app, demo):
    member = demo["users"]["agent"]
    other = app.test_client()
    Auth(other).login(member.email)
    response = _post(admin_client, f"/gestion/equipe/{member.id}",
                     {"first_name": "Sophie", "last_name": "Le Goff", "role": "regisseur"})
    assert response.status_code == 302
    member = User.get_by_id(member.id)
    assert (member.last_name, member.role) == ("Le Goff", "regisseur")
    assert other.get("/gestion/").status_code == 302  # signed out: the new role applies at next sign-in
    entry = AuditLog.select().where(AuditLog.object_id == member.id).order_by(AuditLog.id.desc()).first()
    assert "Agent → Régisseur" in entry.detail


def test_a_parent_account_is_not_a_team_member(admin_client, demo):
    parent = demo["users"]["martin"].id
    assert admin_client.get(f"/gestion/equipe/{parent}").status_code == 404
    assert _post(admin_client, f"/gestion/equipe/{parent}/desactiver").status_code == 404
    assert admin_client.get("/gestion/equipe/999999").status_code == 404
    assert User.get_by_id(parent).deactivated_at is None


def test_deactivation_ends_sessions_and_refuses_sign_in(admin_client, app, demo):
    member = demo["users"]["agent"]
    other = app.test_client()
    Auth(other).login(member.email)
    assert other.get("/gestion/").status_code == 200
    response = _post(admin_client, f"/gestion/equipe/{member.id}/desactiver")
    assert response.status_code == 302
    assert "Compte de Sophie Le Gall désactivé" in _page(admin_client.get("/gestion/equipe"))
    assert other.get("/gestion/").status_code == 302  # the session died at once
    response = post_form(other, "/connexion", {"email": member.email, "password": DEMO_PASSWORD})
    assert response.status_code == 400
    assert "Ce compte a été désactivé par la mairie" in _page(response)
    # A wrong password does not learn that the account is deactivated.
    response = post_form(other, "/connexion", {"email": member.email, "password": "Mauvais-mot-2026!"})
    assert "désactivé" not in _page(response)
    assert AuditLog.select().where(AuditLog.action == "désactivation d'un compte de l'équipe").count() == 1
    # Reactivated, the member signs in again.
    assert _post(admin_client, f"/gestion/equipe/{member.id}/reactiver").status_code == 302
    assert Auth(other).login(member.email).headers["Location"] == "/gestion/"


def test_an_admin_cannot_deactivate_or_demote_themself(admin_client, demo):
    me = demo["users"]["admin"]
    User.create(email="admin2@example.fr", role="admin", activated=True, password_hash="x", first_name="Deux")
    _post(admin_client, f"/gestion/equipe/{me.id}/desactiver")
    assert "Vous ne pouvez pas désactiver votre propre compte" in _page(admin_client.get("/gestion/equipe"))
    response = _post(admin_client, f"/gestion/equipe/{me.id}",
                     {"first_name": "Yann", "last_name": "Kerleroux", "role": "agent"})
    assert response.status_code == 400
    assert "Vous ne pouvez pas retirer le rôle d&#39;administrateur à votre propre compte" in _page(response)
    me = User.get_by_id(me.id)
    assert me.role == "admin" and me.deactivated_at is None


def test_the_last_active_admin_stays_one(admin_client, demo):
    other = User.create(email="admin2@example.fr", role="admin", activated=True, password_hash="x",
                        first_name="Deux", last_name="Admin")
    me = demo["users"]["admin"]
    # Two admins: the other one may be demoted ...
    assert _post(admin_client, f"/gestion/equipe/{other.id}",
                 {"first_name": "Deux", "last_name": "Admin", "role": "agent"}).status_code == 302
    # ... then the signed-in admin is the last one; seen from a second admin being deactivated:
    third = User.create(email="admin3@example.fr", role="admin", activated=True, password_hash="x",
                        first_name="Trois", last_name="Admin")
    User.update(deactivated_at=User.created_at).where(User.id == me.id).execute()  # only `third` is active
    from services.accounts import team
    from services.core.errors import DomainError
    with pytest.raises(team.LastAdministrator, match="dernier administrateur actif"):
        team.deactivate(User.get_by_id(other.id), third.id)
    with pytest.raises(DomainError, match="dernier administrateur actif"):
        team.update_member(User.get_by_id(other.id), third.id, "Trois", "Admin", "agent")
    third = User.get_by_id(third.id)
    assert third.role == "admin" and third.deactivated_at is None
