"""Accueils « sans réservation » (issue 15): rules (rounding per quarter-hour and per slot, per presence,
QF band price, absences free, times checked, toggles refused, invoice lines) and views (pointage with
times, with and without htmx; the parent's read-only row)."""
import datetime as dt
import html

import pytest

from models import Attendance, AuditLog, BasketLine, Booking, Household, Invoice, InvoiceLine, Regie, Unit, User
from services.billing import invoicing
from services.booking import activities as config
from services.booking import basket, planning, timed_attendance, week_copy
from services.core.errors import DomainError
from tests.conftest import post_form

THURSDAY = dt.date(2026, 11, 26)
AGENT = "agent@example.fr"


@pytest.fixture
def evening(demo, freeze):
    """The demo on Thursday 26 November 2026 at 17:00, while the evening care runs."""
    freeze("2026-11-26T17:00")
    return demo


def _unit(demo, **changes) -> Unit:
    unit = Unit.get_by_id(demo["units"]["accueil_soir_phare"].id)
    for key, value in changes.items():
        setattr(unit, key, value)
    unit.save()
    return unit


def _agent() -> User:
    return User.get(User.email == AGENT)


def _november(demo, household="martin"):
    regie = Regie.get(Regie.code == "PERI")
    preview = invoicing.preview_run(regie, 2026, 11, today=dt.date(2026, 12, 1))
    return next(d for d in preview.drafts if d.household.id == demo["households"][household].id)


def _evening_lines(draft):
    return [line for line in draft.lines if line.unit.attendance_only]


# --- Counting rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize("arrived, left, expected", [
    ("16:40", "18:05", 6),  # 85 minutes: the sixth quarter-hour is started, so it counts
    ("16:30", "17:30", 4),  # exactly four
    ("16:30", "17:31", 5),  # one minute into the fifth
    ("16:30", "16:31", 1),
])
def test_a_started_quarter_hour_counts(demo, arrived, left, expected):
    unit = _unit(demo, attendance_pricing="quarter_hour")
    assert timed_attendance.quantity(unit, arrived, left) == expected


@pytest.mark.parametrize("minutes, arrived, left, expected", [
    (60, "16:30", "17:30", 1), (60, "16:30", "17:31", 2), (60, "16:40", "18:05", 2), (45, "16:30", "18:00", 2),
    (45, "16:30", "18:01", 3),
])
def test_a_started_slot_counts(demo, minutes, arrived, left, expected):
    unit = _unit(demo, attendance_pricing="slot", slot_minutes=minutes)
    assert timed_attendance.quantity(unit, arrived, left) == expected


def test_per_presence_ignores_the_times_and_a_timed_presence_needs_both(demo):
    assert timed_attendance.quantity(_unit(demo, attendance_pricing="presence"), "16:30", "18:30") == 1
    unit = _unit(demo, attendance_pricing="quarter_hour")
    assert timed_attendance.quantity(unit, "16:30", "") is None
    assert timed_attendance.quantity(unit, "17:00", "16:45") is None


# --- Invoice lines -------------------------------------------------------------------------------------


def test_quarter_hours_billed_at_the_households_qf_band(demo):
    """Martin (QF 850) pays the 600–1000 band, 0,45 € a quarter-hour: 6 + 4 quarter-hours in November."""
    lines = _evening_lines(_november(demo))
    assert [(line.label, line.unit_price, line.quantity, line.amount) for line in lines] == [
        ("Accueil du soir – jeudi 19 novembre : 16:40–18:05, 6 quarts d'heure", 45, 6, 270),
        ("Accueil du soir – mardi 24 novembre : 16:30–17:20, 4 quarts d'heure", 45, 4, 180),
    ]
    assert lines[0].band == "QF de 600 à 999 €" and lines[0].summary.endswith("0,45\xa0€ × 6 = 2,70\xa0€")
    Household.update(quotient_familial=1320).where(Household.id == demo["households"]["martin"].id).execute()
    assert [line.amount for line in _evening_lines(_november(demo))] == [360, 240]  # 0,60 € band


def test_per_slot_and_per_presence_lines(demo):
    _unit(demo, attendance_pricing="slot", slot_minutes=60)
    lines = _evening_lines(_november(demo))
    assert [(line.label, line.quantity, line.amount) for line in lines] == [
        ("Accueil du soir – jeudi 19 novembre : 16:40–18:05, 2 créneaux de 1 h", 2, 90),
        ("Accueil du soir – mardi 24 novembre : 16:30–17:20, 1 créneau de 1 h", 1, 45)]
    _unit(demo, attendance_pricing="presence")
    (line,) = _evening_lines(_november(demo))
    assert (line.label, line.quantity, line.amount) == ("Accueil du soir – présence", 2, 90)
    assert line.days == [dt.date(2026, 11, 19), dt.date(2026, 11, 24)]


def test_an_absence_costs_nothing_and_a_missing_departure_is_an_anomaly(demo):
    lea = demo["children"]["lea"]
    Attendance.update(status="absent").where(  # times left over from a mistake: still nothing to pay
        (Attendance.child == lea.id) & (Attendance.date == dt.date(2026, 11, 19))).execute()
    Attendance.update(left_at="").where((Attendance.child == lea.id) & (Attendance.date == dt.date(2026, 11, 24))).execute()
    draft = _november(demo)
    assert _evening_lines(draft) == []
    assert any("sans heure de départ" in text and "non facturé" in text for text in draft.anomalies)
    assert not any("présent(e) sans réservation" in text and "Accueil du soir" in text for text in draft.anomalies)


def test_issued_invoice_carries_the_lines(demo, freeze):
    freeze("2026-12-02T10:00")
    regie = Regie.get(Regie.code == "PERI")
    draft = _november(demo)
    invoice = invoicing.issue_invoice(regie, draft.household, dt.date(2026, 11, 1), dt.date(2026, 11, 30), draft.lines)
    rows = list(InvoiceLine.select().where((InvoiceLine.invoice == invoice) & InvoiceLine.label.startswith("Accueil du soir"))
                .order_by(InvoiceLine.position))
    assert [(r.label, r.days, r.unit_price, r.quantity, r.amount) for r in rows] == [
        ("Accueil du soir – jeudi 19 novembre : 16:40–18:05, 6 quarts d'heure", "jeu. 19 nov.", 45, 6, 270),
        ("Accueil du soir – mardi 24 novembre : 16:30–17:20, 4 quarts d'heure", "mar. 24 nov.", 45, 4, 180)]
    assert Invoice.get_by_id(invoice.id).amount == draft.amount


# --- Recording times ----------------------------------------------------------------------------------


def test_record_times_saves_and_audits(evening):
    unit, lea = _unit(evening), evening["children"]["lea"]
    row = timed_attendance.record_times(_agent(), unit, THURSDAY, lea.id, "present", "16:35")
    assert (row.status, row.arrived_at, row.left_at) == ("present", "16:35", "")  # still there today
    row = timed_attendance.record_times(_agent(), unit, THURSDAY, lea.id, "present", "16h35", "17:50")
    assert (row.arrived_at, row.left_at) == ("16:35", "17:50")
    assert Attendance.select().where((Attendance.child == lea.id) & (Attendance.date == THURSDAY)).count() == 1
    row = timed_attendance.record_times(_agent(), unit, THURSDAY, lea.id, "absent", "16:35", "17:50")
    assert (row.status, row.arrived_at, row.left_at) == ("absent", "", "")
    assert timed_attendance.record_times(_agent(), unit, THURSDAY, lea.id, "") is None
    assert not Attendance.select().where((Attendance.child == lea.id) & (Attendance.date == THURSDAY)).exists()
    assert AuditLog.select().where(AuditLog.action == "attendance.times").count() == 4


@pytest.mark.parametrize("state, arrival, departure, day, message", [
    ("present", "25:00", "", THURSDAY, "sous la forme 16:40"),
    ("present", "16:40", "soir", THURSDAY, "sous la forme 16:40"),
    ("present", "17:30", "17:10", THURSDAY, "doit être après son arrivée"),
    ("present", "17:30", "17:30", THURSDAY, "doit être après son arrivée"),
    ("present", "05:10", "", THURSDAY, "hors des horaires"),
    ("present", "16:40", "20:00", THURSDAY, "entre 15:30 et 19:30"),
    ("present", "", "", THURSDAY, "Indiquez l'heure d'arrivée"),
    ("present", "16:40", "", dt.date(2026, 11, 23), "Indiquez l'heure de départ"),
    ("ailleurs", "", "", THURSDAY, "Choisissez « Présent »"),
    ("present", "16:40", "17:00", dt.date(2026, 11, 27), "jour à venir"),
    ("present", "16:40", "17:00", dt.date(2026, 11, 25), "ne fonctionne pas"),  # Wednesday
])
def test_bad_times_are_refused_and_nothing_is_saved(evening, state, arrival, departure, day, message):
    unit, lea = _unit(evening), evening["children"]["lea"]
    before = list(Attendance.select().dicts())
    with pytest.raises(DomainError, match=message):
        timed_attendance.record_times(_agent(), unit, day, lea.id, state, arrival, departure)
    assert list(Attendance.select().dicts()) == before


def test_only_enrolled_children_and_only_such_units(evening):
    unit, hugo = _unit(evening), evening["children"]["hugo"]
    with pytest.raises(DomainError, match="n'est pas inscrit"):
        timed_attendance.record_times(_agent(), unit, THURSDAY, hugo.id, "present", "16:40")
    with pytest.raises(DomainError, match="se réserve"):
        timed_attendance.record_times(_agent(), evening["units"]["garderie_soir_phare"], THURSDAY,
                                      evening["children"]["lea"].id, "present", "16:40")
    names = [row.child.first_name for row in timed_attendance.roster(unit, THURSDAY)]
    assert names == ["Léa"]  # every enrolled child, though nobody booked


# --- Parents cannot book it -------------------------------------------------------------------------------


def test_toggle_bulk_and_copy_refuse_the_unit(evening):
    household, lea, unit = evening["households"]["martin"], evening["children"]["lea"], _unit(evening)
    monday = dt.date(2026, 11, 30)
    result = basket.change_cell(household, lea.id, unit.id, monday, True)
    assert not result.changed and "Sans réservation" in result.refusal and result.status.state == "no_booking"
    change = basket.apply_cells(household, {(lea.id, unit.id, monday): True})
    assert change.changed == 0 and "Sans réservation" in change.refused[0]
    assert not BasketLine.select().where(BasketLine.unit == unit.id).exists()
    grid = planning.week_grid(household, monday)
    assert unit.id not in {u.id for u in grid.context.bookable_units_for(lea)}
    assert unit.id not in {u.id for u in week_copy.enrolled_units(household, lea.id, monday, monday)}
    assert not any("Accueil" in line for line in grid.banner)  # no deadline to tell


def test_switching_a_unit_with_bookings_ahead_is_refused(evening):
    unit, lea = evening["units"]["garderie_soir_phare"], evening["children"]["lea"]
    Booking.create(household=lea.household_id, child=lea, unit=unit, date=dt.date(2026, 12, 3), status="booked",
                   created_at=dt.datetime(2026, 11, 26, 9))
    settings = config.UnitSettings(name=unit.name, weekdays=[0, 1, 3, 4], default_price=180,
                                   booking=config.deadlines.Policy(kind="days_before", amount=1, at_time="18:00"),
                                   attendance_only=True, attendance_pricing="quarter_hour")
    with pytest.raises(DomainError, match="réservation\\(s\\) à venir"):
        config.save_unit(_agent(), unit.activity, settings, Unit.get_by_id(unit.id))
    assert not Unit.get_by_id(unit.id).attendance_only


# --- Views ---------------------------------------------------------------------------------------------


def _sheet_url(demo, day=THURSDAY):
    return f"/gestion/pointage?unit={demo['units']['accueil_soir_phare'].id}&date={day.isoformat()}"


@pytest.fixture
def agent_client(evening, auth, client):
    auth.login(AGENT)
    return client


def test_sheet_lists_enrolled_children_with_time_fields(evening, agent_client):
    page = html.unescape(agent_client.get(_sheet_url(evening)).get_data(as_text=True))
    assert "Enfants inscrits (1)" in page and "Léa Martin" in page and "État actuel : Non pointé" in page
    assert 'type="time"' in page and "Arrivée" in page and "Départ" in page and "quart d'heure" in page
    assert "Ajouter un enfant présent sans réservation" not in page
    past = html.unescape(agent_client.get(_sheet_url(evening, dt.date(2026, 11, 19))).get_data(as_text=True))
    assert "État actuel : Présent 16:40–18:05" in past and 'value="18:05"' in past


def test_post_without_javascript_saves_and_comes_back(evening, agent_client):
    lea, unit = evening["children"]["lea"], evening["units"]["accueil_soir_phare"]
    response = post_form(agent_client, "/gestion/pointage/horaires",
                         {"unit": unit.id, "date": "2026-11-26", "child_id": lea.id, "etat": "present",
                          "arrivee": "16:45", "depart": ""}, token_page=_sheet_url(evening))
    assert response.status_code == 302
    row = Attendance.get((Attendance.child == lea.id) & (Attendance.date == THURSDAY))
    assert (row.status, row.arrived_at, row.left_at) == ("present", "16:45", "")
    page = agent_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Léa Martin : Présent 16:45–…" in page


def test_htmx_post_answers_the_row_and_a_status_message(evening, agent_client):
    lea, unit = evening["children"]["lea"], evening["units"]["accueil_soir_phare"]
    response = post_form(agent_client, "/gestion/pointage/horaires",
                         {"unit": unit.id, "date": "2026-11-26", "child_id": lea.id, "etat": "present",
                          "arrivee": "16:45", "depart": "17:10"}, token_page=_sheet_url(evening),
                         headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert f'id="presence-{lea.id}"' in body and "État actuel : Présent 16:45–17:10" in body
    assert 'hx-swap-oob="innerHTML:#messages"' in body and "Léa Martin : Présent 16:45–17:10" in body
    assert Attendance.get((Attendance.child == lea.id) & (Attendance.date == THURSDAY)).left_at == "17:10"


@pytest.mark.parametrize("htmx", [False, True])
def test_bad_time_gives_a_french_message_and_saves_nothing(evening, agent_client, htmx):
    lea, unit = evening["children"]["lea"], evening["units"]["accueil_soir_phare"]
    headers = {"HX-Request": "true"} if htmx else {}
    response = post_form(agent_client, "/gestion/pointage/horaires",
                         {"unit": unit.id, "date": "2026-11-26", "child_id": lea.id, "etat": "present",
                          "arrivee": "17:30", "depart": "17:05"}, token_page=_sheet_url(evening), headers=headers)
    body = response.get_data(as_text=True)
    assert response.status_code == (200 if htmx else 400)
    assert "Le départ de Léa (17:05) doit être après son arrivée (17:30)." in body
    assert 'value="17:30"' in body and 'value="17:05"' in body  # what was typed stays to be corrected
    assert not Attendance.select().where((Attendance.child == lea.id) & (Attendance.date == THURSDAY)).exists()


def test_parent_grid_shows_the_row_read_only(evening, auth, client):
    auth.login("famille.martin@example.fr")
    lea, unit = evening["children"]["lea"], evening["units"]["accueil_soir_phare"]
    page = html.unescape(client.get("/reservations?semaine=2026-W48").get_data(as_text=True))
    cell = page.split(f'id="cell-{lea.id}-{unit.id}-2026-11-24"')[1].split("</td>")[0]
    assert "Présent 16:30–17:20" in cell and "state-present" in cell and 'type="checkbox"' not in cell
    later = page.split(f'id="cell-{lea.id}-{unit.id}-2026-11-27"')[1].split("</td>")[0]
    assert "Sans réservation" in later and 'type="checkbox"' not in later and "hx-post" not in later
    assert "Sans réservation · 0,45\xa0€ le quart d'heure commencé" in page
    assert f'value="{lea.id}:{unit.id}"' not in page  # no « Toute la semaine » for it
    response = post_form(client, "/reservations/case", {"cell": f"{lea.id}:{unit.id}:2026-11-30",
                                                        "cells": f"{lea.id}:{unit.id}:2026-11-30"},
                         token_page="/reservations", headers={"HX-Request": "true"})
    assert "Non modifié : Sans réservation" in response.get_data(as_text=True)
    assert not BasketLine.select().where(BasketLine.unit == unit.id).exists()
    bulk = client.get("/reservations/en-masse").get_data(as_text=True)
    assert "Accueil du soir" not in bulk
    Attendance.update(status="absent", arrived_at="", left_at="").where(Attendance.date == dt.date(2026, 11, 24)).execute()
    page = client.get("/reservations?semaine=2026-W48").get_data(as_text=True)
    cell = page.split(f'id="cell-{lea.id}-{unit.id}-2026-11-24"')[1].split("</td>")[0]
    assert "Absent" in cell and "state-absent" in cell
