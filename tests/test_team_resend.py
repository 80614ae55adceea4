"""« Renvoyer l'invitation » on /gestion/equipe: a member who has not set their password gets a new
link, the old one stops working; audited; at most one every 10 minutes; nothing for an active member."""
from __future__ import annotations

import html
import re

from models import AuditLog, User
from tests.conftest import Auth, link_in_last_mail, outbox_messages, post_form


def _invite(client) -> User:
    post_form(client, "/gestion/equipe/nouveau", {"email": "nouvel.agent@example.fr", "first_name": "Maël",
                                                   "last_name": "Tanguy", "role": "agent"}, token_page="/gestion/")
    return User.get(User.email == "nouvel.agent@example.fr")


def _path(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


def test_resend_voids_the_old_link_and_is_throttled(demo, client, auth, freeze):
    freeze("2026-11-02T09:00")
    auth.login("admin@example.fr")
    member = _invite(client)
    first = _path(link_in_last_mail(member.email))
    page = html.unescape(client.get("/gestion/equipe").get_data(as_text=True))
    row = page.split(f'id="membre-{member.id}"')[1].split("</tr>")[0]
    assert "Renvoyer l'invitation" in row and "à Maël Tanguy" in row
    active_row = page.split(f'id="membre-{demo["users"]["agent"].id}"')[1].split("</tr>")[0]
    assert "Renvoyer l'invitation" not in active_row
    url = f"/gestion/equipe/{member.id}/renvoyer-invitation"
    # Too soon after the invitation: refused, no mail.
    sent = len(outbox_messages())
    response = post_form(client, url, token_page="/gestion/")
    page = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Une invitation vient d'être envoyée" in page and len(outbox_messages()) == sent
    freeze("2026-11-02T09:11")
    response = post_form(client, url, token_page="/gestion/")
    page = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Nouvelle invitation envoyée à Maël Tanguy" in page
    second = _path(link_in_last_mail(member.email))
    assert second != first
    assert AuditLog.select().where(AuditLog.action == "invitation renvoyée à un membre de l'équipe").count() == 1
    Auth(client).logout()
    assert "plus valable" in html.unescape(client.get(first).get_data(as_text=True))  # voided
    assert "plus valable" not in html.unescape(client.get(second).get_data(as_text=True))


def test_no_resend_for_an_active_member_or_a_parent(demo, client, auth):
    auth.login("admin@example.fr")
    agent = demo["users"]["agent"]
    response = post_form(client, f"/gestion/equipe/{agent.id}/renvoyer-invitation", token_page="/gestion/")
    page = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "aucune invitation à renvoyer" in page
    assert not [m for m in outbox_messages() if m["to"] == agent.email]
    parent = User.get(User.email == "famille.martin@example.fr")
    assert post_form(client, f"/gestion/equipe/{parent.id}/renvoyer-invitation",
                     token_page="/gestion/").status_code == 404
    auth.logout()
    auth.login("agent@example.fr")
    assert post_form(client, f"/gestion/equipe/{agent.id}/renvoyer-invitation",
                     token_page="/gestion/").status_code == 403
