"""Exclusive and dependent units (issue 15): « Journée » excludes « Matin » and « Après-midi » of the ALSH
Mercredi, « Repas » requires « Matin » or « Journée »; placement, staff approval, the basket's swap."""
import datetime as dt

from models import BasketLine, Booking, Household
from services.booking import basket, placement
from services.booking.placement import place_bookings
from services.core import clock

WEDNESDAY = dt.date(2026, 12, 2)  # bookable at the tests' clock (2026-11-29 11:00, « 48 h avant »)


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
