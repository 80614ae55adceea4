"""Order numbers "2026-000123": gapless per year, and the first orders of a new year never clash
when validations run at once (the counter row is created race-safely) — SQLite and PostgreSQL."""
from __future__ import annotations

import threading

import pytest

from models import Household, Order, OrderCounter, db
from services.booking import basket
from services.core.transactions import NestedTransactionRefused, write_transaction


def _concurrent(count: int, work) -> list[Exception]:
    errors: list[Exception] = []
    barrier = threading.Barrier(count)

    def run(n):
        try:
            with db.connection_context():
                barrier.wait()
                work(n)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_first_orders_of_a_new_year_get_distinct_gapless_numbers(demo, freeze):
    freeze("2031-01-02T08:00")
    household = Household.get_by_id(demo["households"]["martin"].id)
    assert not OrderCounter.select().where(OrderCounter.year == 2031).exists()

    def validate(_n):
        with write_transaction():
            Order.create(household=household, number=basket.next_order_number(2031),
                         created_at="2031-01-02 08:00:00", total=0)

    assert _concurrent(6, validate) == []
    numbers = sorted(o.number for o in Order.select().where(Order.number.startswith("2031-")))
    assert numbers == [f"2031-{n:06d}" for n in range(1, 7)]
    assert OrderCounter.get(OrderCounter.year == 2031).last == 6


def test_a_failed_validation_gives_its_number_back(demo):
    household = Household.get_by_id(demo["households"]["martin"].id)
    with pytest.raises(RuntimeError):
        with write_transaction():
            basket.next_order_number(2032)
            raise RuntimeError("crash after the number was taken")
    with write_transaction():
        number = basket.next_order_number(2032)
        Order.create(household=household, number=number, created_at="2032-01-02 08:00:00", total=0)
    assert number == "2032-000001"


def test_the_number_is_only_taken_inside_a_transaction(demo):
    with pytest.raises(NestedTransactionRefused):
        basket.next_order_number(2033)
    with db.atomic(), pytest.raises(NestedTransactionRefused):  # a plain transaction is not enough
        basket.next_order_number(2033)
