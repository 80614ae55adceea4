"""Issue 9's two invoicing defects, first reproduced on main (7759953) with its API, then fixed:
November invoiced on 26 November lost a day booked on the 27th (invoice 57,20 €, preview 58,60 €),
and both régies issued « F2026-11-00001 »."""
from __future__ import annotations

import datetime as dt

import pytest
from peewee import IntegrityError

from models import Household, Invoice
from services import billing_periods, invoicing, invoicing_runs, placement

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


def test_a_database_from_before_codes_is_brought_up_without_renumbering(demo):
    """What the migration adding codes does: régies get codes, numbers two régies share are kept as
    printed and marked, invoiced months are closed; then the unique indexes can be built."""
    from models import ClosedPeriod, Regie, db
    from services import invoice_numbers
    db.execute_sql("DROP INDEX invoice_number_legacy_series")
    db.execute_sql("DROP INDEX regie_code")
    try:
        for invoice in Invoice.select():  # main's numbers: « F2026-11-00001 » in both régies
            Invoice.update(number=invoice.number.replace("PERI-", "F").replace("ALSH-", "F")).where(
                Invoice.id == invoice.id).execute()
        Regie.update(code="").execute()
        ClosedPeriod.delete().execute()
        old = {i.id: i.number for i in Invoice.select()}
        assert len(set(old.values())) < len(old)
        done = invoice_numbers.backfill_codes_and_legacy_numbers()
        assert billing_periods.close_invoiced_months() == 2 and billing_periods.close_invoiced_months() == 0
    finally:
        Invoice._schema.create_indexes(safe=True)
        Regie._schema.create_indexes(safe=True)
    assert {r.name: r.code for r in Regie.select()} == {"Régie périscolaire": "PERI", "Régie accueil de loisirs": "ACLO"}
    assert {i.id: i.number for i in Invoice.select()} == old  # never renumbered
    assert all(i.legacy_series == str(i.regie_id) for i in Invoice.select())
    assert "régie « Régie périscolaire » : code PERI" in done
    assert invoice_numbers.code_from_name("Régie périscolaire", {"PERI"}) == "PERI2"
    data = {f.name: getattr(Invoice.get(), f.name) for f in Invoice._meta.sorted_fields
            if f.name not in ("id", "legacy_series")}
    Invoice.create(**dict(data, number="ACLO-2026-11-00001"))
    with pytest.raises(IntegrityError):  # the rebuilt index holds for every new number
        Invoice.create(**dict(data, number="ACLO-2026-11-00001"))
