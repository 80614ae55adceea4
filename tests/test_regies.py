"""Régies on /gestion/regies (administrators and régisseurs): list, « Nouvelle régie », edit; the
payment modes a régie accepts and its own PayFiP client number (used for its invoices' payments)."""
import html

import pytest

from models import Activity, AuditLog, Commune, Invoice, Regie, User
from services.billing import online_payments, regies
from services.core.errors import InvalidInput
from tests.conftest import post_form
from tests.test_payments import URLS, invoices  # noqa: F401 - the fixture

NEW = {"name": "Régie restauration", "code": "rest", "payfip_client": "654 321", "payment_modes": ["carte", "cheque"],
       "payment_days": "30", "treasury_days": "0"}


@pytest.fixture
def regisseur(demo, auth):
    auth.login("regisseur@example.fr")
    return demo


def test_regisseur_lists_and_creates_a_regie(regisseur, client):
    page = client.get("/gestion/regies").get_data(as_text=True)
    assert "Nouvelle régie" in page and "Régie périscolaire" in page or "PERI" in page
    assert '<th scope="col">Activités</th>' in page and "celui de la commune" in page
    response = post_form(client, "/gestion/regies", NEW, token_page="/gestion/regies")
    assert response.status_code == 302
    regie = Regie.get(Regie.name == "Régie restauration")
    assert (regie.code, regie.payfip_client, regie.payment_modes) == ("REST", "654321", "carte,cheque")
    assert AuditLog.get(AuditLog.action == "regie.create").detail == "Régie restauration (REST)"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Régie « Régie restauration » créée" in page and "Carte bancaire (PayFiP), Chèque" in page
    assert "654321" in page


@pytest.mark.parametrize("change, message", [
    ({"name": ""}, "Indiquez le nom de la régie"),
    ({"name": "régie PÉRISCOLAIRE"}, "Une régie s'appelle déjà"),
    ({"code": "peri"}, "déjà celui d'une autre régie"),
    ({"code": "P"}, "2 à 8"),
    ({"payfip_client": "12345"}, "6 chiffres"),
    ({"payfip_client": "abcdef"}, "6 chiffres"),
    ({"payment_modes": []}, "Cochez au moins un mode"),
    ({"payment_modes": ["carte", "bitcoin"]}, "Cochez au moins un mode"),
    ({"payment_days": "0"}, "compris entre 1 et 365"),
])
def test_bad_regie_is_refused_in_french_and_nothing_saved(regisseur, client, change, message):
    before = Regie.select().count()
    existing = Regie.get(Regie.code == "PERI")
    if change.get("name") == "régie PÉRISCOLAIRE":
        change = {"name": existing.name.upper()}
    response = post_form(client, "/gestion/regies", {**NEW, **change}, token_page="/gestion/regies")
    assert response.status_code == 400 and message in html.unescape(response.get_data(as_text=True))
    assert Regie.select().count() == before


def test_edit_keeps_the_code_once_invoices_are_numbered(regisseur, client):
    regie = Regie.get(Regie.code == "PERI")
    assert Invoice.select().where(Invoice.regie == regie).exists()
    url = f"/gestion/regies/{regie.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'name="code" type="text" value="PERI"' in page and "ne peut plus changer" in page and "readonly" in page
    data = {**NEW, "name": regie.name, "code": "NOUV"}
    response = post_form(client, url, data, token_page=url)  # a tampered read-only field
    assert response.status_code == 400 and "Le code PERI ne peut plus changer" in response.get_data(as_text=True)
    assert Regie.get_by_id(regie.id).code == "PERI"
    response = post_form(client, url, {**data, "code": "PERI", "payment_modes": ["prelevement", "especes"]},
                         token_page=url)
    assert response.status_code == 302
    assert Regie.get_by_id(regie.id).payment_modes == "prelevement,especes"
    assert "payment_modes" in AuditLog.get(AuditLog.action == "regie.update").detail


def test_only_admins_and_regisseurs(demo, client, auth):
    regie = Regie.get(Regie.code == "PERI")
    for email, status in (("agent@example.fr", 403), ("cuisine@example.fr", 403), ("famille.martin@example.fr", 404),
                          ("admin@example.fr", 200)):
        auth.login(email)
        assert client.get("/gestion/regies").status_code == status
        assert client.get(f"/gestion/regies/{regie.id}").status_code == status
        auth.logout()
    auth.login("admin@example.fr")
    assert client.get("/gestion/regies/999999").status_code == 404


def test_rows_count_activities(demo):
    rows = {row.regie.code: row for row in regies.regie_rows()}
    peri = Regie.get(Regie.code == "PERI")
    assert rows["PERI"].activities == Activity.select().where(Activity.regie == peri).count() > 0


def test_a_new_payment_mode_just_works(demo, monkeypatch):
    from models import Payment
    monkeypatch.setitem(Payment.MODES, "ancv", "Chèques-vacances (ANCV)")
    admin = User.get(User.email == "admin@example.fr")
    regie = regies.save_regie(admin, None, name="Régie loisirs bis", code="LOI2", payment_days=30, treasury_days=0,
                              prepayment=False, payment_modes=["ancv", "carte"])
    assert regie.payment_modes == "carte,ancv"
    with pytest.raises(InvalidInput, match="Cochez"):
        regies.clean_modes(["ancv2"])


class FakeBackend:
    """eopayment.Payment stand-in that records the options it was built with."""

    built: list[dict] = []

    def __init__(self, kind, options):
        FakeBackend.built.append(options)

    def request(self, amount, **kwargs):
        return f"IDOP{len(FakeBackend.built)}", None, None


def test_regie_payfip_client_wins_over_the_communes(invoices, monkeypatch):  # noqa: F811
    monkeypatch.setattr(online_payments.eopayment, "Payment", FakeBackend)
    FakeBackend.built = []
    Commune.update(payfip_client="111111").execute()
    settings = online_payments.PaymentSettings(backend="payfip_ws", numcli="999999", mode="T")
    regie = Regie.get_by_id(invoices[0].regie_id)
    online_payments.start_online_payment(invoices[0], settings, **URLS)
    assert FakeBackend.built[-1]["numcli"] == "111111"  # no number of its own: the commune's
    Regie.update(payfip_client="222222").where(Regie.id == regie.id).execute()
    online_payments.start_online_payment(invoices[1], settings, **URLS)
    assert FakeBackend.built[-1]["numcli"] == "222222"


def test_no_card_when_the_regie_does_not_take_cards(invoices):  # noqa: F811
    Regie.update(payment_modes="cheque,especes").where(Regie.id == invoices[0].regie_id).execute()
    with pytest.raises(online_payments.NotPayableOnline, match="ne se paie pas par carte"):
        online_payments.start_online_payment(invoices[0], online_payments.PaymentSettings(), **URLS)
