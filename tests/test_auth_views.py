"""View tests of the foundation pages: sign-in, sign-up, code, reset, access codes, staff invitation."""
import html
import re

import pytest

from models import Household, User
from tests.conftest import last_code_for, link_in_last_mail, outbox_messages, post_form

GOOD = "Bonjour-Portail-2026!"


def test_login_page_labels(client, demo):
    page = html.unescape(client.get("/connexion").get_data(as_text=True))
    for label in ("Adresse e-mail", "Mot de passe", "Se souvenir de moi", "Se connecter", "Mot de passe oublié ?"):
        assert label in page


def test_login_and_logout(client, auth, demo):
    response = auth.login()
    assert response.headers["Location"] == "/mon-espace"
    assert "Bonjour Claire" in html.unescape(client.get("/mon-espace").get_data(as_text=True))
    response = auth.logout()
    assert response.status_code == 302
    assert client.get("/mon-espace").status_code == 302


def test_staff_login_goes_to_gestion(client, auth, demo):
    assert auth.login("agent@example.fr").headers["Location"] == "/gestion/"
    assert client.get("/gestion/").status_code == 200
    assert client.get("/mon-espace").headers["Location"] == "/gestion/"


def test_parent_cannot_open_gestion(client, auth, demo):
    auth.login()
    assert client.get("/gestion/").status_code == 404
    assert client.get("/gestion/comptes/nouveau").status_code == 404


@pytest.mark.parametrize("data, message", [
    ({"email": "", "password": ""}, "Saisissez votre adresse e-mail."),
    ({"email": "famille.martin@example.fr", "password": "faux"}, "Adresse e-mail ou mot de passe incorrect."),
    ({"email": "inconnu@example.fr", "password": "faux"}, "Adresse e-mail ou mot de passe incorrect."),
])
def test_login_errors(client, demo, data, message):
    response = post_form(client, "/connexion", data)
    assert response.status_code == 400
    assert message in html.unescape(response.get_data(as_text=True))


def test_login_next_must_be_local(client, demo):
    response = post_form(client, "/connexion?next=https://evil.example/", {
        "email": "famille.martin@example.fr", "password": "Demo-Portail-2026!"})
    assert response.headers["Location"] == "/mon-espace"


def test_missing_csrf_token_is_a_400_page(client, demo):
    response = client.post("/connexion", data={"email": "famille.martin@example.fr", "password": "Demo-Portail-2026!"})
    assert response.status_code == 400
    assert "jeton de sécurité manquant" in html.unescape(response.get_data(as_text=True))


def test_signup_code_flow(client, demo):
    page = html.unescape(client.get("/creer-mon-compte").get_data(as_text=True))
    assert "Générer un mot de passe" in page and "Suggestion" in page
    response = post_form(client, "/creer-mon-compte", {"email": "nouveau@example.fr", "password": GOOD},
                         token_page="/creer-mon-compte")
    assert response.headers["Location"] == "/creer-mon-compte/confirmation"
    assert "nouveau@example.fr" in html.unescape(client.get("/creer-mon-compte/confirmation").get_data(as_text=True))
    wrong = post_form(client, "/creer-mon-compte/confirmation", {"code": "12a4"}, token_page="/creer-mon-compte/confirmation")
    assert wrong.status_code == 400 and "Code incorrect" in html.unescape(wrong.get_data(as_text=True))
    response = post_form(client, "/creer-mon-compte/confirmation", {"code": last_code_for("nouveau@example.fr")},
                         token_page="/creer-mon-compte/confirmation")
    assert response.headers["Location"] == "/mon-espace"
    assert "Votre compte est activé" in html.unescape(client.get("/mon-espace").get_data(as_text=True))
    assert User.get(User.email == "nouveau@example.fr").activated


@pytest.mark.parametrize("data, message", [
    ({"email": "", "password": GOOD}, "Saisissez votre adresse e-mail."),
    ({"email": "pas-une-adresse", "password": GOOD}, "Adresse e-mail invalide"),
    ({"email": "ok@example.fr", "password": "court"}, "au moins 12 caractères"),
])
def test_signup_errors_save_nothing(client, demo, data, message):
    users_before = User.select().count()
    response = post_form(client, "/creer-mon-compte", data, token_page="/creer-mon-compte")
    assert response.status_code == 400
    assert message in html.unescape(response.get_data(as_text=True))
    assert User.select().count() == users_before


def test_suggest_password_htmx_fragment(client, demo):
    response = client.get("/creer-mon-compte/mot-de-passe-suggere", headers={"HX-Request": "true"})
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and "<html" not in text and 'id="suggestion"' in text
    assert "HX-Request" in response.headers["Vary"]


def test_confirmation_without_signup_redirects(client, demo):
    assert client.get("/creer-mon-compte/confirmation").headers["Location"] == "/creer-mon-compte"


def test_forgot_password_never_reveals_accounts(client, demo):
    known = post_form(client, "/mot-de-passe-oublie", {"email": "famille.martin@example.fr"}, follow_redirects=True)
    unknown = post_form(client, "/mot-de-passe-oublie", {"email": "personne@example.fr"}, follow_redirects=True)
    assert "Si un compte existe avec cette adresse" in html.unescape(known.get_data(as_text=True))
    assert "Si un compte existe avec cette adresse" in html.unescape(unknown.get_data(as_text=True))
    assert [m["to"] for m in outbox_messages()] == ["famille.martin@example.fr"]


def test_reset_link_single_use(client, demo):
    post_form(client, "/mot-de-passe-oublie", {"email": "famille.martin@example.fr"})
    link = link_in_last_mail("famille.martin@example.fr")
    path = re.sub(r"^https?://[^/]+", "", link)
    assert client.get(path).status_code == 200
    mismatch = post_form(client, path, {"password": "Nouveau-Mot-2026!", "confirm": "Autre"}, token_page=path)
    assert "ne sont pas identiques" in html.unescape(mismatch.get_data(as_text=True))
    done = post_form(client, path, {"password": "Nouveau-Mot-2026!", "confirm": "Nouveau-Mot-2026!"}, token_page=path)
    assert done.headers["Location"] == "/connexion"
    replay = client.get(path)
    assert replay.status_code == 400 and "n'est plus valable" in html.unescape(replay.get_data(as_text=True))
    post = post_form(client, path, {"password": "Encore-Autre-2026!", "confirm": "Encore-Autre-2026!"})
    assert post.status_code == 400
    post_form(client, "/connexion", {"email": "famille.martin@example.fr", "password": "Nouveau-Mot-2026!"})
    assert client.get("/mon-espace").status_code == 200


def test_unknown_token_is_400_not_500(client, demo):
    assert client.get("/mot-de-passe/nimportequoi").status_code == 400
    assert client.get("/activer-mon-compte/nimportequoi").status_code == 400


def test_access_codes_change_password(client, auth, demo):
    auth.login()
    page = "/mon-compte/codes-acces"
    assert "famille.martin@example.fr" in html.unescape(client.get(page).get_data(as_text=True))
    wrong = post_form(client, page, {"pwd-current_password": "faux", "pwd-password": "Nouveau-Mot-2026!",
                                     "pwd-confirm": "Nouveau-Mot-2026!", "pwd-submit": "1"}, token_page=page)
    assert wrong.status_code == 400 and "Mot de passe actuel incorrect." in html.unescape(wrong.get_data(as_text=True))
    ok = post_form(client, page, {"pwd-current_password": "Demo-Portail-2026!", "pwd-password": "Nouveau-Mot-2026!",
                                  "pwd-confirm": "Nouveau-Mot-2026!", "pwd-submit": "1"}, token_page=page)
    assert ok.status_code == 302
    assert outbox_messages()[0]["subject"] == "Votre mot de passe a été modifié"


def test_access_codes_change_email_notifies_old_address(client, auth, demo):
    auth.login()
    page = "/mon-compte/codes-acces"
    ok = post_form(client, page, {"email-email": "claire@example.fr", "email-current_password": "Demo-Portail-2026!",
                                  "email-submit": "1"}, token_page=page)
    assert ok.status_code == 302
    assert outbox_messages()[0]["to"] == "famille.martin@example.fr"
    assert User.get_by_id(demo["users"]["martin"].id).email == "claire@example.fr"
    bad = post_form(client, page, {"email-email": "pas-une-adresse", "email-current_password": "Demo-Portail-2026!",
                                   "email-submit": "1"}, token_page=page)
    assert bad.status_code == 400 and "Adresse e-mail invalide" in html.unescape(bad.get_data(as_text=True))


def test_access_codes_requires_login(client, demo):
    assert client.get("/mon-compte/codes-acces").headers["Location"].startswith("/connexion")


def test_staff_creates_parent_account(client, auth, demo):
    auth.login("agent@example.fr")
    page = "/gestion/comptes/nouveau"
    martin = demo["households"]["martin"]
    response = post_form(client, page, {"first_name": "Paul", "last_name": "Martin", "email": "paul.martin@example.fr",
                                        "household": martin.id}, token_page=page)
    assert response.status_code == 302
    user = User.get(User.email == "paul.martin@example.fr")
    assert user.household_id == martin.id and not user.activated
    link = link_in_last_mail("paul.martin@example.fr")
    path = re.sub(r"^https?://[^/]+", "", link)
    client2 = client.application.test_client()
    page_text = html.unescape(client2.get(path).get_data(as_text=True))
    assert "Définir un nouveau mot de passe" in page_text
    post_form(client2, path, {"password": "Paul-Martin-2026!", "confirm": "Paul-Martin-2026!"}, token_page=path)
    post_form(client2, "/connexion", {"email": "paul.martin@example.fr", "password": "Paul-Martin-2026!"})
    assert "Léa" in html.unescape(client2.get("/mon-espace").get_data(as_text=True))
    duplicate = post_form(client, page, {"first_name": "Paul", "last_name": "Martin",
                                         "email": "paul.martin@example.fr", "household": 0}, token_page=page)
    assert duplicate.status_code == 400 and "existe déjà" in html.unescape(duplicate.get_data(as_text=True))
    assert Household.select().count() == 3  # Martin, Dupont and Bernard (waiting for validation): none added


def test_outbox_is_development_only(app, client, demo):
    assert client.get("/dev/outbox").status_code == 200
    app.config["PORTAIL_ENV"] = "production"
    assert client.get("/dev/outbox").status_code == 404


def test_htmx_redirect_becomes_hx_redirect(client, demo):
    response = client.get("/mon-espace", headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.headers["HX-Redirect"].startswith("/connexion")


def test_security_headers(client, demo):
    response = client.get("/")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # development runs on plain HTTP


def test_hsts_in_production(demo, app):
    from app import create_app
    production = create_app({**app.config, "PORTAIL_ENV": "production", "PORTAIL_NOW": "", "SECRET_KEY": "x" * 32})
    response = production.test_client().get("/", base_url="https://portail.test")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_csrf_header_on_body(client, demo):
    assert 'hx-headers=\'{"X-CSRFToken": "' in html.unescape(client.get("/").get_data(as_text=True))


def test_french_dates_and_money():
    import datetime as dt

    from services.core import formatting
    assert formatting.date_long(dt.date(2026, 11, 23)) == "lundi 23 novembre 2026"
    assert formatting.money(290) == "2,90\xa0€"
    assert formatting.datetime_medium(dt.datetime(2026, 11, 26, 18, 0)) == "jeudi 26 novembre à 18 h"
    assert formatting.parse_money("2,90 €") == 290 and formatting.parse_money("3") == 300
