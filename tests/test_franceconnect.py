"""Sign-in with FranceConnect against the local OpenID Connect provider (tests/oidc_provider.py): the whole
redirect dance with the test client (portal → provider with `requests` → portal with the code), the three
outcomes (linked, same e-mail to link by password, new account), the refusals, the logout and the unlink."""
from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from models import AuditLog, FranceConnectLink, Household, User
from services.accounts import franceconnect as fc
from services.accounts import franceconnect_accounts as accounts
from services.core.errors import InvalidInput
from services.demo import DEMO_PASSWORD
from tests import oidc_provider
from tests.conftest import outbox_messages, post_form


@pytest.fixture(scope="module")
def provider():
    started = oidc_provider.Provider().start()
    yield started
    started.stop()


@pytest.fixture
def fc_env(provider, monkeypatch):
    provider.reset()
    for key, value in provider.settings().items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def app(fc_env, app):
    """The conftest app, built with the provider's settings in the environment."""
    return app


def start(client) -> str:
    """« S'identifier avec FranceConnect »: the provider's authorize URL the portal sends the browser to."""
    response = client.get("/connexion/franceconnect")
    assert response.status_code == 302
    return response.headers["Location"]


def come_back(client, authorize_url: str, tamper_state: bool = False):
    """The provider auto-consents; the browser comes back to the portal with the code."""
    answer = requests.get(authorize_url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert back.path == "/connexion/franceconnect/retour"
    query = back.query
    if tamper_state:
        query = query.replace("state=", "state=x")
    return client.get(f"{back.path}?{query}")


def sign_in_with_fc(client, **options):
    """The whole dance: the button, the provider (auto-consent to provider.next_identity), the return."""
    return come_back(client, start(client), **options)


def errors_on_login(client) -> str:
    return unescape(client.get("/connexion").get_data(as_text=True))


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


# --- The button -----------------------------------------------------------------------------


def test_the_button_shows_when_configured_and_the_request_carries_state_and_nonce(client, provider):
    page = text(client.get("/connexion"))
    assert "S'identifier avec" in page and "FranceConnect" in page and "Qu'est-ce que FranceConnect ?" in page
    query = parse_qs(urlsplit(start(client)).query)
    assert query["client_id"] == [oidc_provider.CLIENT_ID]
    assert query["response_type"] == ["code"] and query["acr_values"] == ["eidas1"]
    assert query["scope"] == [fc.DEFAULT_SCOPES]
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    assert query["redirect_uri"] == ["http://portail.test/connexion/franceconnect/retour"]


def test_no_button_without_settings(app, client):
    app.config["FRANCECONNECT_CLIENT_ID"] = ""
    assert "FranceConnect" not in client.get("/connexion").get_data(as_text=True)
    response = client.get("/connexion/franceconnect")
    assert response.status_code == 302 and response.headers["Location"].endswith("/connexion")
    assert "n'est pas proposée" in errors_on_login(client)


# --- Outcome 3: a new account ----------------------------------------------------------------


def test_new_identity_creates_a_parent_account_and_prefills_the_wizard(client, demo, provider):
    response = sign_in_with_fc(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/mon-dossier/responsables")
    user = User.get(User.email == "camille.leroy@example.fr")
    assert user.role == "parent" and user.activated and user.password_hash is None
    assert user.household.status == "draft"
    link = FranceConnectLink.get(FranceConnectLink.user == user)
    assert link.sub == "fc-sub-nouveau-parent" and link.created_account
    assert link.birthdate.isoformat() == "1988-04-12" and link.gender == "female"
    assert AuditLog.select().where((AuditLog.user == user) & (AuditLog.action == "création de compte avec FranceConnect")
                                   ).exists()
    page = text(client.get("/mon-dossier/responsables"))
    assert 'value="LEROY"' in page and 'value="Camille Anne"' in page
    assert re.search(r'<option selected value="Madame">|<option value="Madame" selected>', page)
    assert "vos nom, prénoms et civilité sont déjà remplis" in page


def test_logout_ends_the_franceconnect_session_too(client, demo, provider):
    sign_in_with_fc(client)
    response = post_form(client, "/deconnexion", token_page="/")
    assert response.status_code == 302
    end = urlsplit(response.headers["Location"])
    assert f"{end.scheme}://{end.netloc}{end.path}" == provider.url + "/session/end"
    query = parse_qs(end.query)
    assert query["post_logout_redirect_uri"] == ["http://portail.test/deconnexion/franceconnect"]
    assert query["id_token_hint"][0].count(".") == 2 and query["state"]
    back = requests.get(response.headers["Location"], allow_redirects=False, timeout=5)
    assert provider.logouts[-1]["id_token_hint"] == query["id_token_hint"][0]
    landing = client.get(urlsplit(back.headers["Location"]).path, follow_redirects=True)
    assert "Vous êtes déconnecté(e), du portail et de FranceConnect." in text(landing)
    assert client.get("/mon-espace").status_code == 302  # signed out of the portal


# --- Outcome 2: an existing parent with the same e-mail ----------------------------------------


def test_existing_email_is_linked_only_after_its_password(client, demo, provider):
    provider.next_identity = dict(oidc_provider.MARTIN)
    response = sign_in_with_fc(client)
    assert response.headers["Location"].endswith("/connexion/franceconnect/lier")
    page = text(client.get("/connexion/franceconnect/lier"))
    assert "Lier mon compte" in page and "famille.martin@example.fr" in page
    assert client.get("/mon-espace").status_code == 302  # not signed in yet
    wrong = post_form(client, "/connexion/franceconnect/lier", {"password": "Pas-le-bon-2026!"},
                      token_page="/connexion/franceconnect/lier")
    assert wrong.status_code == 400
    assert "Adresse e-mail ou mot de passe incorrect." in text(wrong)
    assert FranceConnectLink.select().count() == 0
    right = post_form(client, "/connexion/franceconnect/lier", {"password": DEMO_PASSWORD},
                      token_page="/connexion/franceconnect/lier")
    assert right.status_code == 302
    martin = User.get(User.email == "famille.martin@example.fr")
    link = FranceConnectLink.get(FranceConnectLink.sub == "fc-sub-claire-martin")
    assert link.user_id == martin.id and not link.created_account
    assert "Votre compte est relié à FranceConnect" in text(client.get(right.headers["Location"]))
    assert AuditLog.select().where(AuditLog.action == "liaison FranceConnect").count() == 1
    assert any(m["subject"] == "FranceConnect est relié à votre compte" for m in outbox_messages())


def test_linked_parent_signs_in_directly(client, demo, provider):
    martin = User.get(User.email == "famille.martin@example.fr")
    FranceConnectLink.create(user=martin, sub="fc-sub-claire-martin")
    provider.next_identity = {**oidc_provider.MARTIN, "email": "autre.adresse@example.fr"}  # the sub decides
    response = sign_in_with_fc(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/mon-espace")
    assert "Martin" in client.get("/mon-espace").get_data(as_text=True)
    assert User.select().where(User.email == "autre.adresse@example.fr").count() == 0
    assert AuditLog.select().where((AuditLog.user == martin) & (AuditLog.action == "connexion avec FranceConnect")
                                   ).exists()
    assert FranceConnectLink.get(FranceConnectLink.user == martin).last_sign_in_at is not None


# --- Refusals ---------------------------------------------------------------------------------


def test_tampered_state_is_refused_in_french(client, demo, provider):
    before = User.select().count()
    response = sign_in_with_fc(client, tamper_state=True)
    assert response.status_code == 302 and response.headers["Location"].endswith("/connexion")
    assert "n'a pas pu être vérifiée" in errors_on_login(client)
    assert User.select().count() == before and FranceConnectLink.select().count() == 0


def test_a_return_without_a_flow_is_refused(client, demo):
    response = client.get("/connexion/franceconnect/retour?code=abc&state=def")
    assert response.status_code == 302
    assert "n'a pas pu être vérifiée" in errors_on_login(client)


def test_user_cancel_says_so(client, demo, provider):
    provider.next_error = "access_denied"
    sign_in_with_fc(client)
    assert "Connexion avec FranceConnect annulée" in errors_on_login(client)


@pytest.mark.parametrize("tamper", [{"nonce": "un-autre-nonce"}, {"nonce": None}, {"aud": "un-autre-client"},
                                    {"aud": "un-autre-client", "azp": oidc_provider.CLIENT_ID},
                                    {"iss": "https://faux.example"}, {"exp": 1_000_000_000}])
def test_id_token_claims_are_checked(client, demo, provider, tamper):
    provider.tamper = tamper
    before = User.select().count()
    sign_in_with_fc(client)
    assert "L'identité transmise par FranceConnect n'a pas pu être vérifiée" in errors_on_login(client)
    assert User.select().count() == before


def test_id_token_signed_by_another_key_is_refused(client, demo, provider):
    provider.rogue_key = oidc_provider.RSAKey.generate_key(2048, parameters={"kid": "cle-test", "use": "sig"})
    sign_in_with_fc(client)
    assert "n'a pas pu être vérifiée" in errors_on_login(client)
    assert not User.select().where(User.email == "camille.leroy@example.fr").exists()


def test_staff_account_is_refused(client, demo, provider):
    provider.next_identity = dict(oidc_provider.AGENT)
    sign_in_with_fc(client)
    assert "FranceConnect est réservé aux familles" in errors_on_login(client)
    assert FranceConnectLink.select().count() == 0
    assert client.get("/mon-espace").status_code == 302  # nobody signed in


# --- Unlink -----------------------------------------------------------------------------------


def test_unlink_needs_the_password(client, auth, demo):
    martin = User.get(User.email == "famille.martin@example.fr")
    FranceConnectLink.create(user=martin, sub="fc-sub-claire-martin")
    auth.login()
    page = text(client.get("/mon-compte/franceconnect"))
    assert "relié à FranceConnect" in page and "Délier FranceConnect" in page
    wrong = post_form(client, "/mon-compte/franceconnect", {"password": "faux"}, token_page="/mon-compte/franceconnect")
    assert wrong.status_code == 400 and "Mot de passe incorrect." in text(wrong)
    assert FranceConnectLink.select().count() == 1
    done = post_form(client, "/mon-compte/franceconnect", {"password": DEMO_PASSWORD},
                     token_page="/mon-compte/franceconnect", follow_redirects=True)
    assert "FranceConnect n'est plus relié à votre compte" in text(done)
    assert FranceConnectLink.select().count() == 0
    assert AuditLog.select().where(AuditLog.action == "FranceConnect délié").count() == 1


def test_account_without_password_must_set_one_before_unlinking(client, demo, provider):
    sign_in_with_fc(client)
    page = text(client.get("/mon-compte/franceconnect"))
    assert "Recevoir un lien pour définir mon mot de passe" in page and "Mot de passe actuel" not in page
    refused = post_form(client, "/mon-compte/franceconnect", {"password": "n'importe"},
                        token_page="/mon-compte/franceconnect")
    assert refused.status_code == 400 and "Définissez d'abord un mot de passe" in text(refused)
    assert FranceConnectLink.select().count() == 1
    post_form(client, "/mon-compte/franceconnect", {"action": "password_link"}, token_page="/mon-compte/franceconnect")
    assert any(m["to"] == "camille.leroy@example.fr" and "mot de passe" in m["subject"].lower()
               for m in outbox_messages())


# --- Rules, without the web --------------------------------------------------------------------


def identity(**values) -> fc.Identity:
    data = {**oidc_provider.NEW_PARENT, **values}
    return fc.Identity.from_dict(data)


def test_unfinished_sign_up_of_the_address_is_taken_over_without_its_password(demo):
    User.create(email="camille.leroy@example.fr", password_hash="quelqu'un d'autre", role="parent")
    outcome = accounts.sign_in(identity())
    assert outcome.kind == accounts.CREATED
    user = User.get(User.email == "camille.leroy@example.fr")
    assert user.password_hash is None and user.activated and user.household is not None
    assert User.select().where(User.email == "camille.leroy@example.fr").count() == 1


def test_invited_account_without_password_is_not_linked(demo):
    household = Household.create(status="validated")
    User.create(email="camille.leroy@example.fr", role="parent", household=household)
    with pytest.raises(fc.FranceConnectError, match="n'a pas encore de mot de passe"):
        accounts.sign_in(identity())
    assert FranceConnectLink.select().count() == 0


def test_an_identity_without_email_is_refused(demo):
    with pytest.raises(fc.FranceConnectError, match="adresse e-mail"):
        accounts.sign_in(identity(email=""))


def test_link_refuses_an_account_already_linked_elsewhere(demo):
    martin = User.get(User.email == "famille.martin@example.fr")
    FranceConnectLink.create(user=martin, sub="un-autre-sub")
    with pytest.raises(fc.FranceConnectError, match="déjà relié"):
        accounts.sign_in(identity(**oidc_provider.MARTIN))


def test_unlink_refuses_without_link(demo):
    martin = User.get(User.email == "famille.martin@example.fr")
    with pytest.raises(InvalidInput):
        accounts.unlink(martin, DEMO_PASSWORD)


def test_closed_household_no_longer_signs_in_with_franceconnect(demo):
    martin = User.get(User.email == "famille.martin@example.fr")
    FranceConnectLink.create(user=martin, sub=oidc_provider.MARTIN["sub"])
    Household.update(status="closed").where(Household.id == martin.household_id).execute()
    with pytest.raises(fc.FranceConnectError, match="fermé"):
        accounts.sign_in(identity(**oidc_provider.MARTIN))
