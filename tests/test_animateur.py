"""The animateur role: attendance and lists of the activities they lead only (ActivityStaff); another
activity's unit or presence is a 404 decided on the server; the admin sets the activities in Équipe."""
from __future__ import annotations

import datetime as dt

import pytest

from models import ActivityStaff, Attendance, Booking, User
from tests.conftest import post_form

WEDNESDAY = dt.date(2026, 12, 9)  # ALSH Mercredi: Inès is booked (demo)


@pytest.fixture
def animateur(demo, freeze, auth):
    freeze("2026-12-09T12:00")
    response = auth.login("animateur@example.fr")
    assert response.headers["Location"] == "/gestion/pointage"
    return demo


def _url(demo, unit, day=WEDNESDAY):
    return f"/gestion/pointage?unit={demo['units'][unit].id}&date={day.isoformat()}"


def test_sheet_of_their_activity_only(animateur, client):
    page = client.get(_url(animateur, "alsh_journee")).get_data(as_text=True)
    assert "Inès" in page and "ALSH Mercredi" in page
    assert "Restauration scolaire" not in page and "Garderie" not in page  # other activities are not offered
    nav = page.split('aria-label="Navigation principale"')[1].split("</nav>")[0]
    assert ">Pointage</a>" in nav and ">Tableau de bord</a>" not in nav and ">Activités</a>" not in nav
    assert client.get(_url(animateur, "repas_phare")).status_code == 404
    assert client.get(_url(animateur, "repas_phare", dt.date(2026, 12, 8))).status_code == 404


def test_records_their_activity_and_gets_404_for_another(animateur, client):
    ines = Booking.get((Booking.child == animateur["children"]["ines"].id)
                       & (Booking.unit == animateur["units"]["alsh_journee"].id) & (Booking.date == WEDNESDAY))
    token_page = _url(animateur, "alsh_journee")
    response = post_form(client, "/gestion/pointage", {"unit": ines.unit_id, "date": "2026-12-09",
                                                        f"etat-{ines.id}": "present"}, token_page=token_page)
    assert response.status_code == 302 and Booking.get_by_id(ines.id).attendance == "present"
    lea = (Booking.select().where((Booking.child == animateur["children"]["lea"].id)
                                  & (Booking.unit == animateur["units"]["repas_phare"].id) & (Booking.date < WEDNESDAY))
           .order_by(Booking.date.desc()).first())
    day = lea.date.isoformat()
    response = post_form(client, "/gestion/pointage", {"unit": lea.unit_id, "date": day,
                                                        f"etat-{lea.id}": "absent"}, token_page=token_page)
    assert response.status_code == 404 and Booking.get_by_id(lea.id).attendance == ""
    malo = animateur["children"]["malo"]
    response = post_form(client, "/gestion/pointage/presences", {"unit": lea.unit_id, "date": day,
                                                                  "child_id": malo.id}, token_page=token_page)
    assert response.status_code == 404 and Attendance.select().where(Attendance.child == malo.id).count() == 0
    row = Attendance.create(household=malo.household_id, child=malo, unit=lea.unit_id, date=lea.date,
                            recorded_at=dt.datetime(2026, 12, 8, 12), recorded_by=animateur["users"]["agent"])
    response = post_form(client, f"/gestion/pointage/presences/{row.id}/supprimer", {}, token_page=token_page)
    assert response.status_code == 404 and Attendance.select().where(Attendance.child == malo.id).count() == 1


@pytest.mark.parametrize("url", ["/gestion/", "/gestion/familles", "/gestion/activites", "/gestion/effectifs",
                                 "/gestion/reservations/", "/gestion/facturation/", "/gestion/equipe",
                                 "/gestion/comptes/nouveau", "/gestion/journal"])
def test_nothing_else(animateur, client, url):
    assert client.get(url).status_code == 403


def test_without_activities_nothing_is_offered(animateur, client):
    ActivityStaff.delete().execute()
    page = client.get("/gestion/pointage").get_data(as_text=True)
    assert "Inès" not in page and "ALSH" not in page
    assert client.get(_url(animateur, "alsh_journee")).status_code == 404


def test_admin_sets_the_activities_led(demo, client, auth):
    auth.login("admin@example.fr")
    member = demo["users"]["agent"]
    cantine, alsh = demo["activities"]["cantine_phare"], demo["activities"]["alsh_mercredi"]
    url = f"/gestion/equipe/{member.id}"
    assert "Activités animées" in client.get(url).get_data(as_text=True)
    data = {"first_name": "Sophie", "last_name": "Le Gall", "role": "animateur", "activities": [cantine.id, alsh.id]}
    assert post_form(client, url, data, token_page=url).status_code == 302
    assert User.get_by_id(member.id).role == "animateur"
    assert {r.activity_id for r in ActivityStaff.select().where(ActivityStaff.user == member.id)} == {cantine.id, alsh.id}
    assert "Animateur" in client.get("/gestion/equipe").get_data(as_text=True)
    for bad in (["999999"], ["abc"], ["99999999999999999999"]):
        response = post_form(client, url, {**data, "activities": bad}, token_page=url)
        assert response.status_code == 400
        assert "Choisissez des activités dans la liste." in response.get_data(as_text=True)
    assert ActivityStaff.select().where(ActivityStaff.user == member.id).count() == 2
    # Another role leads no activity.
    assert post_form(client, url, {**data, "role": "agent"}, token_page=url).status_code == 302
    assert ActivityStaff.select().where(ActivityStaff.user == member.id).count() == 0
