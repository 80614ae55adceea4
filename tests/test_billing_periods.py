"""Closing a month for invoicing (régie × month): parents can no longer book or cancel its days (grid
state, basket, placement refusal with « Ce mois est clôturé pour la facturation : contactez la
mairie. »), staff at the desk may until the family's invoice is issued, then never; reopening is
possible only while nothing is invoiced. SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt

import pytest

from models import Booking, ClosedPeriod, Household, Invoice
from services.billing import billing_periods, checkout, invoicing_runs
from services.booking import basket, day_status, orders, placement, planning
from services.core.errors import DomainError

MESSAGE = "Ce mois est clôturé pour la facturation : contactez la mairie."
FRIDAY = dt.date(2026, 11, 27)


@pytest.fixture
def november(demo, freeze):
    """Thursday 26 November 2026, 10:00: Friday's garderie can still be booked (la veille 18 h)."""
    freeze("2026-11-26T10:00")
    demo["martin"] = Household.get_by_id(demo["households"]["martin"].id)
    return demo


def _status(ctx, unit_key, day=FRIDAY):
    return day_status.day_status(ctx["children"]["lea"], ctx["units"][unit_key], day)


def test_closing_locks_the_month_for_parents(november):
    ctx, martin, lea = november, november["martin"], november["children"]["lea"]
    matin, soir = ctx["units"]["garderie_matin_phare"], ctx["units"]["garderie_soir_phare"]
    assert _status(ctx, "garderie_soir_phare").state == "available"
    [booked] = placement.place_bookings(martin, [(lea, matin, FRIDAY)])
    assert booked.outcome == "booked"
    assert not basket.change_cell(martin, lea.id, soir.id, FRIDAY, True).refusal  # waiting in the basket

    billing_periods.close_period(ctx["regies"]["periscolaire"], 2026, 11)

    waiting = _status(ctx, "garderie_soir_phare")
    assert (waiting.state, waiting.can_book, waiting.reason) == ("basket_add", False, MESSAGE)
    kept = _status(ctx, "garderie_matin_phare")
    assert (kept.state, kept.can_cancel, kept.reason, kept.period_closed) == ("booked", False, MESSAGE, True)
    validation = checkout.validate_basket(martin, notify=False)
    assert [(r.outcome, r.message) for r in validation.results] == [("refused", MESSAGE)]
    assert not Booking.select().where((Booking.unit == soir) & (Booking.date == FRIDAY)).exists()
    free = _status(ctx, "garderie_soir_phare")
    assert (free.state, free.label, free.reason, free.can_book) == ("period_closed", "Clôturé", MESSAGE, False)
    assert basket.change_cell(martin, lea.id, soir.id, FRIDAY, True).refusal == MESSAGE
    [cancel] = placement.place_bookings(martin, [(lea, matin, FRIDAY, "remove")])
    assert (cancel.outcome, cancel.message) == ("refused", MESSAGE)
    # December and the other régie are untouched; the week's banner says why.
    assert _status(ctx, "garderie_soir_phare", dt.date(2026, 12, 1)).state == "available"
    context = day_status.week_statuses(martin, dt.date(2026, 11, 23), dt.date(2026, 12, 4))
    assert not any(regie == ctx["regies"]["loisirs"].id for regie, _ in context.closed_months)
    grid = planning.week_grid(martin, dt.date(2026, 11, 23))
    assert "Garderie : novembre 2026 est clôturé pour la facturation, contactez la mairie pour tout changement" \
        in grid.banner


def test_staff_change_a_closed_month_until_the_family_is_invoiced(november):
    ctx, martin, lea = november, november["martin"], november["children"]["lea"]
    regie, soir = ctx["regies"]["periscolaire"], ctx["units"]["garderie_soir_phare"]
    billing_periods.close_period(regie, 2026, 11)
    [desk] = placement.place_bookings(martin, [(lea, soir, FRIDAY)], by_staff=True)
    assert desk.outcome == "booked" and "sera facturé" in desk.message
    run = invoicing_runs.issue_run(regie, 2026, 11).run
    invoice = Invoice.get((Invoice.household == martin) & (Invoice.run == run.id))
    assert "ven. 27 nov." in " ".join(line.days for line in invoice.lines)  # billed, not lost
    for change in ((lea, soir, FRIDAY, "remove"), (lea, ctx["units"]["garderie_matin_phare"], FRIDAY)):
        [refused] = placement.place_bookings(martin, [change], by_staff=True)
        assert refused.outcome == "refused" and f"déjà facturé pour ce foyer (facture {invoice.number})" in refused.message
    with pytest.raises(billing_periods.PeriodError, match="sont émises"):
        billing_periods.reopen_period(regie, 2026, 11)


def test_reopen_while_nothing_is_invoiced(november):
    ctx = november
    regie = ctx["regies"]["periscolaire"]
    with pytest.raises(billing_periods.PeriodError, match="n'a pas commencé"):
        billing_periods.close_period(regie, 2026, 12)
    first = billing_periods.close_period(regie, 2026, 11)
    assert billing_periods.close_period(regie, 2026, 11).id == first.id  # closing twice changes nothing
    state = billing_periods.period_state(regie, 2026, 11)
    assert state.invoiceable and state.can_reopen and not state.can_close
    billing_periods.reopen_period(regie, 2026, 11)
    assert not ClosedPeriod.select().where(ClosedPeriod.regie == regie).where(
        ClosedPeriod.period_start == dt.date(2026, 11, 1)).exists()
    assert _status(ctx, "garderie_soir_phare").state == "available"


def test_staff_decisions_never_change_an_invoiced_month(demo, freeze):
    freeze("2026-12-03T10:00")
    martin, hugo = Household.get_by_id(demo["households"]["martin"].id), demo["children"]["hugo"]
    regie, units = demo["regies"]["loisirs"], demo["units"]
    Booking.create(household=martin, child=hugo, unit=units["alsh_journee"], date=dt.date(2026, 12, 2),
                   status="booked", price=900, created_at=dt.datetime(2026, 11, 20, 9))
    request = Booking.create(household=martin, child=hugo, unit=units["alsh_matin"], date=dt.date(2026, 12, 16),
                             status="requested", price=450, created_at=dt.datetime(2026, 12, 1, 9))
    waiting = Booking.get((Booking.household == martin) & (Booking.status == "waiting_list"))
    invoicing_runs.issue_run(regie, 2026, 12, close=True)
    with pytest.raises(DomainError, match="déjà facturé"):
        orders.decide(request.id, True)
    with pytest.raises(DomainError, match="déjà facturé"):
        orders.confirm_waiting(waiting.id)
    orders.decide(request.id, False, "Complet")  # refusing changes no invoice
    assert Booking.get_by_id(request.id).status == "refused"
