"""The configuration cache: each process keeps services, units, calendars, tariffs and rules in memory
while the configuration's token stays the same; every write to them replaces the token, whatever the
path, and placement decides on the committed configuration."""
from __future__ import annotations

import datetime as dt

import pytest

from models import Activity, Booking, CapacityOverride, Closure, ConfigVersion, Household, Regie, TariffBand, Unit, db
from models.base import config_token, remember_config_token
from services.booking import planning
from services.booking.day_status import BookingRefused, StatusContext
from services.booking.placement import CAPACITY_CHANGED, place_bookings, prepaid_activities
from services.core import config_cache
from services.core.transactions import is_sqlite

MONDAY = dt.date(2026, 12, 7)


def _sql(text: str, params: tuple = ()) -> None:
    """What another process writes, without this process's models (no token change of its own)."""
    db.execute_sql(text.replace("?", db.param), params)


def _token() -> str:
    return ConfigVersion.get_by_id(1).token


@pytest.mark.parametrize("write", [
    lambda unit: unit.save(),
    lambda unit: Unit.update(capacity=5).where(Unit.id == unit.id).execute(),
    lambda unit: Closure.create(unit=unit, starts_on=MONDAY, ends_on=MONDAY),
    lambda unit: TariffBand.insert_many([{"unit": unit.id, "qf_min": 0, "price": 1}]).execute(),
    lambda unit: TariffBand.delete().where(TariffBand.unit == unit.id).execute(),
    lambda unit: CapacityOverride.create(unit=unit, date=MONDAY, capacity=1).delete_instance(),
], ids=["save", "update", "create", "insert_many", "delete", "delete_instance"])
def test_every_write_to_the_configuration_replaces_the_token(demo, write):
    before = _token()
    write(Unit.get_by_id(demo["units"]["repas_phare"].id))
    assert _token() != before


def test_writes_elsewhere_keep_the_token(demo):
    before = _token()
    Household.update(name="Famille Martin").where(Household.id == demo["households"]["martin"].id).execute()
    assert _token() == before


def test_a_change_is_seen_at_once_by_the_next_grid(demo, freeze):
    freeze("2026-11-19T17:55")
    martin = Household.get_by_id(demo["households"]["martin"].id)
    lea, repas = demo["children"]["lea"], demo["units"]["repas_phare"]
    assert planning.week_grid(martin, MONDAY).context.status(lea, repas, MONDAY).state == "available"
    Closure.create(unit=repas, starts_on=MONDAY, ends_on=MONDAY, reason="Grève")
    status = planning.week_grid(martin, MONDAY).context.status(lea, repas, MONDAY)
    assert status.state == "closed" and "Grève" in status.reason


def test_another_process_change_is_seen_when_its_token_arrives(demo, freeze):
    """Another worker's change shows as a new token: this process reads the configuration again."""
    freeze("2026-11-19T17:55")
    martin = Household.get_by_id(demo["households"]["martin"].id)
    lea, repas = demo["children"]["lea"], demo["units"]["repas_phare"]
    planning.week_grid(martin, MONDAY)  # cached here
    # What another process does: its own rows and its own token, written without this process's models.
    _sql("INSERT INTO closure (unit_id, starts_on, ends_on, reason) VALUES (?, ?, ?, ?)",
         (repas.id, MONDAY, MONDAY, "Sortie scolaire"))
    assert planning.week_grid(martin, MONDAY).context.status(lea, repas, MONDAY).state == "available"  # same token
    _sql("UPDATE config_version SET token = 'autre-processus'")
    assert planning.week_grid(martin, MONDAY).context.status(lea, repas, MONDAY).reason.endswith("Sortie scolaire")


def test_a_request_reads_the_token_once_and_sees_its_own_changes(demo):
    remember_config_token(True)
    try:
        first = config_token()
        _sql("UPDATE config_version SET token = 'autre-processus'")
        assert config_token() == first  # remembered for the request
        Closure.create(unit=demo["units"]["repas_phare"], starts_on=MONDAY, ends_on=MONDAY)
        assert config_token() not in (first, "autre-processus") and config_token() == _token()
    finally:
        remember_config_token(False)


def test_placement_decides_on_the_committed_capacity(demo, freeze):
    """A process holding an old copy (capacity not yet lowered) still refuses the booking under the lock."""
    freeze("2026-11-19T17:55")
    martin = Household.get_by_id(demo["households"]["martin"].id)
    lea, repas = demo["children"]["lea"], demo["units"]["repas_phare"]
    remember_config_token(True)
    try:
        StatusContext(martin, [lea], [repas], MONDAY, MONDAY)  # this request's copy: no override
        _sql("INSERT INTO capacity_override (unit_id, date, capacity) VALUES (?, ?, ?)", (repas.id, MONDAY, 0))
        _sql("UPDATE config_version SET token = 'autre-processus'")  # the other process's commit
        assert StatusContext(martin, [lea], [repas], MONDAY, MONDAY).capacity(repas, MONDAY) is None  # stale copy
        try:
            [result] = place_bookings(martin, [(lea, repas, MONDAY)])
            outcome = result.outcome
        except BookingRefused as refusal:
            outcome = refusal.message
    finally:
        remember_config_token(False)
    # SQLite counts under the write lock: « Complet ». PostgreSQL locked the unit as one without places, shared
    # with other placements: the « Valider » is refused, to be done again (tests/test_concurrent_writes.py).
    assert outcome == ("refused" if is_sqlite() else CAPACITY_CHANGED)
    assert not Booking.select().where((Booking.child == lea.id) & (Booking.date == MONDAY)
                                      & (Booking.unit == repas.id) & (Booking.status == "booked")).exists()


def test_without_a_token_nothing_is_kept(demo):
    ConfigVersion.delete().execute()
    calls = []
    assert config_cache.cached("essai", lambda: calls.append(1) or len(calls)) == 1
    assert config_cache.cached("essai", lambda: calls.append(1) or len(calls)) == 2


def test_a_signed_in_request_reads_the_token_with_its_user(demo, client, auth, freeze):
    """The token comes in the signed-in user's query (one round trip less a page): still the committed one,
    so another process's change shows on the very next page."""
    freeze("2026-11-19T17:55")
    auth.login("famille.martin@example.fr")
    assert "Sortie scolaire" not in client.get("/reservations?semaine=2026-W50").get_data(as_text=True)
    repas = demo["units"]["repas_phare"]
    _sql("INSERT INTO closure (unit_id, starts_on, ends_on, reason) VALUES (?, ?, ?, ?)",
         (repas.id, MONDAY, MONDAY, "Sortie scolaire"))
    _sql("UPDATE config_version SET token = 'autre-processus'")
    assert "Sortie scolaire" in client.get("/reservations?semaine=2026-W50").get_data(as_text=True)


def test_a_regie_turned_au_comptant_holds_the_next_booking(demo, freeze):
    """Whether a régie is « au comptant » is read from the cache: a régie is configuration, so changing it
    replaces the token and the next « Valider » holds its days until paid."""
    freeze("2026-11-19T17:55")
    martin = Household.get_by_id(demo["households"]["martin"].id)
    lea, repas = demo["children"]["lea"], demo["units"]["repas_phare"]
    activity = Activity.get_by_id(repas.activity_id)
    assert prepaid_activities({activity.id}) == set()  # read, and kept
    Regie.update(prepayment=True).where(Regie.id == activity.regie_id).execute()
    [result] = place_bookings(martin, [(lea, repas, MONDAY)])
    assert result.outcome == "held"
