"""Accounts and sessions against an attacker (issue 10): takeover before activation, throttled codes,
sessions that end everywhere, no account enumeration, no open redirect."""
from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from models import EmailCode, Household, ThrottleEvent, User
from services.accounts import throttle, users
from services.demo import DEMO_PASSWORD
from tests.conftest import Auth, link_in_last_mail, outbox_messages, post_form

GOOD = "Pirate-Portail-2026!"


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _without_tokens(page: str) -> str:
    return re.sub(r'(csrf_token" type="hidden" value=|name="csrf_token" value=|"X-CSRFToken": )"[^"]+"', "TOKEN", page)


def _signup(client, email: str, password: str = GOOD, ip: str = "198.51.100.9"):
    return post_form(client, "/creer-mon-compte", {"email": email, "password": password},
                     token_page="/creer-mon-compte", environ_base={"REMOTE_ADDR": ip})


def _code(client, code: str, ip: str = "198.51.100.9"):
    return post_form(client, "/creer-mon-compte/confirmation", {"code": code},
                     token_page="/creer-mon-compte/confirmation", environ_base={"REMOTE_ADDR": ip})


@pytest.fixture
def invited(client, demo):
    """The agent invites conjoint.dupont@example.fr into the Dupont household; the link is not used yet."""
    agent = Auth(client)
    agent.login("agent@example.fr")
    page = "/gestion/comptes/nouveau"
    response = post_form(client, page, {"first_name": "Karim", "last_name": "Dupont", "household":
                                        demo["households"]["dupont"].id, "email": "conjoint.dupont@example.fr"},
                         token_page=page)
    assert response.status_code == 302
    agent.logout()
    return User.get(User.email == "conjoint.dupont@example.fr")


def test_signup_never_takes_over_an_invited_account(app, invited, demo):
    attacker = app.test_client()
    response = _signup(attacker, "conjoint.dupont@example.fr")
    assert response.headers["Location"] == "/creer-mon-compte/confirmation"  # what a new sign-up sees
    user = User.get_by_id(invited.id)
    assert user.password_hash is None and user.household_id == demo["households"]["dupont"].id
    assert not EmailCode.select().where(EmailCode.user == user.id).exists()
    for guess in ("0000", "1234", "9999"):
        assert "Code incorrect" in _text(_code(attacker, guess))
    assert "Trop d'essais" in _text(_code(attacker, "4321")) + _text(_code(attacker, "5555"))
    assert not User.get_by_id(invited.id).activated
    assert "Dupont" not in _text(attacker.get("/mon-compte", follow_redirects=True))
    # The owner is told, and the invitation link still works for them.
    subjects = [m["subject"] for m in outbox_messages() if m["to"] == "conjoint.dupont@example.fr"]
    assert "Tentative de création de compte avec votre adresse" in subjects
    assert "/activer-mon-compte/" in link_in_last_mail("conjoint.dupont@example.fr") or any(
        "/activer-mon-compte/" in m["body"] for m in outbox_messages() if m["to"] == "conjoint.dupont@example.fr")


def test_existing_and_new_addresses_get_the_same_answers(app, demo):
    answers = []
    for email in ("famille.martin@example.fr", "personne.nouvelle@example.fr"):
        visitor = app.test_client()
        response = _signup(visitor, email)
        page = _without_tokens(_text(visitor.get("/creer-mon-compte/confirmation")).replace(email, "ADRESSE"))
        wrong = _without_tokens(_text(_code(visitor, "0000")).replace(email, "ADRESSE"))
        answers.append((response.status_code, response.headers["Location"], page, wrong))
    assert answers[0][:2] == answers[1][:2]
    assert answers[0][2] == answers[1][2]
    assert "Code incorrect. Il vous reste 4 essais." in answers[0][3] and "Code incorrect. Il vous reste 4 essais." in answers[1][3]
    assert User.get(User.email == "famille.martin@example.fr").activated


def test_new_codes_are_limited_per_address(app, demo):
    visitor = app.test_client()
    for attempt in range(throttle.SIGNUP_PER_EMAIL.count):
        assert _signup(visitor, "quelqu.un@example.fr", ip=f"198.51.100.{attempt}").status_code == 302
    refused = _signup(visitor, "quelqu.un@example.fr", ip="198.51.100.99")
    assert refused.status_code == 400 and "Trop de demandes de code" in _text(refused)
    codes = [m for m in outbox_messages() if m["to"] == "quelqu.un@example.fr"]
    assert len(codes) == throttle.SIGNUP_PER_EMAIL.count


def test_code_guesses_are_limited_per_client_address(app, demo):
    limit = throttle.CODE_PER_IP.count
    for number in range(limit // 4 + 1):
        visitor = app.test_client()
        _signup(visitor, f"essai{number}@example.fr", ip=f"192.0.2.{number}")
        for guess in range(4):
            if ThrottleEvent.select().where((ThrottleEvent.kind == "code") & (ThrottleEvent.ip == "203.0.113.5")).count() >= limit:
                break
            _code(visitor, f"{guess:04d}", ip="203.0.113.5")
    visitor = app.test_client()
    _signup(visitor, "derniere@example.fr", ip="192.0.2.200")
    code = [m for m in outbox_messages() if m["to"] == "derniere@example.fr"][0]["body"].split("Voici votre code : ")[1][:4]
    refused = _code(visitor, code, ip="203.0.113.5")
    assert "Trop de tentatives depuis votre connexion" in _text(refused)
    assert not User.get(User.email == "derniere@example.fr").activated
    assert _code(visitor, code, ip="192.0.2.200").status_code == 302  # from another address it works
    assert User.get(User.email == "derniere@example.fr").activated


def test_unknown_and_existing_addresses_lock_alike(client, demo, freeze):
    answers = {}
    for email in ("famille.martin@example.fr", "inconnu@example.fr"):
        start = dt.datetime(2026, 11, 19, 10, 0)
        seen = []
        for attempt in range(throttle.LOCK_AFTER + 1):
            freeze(start + dt.timedelta(minutes=attempt))  # past every wait: only the count matters
            try:
                users.authenticate(email, "mauvais")
            except Exception as refusal:  # noqa: BLE001 - the refusals are compared below
                seen.append((type(refusal).__name__, refusal.message))
        answers[email] = seen
    assert answers["famille.martin@example.fr"] == answers["inconnu@example.fr"]
    assert answers["inconnu@example.fr"][9] == ("AccountLocked", "Compte verrouillé pendant 15 minutes après trop d'échecs.")
    assert answers["inconnu@example.fr"][10][0] == "AccountLocked"


def test_a_locked_account_opens_through_the_reset_link(client, demo, freeze):
    freeze("2026-11-19T10:00")
    for _ in range(throttle.LOCK_AFTER):
        with pytest.raises(Exception):
            users.authenticate("famille.martin@example.fr", "mauvais")
    tokens = []
    users.request_password_reset("famille.martin@example.fr", tokens.append)
    users.set_password_with_token(tokens[0], "reset", "Nouveau-Portail-2026!", "Nouveau-Portail-2026!")
    assert users.authenticate("famille.martin@example.fr", "Nouveau-Portail-2026!").email == "famille.martin@example.fr"


def test_reset_answers_the_same_and_is_limited(client, demo):
    pages = []
    for email in ("famille.martin@example.fr", "inconnu@example.fr"):
        response = post_form(client, "/mot-de-passe-oublie", {"email": email}, token_page="/mot-de-passe-oublie",
                             follow_redirects=True)
        pages.append((response.status_code, "Si un compte existe avec cette adresse" in _text(response)))
    assert pages == [(200, True), (200, True)]
    for _ in range(5):
        post_form(client, "/mot-de-passe-oublie", {"email": "famille.martin@example.fr"}, token_page="/mot-de-passe-oublie")
    resets = [m for m in outbox_messages() if m["to"] == "famille.martin@example.fr"
              and m["subject"] == "Réinitialisation de votre mot de passe"]
    assert len(resets) == throttle.RESET_PER_EMAIL.count


def _cookie(client) -> str:
    return client.get_cookie("session", domain="portail.test").value


def test_a_copied_session_cookie_dies_at_sign_out(app, client, demo):
    Auth(client).login()
    copy = app.test_client()
    copy.set_cookie("session", _cookie(client), domain="portail.test")
    assert copy.get("/mon-espace").status_code == 200
    Auth(client).logout()
    assert copy.get("/mon-espace").status_code == 302  # sent to sign in


def test_sign_out_by_get_shows_a_button_and_keeps_the_session(client, demo):
    Auth(client).login()
    page = client.get("/deconnexion")
    assert page.status_code == 200 and "Se déconnecter" in _text(page)
    assert client.get("/mon-espace").status_code == 200


def test_password_change_ends_other_sessions_and_remember_me(app, client, demo):
    other = app.test_client()
    post_form(other, "/connexion", {"email": "famille.martin@example.fr", "password": DEMO_PASSWORD, "remember": "y"})
    remember = other.get_cookie("remember_token", domain="portail.test").value
    Auth(client).login()
    response = post_form(client, "/mon-compte/codes-acces", {
        "pwd-current_password": DEMO_PASSWORD, "pwd-password": "Changement-Portail-2026!",
        "pwd-confirm": "Changement-Portail-2026!", "pwd-submit": "1"}, token_page="/mon-compte/codes-acces")
    assert response.status_code == 302
    assert client.get("/mon-espace").status_code == 200  # this session goes on
    assert other.get("/mon-espace").status_code == 302
    thief = app.test_client()
    thief.set_cookie("remember_token", remember, domain="portail.test")
    assert thief.get("/mon-espace").status_code == 302


def test_closure_by_the_mairie_ends_the_family_sessions(app, client, demo):
    from services.family import household_review
    Auth(client).login()
    martin = Household.get_by_id(demo["households"]["martin"].id)
    martin.status = "closing_requested"
    martin.save()
    household_review.decide_closures(User.get(User.email == "agent@example.fr"), [martin.id], True)
    assert client.get("/mon-espace").status_code == 302
    assert client.get("/mon-compte/enfants").status_code in (302, 404)


def test_session_is_new_at_sign_in(app, client, demo):
    _signup(client, "avant@example.fr")
    with client.session_transaction() as session:
        assert session.get("signup_email") == "avant@example.fr"
    Auth(client).login()
    with client.session_transaction() as session:
        assert "signup_email" not in session


@pytest.mark.parametrize("target", ["/%09/evil.example/", "/\t/evil.example/", "//evil.example/", "https://evil.example/",
                                    "/%0a/x", "/\r\nLocation: https://evil.example/", "javascript:alert(1)", "/\\evil.example"])
def test_next_only_leads_to_this_site(client, demo, target):
    response = post_form(client, "/connexion?next=" + target.replace("\t", "%09").replace("\r", "%0d").replace("\n", "%0a"),
                         {"email": "famille.martin@example.fr", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/mon-espace"


def test_next_inside_the_site_is_kept(client, demo):
    response = post_form(client, "/connexion?next=/factures", {"email": "famille.martin@example.fr",
                                                              "password": DEMO_PASSWORD})
    assert response.headers["Location"] == "/factures"
