"""Prices in cents: QF bands, default price, PAI meal, late surcharge, unjustified absence fee."""
import types

import pytest

from services.booking import pricing


def band(qf_min, qf_max, price):
    return types.SimpleNamespace(qf_min=qf_min, qf_max=qf_max, price=price)


BANDS = [band(1000, None, 290), band(0, 600, 100), band(600, 1000, 210)]


def unit(**kw):
    values = dict(id=1, default_price=290, pai_price=None, late_surcharge=0, absence_fee=0)
    values.update(kw)
    return types.SimpleNamespace(**values)


def household(qf):
    return types.SimpleNamespace(quotient_familial=qf)


@pytest.mark.parametrize("qf, price", [(0, 100), (599, 100), (600, 210), (999, 210), (1000, 290), (4000, 290)])
def test_qf_bands_are_half_open(qf, price):
    assert pricing.unit_price(unit(), household(qf), bands=BANDS) == price


def test_unknown_qf_and_no_band_give_default():
    assert pricing.unit_price(unit(default_price=350), household(None), bands=BANDS) == 350
    assert pricing.unit_price(unit(default_price=350), household(500), bands=[band(600, None, 200)]) == 350


def test_pai_price_and_late_surcharge():
    child = types.SimpleNamespace(has_pai=True)
    meal = unit(pai_price=150, late_surcharge=100)
    assert pricing.unit_price(meal, household(500), child, bands=BANDS) == 150
    assert pricing.unit_price(meal, household(500), child, late=True, bands=BANDS) == 250
    assert pricing.unit_price(unit(), household(500), child, bands=BANDS) == 100  # no PAI price set


@pytest.mark.parametrize("status, attendance, charge", [
    ("booked", "", 210), ("booked", "present", 210), ("booked", "absent_justified", 0),
    ("booked", "absent", 360), ("cancelled", "", 0), ("waiting_list", "", 0), ("requested", "", 0),
])
def test_booking_charge(status, attendance, charge):
    booking = types.SimpleNamespace(status=status, attendance=attendance, price=210, late=False,
                                    unit=unit(absence_fee=150), household=household(700), child=None)
    assert pricing.booking_charge(booking) == charge


def test_describe_bands():
    assert pricing.describe_bands(unit(), BANDS) == [
        "QF de 0 à 599 € : 1,00\xa0€", "QF de 600 à 999 € : 2,10\xa0€", "QF à partir de 1000 € : 2,90\xa0€",
        "QF inconnu : 2,90\xa0€"]


def test_demo_canteen_prices(demo):
    from models import Household
    repas = demo["units"]["repas_phare"]
    martin = demo["households"]["martin"]
    assert pricing.unit_price(repas, martin) == 290
    Household.update(quotient_familial=800).where(Household.id == martin.id).execute()
    assert pricing.unit_price(repas, Household.get_by_id(martin.id)) == 210
