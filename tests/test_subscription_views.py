"""Views of the abonnements: the weekday choice in the enrolment request (without JavaScript: a second
step; with htmx: the days swapped in when the activity changes), « Modifier les jours » on /inscriptions,
the staff validation that generates the year, and the unit screen's settings."""
import datetime as dt
import re

import pytest

from models import Booking, Enrolment, Subscription, Unit
from services.booking import calendar
from services.booking import enrolment as enrolment_rules
from tests.conftest import post_form
from tests.test_activities_views import _unit_form

D = dt.date
HTMX = {"HX-Request": "true"}


@pytest.fixture
def hugo(demo):
    child, activity = demo["children"]["hugo"], demo["activities"]["cantine_petit_prince"]
    Enrolment.delete().where((Enrolment.child == child.id) & (Enrolment.activity == activity.id)).execute()
    return child


def _text(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'")


def _future_days(child, unit) -> int:
    return Booking.select().where((Booking.child == child.id) & (Booking.unit == unit.id) & (Booking.status == "booked")
                                  & (Booking.date >= D(2026, 11, 30))).count()


def test_request_without_javascript_asks_for_the_days_then_staff_validation_books_the_year(demo, client, auth, hugo):
    unit, activity = demo["units"]["repas_petit_prince"], demo["activities"]["cantine_petit_prince"]
    auth.login()
    page = _text(client.get("/inscriptions/"))
    assert f'name="weekdays_{unit.id}"' in page and "Abonnement repas de Hugo (facultatif)" in page
    # A request posted without the days (the parent changed the list without JavaScript): a second step.
    response = post_form(client, "/inscriptions/demande", {"child_id": hugo.id, "activity_id": activity.id},
                         token_page="/inscriptions/")
    page = _text(response)
    assert response.status_code == 200 and "propose un abonnement : choisissez les jours de Hugo" in page
    assert re.search(rf'<option value="{activity.id}" selected>', page)
    assert Enrolment.select().where((Enrolment.child == hugo.id) & (Enrolment.activity == activity.id)).count() == 0
    response = post_form(client, "/inscriptions/demande", {
        "child_id": hugo.id, "activity_id": activity.id, "subscription_for": activity.id,
        f"weekdays_{unit.id}": ["0", "1", "3"]}, token_page="/inscriptions/")
    assert response.status_code == 302
    row = Enrolment.get((Enrolment.child == hugo.id) & (Enrolment.activity == activity.id))
    assert row.status == "requested" and Subscription.get(Subscription.enrolment == row.id).weekdays == "0,1,3"
    assert _future_days(hugo, unit) == 0
    page = _text(client.get("/inscriptions/"))
    assert "Abonnement : lundi, mardi, jeudi. Les jours seront réservés à la validation" in page
    assert "Abonnement : lundi, mardi, jeudi" in page and "Modifier les jours" in page

    auth.logout()
    auth.login("agent@example.fr")
    response = post_form(client, f"/gestion/inscriptions/{row.id}", {"decision": "accept"},
                         token_page="/gestion/inscriptions", follow_redirects=True)
    assert "Abonnement : 69 jour(s) réservé(s)" in _text(response)
    assert _future_days(hugo, unit) == 69


def test_htmx_swaps_in_the_days_of_the_activity_chosen(demo, client, auth, hugo):
    unit, activity = demo["units"]["repas_petit_prince"], demo["activities"]["cantine_petit_prince"]
    auth.login()
    response = client.get(f"/inscriptions/jours-abonnement?child_id={hugo.id}&activity_id={activity.id}", headers=HTMX)
    page = _text(response)
    assert response.status_code == 200 and "<html" not in page
    assert page.count(f'name="weekdays_{unit.id}"') == 4 and f'name="subscription_for" value="{activity.id}"' in page
    assert "forfait mensuel de 20,00" in page
    garderie = demo["activities"]["garderie_petit_prince"]
    response = client.get(f"/inscriptions/jours-abonnement?child_id={hugo.id}&activity_id={garderie.id}", headers=HTMX)
    assert response.status_code == 200 and "weekdays_" not in _text(response)
    other = demo["children"]["jade"]
    assert client.get(f"/inscriptions/jours-abonnement?child_id={other.id}&activity_id={activity.id}",
                      headers=HTMX).status_code == 404
    assert client.get("/inscriptions/jours-abonnement?child_id=abc&activity_id=x", headers=HTMX).status_code == 404
    # The select asks for it on change, sending its form.
    assert 'hx-get="/inscriptions/jours-abonnement"' in _text(client.get("/inscriptions/"))


def test_change_the_days_on_the_enrolments_page(demo, client, auth, hugo):
    unit, activity = demo["units"]["repas_petit_prince"], demo["activities"]["cantine_petit_prince"]
    row = enrolment_rules.request(None, hugo, activity, weekdays={unit.id: [0, 1, 3]})
    enrolment_rules.accept(demo["users"]["agent"], row)
    assert _future_days(hugo, unit) == 69
    auth.login()
    response = post_form(client, "/inscriptions/abonnement", {"enrolment_id": row.id, f"weekdays_{unit.id}": ["9"]},
                         token_page="/inscriptions/")
    assert response.status_code == 400 and "Choisissez les jours de l'abonnement" in _text(response)
    assert Subscription.get(Subscription.enrolment == row.id).weekdays == "0,1,3"
    response = post_form(client, "/inscriptions/abonnement", {"enrolment_id": row.id, f"weekdays_{unit.id}": ["0", "1"]},
                         token_page="/inscriptions/", follow_redirects=True)
    page = _text(response)
    assert "Abonnement de Hugo à « Restauration scolaire – École du Petit Prince » enregistré" in page
    assert "Abonnement : lundi, mardi" in page and "annulé(s)" in page
    assert Subscription.get(Subscription.enrolment == row.id).weekdays == "0,1"
    assert Booking.select().where((Booking.child == hugo.id) & (Booking.unit == unit.id) & (Booking.status == "booked")
                                  & (Booking.date >= D(2026, 12, 7))).count() == len(
        [day for day in calendar.opening_days(unit, D(2026, 12, 7), D(2027, 8, 31)) if day.weekday() in (0, 1)])
    # Another household's enrolment: 404, nothing changes.
    jade_row = Enrolment.get(Enrolment.child == demo["children"]["jade"].id)
    assert post_form(client, "/inscriptions/abonnement", {"enrolment_id": jade_row.id, f"weekdays_{unit.id}": ["0"]},
                     token_page="/inscriptions/").status_code == 404
    assert Subscription.select().where(Subscription.enrolment == jade_row.id).count() == 0


def test_unit_screen_sets_the_abonnement_and_its_forfait(demo, client, auth):
    auth.login("agent@example.fr")
    repas = demo["units"]["repas_phare"]
    url = f"/gestion/prestations/{repas.id}"
    response = post_form(client, url, _unit_form(monthly_fee="25"), token_page=url)
    assert response.status_code == 400 and "cochez « Abonnement possible »" in _text(response)
    assert Unit.get_by_id(repas.id).monthly_fee is None
    response = post_form(client, url, _unit_form(subscription="1", monthly_fee="25"), token_page=url)
    assert response.status_code == 302
    saved = Unit.get_by_id(repas.id)
    assert saved.subscription and saved.monthly_fee == 2500
    assert "Abonnement possible – forfait mensuel de 25,00" in _text(client.get(url))
