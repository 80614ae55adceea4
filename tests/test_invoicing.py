"""Monthly invoicing: prices per booked day, anomalies, gapless numbering with the régie's code (also
under concurrent issuing and restarted runs, on SQLite and PostgreSQL), credit notes."""
from __future__ import annotations

import datetime as dt
import threading

import pytest

from models import (
    Attendance,
    Booking,
    Child,
    ClosedPeriod,
    Guardian,
    Household,
    Invoice,
    InvoiceLine,
    InvoicingRun,
    NumberCounter,
    db,
)
from services.billing import billing_periods, invoicing, invoicing_runs
from services.core import clock

DAYS = [dt.date(2027, 1, d) for d in (4, 5, 7, 8, 11, 12)]  # Mon, Tue, Thu, Fri, Mon, Tue


def clear_billing() -> None:
    """Remove the demo's invoices and payments: each test starts from an empty ledger."""
    from models import InvoicePeriodLock, OnlineTransaction, Payment, PaymentAllocation
    for model in (PaymentAllocation, OnlineTransaction, Payment, InvoicePeriodLock, InvoiceLine):
        model.delete().execute()
    Invoice.delete().where(Invoice.corrects.is_null(False)).execute()
    Invoice.delete().execute()
    for model in (NumberCounter, InvoicingRun, ClosedPeriod):
        model.delete().execute()


def book(household, child, unit, day, **fields):
    values = dict(status="booked", created_at=dt.datetime(2026, 12, 1, 9, 0))
    values.update(fields)
    return Booking.create(household=household, child=child, unit=unit, date=day, **values)


def make_household(name: str, qf: int | None = 800) -> tuple[Household, Child]:
    household = Household.create(name=name, status="validated", quotient_familial=qf)
    Guardian.create(household=household, first_name="Alex", last_name=name.split()[-1], is_payer=True,
                    email=f"{name.split()[-1].lower()}@example.fr", address="1 rue X", postal_code="29999",
                    city="Démo-sur-Mer")
    child = Child.create(household=household, first_name="Sam", last_name=name.split()[-1],
                         birth_date=dt.date(2019, 5, 1))
    return household, child


@pytest.fixture
def january(demo, freeze):
    freeze("2027-02-01T09:00")
    # A known starting point whatever the household seed says: no PAI, QF unknown.
    Child.update(has_pai=False).execute()
    Household.update(quotient_familial=None).execute()
    clear_billing()
    return demo


def test_qf_band_and_summary_line(january):
    martin, lea = january["households"]["martin"], january["children"]["lea"]
    Household.update(quotient_familial=800).where(Household.id == martin.id).execute()
    repas = january["units"]["repas_phare"]
    for day in DAYS:
        book(martin, lea, repas, day, attendance="present")
    drafts = invoicing.collect(dt.date(2027, 1, 1), dt.date(2027, 1, 31), regie=january["regies"]["periscolaire"])
    line = drafts[martin.id].lines[0]
    assert (line.label, line.unit_price, line.quantity, line.amount) == ("Repas", 210, 6, 1260)
    assert line.band == "QF de 600 à 999 €"
    assert line.summary == "Repas 2,10\xa0€ × 6 = 12,60\xa0€"
    assert line.days_text.startswith("lun. 4 janv., mar. 5 janv.")
    assert drafts[martin.id].anomalies == []


def test_unknown_qf_pai_late_absences(january):
    martin, lea, hugo = (january["households"]["martin"], january["children"]["lea"],
                         january["children"]["hugo"])
    Child.update(has_pai=True).where(Child.id == hugo.id).execute()
    repas_phare, repas_pp = january["units"]["repas_phare"], january["units"]["repas_petit_prince"]
    book(martin, lea, repas_phare, DAYS[0], attendance="present")
    book(martin, lea, repas_phare, DAYS[1], late=True, attendance="present")
    book(martin, lea, repas_phare, DAYS[2], attendance="absent")
    book(martin, lea, repas_phare, DAYS[3], attendance="absent_justified")
    book(martin, hugo, repas_pp, DAYS[0], attendance="present")
    drafts = invoicing.collect(dt.date(2027, 1, 1), dt.date(2027, 1, 31))
    draft = drafts[martin.id]
    lines = {(line.child.first_name, line.label): line for line in draft.lines}
    assert lines[("Léa", "Repas")].unit_price == 290  # QF unknown: default price
    assert lines[("Léa", "Repas")].band == "QF inconnu : tarif de base"
    late = lines[("Léa", "Repas – réservé hors délai (majoration de 1,00\xa0€ incluse)")]
    assert late.unit_price == 390
    absent = lines[("Léa", "Repas – absence non justifiée (pénalité de 1,50\xa0€ incluse)")]
    assert absent.unit_price == 440
    justified = lines[("Léa", "Repas – absence justifiée (non facturée)")]
    assert justified.amount == 0 and justified.quantity == 1
    pai = lines[("Hugo", "Repas")]
    assert (pai.unit_price, pai.band) == (150, "Tarif PAI (panier repas)")
    assert draft.amount == 290 + 390 + 440 + 0 + 150
    assert "Quotient familial inconnu : tarif de base appliqué." in draft.anomalies


def test_price_fixed_at_booking_wins(january):
    martin, lea = january["households"]["martin"], january["children"]["lea"]
    book(martin, lea, january["units"]["repas_phare"], DAYS[0], price=250, attendance="present")
    line = invoicing.collect(dt.date(2027, 1, 1), dt.date(2027, 1, 31))[martin.id].lines[0]
    assert line.unit_price == 250


def test_presence_without_booking_and_unpointed_days(january):
    martin, lea = january["households"]["martin"], january["children"]["lea"]
    repas, garderie = january["units"]["repas_phare"], january["units"]["garderie_soir_phare"]
    Attendance.create(household=martin, child=lea, unit=repas, date=DAYS[0], recorded_at=dt.datetime(2027, 1, 4, 12))
    Attendance.create(household=martin, child=lea, unit=garderie, date=DAYS[0], recorded_at=dt.datetime(2027, 1, 4, 17))
    garderie.unbooked_presence = "normal"
    garderie.save()
    book(martin, lea, repas, DAYS[1])  # past, no pointage
    draft = invoicing.collect(dt.date(2027, 1, 1), dt.date(2027, 1, 31))[martin.id]
    labels = {line.label: line.unit_price for line in draft.lines}
    assert labels["Repas – présence sans réservation"] == 390  # price + late surcharge (default policy)
    assert labels["Garderie soir – présence sans réservation"] == 180
    assert any("sans pointage" in text and "mar. 5 janv." in text for text in draft.anomalies)
    assert sum("sans réservation" in text for text in draft.anomalies) == 2


def test_preview_then_issue_numbers_gapless_and_once(january):
    regie = january["regies"]["periscolaire"]
    martin, lea = january["households"]["martin"], january["children"]["lea"]
    dupont, ines = january["households"]["dupont"], january["children"]["ines"]
    for day in DAYS:
        book(martin, lea, january["units"]["repas_phare"], day, attendance="present")
        book(dupont, ines, january["units"]["garderie_matin_phare"], day, attendance="present")
    preview = invoicing.preview_run(regie, 2027, 1)
    assert len(preview.to_issue) == 2 and Invoice.select().count() == 0
    assert preview.total == 6 * 290 + 6 * 120
    result = invoicing_runs.issue_run(regie, 2027, 1)
    numbers = sorted(i.number for i in result.issued)
    assert numbers == ["PERI-2027-02-00001", "PERI-2027-02-00002"]
    invoice = Invoice.get(Invoice.household == martin)
    assert invoice.amount == 1740 and invoice.due_on == dt.date(2027, 3, 3)
    assert invoice.payer_name == "Madame Claire Martin"
    assert InvoiceLine.select().where(InvoiceLine.invoice == invoice).count() == 1
    again = invoicing_runs.issue_run(regie, 2027, 1)
    assert again.issued == [] and Invoice.select().count() == 2
    assert all(d.existing for d in invoicing.preview_run(regie, 2027, 1).drafts)
    # Another régie numbers on its own.
    book(martin, lea, january["units"]["alsh_journee"], dt.date(2027, 1, 6), attendance="present")
    other = invoicing_runs.issue_run(january["regies"]["loisirs"], 2027, 1)
    assert [i.number for i in other.issued] == ["ALSH-2027-02-00001"]


def test_restart_after_crash_leaves_no_gap(january, monkeypatch):
    regie = january["regies"]["periscolaire"]
    households = [make_household(f"Famille Test{n}") for n in range(4)]
    for household, child in households:
        book(household, child, january["units"]["repas_phare"], DAYS[0], attendance="present")
    real_create = invoicing.InvoicePeriodLock.create
    calls = {"n": 0}

    def crash_on_third(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("coupure de courant")
        return real_create(**kwargs)

    monkeypatch.setattr(invoicing.InvoicePeriodLock, "create", crash_on_third)
    with pytest.raises(invoicing_runs.RunRefused, match="coupure de courant"):
        invoicing_runs.issue_run(regie, 2027, 1)
    assert Invoice.select().count() == 2
    assert NumberCounter.get(NumberCounter.regie == regie).last == 2  # the crashed one rolled back
    monkeypatch.setattr(invoicing.InvoicePeriodLock, "create", real_create)
    result = invoicing_runs.issue_run(regie, 2027, 1)  # resumes the failed run
    assert len(result.issued) == 4 and InvoicingRun.select().count() == 1
    numbers = sorted(i.number for i in Invoice.select())
    assert numbers == [f"PERI-2027-02-{n:05d}" for n in range(1, 5)]


def _concurrently(count: int, work) -> list[Exception]:
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


def test_concurrent_issuing_in_two_regies_gives_no_duplicate_and_no_gap(january):
    """Four threads, two per régie, race to invoice the same twelve households in each régie."""
    regies = (january["regies"]["periscolaire"], january["regies"]["loisirs"])
    units = (january["units"]["repas_phare"], january["units"]["alsh_journee"])
    count = 12
    for n in range(count):
        household, child = make_household(f"Famille Concurrente{n}")
        for day in DAYS[:3]:
            book(household, child, units[0], day, attendance="present")
        book(household, child, units[1], dt.date(2027, 1, 6), attendance="present")
    start, end = billing_periods.month_bounds(2027, 1)
    drafts = {regie.id: invoicing.collect(start, end, regie=regie) for regie in regies}

    def issue(n):
        regie = regies[n % 2]
        for draft in drafts[regie.id].values():
            try:
                invoicing.issue_invoice(regie, draft.household, start, end, draft.lines)
            except invoicing.AlreadyInvoiced:
                pass

    assert _concurrently(4, issue) == []
    for regie in regies:
        invoices = list(Invoice.select().where(Invoice.regie == regie))
        assert len({i.household_id for i in invoices}) == len(invoices) == len(drafts[regie.id])
        assert sorted(i.number for i in invoices) == [f"{regie.code}-2027-02-{n:05d}"
                                                      for n in range(1, len(invoices) + 1)]


def test_concurrent_requests_queue_one_run(january):
    regie = january["regies"]["periscolaire"]
    refused = []

    def request(_n):
        try:
            invoicing_runs.request_run(regie, 2027, 1)
        except invoicing_runs.RunInProgress as error:
            refused.append(error)

    assert _concurrently(4, request) == []
    assert len(refused) == 3 and InvoicingRun.select().count() == 1


def test_credit_note(january):
    regie = january["regies"]["periscolaire"]
    martin, lea = january["households"]["martin"], january["children"]["lea"]
    for day in DAYS:
        book(martin, lea, january["units"]["repas_phare"], day, attendance="present")
    invoice = invoicing_runs.issue_run(regie, 2027, 1).issued[0]
    with pytest.raises(invoicing.InvalidCredit):
        invoicing.issue_credit_note(invoice, 290, "  ")
    with pytest.raises(invoicing.InvalidCredit):
        invoicing.issue_credit_note(invoice, invoice.amount + 1, "Trop")
    credit = invoicing.issue_credit_note(invoice, 290, "Repas du 4 janvier non servi (grève)")
    assert credit.number == "PERI-A2027-02-00001" and credit.kind == "credit" and credit.corrects_id == invoice.id
    fresh = Invoice.get_by_id(invoice.id)
    assert fresh.amount == 1740 and fresh.credited == 290 and fresh.balance == 1450
    assert invoicing.status_of(fresh, dt.date(2027, 2, 2)) == ("due", "À payer avant le 03/03/2027")
    assert invoicing.status_of(credit)[0] == "credit"
    # The next invoice number is not consumed by credit notes.
    household, child = make_household("Famille Suivante")
    book(household, child, january["units"]["repas_phare"], DAYS[0])
    assert invoicing_runs.issue_run(regie, 2027, 1).issued[0].number == "PERI-2027-02-00002"


def test_month_bounds_refuses_bad_months():
    assert billing_periods.month_bounds(2027, 2) == (dt.date(2027, 2, 1), dt.date(2027, 2, 28))
    for year, month in ((2027, 0), (2027, 13), (1900, 5)):
        with pytest.raises(billing_periods.InvalidPeriod):
            billing_periods.month_bounds(year, month)


def test_running_consumptions_excludes_invoiced_regies(january):
    clock.freeze("2027-01-20T10:00")
    martin, lea = january["households"]["martin"], january["children"]["lea"]
    book(martin, lea, january["units"]["repas_phare"], DAYS[0], attendance="present")
    book(martin, lea, january["units"]["alsh_journee"], dt.date(2027, 1, 6), attendance="present")
    start, end, lines = invoicing.running_consumptions(martin)
    assert start == dt.date(2027, 1, 1) and len(lines) == 2
    with pytest.raises(billing_periods.PeriodNotOver):
        invoicing_runs.issue_run(january["regies"]["loisirs"], 2027, 1)
    invoicing_runs.issue_run(january["regies"]["loisirs"], 2027, 1, close=True)
    assert [line.unit.name for line in invoicing.running_consumptions(martin)[2]] == ["Repas"]


def test_the_family_is_told_by_mail_once_per_invoice(january):
    """The invoice e-mail is queued in the invoice's own transaction: no invoice without its mail, and
    a run done again sends nothing more."""
    from models import OutgoingMail
    regie = january["regies"]["periscolaire"]
    martin, lea = january["households"]["martin"], january["children"]["lea"]
    for day in DAYS:
        book(martin, lea, january["units"]["repas_phare"], day, attendance="present")
    before = OutgoingMail.select().count()
    invoicing_runs.issue_run(regie, 2027, 1)
    mails = list(OutgoingMail.select().order_by(OutgoingMail.id).offset(before))
    assert [m.to for m in mails] == martin.parent_emails()
    assert "PERI-2027-02-00001" in mails[0].subject
    assert "17,40" in mails[0].body and "3 mars 2027" in mails[0].body and "Payer" in mails[0].body
    invoicing_runs.issue_run(regie, 2027, 1)
    assert OutgoingMail.select().count() == before + len(mails)
