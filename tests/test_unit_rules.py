"""Exclusive and dependent units (issue 15): « Journée » excludes « Matin » and « Après-midi » of the ALSH
Mercredi, « Repas » requires « Matin » or « Journée »; placement, staff approval, the basket's swap."""
import datetime as dt

import pytest

from models import BasketLine, Booking, CapacityOverride, Household, UnitRule
from services.booking import basket, desk, orders, placement, unit_rules
from services.booking.day_status import BookingRefused, week_statuses
from services.booking.placement import place_bookings
from services.core import clock
from services.core.errors import InvalidInput

WEDNESDAY = dt.date(2026, 12, 2)  # bookable at the tests' clock (2026-11-29 11:00, « 48 h avant »)
NEXT = dt.date(2026, 12, 9)  # Léa has no ALSH day then (the demo's Journée of the 16th is hers)


def _martin(demo):
    return Household.get_by_id(demo["households"]["martin"].id)


def _alsh(demo):
    units = demo["units"]
    return units["alsh_journee"], units["alsh_matin"], units["alsh_apres_midi"], units["alsh_repas"]


def _held(child, day=WEDNESDAY):
    return {b.unit.name for b in Booking.select().where((Booking.child == child.id) & (Booking.date == day)
                                                         & Booking.status.in_(("booked", "requested", "waiting_list")))}


def test_the_observed_defect_four_alsh_units_posted_together(demo):
    """The defect: Journée, Matin, Après-midi and Repas booked at once (26,10 €), staff approve all four."""
    lea = demo["children"]["lea"]
    journee, matin, apres_midi, repas = _alsh(demo)
    results = place_bookings(_martin(demo), [(lea, u, WEDNESDAY) for u in (journee, matin, apres_midi, repas)])
    outcomes = {r.unit.name: (r.outcome, r.message) for r in results}
    assert outcomes["Journée"][0] == "requested"
    assert outcomes["Matin"] == ("refused", "Incompatible avec Journée")
    assert outcomes["Après-midi"] == ("refused", "Incompatible avec Journée")
    assert outcomes["Repas"][0] == "requested"  # Journée, placed in the same validation, satisfies it
    assert _held(lea) == {"Journée", "Repas"}


def _requested(household, child, unit, day=WEDNESDAY, status="requested"):
    """A booking as older data may hold it (made before the rules)."""
    return Booking.create(household=household, child=child, unit=unit, date=day, status=status, price=650,
                          created_at=clock.local_now())


def test_staff_approval_of_the_four_requests_refuses_the_incompatible_ones(demo):
    """The defect's other half: four requests made before the rule; staff can approve only a coherent day."""
    martin, lea = _martin(demo), demo["children"]["lea"]
    journee, matin, apres_midi, repas = _alsh(demo)
    rows = {u.name: _requested(martin, lea, u) for u in (journee, matin, apres_midi, repas)}
    with pytest.raises(BookingRefused) as refused:
        placement.decide_request(rows["Journée"], True)
    assert refused.value.message == ("Incompatible avec Matin (aussi demandé ou réservé pour Léa ce jour-là) : "
                                     "refusez l'une des deux demandes.")
    assert Booking.get_by_id(rows["Journée"].id).status == "requested"
    placement.decide_request(rows["Matin"], False, "Journée choisie")
    placement.decide_request(rows["Après-midi"], False, "Journée choisie")
    placement.decide_request(rows["Journée"], True)
    placement.decide_request(rows["Repas"], True)
    assert _held(lea) == {"Journée", "Repas"}


def test_staff_cannot_approve_a_meal_without_its_morning(demo):
    martin, lea = _martin(demo), demo["children"]["lea"]
    repas = _alsh(demo)[3]
    row = _requested(martin, lea, repas)
    with pytest.raises(BookingRefused, match="Repas demande Matin ou Journée, que Léa n'a pas ce jour-là"):
        placement.decide_request(row, True)
    assert Booking.get_by_id(row.id).status == "requested"
    placement.decide_request(row, False, "Pas d'accueil ce matin-là")  # refusing it is always possible
    assert Booking.get_by_id(row.id).status == "refused"


@pytest.mark.parametrize("first, second, reason", [
    ("alsh_matin", "alsh_journee", "Incompatible avec Matin"),  # the declared exclusion, seen from Journée
    ("alsh_journee", "alsh_apres_midi", "Incompatible avec Journée"),
])
def test_exclusion_both_ways_across_validations(demo, first, second, reason):
    martin, lea, units = _martin(demo), demo["children"]["lea"], demo["units"]
    [placed] = place_bookings(martin, [(lea, units[first], WEDNESDAY)])
    assert placed.outcome == "requested"
    [refused] = place_bookings(martin, [(lea, units[second], WEDNESDAY)])
    assert (refused.outcome, refused.message) == ("refused", reason)
    assert _held(lea) == {units[first].name}
    # Another child, or another Wednesday, is not concerned.
    hugo = demo["children"]["hugo"]
    assert place_bookings(martin, [(hugo, units[second], WEDNESDAY)])[0].outcome == "requested"
    assert place_bookings(martin, [(lea, units[second], NEXT)])[0].ok


def test_a_dependency_is_met_by_a_booking_or_a_line_of_the_same_validation(demo):
    martin, lea, hugo = _martin(demo), demo["children"]["lea"], demo["children"]["hugo"]
    journee, matin, _apres_midi, repas = _alsh(demo)
    [alone] = place_bookings(martin, [(hugo, repas, WEDNESDAY)])
    assert (alone.outcome, alone.message) == ("refused", "Repas : réservez aussi Matin ou Journée")
    assert _held(hugo) == set()
    # The meal first in the lines, its morning after: same validation, both placed.
    results = place_bookings(martin, [(hugo, repas, WEDNESDAY), (hugo, matin, WEDNESDAY)])
    assert [r.outcome for r in results] == ["requested", "requested"]
    # A booking made earlier is enough.
    place_bookings(martin, [(lea, journee, WEDNESDAY)])
    assert place_bookings(martin, [(lea, repas, WEDNESDAY)])[0].outcome == "requested"
    assert _held(lea) == {"Journée", "Repas"} and _held(hugo) == {"Matin", "Repas"}


def test_cancelling_the_required_unit_alone_is_refused_naming_the_dependent(demo):
    martin, lea = _martin(demo), demo["children"]["lea"]
    journee, matin, _apres_midi, repas = _alsh(demo)
    for result in place_bookings(martin, [(lea, matin, WEDNESDAY), (lea, repas, WEDNESDAY)]):
        placement.decide_request(result.booking, True)
    [refused] = place_bookings(martin, [(lea, matin, WEDNESDAY, "remove")])
    assert refused.outcome == "refused"
    assert refused.message == ("Matin ne peut pas être retiré seul : Repas demande Matin ou Journée. "
                               "Retirez d'abord Repas.")
    assert _held(lea) == {"Matin", "Repas"}
    # Swapping the morning for the whole day keeps the meal: one validation, removal first.
    results = place_bookings(martin, [(lea, matin, WEDNESDAY, "remove"), (lea, journee, WEDNESDAY)])
    assert [r.outcome for r in results] == ["cancel_requested", "requested"]
    # Both together: the meal and its morning go.
    other = NEXT
    for result in place_bookings(martin, [(lea, matin, other), (lea, repas, other)]):
        placement.decide_request(result.booking, True)
    results = place_bookings(martin, [(lea, matin, other, "remove"), (lea, repas, other, "remove")])
    assert [r.outcome for r in results] == ["cancel_requested", "cancel_requested"]


def test_ticking_journee_swaps_out_matin_in_one_basket_change(demo):
    martin, lea = _martin(demo), demo["children"]["lea"]
    journee, matin, apres_midi, repas = _alsh(demo)
    basket.set_cell(martin, lea.id, matin.id, WEDNESDAY, True)
    basket.set_cell(martin, lea.id, repas.id, WEDNESDAY, True)
    result = basket.change_cell(martin, lea.id, journee.id, WEDNESDAY, True)
    assert result.changed and [u.name for u in result.swapped] == ["Matin"]
    lines = {(l.unit.name, l.action) for l in BasketLine.select().where(BasketLine.household == martin.id)}
    assert lines == {("Journée", "add"), ("Repas", "add")}
    others = {u.name: s for u, s in result.others}
    assert others["Matin"].state == "excluded" and others["Matin"].label == "Incompatible avec Journée"
    assert not others["Matin"].can_toggle and others["Après-midi"].state == "excluded"
    assert others["Repas"].state == "basket_add" and "avec" not in others["Repas"].reason
    # The excluded cell refuses a tick (even posted by hand): nothing changes.
    refused = basket.change_cell(martin, lea.id, matin.id, WEDNESDAY, True)
    assert refused.refusal == "Incompatible avec Journée"
    assert BasketLine.select().where(BasketLine.household == martin.id).count() == 2


def test_toggle_refuses_a_lone_meal_and_removing_its_morning(demo):
    martin, lea = _martin(demo), demo["children"]["lea"]
    _journee, matin, _apres_midi, repas = _alsh(demo)
    status = basket.change_cell(martin, lea.id, repas.id, WEDNESDAY, False).status
    assert status.state == "available" and status.reason.endswith(" · avec Matin ou Journée")
    refused = basket.change_cell(martin, lea.id, repas.id, WEDNESDAY, True)
    assert refused.refusal == "Repas : réservez aussi Matin ou Journée" and basket.count(martin) == 0
    basket.set_cell(martin, lea.id, matin.id, WEDNESDAY, True)
    basket.set_cell(martin, lea.id, repas.id, WEDNESDAY, True)
    refused = basket.change_cell(martin, lea.id, matin.id, WEDNESDAY, False)
    assert refused.refusal.startswith("Matin ne peut pas être retiré seul : Repas demande Matin ou Journée")
    assert basket.count(martin) == 2


def test_the_form_without_javascript_swaps_too(demo):
    martin, lea = _martin(demo), demo["children"]["lea"]
    journee, matin, _apres_midi, repas = _alsh(demo)
    basket.set_cell(martin, lea.id, matin.id, WEDNESDAY, True)
    # The page still shows Matin ticked: the parent ticks Journée and Repas and sends the form.
    change = basket.apply_cells(martin, {(lea.id, u.id, WEDNESDAY): True for u in (repas, journee, matin)})
    assert change.refused == []
    assert change.notes == ["Journée – Léa – mercredi 2 décembre 2026 : remplace Matin dans le panier."]
    assert {l.unit.name for l in BasketLine.select().where(BasketLine.household == martin.id)} == {"Journée", "Repas"}
    validation = basket.validate(martin, notify=False)
    assert [r.outcome for r in validation.results] == ["requested", "requested"]
    assert _held(lea) == {"Journée", "Repas"}


def test_the_desk_grid_shows_the_exclusion_of_a_booked_day(demo):
    martin, lea = _martin(demo), demo["children"]["lea"]
    journee, matin, _apres_midi, _repas = _alsh(demo)
    place_bookings(martin, [(lea, journee, WEDNESDAY)])
    context = week_statuses(martin, WEDNESDAY, WEDNESDAY, use_basket=False)
    status = context.status(lea, matin, WEDNESDAY)
    assert status.state == "excluded" and not desk.can_change(status, WEDNESDAY, clock.today())


def test_staff_configure_the_rules_checked_on_the_server(demo):
    admin = demo["users"]["admin"]
    journee, matin, apres_midi, repas = _alsh(demo)
    cases = [
        (matin, [apres_midi.id], [apres_midi.id], "« Après-midi » ne peut pas être à la fois exclue et requise."),
        (apres_midi, [apres_midi.id], [], "Une prestation ne peut pas s'exclure ni se requérir elle-même."),
        (matin, [demo["units"]["repas_phare"].id], [], "Choisissez des prestations de la même activité."),
        (matin, [], [journee.id], "« Journée » exclut déjà cette prestation : elle ne peut pas la requérir."),
        (matin, [repas.id], [], "« Repas » requiert cette prestation : elle ne peut pas l'exclure."),
    ]
    for unit, excludes, requires, message in cases:
        with pytest.raises(InvalidInput) as refused:
            unit_rules.save_rules(admin, unit, excludes, requires)
        assert refused.value.message == message
    assert UnitRule.select().count() == 4  # nothing changed
    unit_rules.save_rules(admin, journee, [matin.id], [])  # Après-midi no longer excluded
    assert {(r.unit.name, r.other.name, r.kind) for r in UnitRule.select()} == {
        ("Journée", "Matin", "excludes"), ("Repas", "Matin", "requires"), ("Repas", "Journée", "requires")}


def test_a_requirement_refused_for_another_reason_takes_its_dependents_with_it(demo):
    """Matin complet (no waiting list) in the same validation as Repas: Repas is not left alone; and a
    booked Matin swapped for a Journée that is refused stays, with its meal."""
    martin, lea = _martin(demo), demo["children"]["lea"]
    journee, matin, _apres_midi, repas = _alsh(demo)
    for unit in (matin, journee):
        unit.waiting_list = False
        unit.save()
        CapacityOverride.insert(unit=unit, date=NEXT, capacity=0).on_conflict(
            conflict_target=[CapacityOverride.unit, CapacityOverride.date], update={CapacityOverride.capacity: 0}).execute()
    results = place_bookings(martin, [(lea, matin, NEXT), (lea, repas, NEXT)])
    assert [(r.outcome, r.message) for r in results] == [
        ("refused", "Complet"), ("refused", "Repas : réservez aussi Matin ou Journée")]
    assert _held(lea, NEXT) == set()
    for result in place_bookings(martin, [(lea, matin, WEDNESDAY), (lea, repas, WEDNESDAY)]):
        placement.decide_request(result.booking, True)
    CapacityOverride.create(unit=journee, date=WEDNESDAY, capacity=0)
    results = place_bookings(martin, [(lea, matin, WEDNESDAY, "remove"), (lea, journee, WEDNESDAY)])
    assert [r.outcome for r in results] == ["refused", "refused"]
    assert results[0].message.startswith("Matin ne peut pas être retiré seul : Repas demande Matin ou Journée")
    assert _held(lea) == {"Matin", "Repas"}


def test_staff_refuse_a_whole_order_with_a_meal_and_its_morning(demo):
    martin, lea = _martin(demo), demo["children"]["lea"]
    _journee, matin, _apres_midi, repas = _alsh(demo)
    basket.set_cell(martin, lea.id, matin.id, WEDNESDAY, True)
    basket.set_cell(martin, lea.id, repas.id, WEDNESDAY, True)
    order = basket.validate(martin, notify=False).order
    assert orders.decide_order(order.id, False, "Centre complet ce jour-là") == 2
    assert _held(lea) == set()


def test_the_toggles_basket_counter_is_the_whole_baskets(demo):
    """The toggle counts the basket from the lines it read under the lock, not with a count after the change:
    lines of another child, of other days and those a swap took out all count (or stop counting)."""
    martin, lea, hugo = _martin(demo), demo["children"]["lea"], demo["children"]["hugo"]
    journee, matin, _apres_midi, repas = _alsh(demo)
    canteen = demo["units"]["repas_petit_prince"]
    for day in (dt.date(2026, 12, 7), dt.date(2026, 12, 8)):
        assert basket.change_cell(martin, hugo.id, canteen.id, day, True).changed
    steps = [(lea, matin, True), (lea, repas, True), (lea, journee, True), (lea, repas, False), (lea, journee, False)]
    for child, unit, want in steps:
        result = basket.change_cell(martin, child.id, unit.id, WEDNESDAY, want)
        assert result.changed and result.basket_count == basket.count(martin), (unit.name, want)
    assert basket.count(martin) == 2  # Hugo's two days: the swap took Matin out, the rest was unticked
