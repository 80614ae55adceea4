"""The basket service: every cell transition, validation into numbered orders, refusals, expiry."""
from __future__ import annotations

import datetime as dt

import pytest

from models import Alert, BasketLine, Booking, CapacityOverride, Household, Order, OrderLine, User
from services.billing import checkout
from services.booking import absences, basket, week_copy
from services.booking import day_status as engine
from services.booking import orders
from services.core import clock
from services.core.errors import NotFound
from tests.conftest import outbox_messages

MON, TUE, WED, THU, FRI = (dt.date(2026, 11, 23) + dt.timedelta(days=i) for i in range(5))


@pytest.fixture
def martin(demo, freeze):
    freeze("2026-11-19T17:55")
    return Household.get_by_id(demo["households"]["martin"].id)


def toggle(household, child_id, unit_id, day):
    """Flip one cell, as a tap on the grid does."""
    child, unit = basket.owned_cell(household, child_id, unit_id)
    return basket.set_cell(household, child.id, unit.id, day, not engine.day_status(child, unit, day).checked)[0]


def ids(demo, child="lea", unit="repas_phare"):
    return demo["children"][child].id, demo["units"][unit].id


def test_tick_an_available_day_adds_a_line_and_untick_removes_it(demo, martin):
    lea, repas = ids(demo)
    status = toggle(martin, lea, repas, MON)
    assert status.state == "basket_add" and status.checked
    assert basket.count(martin) == 1
    status = toggle(martin, lea, repas, MON)
    assert status.state == "available" and not status.checked
    assert basket.count(martin) == 0


def test_set_cell_is_idempotent(demo, martin):
    lea, repas = ids(demo)
    assert basket.set_cell(martin, lea, repas, MON, True)[1] is True
    assert basket.set_cell(martin, lea, repas, MON, True)[1] is False
    assert basket.count(martin) == 1


@pytest.mark.parametrize("day, reason", [(dt.date(2026, 11, 20), "Hors délai"), (dt.date(2026, 11, 25), "")])
def test_locked_or_closed_cells_are_refused(demo, martin, day, reason):
    lea, repas = ids(demo)
    # 20 November is booked by the demo but past its deadline; Wednesday: no canteen.
    with pytest.raises(basket.CellRefused) as refusal:
        basket.set_cell(martin, lea, repas, day, not engine.day_status(
            demo["children"]["lea"], demo["units"]["repas_phare"], day).checked)
    assert reason in refusal.value.message
    assert basket.count(martin) == 0


def test_another_households_child_is_not_found(demo, martin):
    ines, repas = ids(demo, "ines")
    with pytest.raises(NotFound):
        toggle(martin, ines, repas, MON)


def test_validation_books_numbers_the_order_and_mails_a_summary(demo, martin):
    lea, repas = ids(demo)
    for day in (MON, TUE, FRI):
        toggle(martin, lea, repas, day)
    view = basket.contents(martin)
    assert view.count == 3 and view.total == 3 * 150  # Léa has a PAI: panier repas price
    before = Order.select().count()
    result = checkout.validate_basket(martin, demo["users"]["martin"])
    assert result.order.number == f"2026-{before + 1:06d}"
    assert result.order.total == 450 and not result.refused
    assert OrderLine.select().where(OrderLine.order == result.order).count() == 3
    assert Booking.select().where((Booking.child == lea) & (Booking.date.in_([MON, TUE, FRI]))
                                  & (Booking.status == "booked")).count() == 3
    assert basket.count(martin) == 0
    mail = outbox_messages()[0]
    assert mail["to"] == "famille.martin@example.fr"
    assert f"Commande n° {result.order.number}" in mail["subject"]
    assert "Total : 4,50" in mail["body"]
    status = engine.day_status(demo["children"]["lea"], demo["units"]["repas_phare"], MON)
    assert status.state == "booked"


def test_order_numbers_are_gapless(demo, martin):
    lea, repas = ids(demo)
    numbers = []
    for day in (MON, TUE):
        toggle(martin, lea, repas, day)
        numbers.append(checkout.validate_basket(martin).order.number)
    first, second = (int(n.split("-")[1]) for n in numbers)
    assert second == first + 1


def test_a_line_that_became_hors_delai_is_reported_not_booked(demo, martin):
    lea, repas = ids(demo)
    toggle(martin, lea, repas, MON)
    assert basket.contents(martin).items[0].problem == ""
    clock.freeze("2026-11-19T18:01")
    assert "Hors délai" in basket.contents(martin).items[0].problem
    result = checkout.validate_basket(martin)
    assert result.order is None
    assert [r.outcome for r in result.refused] == ["refused"]
    assert "Hors délai" in result.refused[0].message
    assert not Booking.select().where((Booking.child == lea) & (Booking.date == MON)).exists()


def test_empty_basket_cannot_be_validated(demo, martin):
    with pytest.raises(basket.EmptyBasket):
        checkout.validate_basket(martin)


def test_cancellation_goes_through_the_basket(demo, martin, freeze):
    lea, repas = ids(demo)
    toggle(martin, lea, repas, MON)
    checkout.validate_basket(martin)
    status = toggle(martin, lea, repas, MON)
    assert status.state == "basket_remove" and not status.checked
    item = basket.contents(martin).items[0]
    assert item.action_label == "Annulation" and item.signed_price == -150
    result = checkout.validate_basket(martin)
    assert result.placed[0].outcome == "cancelled"
    assert Booking.get((Booking.child == lea) & (Booking.date == MON)).status == "cancelled"


def test_staff_validation_activity_gives_requested_then_decision_alerts(demo, martin):
    lea, journee = ids(demo, "lea", "alsh_journee")
    toggle(martin, lea, journee, dt.date(2027, 1, 13))
    result = checkout.validate_basket(martin)
    assert result.placed[0].outcome == "requested"
    pending, _history = orders.household_orders(martin)
    assert result.order.id in [v.order.id for v in pending]
    orders.decide(result.placed[0].booking.id, accept=False, reason="Groupe complet")
    assert Booking.get_by_id(result.placed[0].booking.id).status == "refused"
    alert = Alert.select().where(Alert.household == martin.id).order_by(Alert.id.desc()).first()
    assert alert.title == "Réservation refusée" and "Groupe complet" in alert.body
    _pending, history = orders.household_orders(martin)
    assert result.order.id in [v.order.id for v in history]


def test_full_unit_with_waiting_list_then_staff_confirm(demo, martin):
    hugo, journee = ids(demo, "hugo", "alsh_journee")
    waiting = Booking.get((Booking.child == hugo) & (Booking.status == "waiting_list"))
    status = engine.day_status(demo["children"]["hugo"], demo["units"]["alsh_journee"], waiting.date)
    assert status.state == "waiting_list" and status.reason == "Sur liste d'attente, position 1"
    slots = orders.waiting_lists(dt.date(2026, 11, 19))
    assert [s.booking.id for s in slots] == [waiting.id] and slots[0].places_left == 0
    with pytest.raises(engine.BookingRefused):
        orders.confirm_waiting(waiting.id)
    CapacityOverride.update(capacity=2).where(CapacityOverride.date == waiting.date).execute()
    orders.confirm_waiting(waiting.id)
    assert Booking.get_by_id(waiting.id).status == "booked"
    assert Alert.select().where((Alert.household == martin.id) & (Alert.title == "Place attribuée")).exists()


def test_adding_to_a_full_day_goes_to_the_waiting_list(demo, martin):
    lea, journee = ids(demo, "lea", "alsh_journee")
    status = toggle(martin, lea, journee, dt.date(2026, 12, 9))
    assert status.state == "basket_add" and status.will_wait
    result = checkout.validate_basket(martin)
    assert result.placed[0].outcome == "waiting_list" and result.placed[0].waiting_position == 2


def test_stale_basket_is_emptied_with_a_notice(demo, martin):
    lea, repas = ids(demo)
    toggle(martin, lea, repas, dt.date(2026, 12, 7))
    assert basket.expire_if_stale(martin, clock.now() + dt.timedelta(days=6)) == 0
    assert basket.expire_if_stale(martin, clock.now() + dt.timedelta(days=7, minutes=1)) == 1
    assert basket.count(martin) == 0
    assert Alert.select().where((Alert.household == martin.id) & (Alert.title == "Panier vidé")).exists()


def test_basket_is_shared_by_the_households_guardians(demo, martin):
    lea, repas = ids(demo)
    other = User.create(email="thomas.martin@example.fr", role="parent", household=martin, activated=True,
                        created_at=clock.local_now())
    toggle(Household.get_by_id(other.household_id), lea, repas, MON)
    assert basket.count(martin) == 1


def test_unit_week_books_then_unbooks_the_week(demo, martin):
    lea, repas = ids(demo)
    result = basket.week_of_unit(martin, lea, repas, MON, FRI)
    assert result.changed == 4  # Monday, Tuesday, Thursday, Friday
    assert basket.count(martin) == 4
    result = basket.week_of_unit(martin, lea, repas, MON, FRI)
    assert basket.count(martin) == 0


def test_copy_week_goes_canteen_to_canteen_across_schools(demo, freeze):
    """Observed: copying Inès's week (canteen of École du Phare) gave Jade (École du Petit Prince) nothing,
    and the message did not say so. A service is copied to the sibling's service of the same kind."""
    freeze("2026-11-19T17:55")
    dupont = Household.get_by_id(demo["households"]["dupont"].id)
    ines, repas = ids(demo, "ines")
    malo, jade = demo["children"]["malo"].id, demo["children"]["jade"].id
    for day in (MON, THU):
        basket.set_cell(dupont, ines, repas, day, True)
    result = week_copy.copy_week(dupont, ines, MON, FRI)
    lines = {(l.child_id, l.unit_id, l.date) for l in BasketLine.select().where(BasketLine.household == dupont.id)}
    petit_prince = demo["units"]["repas_petit_prince"].id
    assert {(jade, petit_prince, MON), (jade, petit_prince, THU)} <= lines
    assert {(malo, repas, MON), (malo, repas, THU)} <= lines
    assert result.change.changed == 4


def test_copy_week_to_the_siblings_picked_says_what_was_not_copied(demo, freeze):
    freeze("2026-11-19T17:55")
    dupont = Household.get_by_id(demo["households"]["dupont"].id)
    ines = demo["children"]["ines"].id
    malo, jade = demo["children"]["malo"].id, demo["children"]["jade"].id
    basket.set_cell(dupont, ines, demo["units"]["garderie_soir_phare"].id, TUE, True)
    basket.set_cell(dupont, ines, demo["units"]["alsh_journee"].id, WED, True)  # Jade has no ALSH
    result = week_copy.copy_week(dupont, ines, MON, FRI, to=[jade])
    lines = {(l.child_id, l.unit_id, l.date) for l in BasketLine.select().where(BasketLine.household == dupont.id)}
    assert (jade, demo["units"]["garderie_soir_petit_prince"].id, TUE) in lines  # garderie to garderie, by name
    assert not any(child == malo for child, _, _ in lines)  # not picked
    assert result.change.changed == 1
    assert result.skipped == ["Jade : pas d'inscription équivalente à « Journée » (ALSH Mercredi)"]
    with pytest.raises(NotFound):
        week_copy.copy_week(dupont, ines, MON, FRI, to=[demo["children"]["lea"].id])  # another household's child


def test_absence_declaration_after_the_cancel_deadline(demo, martin):
    lea, repas = ids(demo)
    booked = Booking.get((Booking.child == lea) & (Booking.unit == repas) & (Booking.date == dt.date(2026, 11, 19)))
    with pytest.raises(absences.AbsenceRefused):
        absences.declare_absence(martin, booked.id, "")
    declaration = absences.declare_absence(martin, booked.id, "Maladie")
    with pytest.raises(absences.AbsenceRefused):
        absences.declare_absence(martin, booked.id, "Maladie")
    absences.decide_absence(declaration.id, True)
    assert Booking.get_by_id(booked.id).attendance == "absent_justified"
    clock.freeze("2026-11-25T12:00")  # the late-absence window (48 h after the day) is over
    other = Booking.get((Booking.child == lea) & (Booking.unit == repas) & (Booking.date == dt.date(2026, 11, 20)))
    with pytest.raises(absences.AbsenceRefused):
        absences.declare_absence(martin, other.id, "Maladie")


def test_a_tick_restarts_the_baskets_clock_without_rewriting_its_other_lines(demo, martin, freeze):
    """The basket's 7-day clock is its newest line. Each tick rewrote every line's stamp (an UPDATE of the whole
    basket, five indexes a row, at each of the rush's 20,000 ticks): a new line, stamped now,
    already restarts it. Only a change that adds no line (a tick taken back) restamps the others."""
    lea, repas = ids(demo)
    monday, tuesday = dt.date(2026, 12, 7), dt.date(2026, 12, 8)  # open until Thursday 3 December, 18:00
    toggle(martin, lea, repas, monday)
    freeze("2026-11-22T10:00")
    toggle(martin, lea, repas, tuesday)
    stamps = {line.date: line.created_at for line in BasketLine.select().where(BasketLine.household == martin.id)}
    assert stamps == {monday: dt.datetime(2026, 11, 19, 17, 55), tuesday: dt.datetime(2026, 11, 22, 10, 0)}
    assert basket.expire_if_stale(martin, dt.datetime(2026, 11, 26, 18, 0)) == 0  # 7 days after the first tick
    freeze("2026-11-24T09:00")
    toggle(martin, lea, repas, tuesday)  # taken back: no line added, the rest restamped
    stamps = {line.date: line.created_at for line in BasketLine.select().where(BasketLine.household == martin.id)}
    assert stamps == {monday: dt.datetime(2026, 11, 24, 9, 0)}
    assert basket.expire_if_stale(martin, dt.datetime(2026, 11, 29, 10, 1)) == 0  # 7 days after the second
    assert basket.expire_if_stale(martin, dt.datetime(2026, 12, 1, 9, 1)) == 1
