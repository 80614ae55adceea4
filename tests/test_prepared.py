"""Prepared queries (models/prepared.py) answer what peewee's own query answers, for every value and
list length, composing the SQL once per shape; prepared writes store what peewee's would; the commune
row kept per process follows its token."""
from __future__ import annotations

import datetime as dt

import peewee
import pytest

import models.prepared
from models import Booking, Child, Commune, Household, OutgoingMail, Unit, User, db
from models.base import remember_config_token
from models.prepared import PreparedCreate, prepared, run_insert
from services.booking import basket
from tests.test_query_counts import counting_queries

MONDAY, FRIDAY = dt.date(2026, 11, 23), dt.date(2026, 11, 27)


@prepared
def _bookings(children, units, start, end):
    return Booking.select().where(Booking.child.in_(children) & Booking.unit.in_(units)
                                  & Booking.date.between(start, end)).order_by(Booking.id)


@prepared
def _children_with_household(household):
    return (Child.select(Child, Household).join(Household).where(Child.household == household)
            .order_by(Child.id))


@prepared
def _count_of(household):
    return Child.select(Child.id).where(Child.household == household).tuples()


def _plain_bookings(children, units, start, end):
    return list(Booking.select().where(Booking.child.in_(children) & Booking.unit.in_(units)
                                       & Booking.date.between(start, end)).order_by(Booking.id))


def test_a_prepared_select_answers_as_peewee_does(demo):
    units = [u.id for u in Unit.select()]
    children = [c.id for c in Child.select()]
    for kids, start, end in ((children, MONDAY, FRIDAY), (children[:1], MONDAY, MONDAY),
                             (children[1:3], dt.date(2026, 9, 1), dt.date(2027, 7, 1))):
        mine = _bookings(kids, units, start, end)
        theirs = _plain_bookings(kids, units, start, end)
        assert [(b.id, b.date, b.status, b.price) for b in mine] == [(b.id, b.date, b.status, b.price) for b in theirs]
        assert all(isinstance(b.date, dt.date) for b in mine)  # the fields' conversions applied
    assert any(_bookings(children, units, dt.date(2026, 9, 1), dt.date(2027, 7, 1)))


def test_sets_model_instances_and_empty_lists_are_values(demo):
    martin = Household.get_by_id(demo["households"]["martin"].id)
    units = [u.id for u in Unit.select()]
    children = {c.id for c in Child.select().where(Child.household == martin)}
    assert _bookings(children, units, MONDAY, FRIDAY) == _plain_bookings(list(children), units, MONDAY, FRIDAY)
    assert _bookings([], units, MONDAY, FRIDAY) == []  # IN of nothing matches nothing
    rows = _children_with_household(martin)  # a model instance for a foreign key
    assert [c.first_name for c in rows] == ["Léa", "Hugo"] and rows[0].household.name == martin.name
    assert _count_of(martin.id) == [(c.id,) for c in rows]  # tuples stay tuples


def test_the_sql_is_composed_once_per_shape(demo):
    units = [u.id for u in Unit.select()]
    _bookings._shapes.clear()
    for children in ([1], [2], [1, 2], [3, 4]):
        _bookings(children, units, MONDAY, FRIDAY)
    assert len(_bookings._shapes) == 2  # one child, two children


def test_a_shape_learns_how_to_read_its_rows_once(demo, monkeypatch):
    """Peewee's row reader resolves columns and joins at each run; a prepared shape keeps what it learnt
    (a tenth of a toggle), and the rows of the next run are still built from their own values."""
    learnt = []
    for reader in (peewee.ModelCursorWrapper, peewee.ModelObjectCursorWrapper):
        original = reader.initialize
        monkeypatch.setattr(reader, "initialize", lambda self, original=original: learnt.append(self) or original(self))
    _children_with_household._readers.clear()
    households = [demo["households"][name] for name in ("martin", "dupont")]
    for household in households * 2:
        rows = _children_with_household(household)
        plain = list(Child.select(Child, Household).join(Household).where(Child.household == household)
                     .order_by(Child.id))
        assert [(c.id, c.first_name, c.household.id, c.household.name) for c in rows] == \
               [(c.id, c.first_name, c.household.id, c.household.name) for c in plain]
    assert len(learnt) == 4 + 1  # peewee's four plain queries, the prepared shape once
    assert _children_with_household(10_000) == []  # no row: nothing to read


def test_the_basket_count_is_one_prepared_query(demo, freeze):
    freeze("2026-11-19T17:55")
    martin = Household.get_by_id(demo["households"]["martin"].id)
    lea, repas = demo["children"]["lea"], demo["units"]["repas_phare"]
    assert basket.count(martin) == 0
    result = basket.change_cell(martin, lea.id, repas.id, MONDAY, True)
    assert result.changed and result.basket_count == 1 == basket.count(martin)
    result = basket.change_cell(martin, lea.id, repas.id, MONDAY, False)
    assert result.changed and result.basket_count == 0 == basket.count(martin)
    result = basket.change_cell(martin, lea.id, repas.id, MONDAY, False)
    assert not result.changed and result.basket_count is None  # nothing changed: the view counts


def _commune_in_a_request() -> Commune:
    """Commune.get_current() as a request sees it (token and row remembered for the request)."""
    remember_config_token(True)
    Commune.remember_per_request(True)
    try:
        return Commune.get_current()
    finally:
        Commune.remember_per_request(False)
        remember_config_token(False)


def test_the_commune_is_kept_per_process_until_its_token_changes(demo):
    first = _commune_in_a_request()
    first.name = "Changé sans être enregistré"  # a form that changes the row, then fails
    second = _commune_in_a_request()
    assert second.name != first.name and second is not first  # a copy per request
    # Another process renames the commune: its write replaces the token in the same transaction.
    db.execute_sql(f'UPDATE "commune" SET "name" = {db.param}', ("Mairie de Saint-Pointe",))
    assert _commune_in_a_request().name == second.name  # same token: this process's copy
    db.execute_sql(f'UPDATE "config_version" SET "token" = {db.param}', ("autre-processus",))
    assert _commune_in_a_request().name == "Mairie de Saint-Pointe"
    commune = Commune.get_current()
    commune.name = "Mairie de Démo-sur-Mer"
    commune.save()  # this process's own write: a new token, the next request reads it
    assert _commune_in_a_request().name == "Mairie de Démo-sur-Mer"
    assert User.select().count() > 0  # the demo is still there (nothing else was touched)


def _mail(n: int, when: dt.datetime) -> dict:
    return dict(to=f"parent{n}@example.fr", subject=f"Sujet {n}", body="Bonjour", message_id=f"<{n}@test>",
                created_at=when, next_attempt_at=when)


@prepared
def _claim(mail, when):
    return OutgoingMail.update(status="sending", claimed_at=when, attempts=OutgoingMail.attempts + 1).where(
        (OutgoingMail.id == mail) & (OutgoingMail.status == "pending"))


def test_prepared_writes_store_what_peewee_stores(demo):
    when = dt.datetime(2026, 11, 24, 8, 30, 15, 250000)
    theirs = OutgoingMail.insert(**_mail(1, when)).execute()
    theirs = OutgoingMail.get_by_id(theirs)
    mine = OutgoingMail.create(**_mail(2, when))  # a PreparedCreate model
    assert isinstance(mine.id, int) and mine.id == theirs.id + 1 and mine.status == "pending"  # defaults too
    run_insert(OutgoingMail.insert_many([_mail(n, when) for n in (3, 4, 5)]))
    run_insert(OutgoingMail.insert_many([_mail(6, when), dict(_mail(7, when), status="sent")]))  # through peewee
    rows = list(OutgoingMail.select().where(OutgoingMail.id >= theirs.id).order_by(OutgoingMail.id).dicts())
    assert [r["to"] for r in rows] == [f"parent{n}@example.fr" for n in range(1, 8)]
    assert {(r["created_at"], r["status"], r["attempts"]) for r in rows[:-1]} == {(when, "pending", 0)}
    assert rows[-1]["status"] == "sent"
    raw = 'SELECT "created_at" FROM "outgoing_mail" WHERE "id" IN ({0}, {0}) ORDER BY "id"'.format(db.param)
    stored = db.execute_sql(raw, (theirs.id, mine.id)).fetchall()
    assert stored[0] == stored[1]  # the same text on SQLite: the column's conversion was applied
    assert _claim.execute(mine.id, when) == 1 and _claim.execute(mine.id, when) == 0  # how many rows changed
    martin = Household.get_by_id(demo["households"]["martin"].id)
    with counting_queries() as log:  # a model instance is a foreign key's value, not an expression for peewee
        row = PreparedCreate.create.__func__(Child, household=martin, first_name="Zoé", last_name="Martin",
                                             birth_date=dt.date(2020, 5, 4))
    assert len(log.statements) == 1 and any(key[:2] == ("insert", Child) for key in models.prepared._made)
    assert Child.get_by_id(row.id).household_id == martin.id
    assert OutgoingMail.get_by_id(mine.id).attempts == 1


def test_prepared_writes_refuse_what_they_would_get_wrong(demo):
    create = PreparedCreate.create.__func__  # as if these models had the mixin
    with pytest.raises(TypeError, match="created_at"):  # its default is now(): it would be frozen in the SQL
        create(Household, name="Famille Figée")
    with pytest.raises(TypeError, match="configuration"):  # its token would not be replaced
        create(Commune, name="Mairie bis")
    assert create(Household, name="Famille Datée", created_at=dt.datetime(2026, 11, 24)).id  # given: fine


def test_a_prepared_create_given_no_id_gets_the_databases(demo):
    """Invoice.create(id=None, …) as peewee's own create: the column left out (PostgreSQL refuses a NULL id)."""
    from models import Invoice

    values = Invoice.select().order_by(Invoice.id).dicts().first()
    row = Invoice.create(**{**values, "id": None, "number": "ESSAI-0001"})
    assert row.id and row.id != values["id"] and Invoice.get_by_id(row.id).number == "ESSAI-0001"
