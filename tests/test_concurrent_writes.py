"""Double clicks and two guardians at once: the same write sent several times together gives one
normal answer each and one result in the database, never a 500 (SQLite and PostgreSQL)."""
from __future__ import annotations

import datetime as dt
import threading

import pytest

from models import BasketLine, Booking, EmailCode, Household, Order, OrderLine, Unit, User, db
from services.accounts import signup, throttle, users
from services.billing import checkout
from services.booking import basket, placement
from services.core.errors import DomainError
from services.core.transactions import is_sqlite, lock_rows, write_transaction
from tests.conftest import last_code_for

MON = dt.date(2026, 11, 23)
TUE = dt.date(2026, 11, 24)


def race(count: int, work) -> tuple[list, list[Exception]]:
    """Run work(n) in `count` threads released together, each on its own connection."""
    results, errors = [], []
    barrier = threading.Barrier(count)
    db.close()  # the test's connection is not shared with the threads

    def run(n):
        try:
            with db.connection_context():
                barrier.wait()
                results.append(work(n))
        except Exception as error:  # noqa: BLE001 - the test looks at every error
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    db.connect(reuse_if_open=True)
    return results, errors


def unexpected(errors: list[Exception]) -> list[Exception]:
    """Errors a user would see as a 500 (a DomainError is a normal answer with a message)."""
    return [e for e in errors if not isinstance(e, DomainError)]


@pytest.fixture
def martin(demo, freeze):
    freeze("2026-11-19T17:55")
    return Household.get_by_id(demo["households"]["martin"].id)


def test_the_same_cell_ticked_at_once_gives_one_basket_line(demo, martin):
    lea, repas = demo["children"]["lea"].id, demo["units"]["repas_phare"].id
    results, errors = race(8, lambda n: basket.change_cell(martin, lea, repas, MON, True))
    assert unexpected(errors) == []
    assert sum(1 for r in results if r.changed) == 1
    assert all(r.status.checked for r in results)
    assert BasketLine.select().where(BasketLine.household == martin.id).count() == 1


def test_a_double_submitted_sign_up_creates_one_account(app):
    email = "double.clic@example.fr"
    results, errors = race(6, lambda n: signup.register(email, "Double-Clic-Portail-2026!"))
    assert unexpected(errors) == []
    assert User.select().where(User.email == email).count() == 1
    assert len(results) == throttle.SIGNUP_PER_EMAIL.count  # the per-address limit holds at once too
    user = User.get(User.email == email)
    live = EmailCode.select().where((EmailCode.user == user) & (EmailCode.voided == False)).count()  # noqa: E712
    assert live == 1  # only the last code sent is valid, and it activates the account
    signup.confirm_code(email, last_code_for(email))
    assert User.get_by_id(user.id).activated


def test_a_double_submitted_code_activates_one_household(app):
    email = "code.double@example.fr"
    signup.register(email, "Code-Double-Portail-2026!")
    code = last_code_for(email)
    households_before = Household.select().count()
    results, errors = race(4, lambda n: signup.confirm_code(email, code))
    assert unexpected(errors) == []
    assert Household.select().count() == households_before + 1
    assert User.get(User.email == email).activated


def test_wrong_codes_sent_in_parallel_are_all_counted(app):
    email = "devine@example.fr"
    signup.register(email, "Devine-Le-Code-2026!")
    right = last_code_for(email)
    wrong = f"{(int(right) + 1) % 10000:04d}"
    results, errors = race(8, lambda n: signup.confirm_code(email, wrong))
    assert unexpected(errors) == [] and len(errors) == 8
    code = EmailCode.select().join(User).where(User.email == email).order_by(EmailCode.id.desc()).first()
    assert code.voided and code.attempts == signup.CODE_MAX_ATTEMPTS  # the brute-force limit holds
    with pytest.raises(DomainError):
        signup.confirm_code(email, right)


def test_wrong_passwords_sent_in_parallel_lock_the_account(demo):
    email = "famille.martin@example.fr"
    results, errors = race(throttle.LOCK_AFTER + 2, lambda n: users.authenticate(email, "mauvais-mot-de-passe"))
    assert unexpected(errors) == [] and len(errors) == throttle.LOCK_AFTER + 2
    assert throttle.login_state(email).locked_until is not None  # every failure was counted


def test_a_double_clicked_validate_makes_one_order(demo, martin):
    lea, repas = demo["children"]["lea"].id, demo["units"]["repas_phare"].id
    for day in (MON, TUE):
        basket.set_cell(martin, lea, repas, day, True)
    orders_before = Order.select().count()
    results, errors = race(5, lambda n: checkout.validate_basket(martin))
    assert unexpected(errors) == []
    made = [r.order for r in results if r.order is not None]
    assert len(made) == 1 and Order.select().count() == orders_before + 1
    assert OrderLine.select().where(OrderLine.order == made[0].id).count() == 2
    assert Booking.select().where((Booking.child == lea) & (Booking.unit == repas)
                                  & Booking.date.in_([MON, TUE])).count() == 2
    assert basket.count(martin) == 0


def test_a_tick_does_not_wait_for_another_familys_valider_on_the_same_unit(demo, martin):
    """PostgreSQL: « Valider » locks its units while it counts their places; a tick of another family on the
    same unit writes a basket line, whose foreign key checks the unit (KEY SHARE). A unit locked FOR UPDATE
    held every tick of the commune behind each « Valider » (the rush: 21 ms per basket line insert)."""
    if is_sqlite():
        pytest.skip("SQLite: one writer at a time at the gate, by design")
    lea, repas = demo["children"]["lea"].id, demo["units"]["repas_phare"].id
    locked, release, ticked = threading.Event(), threading.Event(), []
    db.close()

    def valider():  # what placement does first, and holds until its commit
        with db.connection_context(), write_transaction():
            lock_rows(Unit, [repas])
            locked.set()
            release.wait(10)

    def tick():
        with db.connection_context():
            ticked.append(basket.change_cell(martin, lea, repas, MON, True).changed)

    holder = threading.Thread(target=valider)
    holder.start()
    assert locked.wait(10)
    ticker = threading.Thread(target=tick)
    ticker.start()
    ticker.join(5)
    waited = ticker.is_alive()
    release.set()
    ticker.join(10)
    holder.join(10)
    db.connect(reuse_if_open=True)
    assert not waited and ticked == [True]
    assert BasketLine.select().where(BasketLine.household == martin.id).count() == 1


DEC_1, DEC_2 = dt.date(2026, 12, 1), dt.date(2026, 12, 2)


def held(work):
    """Run work() in a write transaction of its own thread and keep it open: (release, thread)."""
    done, release = threading.Event(), threading.Event()

    def hold():
        with db.connection_context(), write_transaction():
            work()
            done.set()
            release.wait(10)

    db.close()
    thread = threading.Thread(target=hold)
    thread.start()
    assert done.wait(10)
    return release, thread


def held_placement(household, lines):
    """A placement whose transaction stays open: (release, thread)."""
    return held(lambda: placement.place_bookings(household, lines))


def second_placement(household, lines) -> tuple[bool, list, list]:
    """Another family's placement in its own thread: (waited more than 3 s, results, errors)."""
    results, errors = [], []

    def place():
        try:
            with db.connection_context():
                results.extend(placement.place_bookings(household, lines))
        except Exception as error:  # noqa: BLE001 - the test looks at it
            errors.append(error)

    thread = threading.Thread(target=place)
    thread.start()
    thread.join(3)
    return thread, results, errors


def finish(release, holder, other) -> bool:
    """Whether the second placement was still waiting; then let both end."""
    waited = other.is_alive()
    release.set()
    holder.join(10)
    other.join(10)
    db.connect(reuse_if_open=True)
    return waited


@pytest.mark.parametrize("first, second, unit, day, waits, outcome", [
    # A canteen without a capacity counts no places, so its placements need not queue (the rush: every
    # « Valider » of the commune waited 370 ms on the same units).
    ("lea", "ines", "repas_phare", DEC_1, False, "booked"),
    # Where places are counted, one placement at a time: the other counts after the first's commit (the
    # Wednesdays are validated by staff).
    ("hugo", "ines", "alsh_apres_midi", DEC_2, True, "requested"),
], ids=["canteen-side-by-side", "counted-places-in-turn"])
def test_two_families_placing_on_one_unit_wait_only_where_places_are_counted(demo, martin, first, second, unit,
                                                                            day, waits, outcome):
    """PostgreSQL: Martin's placement holds its transaction open while Dupont places on the same unit and day."""
    if is_sqlite():
        pytest.skip("SQLite: one writer at a time at the gate, by design")
    dupont = Household.get_by_id(demo["households"]["dupont"].id)
    mine, theirs, place = demo["children"][first], demo["children"][second], demo["units"][unit]
    release, holder = held_placement(martin, [(mine, place, day)])
    other, results, errors = second_placement(dupont, [(theirs, place, day)])
    assert finish(release, holder, other) == waits
    assert errors == [] and [r.outcome for r in results] == [outcome]
    assert Booking.select().where((Booking.unit == place.id) & (Booking.date == day)
                                  & Booking.child.in_([mine.id, theirs.id])).count() == 2


def test_the_same_childs_day_placed_twice_at_once_gives_one_booking(demo, martin):
    """A parent's « Valider » and the desk on the same child and day: the second reads the first's booking
    (« Déjà réservé »), not a duplicate key error."""
    lea, repas = demo["children"]["lea"], demo["units"]["repas_phare"]
    release, holder = held_placement(martin, [(lea, repas, DEC_1)])
    other, results, errors = second_placement(martin, [(lea, repas, DEC_1)])
    finish(release, holder, other)
    assert errors == [] and [r.outcome for r in results] == ["unchanged"]
    assert Booking.select().where((Booking.child == lea.id) & (Booking.unit == repas.id)
                                  & (Booking.date == DEC_1)).count() == 1


def test_a_capacity_set_while_a_placement_waits_refuses_it_with_a_message(demo, martin):
    """PostgreSQL: staff give the canteen a capacity while a « Valider » that read it without one waits for the
    unit: under the lock it reads the committed configuration again and refuses, changing nothing."""
    if is_sqlite():
        pytest.skip("SQLite: one writer at a time at the gate, by design")
    lea, repas = demo["children"]["lea"], demo["units"]["repas_phare"]
    release, holder = held(lambda: Unit.update(capacity=200).where(Unit.id == repas.id).execute())  # staff
    other, results, errors = second_placement(martin, [(lea, repas, DEC_1)])
    assert finish(release, holder, other)  # the unit's row is being changed: the placement waited
    assert [getattr(e, "message", e) for e in errors] == [placement.CAPACITY_CHANGED] and results == []
    assert not Booking.select().where((Booking.child == lea.id) & (Booking.unit == repas.id)
                                      & (Booking.date == DEC_1)).exists()
