"""Prepayment (régie "au comptant"): "Valider" holds the places and asks for payment; the order is
confirmed once paid (avoir first, then the card); unpaid after 1 hour it expires and frees its
places for the waiting list; paid days are not invoiced again; the bank's answers are idempotent."""
from __future__ import annotations

import datetime as dt

import pytest

from models import (
    Alert,
    Booking,
    CapacityOverride,
    Household,
    OnlineTransaction,
    Order,
    OrderLine,
    Payment,
    PaymentAllocation,
    Regie,
    Unit,
)
from services.billing import checkout, invoicing, ledger, online_payments
from services.booking import basket
from services.booking import day_status as engine
from services.booking import orders, placement
from services.core import clock, formatting
from tests.conftest import outbox_messages, post_form
from tests.test_invoicing import clear_billing

MON, TUE = dt.date(2026, 11, 23), dt.date(2026, 11, 24)
SETTINGS = online_payments.PaymentSettings()
URLS = dict(email="famille.martin@example.fr", return_url="http://portail.test/retour",
            notify_url="http://portail.test/notification", dummy_bank_url="http://portail.test/banque")


@pytest.fixture
def prepaid(demo, freeze):
    """The canteen's régie is "au comptant"; Léa's Monday and Tuesday meals are in the basket."""
    freeze("2026-11-19T17:55")
    clear_billing()
    Regie.update(prepayment=True).where(Regie.id == demo["regies"]["periscolaire"].id).execute()
    martin = Household.get_by_id(demo["households"]["martin"].id)
    lea, repas = demo["children"]["lea"], demo["units"]["repas_phare"]
    for day in (MON, TUE):
        Booking.delete().where((Booking.child == lea.id) & (Booking.unit == repas.id) & (Booking.date == day)).execute()
        basket.set_cell(martin, lea.id, repas.id, day, True)
    return dict(demo=demo, martin=martin, lea=lea, repas=repas)


def _held_order(prepaid) -> Order:
    result = checkout.validate_basket(prepaid["martin"])
    assert [r.outcome for r in result.placed] == ["held", "held"]
    order = Order.get_by_id(result.order.id)
    assert order.payment_status == "awaiting_payment"
    assert order.amount_due == sum(r.price for r in result.placed) > 100
    assert order.expires_at == dt.datetime(2026, 11, 19, 18, 55)
    return order


def _lea_status(prepaid, day=MON) -> str:
    return Booking.get((Booking.child == prepaid["lea"].id) & (Booking.unit == prepaid["repas"].id)
                       & (Booking.date == day)).status


def _pay(order, outcome="paid", charged=None):
    transaction, url = online_payments.start_order_payment(order, SETTINGS, **URLS)
    assert url.startswith("http://portail.test/banque?")
    notification = online_payments.simulate_bank(transaction.transaction_id, outcome,
                                          transaction.amount if charged is None else charged)
    return transaction, notification, online_payments.handle_bank_answer(notification, SETTINGS)


def test_held_places_count_as_occupied(prepaid):
    unit = Unit.get_by_id(prepaid["repas"].id)
    order = _held_order(prepaid)
    assert _lea_status(prepaid) == "held"
    occupied = placement._occupied(unit, MON)
    CapacityOverride.create(unit=unit, date=MON, capacity=occupied)
    assert placement.places_left(unit, MON) == 0  # Léa's held meal counts
    status = engine.day_status(prepaid["lea"], unit, MON)
    assert status.state == "held" and status.label == "En attente de paiement"
    view = orders.get_order(prepaid["martin"], order.id)
    assert view.pending and view.status_label.startswith("En attente de paiement")
    assert "À payer avant le jeudi 19 novembre 2026 à 18 h 55" in outbox_messages()[0]["body"]


def test_paid_order_is_confirmed_and_a_replay_changes_nothing(prepaid):
    order = _held_order(prepaid)
    transaction, notification, outcome = _pay(order)
    assert outcome.changed and outcome.transaction.status == "paid"
    assert Order.get_by_id(order.id).payment_status == "paid"
    assert _lea_status(prepaid, MON) == _lea_status(prepaid, TUE) == "booked"
    assert Booking.select().where(Booking.prepaid).count() == 2
    assert Alert.select().where(Alert.title == f"Commande n° {order.number} payée et confirmée").exists()
    assert any(m["subject"] == f"Commande n° {order.number} payée et confirmée" for m in outbox_messages())
    replay = online_payments.handle_bank_answer(notification, SETTINGS)
    assert not replay.changed
    assert Payment.select().count() == 1 and PaymentAllocation.get().order_id == order.id
    assert ledger.household_credit(prepaid["martin"]) == 0
    with pytest.raises(online_payments.OrderNotPayable):
        online_payments.start_order_payment(Order.get_by_id(order.id), SETTINGS, **URLS)
    # Paid in advance: the monthly run does not invoice these days again.
    drafts = invoicing.collect(MON, TUE, households=[prepaid["martin"].id])
    billed = [d for draft in drafts.values() for line in draft.lines if line.unit.id == prepaid["repas"].id
              and line.child.id == prepaid["lea"].id for d in line.days]
    assert billed == []


@pytest.mark.parametrize("outcome", ["refused", "cancelled"])
def test_unpaid_order_stays_pending_then_expires_and_frees_its_places(prepaid, freeze, outcome):
    unit = Unit.get_by_id(prepaid["repas"].id)
    Unit.update(waiting_list=True).where(Unit.id == unit.id).execute()
    order = _held_order(prepaid)
    # Inès (another household) goes on the waiting list behind Léa's held meal.
    dupont = Household.get_by_id(prepaid["demo"]["households"]["dupont"].id)
    ines = prepaid["demo"]["children"]["ines"]
    Booking.delete().where((Booking.child == ines.id) & (Booking.unit == unit.id) & (Booking.date == MON)).execute()
    Unit.update(capacity=placement._occupied(unit, MON)).where(Unit.id == unit.id).execute()
    unit = Unit.get_by_id(unit.id)
    waiting = placement.place_bookings(dupont, [(ines, unit, MON)], clock.now())[0]
    assert waiting.outcome == "waiting_list"

    _transaction, _notification, answer = _pay(order, outcome)
    assert answer.transaction.status == outcome
    assert Order.get_by_id(order.id).payment_status == "awaiting_payment"
    assert _lea_status(prepaid) == "held"
    freeze("2026-11-19T18:54")
    assert orders.expire_unpaid_orders() == 0
    freeze("2026-11-19T18:56")
    assert orders.expire_unpaid_orders() == 1
    assert orders.expire_unpaid_orders() == 0  # idempotent
    assert Order.get_by_id(order.id).payment_status == "expired"
    assert _lea_status(prepaid, MON) == _lea_status(prepaid, TUE) == "cancelled"
    assert Alert.select().where((Alert.household == prepaid["martin"].id)
                                & (Alert.title == f"Commande n° {order.number} expirée")).exists()
    # The freed place is offered to the waiting family (canteen: staff confirm).
    assert Alert.select().where((Alert.household == dupont.id) & (Alert.title == "Place libérée")).exists()
    assert placement.places_left(unit, MON) == 1
    with pytest.raises(online_payments.OrderNotPayable):
        online_payments.start_order_payment(Order.get_by_id(order.id), SETTINGS, **URLS)


def test_avoir_is_used_before_the_card(prepaid):
    martin = prepaid["martin"]
    Payment.create(household=martin, mode="virement", amount=100, received_on=clock.today(),
                   recorded_at=clock.local_now())
    order = _held_order(prepaid)
    transaction, _notification, answer = _pay(order)
    assert transaction.amount == order.amount_due - 100  # the 1,00 € avoir first
    assert answer.transaction.status == "paid"
    assert Order.get_by_id(order.id).payment_status == "paid"
    assert ledger.household_credit(martin) == 0


def test_an_avoir_covering_the_order_confirms_it_without_the_card(prepaid):
    martin = prepaid["martin"]
    Payment.create(household=martin, mode="cheque", amount=1000, received_on=clock.today(),
                   recorded_at=clock.local_now())
    order = _held_order(prepaid)
    assert online_payments.start_order_payment(order, SETTINGS, **URLS) == (None, None)
    assert Order.get_by_id(order.id).payment_status == "paid" and _lea_status(prepaid) == "booked"
    assert OnlineTransaction.select().count() == 0
    assert ledger.household_credit(martin) == 1000 - order.amount_due


def test_an_expired_order_gives_its_avoir_back_and_a_late_payment_becomes_an_avoir(prepaid, freeze):
    martin = prepaid["martin"]
    Payment.create(household=martin, mode="cheque", amount=100, received_on=clock.today(),
                   recorded_at=clock.local_now())
    order = _held_order(prepaid)
    transaction, url = online_payments.start_order_payment(order, SETTINGS, **URLS)
    assert transaction.amount == order.amount_due - 100 and ledger.household_credit(martin) == 0
    freeze("2026-11-19T19:00")
    orders.expire_unpaid_orders()
    assert ledger.household_credit(martin) == 100
    notification = online_payments.simulate_bank(transaction.transaction_id, "paid", transaction.amount)
    assert online_payments.handle_bank_answer(notification, SETTINGS).transaction.status == "paid"
    assert Order.get_by_id(order.id).payment_status == "expired"
    assert ledger.household_credit(martin) == order.amount_due  # nothing is lost: the family keeps it as avoir


def test_pay_through_the_dummy_bank_and_scoping(prepaid, auth, client):
    auth.login("famille.martin@example.fr")
    response = post_form(client, "/panier/valider", token_page="/panier")
    assert response.status_code == 302
    order = Order.select().order_by(Order.id.desc()).first()
    page = client.get(response.headers["Location"], follow_redirects=True).get_data(as_text=True)
    due = order.amount_due
    assert "en attente de paiement" in page
    assert f"Payer {formatting.money(due)}" in page
    assert 'role="status"' in page
    grid = client.get("/reservations?semaine=2026-W48").get_data(as_text=True)
    assert "En attente de paiement" in grid and "state-held" in grid
    bank = post_form(client, f"/commandes/{order.id}/payer", token_page=f"/commandes/{order.id}")
    assert "/factures/paiement/banque-de-test?" in bank.headers["Location"]
    transaction = OnlineTransaction.get(OnlineTransaction.order == order.id)
    back = post_form(client, "/factures/paiement/banque-de-test", {
        "transaction_id": transaction.transaction_id, "amount": f"{due / 100:.2f}", "outcome": "paid"},
        token_page=f"/commandes/{order.id}")
    final = client.get(back.headers["Location"], follow_redirects=True).get_data(as_text=True)
    assert "Paiement accepté : la commande est confirmée" in final
    assert Order.get_by_id(order.id).payment_status == "paid"
    # Another household's order: 404 for its page and its payment.
    auth.logout()
    auth.login("famille.dupont@example.fr")
    assert client.get(f"/commandes/{order.id}").status_code == 404
    assert post_form(client, f"/commandes/{order.id}/payer", token_page="/commandes").status_code == 404


def test_expire_orders_command(prepaid, app, freeze):
    order = _held_order(prepaid)
    freeze("2026-11-19T20:00")
    result = app.test_cli_runner().invoke(args=["expire-orders"])
    assert result.exit_code == 0 and "1 commande(s) expirée(s)" in result.output
    assert Order.get_by_id(order.id).payment_status == "expired"


def test_prepaid_childcare_counts_in_the_fiscal_statement(prepaid):
    """Hugo (under 6) has his garderie paid in advance: the yearly statement includes it."""
    from services.billing import certificates

    hugo, garderie = prepaid["demo"]["children"]["hugo"], prepaid["demo"]["units"]["garderie_soir_petit_prince"]
    before = {c.child.id: c.amount for c in certificates.statement(prepaid["martin"], 2026).children}
    Booking.delete().where((Booking.child == hugo.id) & (Booking.unit == garderie.id) & (Booking.date == MON)).execute()
    basket.set_cell(prepaid["martin"], hugo.id, garderie.id, MON, True)
    order = _held_order_with(prepaid, expected=3)
    _pay(order)
    garderie_price = OrderLine.get((OrderLine.order == order.id) & (OrderLine.child == hugo.id)).price
    after = {c.child.id: c.amount for c in certificates.statement(prepaid["martin"], 2026).children}
    assert garderie_price > 0
    assert after[hugo.id] - before.get(hugo.id, 0) == garderie_price  # meals of Léa are not counted


def _held_order_with(prepaid, expected: int) -> Order:
    result = checkout.validate_basket(prepaid["martin"])
    assert [r.outcome for r in result.placed].count("held") == expected
    return Order.get_by_id(result.order.id)


def test_cancelling_a_paid_day_before_its_deadline_gives_an_avoir(prepaid):
    order = _held_order(prepaid)
    _pay(order)
    price = OrderLine.get((OrderLine.order == order.id) & (OrderLine.date == MON)).price
    basket.set_cell(prepaid["martin"], prepaid["lea"].id, prepaid["repas"].id, MON, False)
    result = checkout.validate_basket(prepaid["martin"])
    assert [r.outcome for r in result.placed] == ["cancelled"]
    monday = Booking.get((Booking.child == prepaid["lea"].id) & (Booking.unit == prepaid["repas"].id)
                         & (Booking.date == MON))
    assert monday.status == "cancelled" and not monday.prepaid
    assert ledger.household_credit(prepaid["martin"]) == price > 0
    assert _lea_status(prepaid, TUE) == "booked"  # the other paid day is untouched


def test_the_basket_says_each_deadline_warns_within_the_hour_and_states_prepayment(prepaid, client, auth, freeze):
    """17:55 on Thursday: the canteen's deadline for next week is 18:00; the parent is told before « Valider »,
    and told that payment is due at once (régie au comptant)."""
    auth.login("famille.martin@example.fr")
    page = client.get("/panier").get_data(as_text=True)
    assert "jusqu'au jeudi 19 novembre à 18 h" in page
    assert "Plus que 5 minutes" in page and 'role="alert"' in page
    assert "Paiement immédiat requis : les places sont gardées 1 heure" in page
    view = basket.contents(prepaid["martin"])
    assert view.prepaid and all(item.deadline_soon for item in view.items)
    freeze("2026-11-19T16:30")
    assert not any(item.deadline_soon for item in basket.contents(prepaid["martin"]).items)
    assert "Plus que" not in client.get("/panier").get_data(as_text=True)


def test_emptying_the_basket_asks_first(prepaid, client, auth):
    auth.login("famille.martin@example.fr")
    assert 'href="/panier/vider"' in client.get("/panier").get_data(as_text=True)
    page = client.get("/panier/vider").get_data(as_text=True)
    assert "Vider le panier ?" in page and "Oui, vider le panier" in page
    assert basket.count(prepaid["martin"]) == 2  # asking changes nothing
    post_form(client, "/panier/vider", {}, token_page="/panier/vider")
    assert basket.count(prepaid["martin"]) == 0
