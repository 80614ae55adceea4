"""day_status / week_statuses: every state, reasons in French, prices, places; bounded queries;
place_bookings under a capacity lock (30 concurrent validations for the last 3 places)."""
import contextlib
import datetime as dt
import threading

import pytest

from models import BasketLine, Booking, CapacityOverride, Child, Enrolment, Household, db
from services.booking import day_status as rules
from services.booking import placement
from services.booking.day_status import day_status, week_statuses
from services.booking.placement import LineRequest, place_bookings
from services.core import clock

D = dt.date


@contextlib.contextmanager
def count_queries():
    """Count SQL statements executed on the database while the block runs."""
    database = db.obj
    original = database.execute_sql

    class Counter:
        count = 0
        sql: list = []

    def counting(sql, params=None, *args, **kwargs):
        Counter.count += 1
        Counter.sql.append(sql)
        return original(sql, params, *args, **kwargs)

    database.execute_sql = counting
    try:
        yield Counter
    finally:
        database.execute_sql = original


def at(text):
    return clock.parse_frozen(text)


def test_available_then_locked_at_the_canteen_deadline(demo):
    lea, repas = demo["children"]["lea"], demo["units"]["repas_phare"]
    status = day_status(lea, repas, D(2026, 11, 30), at("2026-11-26T17:55"))
    assert status.state == "available" and status.can_book and status.label == "Disponible"
    assert status.reason == "Réservable jusqu'au jeudi 26 novembre à 18 h"
    assert status.price == 290  # QF unknown → default price
    status = day_status(lea, repas, D(2026, 11, 30), at("2026-11-26T18:01"))
    assert status.state == "locked" and not status.can_book and status.label == "Hors délai"
    assert status.reason == "Hors délai : modifiable jusqu'au jeudi 26 novembre à 18 h"


@pytest.mark.parametrize("moment, open_", [("2026-11-26T17:59:59", True), ("2026-11-26T18:00:00", True),
                                            ("2026-11-26T18:00:01", False)])
def test_the_deadline_second_through_the_engine(demo, moment, open_):
    """« Jusqu'au jeudi 18 h » includes 18:00:00 and not a second more: booking and cancelling, cell and placement."""
    lea, repas = demo["children"]["lea"], demo["units"]["repas_phare"]
    Booking.delete().where((Booking.child == lea.id) & (Booking.unit == repas.id)
                           & Booking.date.in_([D(2026, 11, 30), D(2026, 12, 1)])).execute()
    status = day_status(lea, repas, D(2026, 11, 30), at(moment))
    assert status.can_book is open_ and status.state == ("available" if open_ else "locked")
    household = Household.get_by_id(demo["households"]["martin"].id)
    [result] = place_bookings(household, [(lea, repas, D(2026, 11, 30))], at(moment))
    assert result.outcome == ("booked" if open_ else "refused")
    assert Booking.select().where((Booking.child == lea.id) & (Booking.unit == repas.id)
                                  & (Booking.date == D(2026, 11, 30)) & (Booking.status == "booked")).exists() is open_
    booked = Booking.create(household=household, child=lea, unit=repas, date=D(2026, 12, 1), status="booked",
                            price=290, created_at=clock.local_now(), updated_at=clock.local_now())
    [cancel] = place_bookings(household, [(lea, repas, D(2026, 12, 1), "remove")], at(moment))
    assert cancel.outcome == ("cancelled" if open_ else "refused")
    assert Booking.get_by_id(booked.id).status == ("cancelled" if open_ else "booked")


def test_closed_and_holiday_reasons(demo):
    lea, repas = demo["children"]["lea"], demo["units"]["repas_phare"]
    now = at("2026-11-01T10:00")
    assert day_status(lea, repas, D(2026, 12, 2), now).state == "closed"  # Wednesday
    status = day_status(lea, repas, D(2026, 11, 11), now)
    assert status.state == "closed" and status.label == "Férié"


def test_not_enrolled_and_pending_enrolment(demo):
    jade, repas_phare = demo["children"]["jade"], demo["units"]["repas_phare"]
    status = day_status(jade, repas_phare, D(2026, 11, 30), at("2026-11-20T10:00"))
    assert status.state == "not_enrolled" and status.label == "Non inscrit"
    mercredi = demo["units"]["alsh_journee"]
    Enrolment.create(child=jade, activity=mercredi.activity, status="requested", requested_at=clock.local_now())
    status = day_status(jade, mercredi, D(2026, 12, 2), at("2026-11-20T10:00"))
    assert status.state == "not_enrolled" and status.reason == "Inscription en attente de validation"


def test_price_follows_qf_band_and_pai(demo):
    lea, repas = demo["children"]["lea"], demo["units"]["repas_phare"]
    Household.update(quotient_familial=550).where(Household.id == lea.household_id).execute()
    Child.update(has_pai=False).where(Child.id == lea.id).execute()
    lea = Child.get_by_id(lea.id)
    assert day_status(lea, repas, D(2026, 11, 30), at("2026-11-20T10:00")).price == 100
    Child.update(has_pai=True).where(Child.id == lea.id).execute()
    lea = Child.get_by_id(lea.id)
    assert day_status(lea, repas, D(2026, 11, 30), at("2026-11-20T10:00")).price == 150


def test_opening_date_locks_bookings(demo):
    lea, repas = demo["children"]["lea"], demo["units"]["repas_phare"]
    status = day_status(lea, repas, D(2026, 9, 3), at("2026-07-01T10:00"))
    assert status.state == "locked"
    assert status.reason == "Réservations ouvertes à partir du lundi 6 juillet 2026 à 8 h"
    assert day_status(lea, repas, D(2026, 9, 3), at("2026-07-06T08:00")).state == "available"


def test_basket_booked_cancel_and_absence_states(demo):
    lea, repas = demo["children"]["lea"], demo["units"]["repas_phare"]
    household = lea.household
    now = at("2026-11-19T17:00")
    BasketLine.create(household=household, child=lea, unit=repas, date=D(2026, 11, 30), action="add",
                      created_at=clock.local_now())
    status = day_status(lea, repas, D(2026, 11, 30), now)
    assert status.state == "basket_add" and status.checked and status.label == "À ajouter"
    results = place_bookings(household, [LineRequest(lea, repas, D(2026, 11, 30))], now)
    assert results[0].outcome == "booked" and results[0].price == 290
    BasketLine.delete().execute()
    status = day_status(lea, repas, D(2026, 11, 30), now)
    assert status.state == "booked" and status.can_cancel and status.checked
    # After the deadline: still booked, no cancel, but an illness absence may be declared
    # ("Justifier une absence") until 48 h after the day.
    status = day_status(lea, repas, D(2026, 11, 30), at("2026-11-27T09:00"))
    assert status.state == "booked" and not status.can_cancel and status.can_declare_absence
    assert status.reason == "Hors délai : annulable jusqu'au jeudi 26 novembre à 18 h"
    status = day_status(lea, repas, D(2026, 11, 30), at("2026-12-01T09:00"))
    assert status.can_declare_absence
    assert not day_status(lea, repas, D(2026, 11, 30), at("2026-12-03T00:01")).can_declare_absence
    # Cancel through a basket line.
    BasketLine.create(household=household, child=lea, unit=repas, date=D(2026, 11, 30), action="remove",
                      created_at=clock.local_now())
    assert day_status(lea, repas, D(2026, 11, 30), now).state == "basket_remove"
    results = place_bookings(household, BasketLine.select(), now)
    assert results[0].outcome == "cancelled"
    BasketLine.delete().execute()
    assert day_status(lea, repas, D(2026, 11, 30), now).state == "available"


def test_attendance_states(demo):
    lea, repas = demo["children"]["lea"], demo["units"]["repas_phare"]
    place_bookings(lea.household, [(lea, repas, D(2026, 11, 30), "add")], at("2026-11-19T10:00"))
    Booking.update(attendance="absent_justified").execute()
    status = day_status(lea, repas, D(2026, 11, 30), at("2026-12-01T10:00"))
    assert status.state == "absent_justified" and status.label == "Absence justifiée"


def test_staff_validation_gives_requested(demo):
    lea, journee = demo["children"]["lea"], demo["units"]["alsh_journee"]
    now = at("2026-11-20T10:00")
    status = day_status(lea, journee, D(2026, 12, 2), now)
    assert status.state == "available" and status.needs_validation and "(soumis à validation)" in status.reason
    results = place_bookings(lea.household, [(lea, journee, D(2026, 12, 2))], now)
    assert results[0].outcome == "requested"
    status = day_status(lea, journee, D(2026, 12, 2), now)
    assert status.state == "requested" and status.label == "En attente de validation"
    placement.decide_request(results[0].booking, accept=True)
    assert day_status(lea, journee, D(2026, 12, 2), now).state == "booked"
    # Cancelling a validated booking of such an activity is a request too.
    results = place_bookings(lea.household, [(lea, journee, D(2026, 12, 2), "remove")], now)
    assert results[0].outcome == "cancel_requested"
    assert day_status(lea, journee, D(2026, 12, 2), now).state == "cancel_requested"


def test_alsh_48_hours_deadline(demo):
    lea, journee = demo["children"]["lea"], demo["units"]["alsh_journee"]
    assert day_status(lea, journee, D(2026, 12, 2), at("2026-11-29T23:59")).can_book
    assert day_status(lea, journee, D(2026, 12, 2), at("2026-11-30T00:01")).state == "locked"


def _fill(unit, day, count, demo):
    """`count` other children booked on a unit and day (new households, validated enrolments)."""
    now = clock.local_now()
    for i in range(count):
        household = Household.create(name=f"Foyer {i}", status="validated")
        child = Child.create(household=household, first_name=f"Enfant{i}", last_name="Test")
        Enrolment.create(child=child, activity=unit.activity, status="validated", requested_at=now)
        Booking.create(household=household, child=child, unit=unit, date=day, status="booked", sequence=i + 1,
                       created_at=now)


def test_full_last_places_and_capacity_override(demo):
    lea, journee = demo["children"]["lea"], demo["units"]["alsh_journee"]
    now = at("2026-11-20T10:00")
    _fill(journee, D(2026, 12, 2), 22, demo)
    status = day_status(lea, journee, D(2026, 12, 2), now)
    assert status.places_left == 2 and status.last_places and status.reason.startswith("Dernières places (2)")
    CapacityOverride.create(unit=journee, date=D(2026, 12, 2), capacity=22)
    status = day_status(lea, journee, D(2026, 12, 2), now)
    assert status.places_left == 0 and status.state == "available" and status.will_wait
    assert status.reason == "Complet : inscription possible sur liste d'attente"
    journee.waiting_list = False
    journee.save()
    status = day_status(lea, journee, D(2026, 12, 2), now)
    assert status.state == "full" and status.label == "Complet" and not status.can_book
    results = place_bookings(lea.household, [(lea, journee, D(2026, 12, 2))], now)
    assert results[0].outcome == "refused" and results[0].message == "Complet"


def test_override_limits_a_unit_without_default_capacity(demo):
    lea, journee = demo["children"]["lea"], demo["units"]["alsh_journee"]
    now = at("2026-11-20T10:00")
    journee.capacity, journee.waiting_list = None, False
    journee.save()
    _fill(journee, D(2026, 12, 2), 2, demo)
    assert day_status(lea, journee, D(2026, 12, 2), now).places_left is None
    CapacityOverride.create(unit=journee, date=D(2026, 12, 2), capacity=2)
    status = day_status(lea, journee, D(2026, 12, 2), now)
    assert status.state == "full" and status.places_left == 0
    assert place_bookings(lea.household, [(lea, journee, D(2026, 12, 2))], now)[0].outcome == "refused"


def test_waiting_list_position_and_promotion(demo):
    lea, ines, journee = demo["children"]["lea"], demo["children"]["ines"], demo["units"]["alsh_journee"]
    now = at("2026-11-20T10:00")
    _fill(journee, D(2026, 12, 2), 24, demo)
    first = place_bookings(ines.household, [(ines, journee, D(2026, 12, 2))], now)[0]
    second = place_bookings(lea.household, [(lea, journee, D(2026, 12, 2))], now)[0]
    assert (first.outcome, first.waiting_position) == ("waiting_list", 1)
    assert (second.outcome, second.waiting_position) == ("waiting_list", 2)
    status = day_status(lea, journee, D(2026, 12, 2), now)
    assert status.state == "waiting_list" and status.reason == "Sur liste d'attente, position 2"
    # A place frees up; staff give it to the first waiting.
    # (scoped to the day: the demo has bookings of its own)
    Booking.update(status="cancelled").where(Booking.id == Booking.select(Booking.id).where(
        (Booking.status == "booked") & (Booking.date == D(2026, 12, 2))).limit(1)).execute()
    placement.confirm_waiting(first.booking)
    assert Booking.get_by_id(first.booking.id).status == "booked"
    assert day_status(lea, journee, D(2026, 12, 2), now).reason == "Sur liste d'attente, position 1"
    with pytest.raises(rules.Full):
        placement.confirm_waiting(second.booking)


def test_auto_confirm_waiting_on_cancellation(demo):
    lea, journee = demo["children"]["lea"], demo["units"]["alsh_journee"]
    activity = journee.activity
    activity.auto_confirm_waiting, activity.booking_validation = True, False
    activity.save()
    now = at("2026-11-20T10:00")
    _fill(journee, D(2026, 12, 2), 23, demo)
    ines = demo["children"]["ines"]
    assert place_bookings(ines.household, [(ines, journee, D(2026, 12, 2))], now)[0].outcome == "booked"
    assert place_bookings(lea.household, [(lea, journee, D(2026, 12, 2))], now)[0].outcome == "waiting_list"
    assert place_bookings(ines.household, [(ines, journee, D(2026, 12, 2), "remove")], now)[0].outcome == "cancelled"
    assert day_status(lea, journee, D(2026, 12, 2), now).state == "booked"


def test_refusals_are_explained_and_change_nothing(demo):
    lea, jade, repas = demo["children"]["lea"], demo["children"]["jade"], demo["units"]["repas_phare"]
    now = at("2026-11-26T18:01")
    results = place_bookings(lea.household, [(lea, repas, D(2026, 11, 30)), (lea, repas, D(2026, 12, 2))], now)
    assert [r.outcome for r in results] == ["refused", "refused"]
    assert results[0].message.startswith("Hors délai")
    assert not Booking.select().where(Booking.date.in_([D(2026, 11, 30), D(2026, 12, 2)])).exists()
    with pytest.raises(rules.BookingRefused):
        place_bookings(lea.household, [(jade, repas, D(2026, 12, 7))], now)
    # Staff may book after the deadline, with the late surcharge.
    result = place_bookings(lea.household, [(lea, repas, D(2026, 11, 30))], now, by_staff=True)[0]
    assert result.outcome == "booked" and result.price == 390 and result.booking.late


def test_week_statuses_bounded_queries(demo):
    dupont = demo["households"]["dupont"]
    now = at("2026-11-19T17:55")
    place_bookings(dupont, [(demo["children"]["ines"], demo["units"]["repas_phare"], D(2026, 11, 30))], now)
    BasketLine.create(household=dupont, child=demo["children"]["malo"], unit=demo["units"]["repas_phare"],
                      date=D(2026, 12, 1), action="add", created_at=clock.local_now())
    counts = []
    for _ in ("configuration read", "configuration cached"):
        with count_queries() as counter:
            grid = week_statuses(dupont, D(2026, 11, 30), D(2026, 12, 6), now)
            cells = [grid.status(child, unit, day) for child in grid.children for unit in grid.units
                     for day in grid.days()]
        counts.append(counter.count)
    assert len(grid.children) == 3 and len(cells) >= 3 * 6 * 7
    # Cold: each configuration table once; then only the token, the family's rows and the day's occupancy.
    assert counts[0] <= 18 and counts[1] <= 8, (counts, counter.sql)
    states = {(c.first_name, u.id, d): grid.status(c, u, d).state for c in grid.children
              for u in grid.units_for(c) for d in grid.days()}
    repas = demo["units"]["repas_phare"].id
    assert states[("Inès", repas, D(2026, 11, 30))] == "booked"
    assert states[("Malo", repas, D(2026, 12, 1))] == "basket_add"
    assert states[("Malo", repas, D(2026, 12, 2))] == "closed"
    # A whole month costs the same number of queries.
    with count_queries() as month:
        grid = week_statuses(dupont, D(2026, 11, 1), D(2026, 11, 30), now)
        for child in grid.children:
            for unit in grid.units_for(child):
                for day in grid.days():
                    grid.status(child, unit, day)
    assert month.count <= 16


def _crowd(journee, n):
    """n households each with one child enrolled in the unit's activity."""
    now = clock.local_now()
    children = []
    for i in range(n):
        household = Household.create(name=f"Course {i}", status="validated")
        child = Child.create(household=household, first_name=f"Coureur{i}", last_name="Test")
        Enrolment.create(child=child, activity=journee.activity, status="validated", requested_at=now)
        children.append(child)
    return children


def test_thirty_concurrent_validations_for_the_last_three_places(demo, app):
    journee = demo["units"]["alsh_journee"]
    activity = journee.activity
    activity.booking_validation = False
    activity.save()
    day = D(2026, 12, 2)
    _fill(journee, day, 21, demo)
    racers = _crowd(journee, 30)
    db.close()  # each thread opens its own connection
    now = at("2026-11-20T10:00")
    barrier = threading.Barrier(30)
    outcomes, errors = {}, []

    def validate(child):
        try:
            with db.connection_context():
                household = Household.get_by_id(child.household_id)
                barrier.wait()
                result = place_bookings(household, [(child, journee, day)], now)[0]
                outcomes[child.id] = result.outcome
        except Exception as error:  # noqa: BLE001 — reported below
            errors.append(error)

    threads = [threading.Thread(target=validate, args=(child,)) for child in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    db.connect(reuse_if_open=True)
    assert not errors, errors
    assert sorted(outcomes.values()).count("booked") == 3
    assert sorted(outcomes.values()).count("waiting_list") == 27
    racer_ids = [c.id for c in racers]
    rows = list(Booking.select().where(Booking.child.in_(racer_ids)).order_by(Booking.sequence))
    assert [r.status for r in rows] == ["booked"] * 3 + ["waiting_list"] * 27  # arrival order
    assert len({r.sequence for r in rows}) == 30
    assert Booking.select().where((Booking.unit == journee.id) & (Booking.date == day)
                                  & (Booking.status == "booked")).count() == 24
    queue = placement.waiting_queue(journee, day)
    assert [b.id for b in queue] == [r.id for r in rows[3:]]
    last = Child.get_by_id(rows[-1].child_id)
    assert day_status(last, journee, day, now).reason == "Sur liste d'attente, position 27"


def test_arrival_numbers_only_where_places_are_counted(demo, freeze):
    """Where places are counted (a capacity) a booking takes the next arrival number under the unit's lock;
    a canteen without a capacity ranks nobody: 0, and no query for it."""
    freeze("2026-11-19T17:55")
    martin = Household.get_by_id(demo["households"]["martin"].id)
    lea, hugo = demo["children"]["lea"], demo["children"]["hugo"]
    repas, afternoon = demo["units"]["repas_phare"], demo["units"]["alsh_apres_midi"]
    wednesday = dt.date(2026, 12, 2)
    before = Booking.select().where((Booking.unit == afternoon.id) & (Booking.date == wednesday)).count()
    canteen, counted = place_bookings(martin, [(lea, repas, dt.date(2026, 12, 1)), (hugo, afternoon, wednesday)])
    assert canteen.outcome == "booked" and canteen.booking.sequence == 0
    assert counted.outcome == "requested" and counted.booking.sequence == before + 1
