"""Pointage (/gestion/pointage): the service (states, presence without booking, checks, audit), the
views (French messages, nothing saved on bad input, roles) and how the billing preview reads it."""
import datetime as dt

import pytest

from models import Attendance, AuditLog, Booking, Closure, User
from services.billing import invoicing
from services.booking import attendance
from services.core.errors import DomainError
from tests.conftest import post_form

AGENT = "agent@example.fr"
THURSDAY = dt.date(2026, 11, 19)  # the demo's today


@pytest.fixture
def today(demo, freeze):
    freeze("2026-11-19T12:00")
    return demo


def _booking(demo, child, unit="repas_phare", day=THURSDAY):
    return Booking.get((Booking.child == demo["children"][child].id) & (Booking.unit == demo["units"][unit].id)
                       & (Booking.date == day))


def _agent():
    return User.get(User.email == AGENT)


# --- Service ------------------------------------------------------------------------------------


def test_sheet_lists_the_children_expected(today):
    sheet = attendance.sheet(today["units"]["repas_phare"], THURSDAY)
    names = [b.child.first_name for b in sheet.bookings]
    assert sorted(names) == ["Inès", "Léa"]  # Malo eats on Mondays, Tuesdays and Fridays
    assert sheet.open and sheet.can_record and sheet.recorded == 0


def test_record_states_in_one_transaction_and_audits(today):
    unit, lea, ines = today["units"]["repas_phare"], _booking(today, "lea"), _booking(today, "ines")
    changed = attendance.record(_agent(), unit, THURSDAY, {f"etat-{lea.id}": "absent",
                                                           f"etat-{ines.id}": "present", "autre": "x"})
    assert changed == 2
    assert Booking.get_by_id(lea.id).attendance == "absent"
    assert Booking.get_by_id(ines.id).attendance == "present"
    entries = list(AuditLog.select().where(AuditLog.action == "attendance.record"))
    assert len(entries) == 2 and any("Non pointé → Absent" in e.detail for e in entries)
    assert attendance.record(_agent(), unit, THURSDAY, {f"etat-{lea.id}": "absent"}) == 0  # unchanged


def test_one_bad_value_saves_nothing(today):
    unit, lea, ines = today["units"]["repas_phare"], _booking(today, "lea"), _booking(today, "ines")
    with pytest.raises(DomainError, match="Inès"):
        attendance.record(_agent(), unit, THURSDAY, {f"etat-{lea.id}": "present", f"etat-{ines.id}": "malade"})
    with pytest.raises(DomainError, match="rechargez la page"):
        attendance.record(_agent(), unit, THURSDAY, {f"etat-{lea.id}": "present", "etat-999999": "present"})
    assert Booking.get_by_id(lea.id).attendance == ""


def test_future_and_closed_days_are_refused(today):
    unit, friday = today["units"]["repas_phare"], _booking(today, "lea", day=dt.date(2026, 11, 20))
    with pytest.raises(DomainError, match="jour à venir"):
        attendance.record(_agent(), unit, friday.date, {f"etat-{friday.id}": "present"})
    Closure.create(activity=unit.activity, starts_on=THURSDAY, ends_on=THURSDAY, reason="Grève")
    with pytest.raises(DomainError, match="Grève"):
        attendance.add_unbooked(_agent(), unit, THURSDAY, today["children"]["malo"].id)


def test_presence_without_booking(today):
    unit, children = today["units"]["repas_phare"], today["children"]
    assert children["malo"].id in [c.id for c in attendance.candidates(unit, THURSDAY, "Mal")]
    assert children["lea"].id not in [c.id for c in attendance.candidates(unit, THURSDAY)]  # booked
    assert children["hugo"].id not in [c.id for c in attendance.candidates(unit, THURSDAY)]  # other school
    row = attendance.add_unbooked(_agent(), unit, THURSDAY, children["malo"].id)
    assert row.household_id == children["malo"].household_id and row.recorded_by_id == _agent().id
    assert AuditLog.select().where(AuditLog.action == "attendance.unbooked_add").count() == 1
    with pytest.raises(DomainError, match="déjà noté"):
        attendance.add_unbooked(_agent(), unit, THURSDAY, children["malo"].id)
    with pytest.raises(DomainError, match="a une réservation"):
        attendance.add_unbooked(_agent(), unit, THURSDAY, children["lea"].id)
    with pytest.raises(DomainError, match="n'est pas inscrit"):
        attendance.add_unbooked(_agent(), unit, THURSDAY, children["hugo"].id)
    with pytest.raises(DomainError, match="Choisissez un enfant"):
        attendance.add_unbooked(_agent(), unit, THURSDAY, "abc")
    attendance.remove_unbooked(_agent(), row.id)
    assert Attendance.select().where(Attendance.child == children["malo"].id).count() == 0


# --- Billing reads the pointage ------------------------------------------------------------------


def _lines(preview, child):
    return [line for draft in preview.drafts for line in draft.lines if line.child.id == child.id]


def _anomalies(preview, household_id):
    return [a for d in preview.drafts if d.household.id == household_id for a in d.anomalies]


def test_billing_preview_follows_the_pointage(today):
    unit, children = today["units"]["repas_phare"], today["children"]
    regie = unit.activity.regie
    lea = _booking(today, "lea")
    before = invoicing.preview_run(regie, 2026, 11, today=dt.date(2026, 12, 1))
    lea_total = sum(line.amount for line in _lines(before, children["lea"]))
    assert any(a.startswith("Léa Martin – Repas") and "sans pointage" in a and "jeu. 19 nov." in a
               for a in _anomalies(before, lea.household_id))

    attendance.record(_agent(), unit, THURSDAY, {f"etat-{lea.id}": "absent_justified"})
    after = invoicing.preview_run(regie, 2026, 11, today=dt.date(2026, 12, 1))
    justified = [line for line in _lines(after, children["lea"]) if "absence justifiée" in line.label]
    assert len(justified) == 1 and justified[0].amount == 0 and justified[0].days == [THURSDAY]
    assert sum(line.amount for line in _lines(after, children["lea"])) == lea_total - lea.price
    assert not any("jeu. 19 nov." in a for a in _anomalies(after, lea.household_id)
                   if "sans pointage" in a and a.startswith("Léa Martin – Repas"))

    unit.absence_fee = 150
    unit.save()
    attendance.record(_agent(), unit, THURSDAY, {f"etat-{lea.id}": "absent"})
    after = invoicing.preview_run(regie, 2026, 11, today=dt.date(2026, 12, 1))
    absent = [line for line in _lines(after, children["lea"]) if "absence non justifiée" in line.label]
    assert len(absent) == 1 and absent[0].amount == lea.price + 150


def test_billing_bills_a_presence_without_booking_as_configured(today):
    unit, malo = today["units"]["repas_phare"], today["children"]["malo"]
    regie = unit.activity.regie
    attendance.add_unbooked(_agent(), unit, THURSDAY, malo.id)
    preview = invoicing.preview_run(regie, 2026, 11, today=dt.date(2026, 12, 1))
    extra = [line for line in _lines(preview, malo) if "présence sans réservation" in line.label]
    assert len(extra) == 1 and extra[0].days == [THURSDAY] and extra[0].amount > 0
    assert any("présent(e) sans réservation" in a for a in _anomalies(preview, malo.household_id))
    unit.unbooked_presence = "free"
    unit.save()
    preview = invoicing.preview_run(regie, 2026, 11, today=dt.date(2026, 12, 1))
    assert not [line for line in _lines(preview, malo) if "présence sans réservation" in line.label]


# --- Views ----------------------------------------------------------------------------------------


@pytest.fixture
def agent(today, auth):
    auth.login(AGENT)
    return today


def _url(demo, unit="repas_phare", day=THURSDAY):
    return f"/gestion/pointage?unit={demo['units'][unit].id}&date={day.isoformat()}"


def test_page_lists_children_with_radio_buttons(agent, client):
    response = client.get(_url(agent))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Pointage" in page and "Léa Martin" in page and "Inès" in page and "jeudi 19 novembre 2026" in page
    assert "Présent" in page and "Absence justifiée" in page and "Enregistrer le pointage" in page
    assert "Sans porc" in page and "PAI" in page and "Arachide" in page  # agents may see health details
    assert "Ajouter un enfant présent sans réservation" in page
    assert client.get("/gestion/pointage").status_code == 200  # default unit, today


def test_post_records_and_confirms(agent, client):
    lea = _booking(agent, "lea")
    response = post_form(client, "/gestion/pointage", {"unit": lea.unit_id, "date": "2026-11-19",
                                                        f"etat-{lea.id}": "absent"}, token_page=_url(agent))
    assert response.status_code == 302
    assert Booking.get_by_id(lea.id).attendance == "absent"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Pointage enregistré pour Restauration scolaire – École du Phare – Repas, 19/11/2026 : 1 changement(s)." in page
    assert 'role="status"' in page and "État actuel : Absent" in page


def test_bad_input_gives_french_message_and_saves_nothing(agent, client):
    lea = _booking(agent, "lea")
    response = post_form(client, "/gestion/pointage", {"unit": lea.unit_id, "date": "2026-11-19",
                                                        f"etat-{lea.id}": "ailleurs"}, token_page=_url(agent))
    assert response.status_code == 400 and "Choisissez « Présent », « Absent »" in response.get_data(as_text=True)
    response = post_form(client, "/gestion/pointage", {"unit": "abc", "date": "2026-11-19",
                                                        f"etat-{lea.id}": "present"}, token_page=_url(agent))
    assert response.status_code == 400 and "Choisissez une prestation" in response.get_data(as_text=True)
    response = post_form(client, "/gestion/pointage", {"unit": lea.unit_id, "date": "19-19-2026",
                                                        f"etat-{lea.id}": "present"}, token_page=_url(agent))
    assert response.status_code == 400 and "jj/mm/aaaa" in response.get_data(as_text=True)
    response = client.get("/gestion/pointage?unit=999999&date=demain")
    assert response.status_code == 400
    assert Booking.get_by_id(lea.id).attendance == ""
    assert AuditLog.select().where(AuditLog.action == "attendance.record").count() == 0


def test_search_and_add_a_child_without_booking(agent, client):
    unit, malo = agent["units"]["repas_phare"], agent["children"]["malo"]
    page = client.get(_url(agent) + "&recherche=Malo").get_data(as_text=True)
    assert "Malo" in page and "Ajouter comme présent" in page
    response = post_form(client, "/gestion/pointage/presences",
                         {"unit": unit.id, "date": "2026-11-19", "child_id": malo.id}, token_page=_url(agent))
    assert response.status_code == 302
    assert Attendance.select().where(Attendance.child == malo.id).count() == 1
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "est noté(e) présent(e) sans réservation" in page and "Présents sans réservation (1)" in page
    response = post_form(client, "/gestion/pointage/presences",
                         {"unit": unit.id, "date": "2026-11-19", "child_id": malo.id}, token_page=_url(agent))
    assert response.status_code == 400 and "déjà noté" in response.get_data(as_text=True)
    row = Attendance.get(Attendance.child == malo.id)
    response = post_form(client, f"/gestion/pointage/presences/{row.id}/supprimer", {}, token_page=_url(agent))
    assert response.status_code == 302 and Attendance.select().where(Attendance.child == malo.id).count() == 0
    assert post_form(client, "/gestion/pointage/presences/999999/supprimer", {},
                     token_page=_url(agent)).status_code == 404


def test_future_day_is_shown_read_only(agent, client):
    page = client.get(_url(agent, day=dt.date(2026, 11, 20))).get_data(as_text=True)
    assert "le pointage sera possible le jour même" in page and "Enregistrer le pointage" not in page


def test_kitchen_and_regisseur_cannot_open_pointage(today, client, auth):
    for email in ("cuisine@example.fr", "regisseur@example.fr"):  # demo accounts
        auth.login(email)
        assert client.get(_url(today)).status_code == 403
        lea = _booking(today, "lea")
        response = post_form(client, "/gestion/pointage", {"unit": lea.unit_id, "date": "2026-11-19",
                                                            f"etat-{lea.id}": "absent"}, token_page="/gestion/")
        assert response.status_code == 403 and Booking.get_by_id(lea.id).attendance == ""
        auth.logout()
