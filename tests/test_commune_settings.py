"""/gestion/parametres: the commune's own identity on every page and e-mail, checked on entry; a
production portal stays closed to families while it still shows the demo commune."""
import pytest

from models import AuditLog, Commune
from services.core import outbox
from tests.conftest import DEMO_PASSWORD, outbox_messages, post_form

VALID = {"name": "Mairie de Plounéour", "address": "2 rue de l'Église", "postal_code": "29890",
         "city": "Plounéour-Brignogan", "phone": "02.98.00.00.00", "email": "Enfance@Plouneour.fr",
         "opening_hours": "du lundi au vendredi, de 9 h à 12 h", "presentation": "Cantine et garderie.",
         "school_zone": "B", "main_color": "#0b5d3b", "mail_sender": "Mairie de Plounéour <enfance@plouneour.fr>",
         "payfip_client": "", "payfip_mode": "", "publisher": "Le maire", "host": "Hébergé en mairie",
         "legal_notice": "Premier paragraphe.\n\nSecond paragraphe.", "accessibility_statement": "",
         "reminders_enabled": "y", "dpo_name": "Cabinet DPO", "dpo_email": "dpo@plouneour.fr",
         "retention_identity_months": "18", "retention_accounting_years": "10"}


@pytest.fixture
def admin(demo, auth):
    auth.login("admin@example.fr", DEMO_PASSWORD)
    return demo


def test_settings_are_saved_and_shown_everywhere(app, admin, client):
    page = client.get("/gestion/parametres").get_data(as_text=True)
    assert "Paramètres de la commune" in page and "commune de démonstration" in page
    response = post_form(client, "/gestion/parametres", VALID, token_page="/gestion/parametres")
    assert response.status_code == 302
    commune = Commune.get_current()
    assert (commune.name, commune.phone, commune.email, commune.school_zone) == (
        "Mairie de Plounéour", "02 98 00 00 00", "enfance@plouneour.fr", "B")
    assert (commune.dpo_email, commune.retention_identity_months) == ("dpo@plouneour.fr", 18)
    assert "18 mois" in client.get("/donnees-personnelles").get_data(as_text=True)
    assert "commune de démonstration" not in client.get("/gestion/parametres").get_data(as_text=True)
    home = app.test_client().get("/").get_data(as_text=True)
    assert "Mairie de Plounéour" in home and "Mairie de Démo" not in home
    legal = client.get("/mentions-legales").get_data(as_text=True)
    assert "<p>Premier paragraphe.</p>" in legal and "<p>Second paragraphe.</p>" in legal
    assert "--blue: #0b5d3b" in client.get("/theme.css").get_data(as_text=True)
    assert "name" in AuditLog.get(AuditLog.action == "paramètres de la commune modifiés").detail
    outbox.send("parent@example.fr", "Essai", "Bonjour")
    assert outbox_messages()[0]["from"] == "Mairie de Plounéour <enfance@plouneour.fr>"


@pytest.mark.parametrize("field, value, message", [
    ("postal_code", "123", "Le code postal a 5 chiffres."),
    ("main_color", "#ffff00", "trop claire"),
    ("main_color", "rouge", "#rrvvbb"),
    ("email", "pas-une-adresse", "Adresse e-mail invalide"),
    ("phone", "12", "numéro de téléphone français"),
    ("payfip_client", "12ab", "6 chiffres"),
    ("payfip_mode", "Z", "T, X ou W"),
    ("name", "   ", "Indiquez le nom de la commune"),
    ("retention_identity_months", "0", "entre 1 et 120 mois"),
    ("retention_accounting_years", "5", "au moins 10 ans"),
    ("dpo_email", "dpo@", "Adresse e-mail invalide"),
])
def test_bad_values_are_refused_in_french_and_change_nothing(admin, client, field, value, message):
    response = post_form(client, "/gestion/parametres", dict(VALID, **{field: value}), token_page="/gestion/parametres")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert Commune.get_current().name == "Mairie de Démo"


def test_only_administrators_change_the_settings(demo, client, auth):
    auth.login("agent@example.fr", DEMO_PASSWORD)
    assert client.get("/gestion/parametres").status_code == 403
    auth.logout()
    auth.login("famille.martin@example.fr", DEMO_PASSWORD)
    assert client.get("/gestion/parametres").status_code == 404


def test_production_stays_closed_to_families_while_it_is_the_demo_commune(app, demo, client):
    app.config["PORTAIL_ENV"] = "production"
    try:
        for url in ("/creer-mon-compte", "/reservations", "/factures/"):
            response = client.get(url)
            assert response.status_code == 503, url
            assert "pas encore ouvert" in response.get_data(as_text=True)
        assert client.get("/connexion").status_code == 200  # staff can still sign in and configure
        assert client.post("/factures/paiement/notification", data={}).status_code != 503  # the bank, always
        assert client.get("/").status_code == 200
        Commune.update(name="Mairie de Plounéour", city="Plounéour", phone="02 98 00 00 00",
                       email="enfance@plouneour.fr", postal_code="29890").execute()
        assert client.get("/creer-mon-compte").status_code == 200
    finally:
        app.config["PORTAIL_ENV"] = "development"
