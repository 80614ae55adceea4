"""Prices of units for a household, in integer cents.

The QF band whose [qf_min, qf_max) contains the household's quotient familial gives the price;
an unknown QF, or no matching band, gives the unit's default price. A child with a PAI pays
the unit's PAI price when one is set (panier repas). Staff bookings after the deadline add the
late-booking surcharge; an unjustified absence is charged the absence fee on top of the price.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from models import Booking, Child, Household, TariffBand, Unit
from services.core import config_cache


def band_price(bands: Sequence[TariffBand], quotient: int | None) -> int | None:
    """Price of the band containing `quotient`, or None when the QF is unknown or no band fits."""
    if quotient is None:
        return None
    for band in sorted(bands, key=lambda b: b.qf_min):
        if band.qf_min <= quotient and (band.qf_max is None or quotient < band.qf_max):
            return band.price
    return None


def unit_price(unit: Unit, household: Household, child: Child | None = None, *, late: bool = False,
               bands: Sequence[TariffBand] | None = None) -> int:
    """What one day of `unit` costs this household (cents). Pass `bands` to avoid a query."""
    if child is not None and child.has_pai and unit.pai_price is not None:
        price = unit.pai_price
    else:
        if bands is None:
            bands = list(TariffBand.select().where(TariffBand.unit == unit.id))
        found = band_price(bands, household.quotient_familial)
        price = unit.default_price if found is None else found
    if late:
        price += unit.late_surcharge or 0
    return price


def bands_by_unit(unit_ids: Iterable[int]) -> dict[int, list[TariffBand]]:
    """All tariff bands of several units (configuration cache: shared rows, never changed)."""
    every = config_cache.cached("tariff_bands", _all_bands)
    return {uid: list(every.get(uid, ())) for uid in unit_ids}


def _all_bands() -> dict[int, tuple[TariffBand, ...]]:
    grouped: dict[int, list[TariffBand]] = {}
    for band in TariffBand.select().order_by(TariffBand.qf_min, TariffBand.id):
        grouped.setdefault(band.unit_id, []).append(band)
    return {unit_id: tuple(bands) for unit_id, bands in grouped.items()}


def booking_charge(booking: Booking) -> int:
    """What billing charges for a booking: price (+ fee if absent unjustified), 0 if not consumed.

    Booked and present or not yet pointed → the price; absent with justification → 0;
    absent without → price + absence fee; any status other than booked → 0.
    """
    if booking.status != "booked":
        return 0
    price = booking.price
    if price is None:
        price = unit_price(booking.unit, booking.household, booking.child, late=booking.late)
    if booking.attendance == "absent_justified":
        return 0
    if booking.attendance == "absent":
        return price + (booking.unit.absence_fee or 0)
    return price


def describe_bands(unit: Unit, bands: Sequence[TariffBand]) -> list[str]:
    """'QF de 0 à 599 € : 1,00 €' lines for the staff screen and the parents' information."""
    from services.core.formatting import money

    lines = []
    for band in sorted(bands, key=lambda b: b.qf_min):
        if band.qf_max is None:
            lines.append(f"QF à partir de {band.qf_min} € : {money(band.price)}")
        else:
            lines.append(f"QF de {band.qf_min} à {band.qf_max - 1} € : {money(band.price)}")
    lines.append(f"QF inconnu : {money(unit.default_price)}")
    return lines
