"""Queries that do not grow with the commune: every staff list and export asks the database the same
number of queries (give or take a small constant) with 50 households and with 500.

One commune is built for the module (the demo, then households added in bulk by tests/bulk_commune.py);
each page is requested once at 50 households and once at 500, counting the SQL statements peewee
sends (a handler on the "peewee" logger). A query per row (N+1) shows up as hundreds more."""
from __future__ import annotations

import logging
import os
import re
from contextlib import contextmanager

import pytest

import models
from app import create_app
from models import OutgoingMail, db
from services.core import clock
from tests import conftest
from tests.bulk_commune import CARD_DAY, MEAL_DAY, add_households, invoicing_run
from tests.conftest import TEST_NOW, Auth, csrf_token

SMALL, LARGE = 50, 500
SLACK = 2  # queries a page may add as the commune grows (none should, but a lazy count is not a bug)

# (name, url built from the demo context); every GET page and export of blueprints/staff/*.py that
# lists households, children, bookings, invoices, payments or mails.
PAGES = [
    ("dashboard", lambda c: "/gestion/"),
    ("invite parent", lambda c: "/gestion/comptes/nouveau"),
    ("family search", lambda c: "/gestion/familles"),
    ("family search by name", lambda c: "/gestion/familles?q=essai"),
    ("files to validate", lambda c: "/gestion/dossiers-a-valider"),
    ("changes to validate", lambda c: "/gestion/modifications"),
    ("documents to review", lambda c: "/gestion/documents"),
    ("closure requests", lambda c: "/gestion/suppressions-de-compte"),
    ("activities", lambda c: "/gestion/activites"),
    ("enrolments to decide", lambda c: "/gestion/inscriptions"),
    ("pending requests, waiting lists, absences", lambda c: "/gestion/reservations/"),
    ("headcounts", lambda c: f"/gestion/effectifs?date={MEAL_DAY}"),
    ("headcounts csv", lambda c: f"/gestion/effectifs.csv?date={MEAL_DAY}"),
    ("attendance sheet", lambda c: f"/gestion/pointage?unit={c['units']['repas_phare'].id}&date={MEAL_DAY}"),
    ("invoicing and recent invoices", lambda c: "/gestion/facturation/"),
    ("invoicing preview", lambda c: f"/gestion/facturation/?regie={c['regies']['periscolaire'].id}&annee=2026&mois=11"),
    ("invoicing run", lambda c: f"/gestion/facturation/campagnes/{invoicing_run(c).id}"),
    ("payment form and recent payments", lambda c: "/gestion/facturation/reglement"),
    ("unpaid invoices", lambda c: "/gestion/facturation/impayes"),
    ("invoices csv", lambda c: "/gestion/facturation/export/factures.csv"),
    ("invoices csv of a month", lambda c: "/gestion/facturation/export/factures.csv?annee=2026&mois=10"),
    ("payments csv", lambda c: "/gestion/facturation/export/reglements.csv"),
    ("payments csv of a month", lambda c: "/gestion/facturation/export/reglements.csv?annee=2026&mois=11"),
    ("direct-debit export", lambda c: f"/gestion/facturation/export/prelevements.xml?regie={c['regies']['loisirs'].id}"
                                      "&date=2026-12-10"),
    ("online payments journal", lambda c: "/gestion/paiements-en-ligne/"),
    ("online payments of a day", lambda c: f"/gestion/paiements-en-ligne/?jour={CARD_DAY}"),
    ("online payments csv", lambda c: f"/gestion/paiements-en-ligne/export.csv?jour={CARD_DAY}"),
    ("mail outbox", lambda c: "/gestion/courriels/"),
    ("audit journal", lambda c: "/gestion/journal"),
]
REMINDERS = "reminders (every overdue invoice)"


class QueryLog(logging.Handler):
    """Counts the statements peewee executes (it logs each one at DEBUG level)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []
        self.executed: list[tuple[str, tuple]] = []  # (sql, params): to read their plans

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, tuple):  # (sql, params); not the pool's « Returning … to pool »
            self.statements.append(record.msg[0])
            self.executed.append(record.msg)


@contextmanager
def counting_queries():
    """with counting_queries() as log: ...; len(log.statements) is the number of SQL statements."""
    logger = logging.getLogger("peewee")
    handler, level = QueryLog(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _measure(client, ctx) -> dict[str, int]:
    """Queries of one request per page (a warm-up request first: caches filled, as in production)."""
    counts = {}
    for name, url in PAGES:
        address = url(ctx)
        client.get(address)
        with counting_queries() as log:
            response = client.get(address)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = len(log.statements)
    token = csrf_token(client, "/gestion/facturation/impayes")
    mails = OutgoingMail.select().count()
    with counting_queries() as log:
        response = client.post("/gestion/facturation/impayes/relance", data={"csrf_token": token})
    assert response.status_code == 302 and OutgoingMail.select().count() > mails
    counts[REMINDERS] = len(log.statements)
    return counts


@contextmanager
def demo_commune(folder, demo_snapshot):
    """An app on the demo commune for a whole module (the commune then grows): (its test client, the seed
    context); the clock frozen at TEST_NOW, the database closed afterwards."""
    clock.freeze(TEST_NOW)
    os.environ.pop("PORTAIL_NOW", None)
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret", "PORTAIL_ENV": "development", "PORTAIL_NOW": "",
        "DATABASE_URL": conftest.PG_URL if conftest.USE_PG else f"sqlite:///{folder / 'test.db'}",
        "OUTBOX_DIR": str(folder / "outbox"), "UPLOAD_DIR": str(folder / "uploads"), "MAIL_SERVER": "",
        "SERVER_NAME": "portail.test"})
    with db.connection_context():
        if conftest.USE_PG:
            conftest._reset_postgres()
        else:
            db.create_tables(models.all_models())
    db.connect(reuse_if_open=True)
    try:
        yield app.test_client(), demo_snapshot.restore(app.config["UPLOAD_DIR"])
    finally:
        if not db.is_closed():
            db.close()
        db.close_all()
        clock.freeze(TEST_NOW)


@pytest.fixture(scope="module")
def measured(tmp_path_factory, demo_snapshot):
    """{page: (queries at SMALL households, queries at LARGE)}, measured on one commune that grows."""
    with demo_commune(tmp_path_factory.mktemp("query-counts"), demo_snapshot) as (client, ctx):
        Auth(client).login("admin@example.fr")
        add_households(ctx, 1, SMALL)
        small = _measure(client, ctx)
        add_households(ctx, SMALL + 1, LARGE - SMALL)
        large = _measure(client, ctx)
    result = {name: (small[name], large[name]) for name in small}
    for name, (at_small, at_large) in result.items():  # shown with pytest -s
        print(f"{name:45} {at_small:6} {at_large:6}")
    return result


@pytest.mark.parametrize("page", [name for name, _url in PAGES] + [REMINDERS])
def test_queries_do_not_grow_with_households(measured, page):
    small, large = measured[page]
    assert large <= small + SLACK, f"{page}: {small} queries at {SMALL} households, {large} at {LARGE}"



def test_payments_export_names_prepaid_orders(demo, client, auth):
    """A payment that settled a prepaid order (régie au comptant) is listed with the order's number."""
    from models import Order, Payment, PaymentAllocation

    order = Order.select().order_by(Order.id).first()
    payment = Payment.select().order_by(Payment.id).first()
    PaymentAllocation.create(payment=payment, order=order, amount=100)
    auth.login("admin@example.fr")
    response = client.get("/gestion/facturation/export/reglements.csv")
    assert response.status_code == 200
    assert f"commande n° {order.number} (1,00)" in response.get_data(as_text=True)


def test_household_orders_do_not_grow_with_waiting_lines(demo, client, auth):
    """« Mes commandes » shows each waiting line's place in its queue: one query for all the lines."""
    import datetime as dt
    import html

    from models import Booking, Order, OrderLine

    martin, hugo, unit = demo["households"]["martin"], demo["children"]["hugo"], demo["units"]["alsh_journee"]
    now = dt.datetime(2026, 11, 29, 10, 0)

    def add_waiting_orders(first: int, count: int) -> None:
        for week in range(first, first + count):
            day = dt.date(2027, 1, 6) + dt.timedelta(weeks=week)
            booking = Booking.create(household=martin, child=hugo, unit=unit, date=day, status="waiting_list",
                                     sequence=2, created_at=now)
            Booking.create(household=demo["households"]["dupont"], child=demo["children"]["ines"], unit=unit,
                           date=day, status="waiting_list", sequence=1, created_at=now)
            order = Order.create(household=martin, number=f"ATTENTE-{week:03d}", created_at=now)
            OrderLine.create(order=order, child=hugo, unit=unit, date=day, outcome="waiting_list", booking=booking)

    auth.login("famille.martin@example.fr")
    counts = []
    for first, count in ((0, 5), (5, 45)):
        add_waiting_orders(first, count)
        client.get("/commandes")
        with counting_queries() as log:
            page = html.unescape(client.get("/commandes").get_data(as_text=True))
        counts.append(len(log.statements))
    assert page.count("Sur liste d'attente, position 2") == 50
    assert counts[1] <= counts[0] + SLACK, counts


def _household_options(page: str) -> list[str]:
    select = re.search(r'<select[^>]*name="household"[^>]*>(.*?)</select>', page, re.S).group(1)
    return re.findall(r"<option[^>]*>([^<]*)</option>", select)


@pytest.mark.parametrize("url, placeholder", [("/gestion/facturation/reglement", "— Choisir un foyer —"),
                                              ("/gestion/comptes/nouveau", "— Nouveau foyer —")])
def test_household_lists_offer_what_the_search_finds(demo, client, auth, url, placeholder):
    """The « Foyer » list of a staff form never holds every household: the search fills it."""
    add_households(demo, 1, 60)
    auth.login("admin@example.fr")
    assert _household_options(client.get(url).get_data(as_text=True)) == [placeholder]
    found = _household_options(client.get(f"{url}?recherche=essai 004").get_data(as_text=True))
    assert found == [placeholder] + [f"Famille Essai {i:04d}" for i in range(40, 50)]
    by_child = _household_options(client.get(f"{url}?recherche=Inès").get_data(as_text=True))
    assert by_child == [placeholder, "Famille Dupont"]
    many = _household_options(client.get(f"{url}?recherche=essai").get_data(as_text=True))
    assert len(many) == 31


def test_payment_form_keeps_the_household_of_the_invoice(demo, client, auth):
    auth.login("admin@example.fr")
    dupont = demo["households"]["dupont"]
    page = client.get(f"/gestion/facturation/reglement?foyer={dupont.id}").get_data(as_text=True)
    assert _household_options(page) == ["— Choisir un foyer —", "Famille Dupont"]
    assert f'<option selected value="{dupont.id}">Famille Dupont</option>' in page
