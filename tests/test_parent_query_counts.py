"""Queries per request of the parents' pages (issue 16): the 3-child Dupont household's week grid,
cell toggle (htmx), basket, « Valider », month, dashboard, orders and invoice PDF, counted on the demo
commune and again once tests/bulk_commune.py has added a few hundred households with their bookings.

Two assertions per page: the count does not grow with the commune (a query per row would), and it
stays under today's figure (BOUNDS), so a repeated query added later fails here. bench/page_queries.py
prints the same table."""
from __future__ import annotations

import datetime as dt

import pytest

from models import Booking, Household, Invoice, Order, OrderLine
from services.booking import basket
from tests import conftest
from tests.bulk_commune import add_households
from tests.conftest import Auth, csrf_token
from tests.test_query_counts import counting_queries, demo_commune

LARGE = 300  # households added for the second measure
SLACK = 1  # a page may ask one more query in a bigger commune (none should)
WEEK = "2026-W50"  # open on Sunday 29 November (TEST_NOW): its deadline is Thursday 3 December
# Cells toggled at each size: the first counted, the second only fills the basket "Valider" counts.
DAYS = {"small": ("2026-12-07", "2026-12-08"), "large": ("2026-12-10", "2026-12-11")}

# Upper bounds: the figures measured when the bounds were last tightened (README « Heure de pointe »).
BOUNDS = {
    "week grid": 9,
    "cell toggle (htmx)": 6,  # the config token comes with the signed-in user; a new line restarts the basket's clock
    "basket": 6,  # whether a régie is « au comptant » comes from the configuration cache; its lines read once
    "validate": 14,  # placement reads the token again under its lock; arrival numbers only where places count
    "month": 9,
    "dashboard": 13,  # children, audience and alert count read once per request (Home); units and deadlines cached
    "orders": 5,
    "invoice PDF": 5,
}
# PostgreSQL locks rows SQLite's IMMEDIATE transaction already holds: the household on a toggle and on
# « Valider » (FOR NO KEY UPDATE), and placement's children and units (services/core/transactions.lock_rows).
# Nobody reads a lock's answer: it travels with the transaction's next statement, as a toggle's write does
# with the basket's clock and the COMMIT, and « Valider »'s order lines and emptied basket with what follows them
# (models/postgres.py say_with_next): PostgreSQL makes fewer round trips than SQLite makes statements.
POSTGRES_BOUNDS = {"cell toggle (htmx)": 6, "validate": 13}  # round trips, COMMIT included


def measure_parent_pages(client, ctx: dict, days: tuple[str, str]) -> dict[str, int]:
    """SQL statements of one request per page, for the signed-in Dupont household (a warm-up request
    of each GET first: caches filled, as in a running server)."""
    ines, repas = ctx["children"]["ines"], ctx["units"]["repas_phare"]
    invoice = Invoice.get_by_id(ctx["invoices"]["dupont_unpaid"].id)
    counts: dict[str, int] = {}

    def count(name: str, call, expect: int = 200, warm: bool = True):
        if warm:
            call()
        with counting_queries() as log:
            response = call()
        assert response.status_code == expect, (name, response.status_code)
        counts[name] = len(log.statements)
        return response

    page = count("week grid", lambda: client.get(f"/reservations?semaine={WEEK}"))
    assert "Panier (" in page.get_data(as_text=True)
    token = csrf_token(client, f"/reservations?semaine={WEEK}")
    headers = {"HX-Request": "true", "X-CSRFToken": token}
    for day in days:  # the first one counted (an addition to the basket), both left in it
        key = f"{ines.id}:{repas.id}:{day}"
        response = count("cell toggle (htmx)", lambda key=key: client.post(
            "/reservations/case", data={"cell": key, "cells": key}, headers=headers), warm=False) \
            if day == days[0] else client.post("/reservations/case", data={"cell": key, "cells": key}, headers=headers)
        assert f'value="{key}" checked' in response.get_data(as_text=True)
    count("basket", lambda: client.get("/panier"))
    orders_before = Order.select().count()
    response = count("validate", lambda: client.post("/panier/valider", data={"csrf_token": token}),
                     expect=302, warm=False)
    assert "/commandes/" in response.headers["Location"] and Order.select().count() == orders_before + 1
    count("month", lambda: client.get("/reservations/mois?mois=2026-12"))
    count("dashboard", lambda: client.get("/mon-espace"))
    count("orders", lambda: client.get("/commandes"))
    pdf = count("invoice PDF", lambda: client.get(f"/factures/{invoice.id}/pdf"))
    assert pdf.mimetype == "application/pdf"
    return counts


@pytest.fixture(scope="module")
def measured(tmp_path_factory, demo_snapshot):
    """{page: (queries on the demo commune, queries with LARGE households more)}."""
    with demo_commune(tmp_path_factory.mktemp("parent-query-counts"), demo_snapshot) as (client, ctx):
        Auth(client).login("famille.dupont@example.fr")
        small = measure_parent_pages(client, ctx, DAYS["small"])
        add_households(ctx, 1, LARGE)
        large = measure_parent_pages(client, ctx, DAYS["large"])
    result = {name: (small[name], large[name]) for name in small}
    for name, (at_small, at_large) in result.items():  # shown with pytest -s
        print(f"{name:25} {at_small:4} {at_large:4}")
    return result


def test_every_page_is_measured(measured):
    assert set(measured) == set(BOUNDS)


@pytest.mark.parametrize("page", list(BOUNDS))
def test_parent_page_queries_do_not_grow_with_the_commune(measured, page):
    small, large = measured[page]
    assert large <= small + SLACK, f"{page}: {small} queries on the demo, {large} with {LARGE} households more"


@pytest.mark.parametrize("page", list(BOUNDS))
def test_parent_page_queries_stay_under_their_bound(measured, page):
    bound = POSTGRES_BOUNDS.get(page, BOUNDS[page]) if conftest.USE_PG else BOUNDS[page]
    assert max(measured[page]) <= bound, f"{page}: {measured[page]} queries, bound {bound}"


def test_templates_are_not_checked_for_changes_outside_debug(app):
    """Jinja re-reads a template's file on each render only under `flask run --debug` (Flask's default,
    TEMPLATES_AUTO_RELOAD unset, follows debug): gunicorn compiles each template once per worker."""
    assert not app.debug and app.jinja_env.auto_reload is False


def test_valider_reads_and_writes_no_more_for_more_lines(demo, auth, client):
    """Each basket line's child and unit were read one by one and each order line written by itself: a basket
    of 6 cost 20 statements more than a basket of 1. Now a line costs one: its booking's insert (a placement
    checks and numbers each day in turn)."""
    martin = Household.get_by_id(demo["households"]["martin"].id)
    lea, hugo = demo["children"]["lea"].id, demo["children"]["hugo"].id
    lea_canteen, hugo_canteen = demo["units"]["repas_phare"].id, demo["units"]["repas_petit_prince"].id
    auth.login("famille.martin@example.fr")
    token = csrf_token(client, "/panier")
    counts = []
    for cells in ([(lea, lea_canteen, "2026-12-07")],
                  [(lea, lea_canteen, day) for day in ("2026-12-08", "2026-12-10", "2026-12-11")]
                  + [(hugo, hugo_canteen, day) for day in ("2026-12-07", "2026-12-08", "2026-12-10")]):
        for child, unit, day in cells:
            assert basket.change_cell(martin, child, unit, dt.date.fromisoformat(day), True).changed
        lines_before = OrderLine.select().count()
        client.get("/panier")  # as a parent does before « Valider »: the configuration's cache filled
        with counting_queries() as log:
            response = client.post("/panier/valider", data={"csrf_token": token})
        assert response.status_code == 302 and "/commandes/" in response.headers["Location"]
        assert OrderLine.select().count() == lines_before + len(cells)
        counts.append(len(log.statements))
    assert counts[1] - counts[0] == 5, counts


def test_valider_of_cancellations_reads_nothing_per_line(demo, auth, client):
    """A cancelled day asked whether a family waited for its place (the day's waiting list and capacity): two
    statements a line, on a canteen where nobody can wait. Now the waiting lists come once, with the day's
    statuses, and a cancelled line costs its booking's update: a statement on SQLite; on PostgreSQL none of
    its own (it travels with the next one, as do the order's lines and the emptied basket)."""
    martin = Household.get_by_id(demo["households"]["martin"].id)
    lea, canteen = demo["children"]["lea"].id, demo["units"]["repas_phare"].id
    days = [dt.date(2026, 12, d) for d in (7, 8, 10, 11)]
    for day in days:
        assert basket.change_cell(martin, lea, canteen, day, True).changed
    basket.validate(martin)
    auth.login("famille.martin@example.fr")
    token = csrf_token(client, "/panier")
    counts = []
    for cancelled in (days[:1], days[1:]):
        for day in cancelled:
            assert basket.change_cell(martin, lea, canteen, day, False).changed
        client.get("/panier")
        with counting_queries() as log:
            response = client.post("/panier/valider", data={"csrf_token": token})
        assert response.status_code == 302 and "/commandes/" in response.headers["Location"]
        counts.append(len(log.statements))
    assert Booking.select().where((Booking.child == lea) & Booking.date.in_(days)
                                  & (Booking.status == "cancelled")).count() == 4
    assert counts[1] - counts[0] == (0 if conftest.USE_PG else 2), counts
