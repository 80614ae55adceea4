"""Views of /inscriptions (parents) and /gestion/activites, /gestion/inscriptions (staff)."""
import datetime as dt

import pytest

from models import Activity, CapacityOverride, Closure, Enrolment, ExtraDay, TariffBand, Unit
from services.demo.activities import create_activity
from tests.conftest import post_form

AGENT = "agent@example.fr"
D = dt.date


@pytest.fixture
def staff(demo, auth):
    auth.login(AGENT)
    return demo


def test_parent_sees_enrolments_and_asks_for_a_new_one(demo, client, auth):
    club = create_activity("Club nature", "autre")
    auth.login()
    page = client.get("/inscriptions/").get_data(as_text=True)
    assert "Inscription validée" in page and "Restauration scolaire – École du Phare" in page
    assert "Inscrire Léa à une nouvelle activité" in page and "Club nature" in page
    lea = demo["children"]["lea"]
    response = post_form(client, "/inscriptions/demande", {"child_id": lea.id, "activity_id": club.id},
                         token_page="/inscriptions/")
    assert response.status_code == 302
    assert Enrolment.get((Enrolment.child == lea.id) & (Enrolment.activity == club.id)).status == "requested"
    page = client.get("/inscriptions/").get_data(as_text=True)
    assert "Demande d&#39;inscription de Léa" in page or "Demande d'inscription de Léa" in page
    assert "Demande en cours de traitement" in page


def test_parent_cannot_enrol_another_households_child(demo, client, auth):
    club = create_activity("Club nature", "autre")
    auth.login()
    ines = demo["children"]["ines"]  # Dupont
    response = post_form(client, "/inscriptions/demande", {"child_id": ines.id, "activity_id": club.id},
                         token_page="/inscriptions/")
    assert response.status_code == 404
    assert Enrolment.select().where(Enrolment.activity == club.id).count() == 0


def test_parent_bad_activity_or_school_gets_french_message(demo, client, auth):
    auth.login()
    lea = demo["children"]["lea"]
    response = post_form(client, "/inscriptions/demande", {"child_id": lea.id, "activity_id": "abc"},
                         token_page="/inscriptions/")
    assert response.status_code == 400 and "Choisissez une activité" in response.get_data(as_text=True)
    other = demo["activities"]["cantine_petit_prince"]
    response = post_form(client, "/inscriptions/demande", {"child_id": lea.id, "activity_id": other.id},
                         token_page="/inscriptions/")
    assert response.status_code == 400 and "réservé aux élèves" in response.get_data(as_text=True)


def test_parent_renewal(demo, client, auth):
    create_activity("ALSH Mercredi", "alsh_mercredi", year=2027)
    auth.login()
    from services.core import clock
    clock.freeze("2027-05-10T10:00")
    try:
        page = client.get("/inscriptions/").get_data(as_text=True)
        assert "Réinscription pour l&#39;année 2027-2028" in page or "Réinscription pour l'année 2027-2028" in page
        response = post_form(client, "/inscriptions/reinscription", {}, token_page="/inscriptions/")
        assert response.status_code == 302
    finally:
        clock.freeze(None)
    assert Enrolment.select().where(Enrolment.renewal).count() == 2  # Léa and Hugo


def test_inscriptions_requires_parent(client, demo, auth):
    assert client.get("/inscriptions/").status_code == 302
    auth.login(AGENT)
    assert client.get("/inscriptions/").status_code == 302  # staff are sent to /gestion


def test_staff_pages_render(staff, client):
    for url in ("/gestion/activites", f"/gestion/activites/{staff['activities']['cantine_phare'].id}",
                f"/gestion/prestations/{staff['units']['repas_phare'].id}", "/gestion/inscriptions",
                f"/gestion/activites/{staff['activities']['alsh_mercredi'].id}/prestations/nouvelle"):
        response = client.get(url)
        assert response.status_code == 200, url
    page = client.get(f"/gestion/prestations/{staff['units']['repas_phare'].id}").get_data(as_text=True)
    assert "le jeudi de la semaine précédente à 18 h" in page
    assert "QF de 0 à 599 € : 1,00" in page


def test_parents_cannot_open_staff_screens(demo, client, auth):
    auth.login()
    assert client.get("/gestion/activites").status_code == 404


def test_create_activity_and_bad_input(staff, client):
    response = post_form(client, "/gestion/activites", {"name": "", "kind": "autre", "school_year": "2026"},
                         token_page="/gestion/activites")
    assert response.status_code == 400 and "Indiquez le nom de l&#39;activité" in response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    assert '<a href="#f-name">' in page and 'id="f-name"' in page  # the message leads to its field
    response = post_form(client, "/gestion/activites", {"name": "Stage", "kind": "autre", "school_year": "deux"},
                         token_page="/gestion/activites")
    assert response.status_code == 400 and "nombre entier" in response.get_data(as_text=True)
    assert Activity.select().where(Activity.name == "Stage").count() == 0
    response = post_form(client, "/gestion/activites", {"name": "Stage", "kind": "autre", "school_year": "2026",
                                                         "booking_validation": "1", "enrolment_open": "1"},
                         token_page="/gestion/activites")
    assert response.status_code == 302
    stage = Activity.get(Activity.name == "Stage")
    assert stage.booking_validation and stage.starts_on == D(2026, 9, 1) and stage.ends_on == D(2027, 8, 31)


def _unit_form(**extra):
    data = {"section": "unit", "name": "Repas", "weekdays": ["0", "1", "3", "4"], "period": "school",
            "default_price": "2,90", "capacity": "50", "booking_kind": "weekday_previous_week",
            "booking_amount": "1", "booking_weekday": "3", "booking_at_time": "18 h",
            "booking_skip_public_holidays": "1", "cancel_same": "1"}
    data.update(extra)
    return data


def test_create_unit_with_policy_and_preview(staff, client, freeze):
    freeze("2026-11-19T10:00")
    stage = create_activity("Stage", "autre")
    url = f"/gestion/activites/{stage.id}/prestations/nouvelle"
    response = post_form(client, url, _unit_form(), token_page=url)
    assert response.status_code == 302
    unit = Unit.get(Unit.activity == stage.id)
    assert unit.weekdays == "0,1,3,4" and unit.default_price == 290 and unit.capacity == 50
    assert unit.booking_policy.kind == "weekday_previous_week" and unit.booking_policy.at_time == "18:00"
    assert unit.cancel_policy is None
    page = client.get(f"/gestion/prestations/{unit.id}").get_data(as_text=True)
    assert "Pour le lundi 23 novembre : réservable jusqu&#39;au jeudi 19 novembre à 18 h" in page \
        or "Pour le lundi 23 novembre : réservable jusqu'au jeudi 19 novembre à 18 h" in page


@pytest.mark.parametrize("change, message", [
    ({"weekdays": []}, "Cochez au moins un jour"),
    ({"default_price": "abc"}, "saisissez un montant comme 2,90"),
    ({"booking_at_time": "25:99"}, "Indiquez une heure"),
    ({"booking_weekday": ""}, "Choisissez le jour de la semaine"),
    ({"capacity": "-3"}, "La capacité doit être compris"),
    ({"booking_kind": "n_importe"}, "Choisissez un type de délai"),
])
def test_unit_bad_input_saves_nothing(staff, client, change, message):
    stage = create_activity("Stage", "autre")
    url = f"/gestion/activites/{stage.id}/prestations/nouvelle"
    response = post_form(client, url, _unit_form(**change), token_page=url)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and message in page.replace("&#39;", "'")
    assert Unit.select().where(Unit.activity == stage.id).count() == 0


def test_edit_unit_cancel_policy_bands_capacity_extra_day(staff, client):
    repas = staff["units"]["repas_phare"]
    url = f"/gestion/prestations/{repas.id}"
    response = post_form(client, url, _unit_form(cancel_same="", cancel_kind="days_before", cancel_amount="2",
                                                 cancel_working_days="1", cancel_at_time="12:00"), token_page=url)
    assert response.status_code == 302
    repas = Unit.get_by_id(repas.id)
    assert repas.cancel_policy.kind == "days_before" and repas.cancel_policy.working_days
    bands = {"section": "bands", "qf_min_0": "0", "qf_max_0": "700", "price_0": "1,20",
             "qf_min_1": "700", "qf_max_1": "", "price_1": "3"}
    assert post_form(client, url, bands, token_page=url).status_code == 302
    assert [(b.qf_min, b.qf_max, b.price) for b in TariffBand.select().where(TariffBand.unit == repas.id)
            .order_by(TariffBand.qf_min)] == [(0, 700, 120), (700, None, 300)]
    overlapping = {"section": "bands", "qf_min_0": "0", "qf_max_0": "800", "price_0": "1",
                   "qf_min_1": "700", "price_1": "2"}
    response = post_form(client, url, overlapping, token_page=url)
    assert response.status_code == 400 and "se chevauchent" in response.get_data(as_text=True)
    assert TariffBand.select().where(TariffBand.unit == repas.id).count() == 2
    assert post_form(client, url, {"section": "capacity", "date": "2026-12-03", "capacity": "10"},
                     token_page=url).status_code == 302
    assert CapacityOverride.get(CapacityOverride.unit == repas.id).capacity == 10
    assert post_form(client, url, {"section": "extra", "date": "2026-12-02", "reason": "Mercredi travaillé"},
                     token_page=url).status_code == 302
    assert ExtraDay.get(ExtraDay.unit == repas.id).date == D(2026, 12, 2)
    response = post_form(client, url, {"section": "extra", "date": "32/13/2026"}, token_page=url)
    assert response.status_code == 400 and "jj/mm/aaaa" in response.get_data(as_text=True)
    override = CapacityOverride.get(CapacityOverride.unit == repas.id)
    extra = ExtraDay.get(ExtraDay.unit == repas.id)
    assert post_form(client, f"{url}/capacites/{override.id}/supprimer", {}, token_page=url).status_code == 302
    assert post_form(client, f"{url}/jours/{extra.id}/supprimer", {}, token_page=url).status_code == 302
    assert not CapacityOverride.select().where(CapacityOverride.unit == repas.id).exists()
    assert not ExtraDay.select().where(ExtraDay.unit == repas.id).exists()
    other = staff["units"]["garderie_matin_phare"]
    response = post_form(client, f"/gestion/prestations/{other.id}/jours/{extra.id}/supprimer", {}, token_page=url)
    assert response.status_code == 404


def test_closures(staff, client):
    canteen = staff["activities"]["cantine_phare"]
    url = f"/gestion/activites/{canteen.id}"
    response = post_form(client, f"{url}/fermetures", {"reason": "Grève", "starts_on": "2026-12-03"},
                         token_page=url)
    assert response.status_code == 302
    closure = Closure.get(Closure.reason == "Grève")
    assert closure.activity_id == canteen.id and closure.ends_on == D(2026, 12, 3)
    response = post_form(client, f"{url}/fermetures", {"reason": "", "starts_on": "2026-12-03"}, token_page=url)
    assert response.status_code == 400 and "Indiquez le motif" in response.get_data(as_text=True)
    response = post_form(client, f"/gestion/fermetures/{closure.id}/supprimer", {"activity_id": canteen.id},
                         token_page=url)
    assert response.status_code == 302 and Closure.select().count() == 0


def test_enrolment_queue_decisions(staff, client):
    club = create_activity("Club nature", "autre")
    lea, hugo = staff["children"]["lea"], staff["children"]["hugo"]
    from services.core import clock
    first = Enrolment.create(child=lea, activity=club, status="requested", requested_at=clock.local_now())
    second = Enrolment.create(child=hugo, activity=club, status="requested", requested_at=clock.local_now())
    page = client.get("/gestion/inscriptions").get_data(as_text=True)
    assert "Léa Martin – Club nature" in page
    url = "/gestion/inscriptions"
    response = post_form(client, f"{url}/{first.id}", {"decision": "refuse", "reason": ""}, token_page=url)
    assert response.status_code == 400 and "Indiquez le motif du refus" in response.get_data(as_text=True)
    assert Enrolment.get_by_id(first.id).status == "requested"
    assert post_form(client, f"{url}/{first.id}", {"decision": "accept"}, token_page=url).status_code == 302
    assert post_form(client, f"{url}/{second.id}", {"decision": "waiting_list"}, token_page=url).status_code == 302
    assert Enrolment.get_by_id(first.id).status == "validated"
    assert Enrolment.get_by_id(second.id).status == "waiting_list"
    assert post_form(client, f"{url}/999999", {"decision": "accept"}, token_page=url).status_code == 404
    dashboard = client.get("/gestion/").get_data(as_text=True)
    assert "Inscriptions à valider" in dashboard


def test_refresh_holidays_button_and_cli(staff, client, app):
    response = post_form(client, "/gestion/activites/jours-feries", {}, token_page="/gestion/activites")
    assert response.status_code == 302
    page = client.get("/gestion/activites").get_data(as_text=True)
    assert "Jours fériés et vacances scolaires actualisés" in page
    result = app.test_cli_runner().invoke(args=["refresh-holidays", "--years", "2026,2027", "--zone", "B"])
    assert result.exit_code == 0, result.output
    assert "jours fériés" in result.output
