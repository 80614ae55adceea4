"""The setup checklist on the administrators' dashboard (services/billing/setup.py): what is missing
before opening to families, each with ✓/✗, a one-line explanation and a link; the test e-mail."""
import html

import pytest

from models import Activity, AuditLog, Child, Commune, OutgoingMail, Regie, School, TariffBand, Unit, User
from services.billing import setup
from tests.conftest import outbox_messages, post_form


def done(key: str, items=None) -> bool:
    return next(item for item in (items or setup.checklist()) if item.key == key).done


def make_commune_real():
    Commune.update(name="Mairie de Plounéour", city="Plounéour", phone="02 98 00 00 00", email="enfance@plouneour.fr",
                   postal_code="29890").execute()


def test_each_item_follows_the_database(demo):
    items = {item.key: item for item in setup.checklist()}
    assert not items["commune"].done and "le nom de la commune" in items["commune"].explanation
    assert items["school"].done and items["activity"].done and items["regie"].done
    assert not items["mail"].done and "Envoyez-vous un e-mail de test" in items["mail"].explanation
    make_commune_real()
    assert done("commune")
    # An activity counts once it has a unit with a price (default price or a QF band).
    TariffBand.delete().execute()
    Unit.update(default_price=0).execute()
    assert not done("activity")
    Unit.update(default_price=290).where(Unit.id == Unit.select(Unit.id).limit(1)).execute()
    assert done("activity")
    Regie.update(code=Regie.code.concat("-X")).execute()  # not a valid code any more (a pre-code régie)
    assert not done("regie")
    Child.update(school=None).execute()
    Activity.update(school=None).execute()
    School.delete().execute()
    assert not done("school")


def test_payfip_needs_a_client_number_for_card_regies(demo):
    Commune.update(payfip_client="").execute()
    Regie.update(payfip_client="").execute()
    item = next(item for item in setup.checklist() if item.key == "payfip")
    assert not item.done and "Numéro client PayFiP manquant" in item.explanation
    assert done("payfip", setup.checklist(environment_client="123456"))  # PAYFIP_NUMCLI of the environment
    Commune.update(payfip_client="111111").execute()
    assert done("payfip")
    Commune.update(payfip_client="").execute()
    Regie.update(payfip_client="222222").execute()
    assert done("payfip")
    Regie.update(payfip_client="", payment_modes="cheque,especes").execute()  # online payment off on purpose
    item = next(item for item in setup.checklist() if item.key == "payfip")
    assert item.done and "Désactivé" in item.explanation


@pytest.fixture
def admin(demo, auth):
    auth.login("admin@example.fr")
    return demo


def test_dashboard_shows_the_checklist_and_sends_a_test_mail(admin, client):
    page = html.unescape(client.get("/gestion/").get_data(as_text=True))
    assert "Avant d'ouvrir le portail aux familles" in page
    assert "✗" in page and "à faire" in page and "✓" in page and "fait" in page
    assert 'href="/gestion/parametres"' in page and 'href="/gestion/regies"' in page
    assert "M'envoyer un e-mail de test" in page
    response = post_form(client, "/gestion/e-mail-de-test", token_page="/gestion/")
    assert response.status_code == 302
    mail = OutgoingMail.get(OutgoingMail.subject == setup.TEST_SUBJECT)
    assert mail.to == "admin@example.fr" and mail.status == "pending"
    assert AuditLog.select().where(AuditLog.action == "setup.test_mail").count() == 1
    page = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "E-mail de test mis en file d'envoi pour admin@example.fr" in page
    assert 'role="status"' in page and "en attente d'envoi" in page
    assert any(m["subject"] == setup.TEST_SUBJECT for m in outbox_messages())  # the worker delivers it
    assert OutgoingMail.get_by_id(mail.id).status == "sent" and done("mail")


def test_ready_portal_shows_one_line(admin, client):
    make_commune_real()
    Regie.update(payfip_client="123456").execute()
    setup.send_test_mail(User.get(User.email == "admin@example.fr"))
    outbox_messages()
    page = html.unescape(client.get("/gestion/").get_data(as_text=True))
    assert "Portail prêt à ouvrir aux familles" in page and "M'envoyer un e-mail de test" not in page


def test_checklist_is_for_admins_only(demo, client, auth):
    auth.login("agent@example.fr")
    assert "Avant d'ouvrir le portail" not in html.unescape(client.get("/gestion/").get_data(as_text=True))
    response = post_form(client, "/gestion/e-mail-de-test", token_page="/gestion/")
    assert response.status_code == 403 and not OutgoingMail.select().where(
        OutgoingMail.subject == setup.TEST_SUBJECT).exists()
