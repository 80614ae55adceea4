"""A freed place goes to the waiting list: confirmed automatically where the activity says so, or
offered to staff; in both cases the waiting family is told ("Mes alertes" and an e-mail)."""
from __future__ import annotations

import datetime as dt

import pytest

from models import Activity, Alert, Booking, CapacityOverride, Household, db
from services.billing import checkout
from services.booking import day_queries, orders, placement
from services.core.transactions import as_date, is_sqlite
from tests.conftest import outbox_messages
from tests.test_basket import toggle
from tests.test_query_counts import counting_queries

FULL_DAY = dt.date(2026, 12, 9)  # demo: capacity 1, Inès booked, Hugo waiting
MARTIN_MAIL = "famille.martin@example.fr"


@pytest.fixture
def setup(demo, freeze):
    freeze("2026-11-19T17:55")
    return {
        "martin": Household.get_by_id(demo["households"]["martin"].id),
        "dupont": Household.get_by_id(demo["households"]["dupont"].id),
        "ines": demo["children"]["ines"].id,
        "lea": demo["children"]["lea"].id,
        "journee": demo["units"]["alsh_journee"].id,
        "activity": demo["units"]["alsh_journee"].activity_id,
        "hugo_waiting": Booking.get((Booking.child == demo["children"]["hugo"].id) & (Booking.date == FULL_DAY)),
    }


def _activity(setup, **flags):
    Activity.update(**flags).where(Activity.id == setup["activity"]).execute()


def _alerts(household, title):
    return list(Alert.select().where((Alert.household == household.id) & (Alert.title == title)))


def _mails(subject):
    return [m for m in outbox_messages() if m["to"] == MARTIN_MAIL and m["subject"] == subject]


def _cancel_ines_through_basket(setup):
    toggle(setup["dupont"], setup["ines"], setup["journee"], FULL_DAY)
    result = checkout.validate_basket(setup["dupont"])
    assert result.placed[0].outcome == "cancelled"
    return result


def test_basket_cancellation_auto_confirms_the_first_waiting_and_tells_the_family(setup):
    _activity(setup, auto_confirm_waiting=True, booking_validation=False)
    _cancel_ines_through_basket(setup)
    assert Booking.get_by_id(setup["hugo_waiting"].id).status == "booked"
    alert, = _alerts(setup["martin"], "Place attribuée")
    assert "Hugo" in alert.body and "Réservé" in alert.body
    assert _mails("Place attribuée")


def test_basket_cancellation_offers_the_place_to_staff_and_tells_the_family(setup):
    _activity(setup, auto_confirm_waiting=False, booking_validation=False)
    _cancel_ines_through_basket(setup)
    hugo = Booking.get_by_id(setup["hugo_waiting"].id)
    assert hugo.status == "waiting_list"  # staff decide
    alert, = _alerts(setup["martin"], "Place libérée")
    assert "proposée au service" in alert.body
    assert _mails("Place libérée")
    slot = next(s for s in orders.waiting_lists(dt.date(2026, 11, 19)) if s.booking.id == hugo.id)
    assert slot.places_left == 1 and slot.position == 1
    orders.confirm_waiting(hugo.id)
    assert Booking.get_by_id(hugo.id).status == "booked"
    assert _alerts(setup["martin"], "Place attribuée")


def test_staff_accepting_a_cancellation_request_frees_the_place(setup):
    # ALSH Mercredi has staff validation: the parent's cancellation is a request first.
    _activity(setup, auto_confirm_waiting=True)
    toggle(setup["dupont"], setup["ines"], setup["journee"], FULL_DAY)
    result = checkout.validate_basket(setup["dupont"])
    assert result.placed[0].outcome == "cancel_requested"
    assert Booking.get_by_id(setup["hugo_waiting"].id).status == "waiting_list"
    assert not _alerts(setup["martin"], "Place attribuée")
    orders.decide(result.placed[0].booking.id, accept=True)
    # Auto-confirmed into the activity's own validation step: staff see it in their queue.
    assert Booking.get_by_id(setup["hugo_waiting"].id).status == "requested"
    assert setup["hugo_waiting"].id in [r.booking.id for r in orders.pending_requests()]
    assert _alerts(setup["martin"], "Place attribuée") and _mails("Place attribuée")


def test_staff_refusing_a_request_offers_the_place_to_the_waiting(setup):
    day = dt.date(2026, 12, 16)  # demo: Léa's request waits for staff
    lea_request = Booking.get((Booking.child == setup["lea"]) & (Booking.date == day))
    assert lea_request.status == "requested"
    CapacityOverride.create(unit=setup["journee"], date=day, capacity=1)
    toggle(setup["dupont"], setup["ines"], setup["journee"], day)
    assert checkout.validate_basket(setup["dupont"]).placed[0].outcome == "waiting_list"
    orders.decide_order(next(l.order_id for l in lea_request.order_lines), accept=False, reason="Groupe complet")
    assert Booking.get_by_id(lea_request.id).status == "refused"
    ines = Booking.get((Booking.child == setup["ines"]) & (Booking.date == day))
    assert ines.status == "waiting_list"
    alert, = _alerts(setup["dupont"], "Place libérée")
    assert "Inès" in alert.body
    assert [m for m in outbox_messages() if m["to"] == "famille.dupont@example.fr" and m["subject"] == "Place libérée"]


def test_an_offer_already_taken_is_not_announced(setup):
    _activity(setup, auto_confirm_waiting=False, booking_validation=False)
    # An offer is only told while a place is still free (e.g. taken meanwhile by another line).
    hugo = Booking.get_by_id(setup["hugo_waiting"].id)
    assert orders.notify_promotions([hugo]) == 0  # full day: nothing to announce
    assert not _alerts(setup["martin"], "Place libérée")
    assert placement.places_left(hugo.unit, FULL_DAY) == 0


def test_a_cancellation_still_frees_the_place_of_a_day_whose_capacity_was_removed(setup):
    """A cancelled day asks whether a family waits only where one can: a unit whose capacity was removed
    since Hugo went on the waiting list is asked too, and Hugo gets the place."""
    from models import Unit

    _activity(setup, auto_confirm_waiting=True, booking_validation=False)
    Unit.update(capacity=None).where(Unit.id == setup["journee"]).execute()
    CapacityOverride.delete().where(CapacityOverride.unit == setup["journee"]).execute()
    _cancel_ines_through_basket(setup)
    assert Booking.get_by_id(setup["hugo_waiting"].id).status == "booked"
    assert _alerts(setup["martin"], "Place attribuée")


def test_a_days_places_are_counted_without_reading_its_waiting_list(setup):
    """The 5 December rush (3,000 families waiting on a Wednesday of 24 places): counting the day's places
    read every waiting booking of the week from the (unit, date, status) index and, on PostgreSQL, from the
    table too — the range of days left status out of the index's search. Each day is now sought with its
    statuses. The demo's tables are too small for PostgreSQL's plan to say it (a scan or any index is as
    cheap); SQLite's does, and `bench/rush.py` measures PostgreSQL's."""
    monday = FULL_DAY - dt.timedelta(days=FULL_DAY.weekday())
    with counting_queries() as log:
        taken = day_queries.places_taken([setup["journee"]], monday, monday + dt.timedelta(days=6))
    assert [(u, as_date(d), n) for u, d, n in taken] == [(setup["journee"], FULL_DAY, 1)]  # Inès, not Hugo
    (sql, params), = log.executed
    assert '"date" IN (' in sql and len(params) == 1 + 7 + len(Booking.OCCUPYING), sql
    if is_sqlite():
        plan = " | ".join(row[3] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
        assert "status=?" in plan, plan  # SEARCH … (unit_id=? AND date=? AND status=?)
    # A school year's range is still one range (a list of 300 days would be sought 300 times).
    with counting_queries() as log:
        day_queries.places_taken([setup["journee"]], monday, monday + dt.timedelta(days=300))
    assert "BETWEEN" in log.executed[0][0]
