"""Two-factor sign-in through the pages: /gestion/securite (enable, codes shown once, renew, disable),
the second step /connexion/code (nobody signed in before it), the commune's rule for administrators,
the team page's reset."""
from __future__ import annotations

import html
import re
from urllib.parse import unquote

import pyotp
import pytest

from models import AuditLog, Commune, RecoveryCode, User
from services.accounts import two_factor
from services.core import clock
from services.demo import DEMO_PASSWORD
from tests.conftest import Auth, outbox_messages, post_form

AGENT = "agent@example.fr"
ADMIN = "admin@example.fr"


def code_now(secret: str) -> str:
    return pyotp.TOTP(secret).at(clock.now())


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def enable_through_the_page(client) -> tuple[str, list[str]]:
    """Signed-in staff enable it on /gestion/securite; the secret read on the page and the codes shown."""
    post_form(client, "/gestion/securite/activer", token_page="/gestion/securite")
    page = text(client.get("/gestion/securite"))
    secret = re.search(r'id="cle-secrete">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    response = post_form(client, "/gestion/securite/confirmer", {"activer-code": code_now(secret)},
                         token_page="/gestion/securite")
    assert response.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9-]{11})</code></li>", text(response))
    return secret, codes


def sign_in(client, email: str, password: str = DEMO_PASSWORD, url: str = "/connexion", **extra):
    return post_form(client, url, {"email": email, "password": password, **extra})


def test_enable_page_shows_qr_secret_and_codes_once(client, auth, demo):
    auth.login(AGENT)
    page = text(client.get("/gestion/securite"))
    assert "Double authentification non activée" in page and ">Sécurité</a>" in page
    post_form(client, "/gestion/securite/activer", token_page="/gestion/securite")
    page = text(client.get("/gestion/securite"))
    assert "<svg" in page and "<title>QR code à scanner" in page  # inline: no request elsewhere
    assert "Code à 6 chiffres de l'application d'authentification" in page
    secret, codes = enable_through_the_page(client)
    assert len(codes) == 10
    agent = User.get(User.email == AGENT)
    assert two_factor.is_enabled(agent) and secret not in agent.totp_secret
    response = client.get("/gestion/securite")
    page = text(response)
    assert "Double authentification activée" in page and "restants : <strong>10</strong> sur 10" in page
    assert not any(code in page for code in codes)  # never shown again
    assert "Double authentification activée" in [m["subject"] for m in outbox_messages()]


def test_codes_download_as_text(client, auth, demo):
    auth.login(AGENT)
    post_form(client, "/gestion/securite/activer", token_page="/gestion/securite")
    page = text(client.get("/gestion/securite"))
    secret = re.search(r'id="cle-secrete">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    response = post_form(client, "/gestion/securite/confirmer", {"activer-code": code_now(secret)},
                         token_page="/gestion/securite")
    link = re.search(r'href="(data:text/plain[^"]+)" download="([^"]+)"', response.get_data(as_text=True))
    assert link.group(2) == "codes-de-secours-portail-famille.txt"
    content = unquote(html.unescape(link.group(1)).split(",", 1)[1])
    assert AGENT in content and len(re.findall(r"^[a-z0-9]{5}-[a-z0-9]{5}$", content, re.M)) == 10


def test_wrong_first_code_is_refused_in_french(client, auth, demo):
    auth.login(AGENT)
    post_form(client, "/gestion/securite/activer", token_page="/gestion/securite")
    response = post_form(client, "/gestion/securite/confirmer", {"activer-code": "12"}, token_page="/gestion/securite")
    assert response.status_code == 400 and "Code incorrect" in text(response)
    assert not two_factor.is_enabled(User.get(User.email == AGENT))


def test_sign_in_needs_the_code_before_any_session(app, client, auth, demo, freeze):
    auth.login(AGENT)
    secret, codes = enable_through_the_page(client)
    auth.logout()
    freeze("2026-11-29T11:01")
    response = sign_in(client, AGENT, url="/connexion?next=/gestion/effectifs", remember="y")
    assert response.headers["Location"] == "/connexion/code"
    # Nobody is signed in between the two steps.
    assert client.get("/gestion/").headers["Location"].startswith("/connexion")
    assert client.get("/gestion/securite").status_code == 302
    page = text(client.get("/connexion/code"))
    assert "Code de l'application d'authentification" in page
    wrong = post_form(client, "/connexion/code", {"code": "000000"}, token_page="/connexion/code")
    assert wrong.status_code == 400 and "Code incorrect" in text(wrong)
    assert client.get("/gestion/").status_code == 302
    response = post_form(client, "/connexion/code", {"code": code_now(secret)}, token_page="/connexion/code")
    assert response.headers["Location"] == "/gestion/effectifs"  # next= kept through the second step
    assert client.get("/gestion/").status_code == 200
    # « Se souvenir de moi » kept too: the remember-me cookie alone opens /gestion in a new browser.
    remember = client.get_cookie("remember_token", domain="portail.test").value
    later = app.test_client()
    later.set_cookie("remember_token", remember, domain="portail.test")
    assert later.get("/gestion/").status_code == 200
    assert User.get(User.email == AGENT).last_login_at == clock.local_now()
    assert AuditLog.select().where(AuditLog.action == "code de double authentification refusé").count() == 1


def test_recovery_code_signs_in_once(client, auth, demo):
    auth.login(AGENT)
    _, codes = enable_through_the_page(client)
    auth.logout()
    sign_in(client, AGENT)
    response = post_form(client, "/connexion/code", {"code": codes[0]}, token_page="/connexion/code")
    assert response.headers["Location"] == "/gestion/"
    assert "Un code de secours a servi à vous connecter" in [m["subject"] for m in outbox_messages()]
    auth.logout()
    sign_in(client, AGENT)
    again = post_form(client, "/connexion/code", {"code": codes[0]}, token_page="/connexion/code")
    assert again.status_code == 400 and client.get("/gestion/").status_code == 302


def test_pending_sign_in_expires_after_five_minutes(client, auth, demo, freeze):
    auth.login(AGENT)
    secret, _ = enable_through_the_page(client)
    auth.logout()
    sign_in(client, AGENT)
    freeze("2026-11-29T11:05:01")
    response = post_form(client, "/connexion/code", {"code": code_now(secret)}, token_page="/connexion")
    assert response.headers["Location"] == "/connexion"
    assert "expiré" in text(client.get("/connexion")) and client.get("/gestion/").status_code == 302


def test_second_step_without_a_password_goes_back_to_sign_in(client, demo):
    assert client.get("/connexion/code").headers["Location"] == "/connexion"
    assert post_form(client, "/connexion/code", {"code": "123456"}).headers["Location"] == "/connexion"


def test_accounts_without_it_sign_in_as_before(client, auth, demo):
    assert auth.login(AGENT).headers["Location"] == "/gestion/"
    auth.logout()
    assert auth.login().headers["Location"] == "/mon-espace"


def test_admin_is_sent_to_security_until_enrolled_when_required(client, auth, demo, freeze):
    Commune.update(admin_two_factor_required=True).execute()
    auth.login(ADMIN)  # signed in with the password alone
    for url in ("/gestion/", "/gestion/equipe", "/gestion/parametres"):
        assert client.get(url).headers["Location"] == "/gestion/securite", url
    page = text(client.get("/gestion/securite"))
    assert "obligatoire pour les administrateurs" in page
    assert post_form(client, "/gestion/equipe/1/desactiver", token_page="/gestion/securite").headers[
        "Location"] == "/gestion/securite"
    secret, _ = enable_through_the_page(client)
    assert client.get("/gestion/equipe").status_code == 200
    # Disabling is refused while required (the form is not even offered).
    page = text(client.get("/gestion/securite"))
    assert "Impossible tant que la commune" in page
    freeze("2026-11-29T11:01")
    response = post_form(client, "/gestion/securite/desactiver", {"off-password": DEMO_PASSWORD,
                                                                 "off-code": code_now(secret)},
                         token_page="/gestion/securite")
    assert response.headers["Location"] == "/gestion/securite"
    assert "ne peut pas être désactivée" in text(client.get("/gestion/securite"))
    assert two_factor.is_enabled(User.get(User.email == ADMIN))


def test_other_staff_are_not_forced(client, auth, demo):
    Commune.update(admin_two_factor_required=True).execute()
    auth.login(AGENT)
    assert client.get("/gestion/").status_code == 200


def test_commune_setting_on_parametres(client, auth, demo):
    auth.login(ADMIN)
    page = text(client.get("/gestion/parametres"))
    assert "Double authentification obligatoire pour les administrateurs" in page
    form = {name: value for name, value in re.findall(r'name="([a-z_]+)"[^>]*value="([^"]*)"', page)}
    form.update({"admin_two_factor_required": "y", "presentation": "", "legal_notice": "",
                 "accessibility_statement": ""})
    form.pop("reminders_enabled", None)
    response = post_form(client, "/gestion/parametres", form, token_page="/gestion/parametres")
    assert response.status_code == 302, text(response)[:3000]
    assert Commune.get_current().admin_two_factor_required
    assert client.get("/gestion/").headers["Location"] == "/gestion/securite"


def test_disable_renew_through_the_page(client, auth, demo, freeze):
    auth.login(AGENT)
    secret, codes = enable_through_the_page(client)
    freeze("2026-11-29T11:01")
    response = post_form(client, "/gestion/securite/codes-de-secours", {"secours-code": code_now(secret)},
                         token_page="/gestion/securite")
    new = re.findall(r"<li><code>([a-z0-9-]{11})</code></li>", text(response))
    assert response.status_code == 200 and len(new) == 10 and set(new).isdisjoint(codes)
    bad = post_form(client, "/gestion/securite/desactiver", {"off-password": "faux", "off-code": new[0]},
                    token_page="/gestion/securite")
    assert bad.status_code == 400 and "Mot de passe incorrect" in text(bad)
    response = post_form(client, "/gestion/securite/desactiver", {"off-password": DEMO_PASSWORD, "off-code": new[0]},
                         token_page="/gestion/securite")
    assert response.headers["Location"] == "/gestion/securite"
    assert not two_factor.is_enabled(User.get(User.email == AGENT))
    assert RecoveryCode.select().count() == 0


@pytest.mark.parametrize("code", ["", "x" * 500, "１２３４５６", "<script>", "0" * 6])
def test_hostile_codes_change_nothing(client, auth, demo, code):
    auth.login(AGENT)
    enable_through_the_page(client)
    auth.logout()
    sign_in(client, AGENT)
    response = post_form(client, "/connexion/code", {"code": code}, token_page="/connexion/code")
    assert response.status_code == 400
    assert client.get("/gestion/").status_code == 302


def test_team_page_shows_and_resets_two_factor(app, demo):
    agent_client, admin_client = app.test_client(), app.test_client()
    Auth(agent_client).login(AGENT)
    enable_through_the_page(agent_client)
    Auth(admin_client).login(ADMIN)
    agent = User.get(User.email == AGENT)
    row = text(admin_client.get("/gestion/equipe")).split(f'id="membre-{agent.id}"')[1].split("</tr>")[0]
    assert "Activée" in row and "Réinitialiser la double authentification" in row
    response = post_form(admin_client, f"/gestion/equipe/{agent.id}/reinitialiser-double-authentification",
                         token_page="/gestion/equipe")
    assert response.headers["Location"] == "/gestion/equipe"
    assert "réinitialisée" in text(admin_client.get("/gestion/equipe"))
    assert not two_factor.is_enabled(User.get_by_id(agent.id))
    assert agent_client.get("/gestion/").status_code == 302  # the colleague's sessions ended
    assert Auth(agent_client).login(AGENT).headers["Location"] == "/gestion/"  # the password alone again
    assert AuditLog.get(AuditLog.action == "double authentification réinitialisée").user_id == User.get(
        User.email == ADMIN).id
