"""Billing settings on the staff screens: how a presence without booking is billed (unit page), and
the régie's code (starts its invoice numbers), due date delay, delay before online payment and
prepayment (/gestion/regies; tests/test_regies.py covers the rest of that screen)."""
import pytest
from werkzeug.datastructures import MultiDict

from blueprints.staff.regies import RegieForm
from models import AuditLog, Invoice, Regie, Unit, User
from services.billing import regies
from services.core.errors import InvalidInput
from tests.conftest import post_form

AGENT = "agent@example.fr"


def save_regie(staff, regie, data: dict):
    """What the régie form of /gestion/regies does: the form reads the fields, the service saves."""
    form = RegieForm(MultiDict({"name": regie.name, "payment_modes": "carte", **data}))
    form.check()
    return regies.save_regie(staff, regie, **form.settings())


@pytest.fixture
def staff(demo, auth):
    auth.login(AGENT)
    return demo


def test_save_regie_validates_and_audits(demo):
    regie = demo["units"]["repas_phare"].activity.regie
    agent = User.get(User.email == AGENT)
    save_regie(agent, regie, {"code": "PERI", "payment_days": "45", "treasury_days": "5", "prepayment": "1"})
    regie = Regie.get_by_id(regie.id)
    assert (regie.payment_days, regie.treasury_days, regie.prepayment) == (45, 5, True)
    assert "payment_days: 30 → 45" in AuditLog.get(AuditLog.action == "regie.update").detail
    for data, message in (({"payment_days": "abc", "treasury_days": "0"}, "nombre entier"),
                          ({"payment_days": "0", "treasury_days": "0"}, "compris entre 1 et 365"),
                          ({"payment_days": "10", "treasury_days": "20"}, "ne peut pas dépasser"),
                          ({"payment_days": "", "treasury_days": "0"}, "Indiquez le délai de paiement")):
        with pytest.raises(InvalidInput, match=message):
            save_regie(agent, regie, {"code": "PERI", **data})
    assert Regie.get_by_id(regie.id).payment_days == 45


def test_regie_screen_edits_the_regie_and_the_activity_page_links_to_it(staff, client, auth):
    activity = staff["units"]["repas_phare"].activity
    page = client.get(f"/gestion/activites/{activity.id}").get_data(as_text=True)
    assert "Facturation : régie" in page and "Délai de paiement des factures" not in page  # moved away
    auth.logout()
    auth.login("regisseur@example.fr")
    page = client.get(f"/gestion/activites/{activity.id}").get_data(as_text=True)
    url = f"/gestion/regies/{activity.regie_id}"
    assert f'href="{url}"' in page and "Modifier la régie" in page
    page = client.get(url).get_data(as_text=True)
    assert "Paiement au comptant" in page and "Délai avant paiement en ligne" in page
    assert 'name="code" type="text" value="PERI"' in page
    name = Regie.get_by_id(activity.regie_id).name
    response = post_form(client, url, {"name": name, "code": "PERI", "payment_days": "20", "treasury_days": "30",
                                       "payment_modes": ["carte"]}, token_page=url)
    assert response.status_code == 400 and "ne peut pas dépasser" in response.get_data(as_text=True)
    assert Regie.get_by_id(activity.regie_id).payment_days == 30
    response = post_form(client, url, {"name": name, "code": "PERI", "payment_days": "20", "treasury_days": "3",
                                       "payment_modes": ["carte"]}, token_page=url)
    assert response.status_code == 302
    regie = Regie.get_by_id(activity.regie_id)
    assert (regie.payment_days, regie.treasury_days, regie.prepayment) == (20, 3, False)
    assert "Régie « " in client.get(response.headers["Location"]).get_data(as_text=True)


def test_unit_page_sets_how_an_unbooked_presence_is_billed(staff, client):
    unit = staff["units"]["repas_phare"]
    url = f"/gestion/prestations/{unit.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Enfant présent sans réservation (pointage)" in page and "Non facturé" in page
    assert 'value="late" selected' in page
    # Resubmit the unit's own values with another billing choice.
    from blueprints.staff.activities import _unit_values
    values = {k: v for k, v in _unit_values(unit).items() if k != "weekdays"}
    values.update(weekdays=["0", "1", "3", "4"], unbooked_presence="free")
    response = post_form(client, url, {**values, "section": "unit"}, token_page=url)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert Unit.get_by_id(unit.id).unbooked_presence == "free"
    values["unbooked_presence"] = "gratuit-ou-pas"
    response = post_form(client, url, {**values, "section": "unit"}, token_page=url)
    assert response.status_code == 400
    assert "Choisissez comment facturer un enfant présent sans réservation." in response.get_data(as_text=True)
    assert Unit.get_by_id(unit.id).unbooked_presence == "free"


def test_regie_code_is_required_unique_and_shaped(demo):
    regie = Regie.get_by_id(demo["regies"]["periscolaire"].id)
    agent = User.get(User.email == AGENT)
    settings = {"payment_days": "30", "treasury_days": "0"}
    for code, message in (("", "Indiquez le code"), ("P", "2 à 8"), ("PÉRI", "2 à 8"), ("PERI-1", "2 à 8"),
                          ("ABCDEFGHI", "2 à 8"), ("alsh", "déjà celui d'une autre régie")):
        with pytest.raises(InvalidInput, match=message):
            save_regie(agent, regie, {"code": code, **settings})
    assert Regie.get_by_id(regie.id).code == "PERI"
    # Invoices were numbered PERI-…: the code can no longer change (the series would change prefix).
    assert Invoice.select().where((Invoice.regie == regie) & Invoice.number.startswith("PERI-")).exists()
    with pytest.raises(InvalidInput, match="ne peut plus changer"):
        save_regie(agent, regie, {"code": "CANT", **settings})
    assert Regie.get_by_id(regie.id).code == "PERI"
    # A régie without invoices may change its code (typed in lower case, kept upper) …
    other = Regie.create(name="Régie sans facture", code="NEUF")
    save_regie(agent, other, {"code": " cant ", **settings})
    assert Regie.get_by_id(other.id).code == "CANT"
    # … but never take a code that numbers another régie's invoices: they would clash.
    with pytest.raises(InvalidInput, match="déjà celui d'une autre régie"):
        save_regie(agent, other, {"code": "PERI", **settings})
    Invoice.update(number="OLD-2026-11-00001").where(Invoice.id == Invoice.select().where(
        Invoice.regie == regie).first().id).execute()
    with pytest.raises(InvalidInput, match="figure déjà dans les numéros"):
        save_regie(agent, other, {"code": "OLD", **settings})
    save_regie(agent, regie, {"code": "PERI", **settings})  # its own code: fine
