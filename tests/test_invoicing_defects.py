"""Issue 9's two invoicing defects, first reproduced on main (7759953) with its API, then fixed:
November invoiced on 26 November lost a day booked on the 27th (invoice 57,20 €, preview 58,60 €),
and both régies issued « F2026-11-00001 »."""
from __future__ import annotations

import datetime as dt

import pytest
from peewee import IntegrityError

from models import Household, Invoice
from services.billing import billing_periods, invoicing, invoicing_runs
from services.booking import placement

NOVEMBER = dt.date(2026, 11, 1)


def _invoice(household, regie) -> Invoice:
    return Invoice.get((Invoice.household == household) & (Invoice.regie == regie) & (Invoice.period_start == NOVEMBER))


def test_november_cannot_be_invoiced_on_26_november_without_closing_it(demo, freeze):
    freeze("2026-11-26T10:00")
    with pytest.raises(billing_periods.PeriodNotOver, match="clôturez la période"):
        invoicing_runs.request_run(demo["regies"]["periscolaire"], 2026, 11)
    with pytest.raises(billing_periods.PeriodNotOver):
        invoicing_runs.issue_run(demo["regies"]["periscolaire"], 2026, 11)


def test_a_day_booked_after_the_run_is_refused_not_lost(demo, freeze):
    freeze("2026-11-26T10:00")
    regie = demo["regies"]["periscolaire"]
    martin = Household.get_by_id(demo["households"]["martin"].id)
    invoicing_runs.issue_run(regie, 2026, 11, close=True)
    invoice = _invoice(martin, regie)
    [result] = placement.place_bookings(martin, [(demo["children"]["lea"], demo["units"]["garderie_soir_phare"],
                                                  dt.date(2026, 11, 27))])
    assert result.outcome == "refused"
    assert result.message == "Ce mois est clôturé pour la facturation : contactez la mairie."
    draft = next(d for d in invoicing.preview_run(regie, 2026, 11).drafts if d.household.id == martin.id)
    assert draft.existing.id == invoice.id and draft.amount == invoice.amount  # main: 58,60 € against 57,20 €
    assert not any("Écart" in text for text in draft.anomalies)


def test_two_regies_never_issue_the_same_number(demo):
    numbers = [i.number for i in Invoice.select()]
    assert len(numbers) == len(set(numbers)), sorted(numbers)  # main: F2026-11-00001 and -00002 twice
    assert {n.split("-")[0] for n in numbers} == {"PERI", "ALSH"}


def test_the_database_refuses_a_duplicate_number(demo):
    invoice = Invoice.get_by_id(demo["invoices"]["martin_paid"].id)
    data = {f.name: getattr(invoice, f.name) for f in Invoice._meta.sorted_fields if f.name != "id"}
    Invoice.create(**dict(data, regie=demo["regies"]["periscolaire"], number="ZZ-2026-11-99999"))
    with pytest.raises(IntegrityError):  # main: (régie, number) only
        Invoice.create(**dict(data, regie=demo["regies"]["loisirs"], number="ZZ-2026-11-99999"))


def test_a_change_after_the_invoice_shows_as_a_gap_in_the_preview(demo, freeze):
    """What closure cannot lock (a pointage, an absence accepted late) is never hidden behind « Déjà facturé »."""
    freeze("2026-12-01T10:00")
    regie = demo["regies"]["periscolaire"]
    martin = Household.get_by_id(demo["households"]["martin"].id)
    invoicing_runs.issue_run(regie, 2026, 11)
    invoice = _invoice(martin, regie)
    from models import Booking
    day = (Booking.select().where((Booking.household == martin) & (Booking.date.between(NOVEMBER, dt.date(2026, 11, 30)))
                                  & (Booking.status == "booked")).order_by(Booking.date).first())
    Booking.update(attendance="absent_justified").where(Booking.id == day.id).execute()
    draft = next(d for d in invoicing.preview_run(regie, 2026, 11).drafts if d.household.id == martin.id)
    assert draft.existing.id == invoice.id and draft.amount < invoice.amount
    assert any(text.startswith(f"Écart avec la facture {invoice.number}") for text in draft.anomalies)

