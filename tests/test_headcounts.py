"""Effectifs (/gestion/effectifs): the service's counts per unit, diets and PAI for the kitchen,
closed days from the calendar, the CSV export, and who may open the page."""
import datetime as dt

import pytest

from models import Attendance, Booking, CapacityOverride, Closure, User, db
from services.accounts import users
from services.booking import headcounts
from services.core import clock
from services.core.transactions import is_sqlite
from services.demo import DEMO_PASSWORD
from tests.test_query_counts import counting_queries

AGENT = "agent@example.fr"
KITCHEN = "cuisine@example.fr"
FRIDAY = dt.date(2026, 11, 20)  # the demo's tomorrow (demo today: Thursday 19 November 2026)


@pytest.fixture
def kitchen(demo):
    return User.get(User.email == KITCHEN)  # the demo's kitchen account


def _row(counts, unit):
    return next(row for row in counts.rows if row.unit.id == unit.id)


def test_counts_per_unit_match_the_bookings(demo):
    units = demo["units"]
    counts = headcounts.day_counts(FRIDAY)
    repas = _row(counts, units["repas_phare"])
    expected = Booking.select().where((Booking.unit == units["repas_phare"].id) & (Booking.date == FRIDAY)
                                      & Booking.status.in_(("booked", "cancel_requested"))).count()
    assert repas.open and repas.meal and repas.booked == expected == 3  # Léa, Inès, Malo
    assert not _row(counts, units["garderie_soir_phare"]).meal


def test_diets_and_pai_for_the_kitchen(demo):
    counts = headcounts.day_counts(FRIDAY)
    repas = _row(counts, demo["units"]["repas_phare"])
    assert dict(repas.diets) == {"Sans porc": 1, "Végétarien": 1, headcounts.NO_DIET: 1}
    assert repas.pai == 1  # Léa
    assert counts.meal_total == sum(r.booked for r in counts.meals)
    assert sum(n for _name, n in counts.diet_totals) == counts.meal_total
    assert counts.diet_totals[-1][0] == headcounts.NO_DIET


def test_requested_waiting_capacity_and_places_left(demo):
    units = demo["units"]
    full_day = dt.date(2026, 12, 9)  # ALSH Wednesday: capacity 1 that day, Inès booked, Hugo waiting
    row = _row(headcounts.day_counts(full_day), units["alsh_journee"])
    assert (row.booked, row.waiting, row.capacity, row.places_left, row.state) == (1, 1, 1, 0, "Complet")
    row = _row(headcounts.day_counts(dt.date(2026, 12, 16)), units["alsh_journee"])
    assert row.requested == 1 and row.booked == 0 and row.capacity == 24 and row.places_left == 23
    CapacityOverride.create(unit=units["alsh_journee"], date=dt.date(2026, 12, 16), capacity=5)
    row = _row(headcounts.day_counts(dt.date(2026, 12, 16)), units["alsh_journee"])
    assert row.capacity == 5 and row.places_left == 4


def test_days_held_for_prepayment_count_as_pending(demo):
    unit, day = demo["units"]["alsh_journee"], dt.date(2026, 12, 16)
    before = _row(headcounts.day_counts(day), unit)
    Booking.update(status="held").where((Booking.unit == unit.id) & (Booking.date == day)
                                        & (Booking.status == "requested")).execute()
    after = _row(headcounts.day_counts(day), unit)
    assert (after.requested, after.booked, after.places_left) == (before.requested, before.booked, before.places_left)


def test_closed_days_carry_the_calendar_reason(demo):
    units = demo["units"]
    Closure.create(activity=units["repas_phare"].activity, starts_on=FRIDAY, ends_on=FRIDAY, reason="Grève")
    row = _row(headcounts.day_counts(FRIDAY), units["repas_phare"])
    assert not row.open and row.state == "Fermé" and row.closed_reason == "Fermeture : Grève"
    assert row.places_left is None
    saturday = _row(headcounts.day_counts(dt.date(2026, 11, 21)), units["repas_phare"])
    assert not saturday.open and saturday.closed_reason == "Pas d'accueil ce jour-là"


def test_absences_and_unbooked_presence_change_the_expected_count(demo):
    units, children = demo["units"], demo["children"]
    lea = Booking.get((Booking.child == children["lea"].id) & (Booking.unit == units["repas_phare"].id)
                      & (Booking.date == FRIDAY))
    lea.attendance = "absent"
    lea.save()
    Attendance.create(household=children["hugo"].household, child=children["hugo"], unit=units["repas_phare"],
                      date=FRIDAY, recorded_at=clock.local_now())
    row = _row(headcounts.day_counts(FRIDAY), units["repas_phare"])
    assert (row.booked, row.absent, row.unbooked_present, row.expected) == (3, 1, 1, 3)


def test_csv_has_header_and_one_line_per_unit(demo):
    counts = headcounts.day_counts(FRIDAY)
    text = headcounts.csv_text(counts)
    lines = text.lstrip("\ufeff").strip().splitlines()
    assert lines[0].startswith("Date;Activité;Prestation;État")
    assert len(lines) == len(counts.rows) + 1
    assert any("Repas" in line and "Sans porc : 1" in line for line in lines)
    assert "Arachide" not in text


# --- Views ----------------------------------------------------------------------------------------


def test_agent_sees_tomorrow_by_default(demo, client, auth, freeze):
    freeze("2026-11-19T17:55")
    auth.login(AGENT)
    response = client.get("/gestion/effectifs")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Effectifs du vendredi 20 novembre 2026" in page
    assert "Repas à préparer" in page and "Sans porc" in page and "PAI" in page
    assert "Jour précédent" in page and "date=2026-11-21" in page and "date=2026-11-19" in page
    assert "Exporter en CSV" in page and "Version imprimable" in page
    assert "css/staff.css" in page


def test_a_chosen_day_and_a_closed_day(demo, client, auth):
    Closure.create(activity=demo["units"]["repas_phare"].activity, starts_on=FRIDAY, ends_on=FRIDAY,
                   reason="Pont")
    auth.login(AGENT)
    page = client.get("/gestion/effectifs?date=2026-11-20").get_data(as_text=True)
    assert "Effectifs du vendredi 20 novembre 2026" in page
    assert "Fermé" in page and "Fermeture : Pont" in page
    page = client.get("/gestion/effectifs?date=20/11/2026").get_data(as_text=True)
    assert "Effectifs du vendredi 20 novembre 2026" in page


def test_bad_date_gives_a_french_message_not_a_500(demo, client, auth, freeze):
    freeze("2026-11-19T17:55")
    auth.login(AGENT)
    response = client.get("/gestion/effectifs?date=n'importe-quoi")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Indiquez la date au format jj/mm/aaaa." in page and "Effectifs du vendredi 20 novembre 2026" in page
    assert client.get("/gestion/effectifs.csv?date=2026-13-45").status_code == 400


def test_csv_export(demo, client, auth):
    auth.login(AGENT)
    response = client.get("/gestion/effectifs.csv?date=2026-11-20")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="effectifs-2026-11-20.csv"' in response.headers["Content-Disposition"]
    assert "Restauration scolaire – École du Phare" in response.get_data(as_text=True)


def test_kitchen_sees_counts_but_no_health_details(kitchen, client, auth):
    auth.login(KITCHEN)
    response = client.get("/gestion/effectifs?date=2026-11-20")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Sans porc" in page
    for secret in ("Arachide", "Lactose", "Léa", "Martin"):
        assert secret not in page
    assert "Pointage de ce jour" not in page
    assert client.get("/gestion/effectifs.csv?date=2026-11-20").status_code == 200


def test_who_may_open_effectifs(demo, client, auth):
    assert client.get("/gestion/effectifs").status_code == 302  # sign-in first
    auth.login()  # a parent
    assert client.get("/gestion/effectifs").status_code == 404
    auth.logout()
    User.create(email="regie@example.fr", password_hash=users.hash_password(DEMO_PASSWORD), role="regisseur",
                activated=True)
    auth.login("regie@example.fr")
    assert client.get("/gestion/effectifs").status_code == 403


def test_the_days_bookings_are_read_from_the_index_alone(demo):
    """At 5,000 households a canteen's day is 10,000 bookings scattered over the table: the absences and
    the régimes were read row by row (50–100 ms a page); (unit, date, status, attendance, child) answers
    them from the index (migration 028). SQLite's plan says so; PostgreSQL decides by its statistics."""
    if not is_sqlite():
        pytest.skip("the plan checked is SQLite's; PostgreSQL runs the same queries (the tests above)")
    with counting_queries() as log:
        headcounts.day_counts(FRIDAY)
    statements = [(sql, params) for sql, params in log.executed if "booking" in sql]
    grouped = [(sql, params) for sql, params in statements if "GROUP BY" in sql]
    assert len(grouped) >= 3, statements  # statuses, absences, régimes
    for sql, params in grouped:
        plan = " | ".join(row[3] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
        assert "t1 USING COVERING INDEX booking_unit_id_date_status_attendance_child_id" in plan, (sql, plan)
