"""A commune that grows: `add_households(ctx, start, count)` inserts households with everything the
staff lists and exports show (guardians, logins, children, enrolments, bookings, requests, waiting
lists, declared absences, documents, change requests, invoices, credit notes, payments, card
transactions, mandates, mails), with Model.insert_many in one transaction: fast at 500 households,
where the services' one-by-one calls would take minutes. Used by tests/test_query_counts.py."""
from __future__ import annotations

import datetime as dt
import json

from models import (
    AbsenceDeclaration,
    Activity,
    Booking,
    ChangeRequest,
    Child,
    DirectDebitMandate,
    DocumentType,
    Enrolment,
    FamilyDocument,
    Guardian,
    Household,
    Invoice,
    InvoicingRun,
    OnlineTransaction,
    Order,
    OrderLine,
    OutgoingMail,
    Payment,
    PaymentAllocation,
    User,
)
from services.core.transactions import write_transaction

NOW = dt.datetime(2026, 11, 29, 11, 0)  # TEST_NOW
MEAL_DAY = dt.date(2026, 11, 30)  # a Monday: canteen headcounts and the attendance sheet
REQUEST_DAY = dt.date(2026, 12, 2)  # a Wednesday: ALSH requests waiting for staff
WAITING_DAY = dt.date(2026, 12, 16)  # a Wednesday: the ALSH waiting list
OVERDUE_ISSUED = dt.date(2026, 10, 5)  # invoices of October, due on 4 November: overdue
PAID_ISSUED = dt.date(2026, 11, 2)
CARD_DAY = dt.date(2026, 11, 10)
BATCH = 200


def _insert(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        model.insert_many(rows[start:start + BATCH]).execute()


def _ids(model, field, values) -> dict:
    """value of a unique column → id, for rows just inserted (ids differ between SQLite and PostgreSQL)."""
    return dict(model.select(field, model.id).where(field.in_(list(values))).tuples())


def _week(first: dt.date, i: int) -> dt.date:
    """Requests and waiting lists spread over more Wednesdays as the commune grows (25 households a week)."""
    return first + dt.timedelta(weeks=i // 25)


def invoicing_run(ctx: dict) -> InvoicingRun:
    """The run the test households' October invoices belong to (created on first use)."""
    regie = ctx["regies"]["loisirs"]
    run = InvoicingRun.get_or_none((InvoicingRun.regie == regie) & (InvoicingRun.origin == "test"))
    if run is None:
        run = InvoicingRun.create(regie=regie, period_start=dt.date(2026, 10, 1), origin="test", requested_at=NOW,
                                  status="done", started_at=NOW, finished_at=NOW)
    return run


def add_households(ctx: dict, start: int, count: int) -> None:
    """Households number start … start + count - 1, each with the rows listed in the module docstring."""
    numbers = range(start, start + count)
    units, activities = ctx["units"], ctx["activities"]
    phare = ctx["schools"]["phare"]
    diets = list(ctx["diets"].values())
    document_types = {t.code: t for t in DocumentType.select()}
    regie = ctx["regies"]["loisirs"]
    with write_transaction():
        run = invoicing_run(ctx)
        # ALSH Mercredi asks for documents and a certified record: the enrolment queue checks them.
        Activity.update(required_documents=f"{document_types['qf'].id},{document_types['vaccins'].id}",
                        requires_certified_record=True).where(Activity.id == activities["alsh_mercredi"].id).execute()
        _insert(Household, [dict(
            name=f"Famille Essai {i:04d}", quotient_familial=300 + (i * 37) % 1200, created_at=NOW,
            status="submitted" if i % 10 == 0 else "closing_requested" if i % 10 == 1 else "validated",
            submitted_at=NOW - dt.timedelta(days=1), status_before_closing="validated" if i % 10 == 1 else "",
            closing_requested_at=NOW - dt.timedelta(hours=2) if i % 10 == 1 else None) for i in numbers])
        households = _ids(Household, Household.name, [f"Famille Essai {i:04d}" for i in numbers])
        house = {i: households[f"Famille Essai {i:04d}"] for i in numbers}
        _insert(Guardian, [dict(
            household=house[i], civility="Madame", first_name=f"Camille{i}", last_name=f"Essai{i:04d}",
            address=f"{i} rue des Essais", postal_code="29999", city="Démo-sur-Mer", email=f"parent{i:04d}@essai.example.fr",
            is_payer=True) for i in numbers])
        _insert(User, [dict(
            email=f"parent{i:04d}@essai.example.fr", role="parent", first_name=f"Camille{i}", last_name=f"Essai{i:04d}",
            household=house[i], activated=True, created_at=NOW) for i in numbers])
        _insert(Child, [dict(
            household=house[i], first_name=f"Enfant{i}{letter}", last_name=f"Essai{i:04d}", school=phare,
            class_level="CE1", diet=diets[i % len(diets)] if i % 3 == 0 else None, has_pai=i % 7 == 0,
            allergies="Arachide" if i % 7 == 0 else "", position=position, birth_date=dt.date(2018, 1, 1))
            for i in numbers for position, letter in ((1, "a"), (2, "b"))])
        children = dict(Child.select(Child.first_name, Child.id).where(Child.household.in_(list(house.values())))
                        .tuples())
        first = {i: children[f"Enfant{i}a"] for i in numbers}
        second = {i: children[f"Enfant{i}b"] for i in numbers}

        _insert(Enrolment, [dict(child=first[i], activity=activities["cantine_phare"], status="validated",
                                 requested_at=NOW, decided_at=NOW) for i in numbers])
        _insert(Enrolment, [dict(child=second[i], activity=activities["alsh_mercredi"],
                                 status="waiting_list" if i % 5 == 0 else "requested",
                                 requested_at=NOW - dt.timedelta(minutes=i)) for i in numbers])

        # Bookings: a canteen day (expected, some already pointed), an ALSH request with its order,
        # a waiting ALSH day; a declared absence on the canteen day.
        _insert(Booking, [dict(household=house[i], child=first[i], unit=units["repas_phare"], date=MEAL_DAY,
                               status="booked", price=210, created_at=NOW,
                               attendance="present" if i % 4 == 0 else "") for i in numbers])
        _insert(Booking, [dict(household=house[i], child=second[i], unit=units["alsh_journee"],
                               date=_week(REQUEST_DAY, i), status="requested", price=900, created_at=NOW, sequence=i)
                          for i in numbers])
        _insert(Booking, [dict(household=house[i], child=first[i], unit=units["alsh_journee"],
                               date=_week(WAITING_DAY, i), status="waiting_list", price=900, created_at=NOW,
                               sequence=i) for i in numbers])
        bookings = {(b.child_id, b.unit_id): b.id for b in Booking.select(Booking.id, Booking.child, Booking.unit)
                    .where(Booking.child.in_(list(first.values()) + list(second.values())))}
        _insert(Order, [dict(household=house[i], number=f"ESSAI-{i:06d}", created_at=NOW, total=900) for i in numbers])
        orders = _ids(Order, Order.number, [f"ESSAI-{i:06d}" for i in numbers])
        _insert(OrderLine, [dict(
            order=orders[f"ESSAI-{i:06d}"], child=second[i], unit=units["alsh_journee"], date=_week(REQUEST_DAY, i),
            outcome="requested", price=900, booking=bookings[(second[i], units["alsh_journee"].id)])
            for i in numbers])
        _insert(AbsenceDeclaration, [dict(
            booking=bookings[(first[i], units["repas_phare"].id)], household=house[i], reason="Malade",
            created_at=NOW) for i in numbers if i % 2 == 0])

        # The household file: a document and a change waiting for staff.
        _insert(FamilyDocument, [dict(
            household=house[i], child=first[i] if i % 2 else None,
            doc_type=document_types["vaccins" if i % 2 else "qf"], original_name="piece.pdf",
            stored_name=f"essai-{i:04d}.pdf", content_type="application/pdf", size=100,
            uploaded_at=NOW - dt.timedelta(minutes=i)) for i in numbers])
        # Accepted papers for some: valid (one household in six), expired (another one in six).
        _insert(FamilyDocument, [dict(
            household=house[i], child=second[i] if code == "vaccins" else None, doc_type=document_types[code],
            original_name="piece.pdf", stored_name=f"essai-{i:04d}-{code}.pdf", content_type="application/pdf",
            size=100, uploaded_at=NOW, status="accepted", valid_from=dt.date(2026, 1, 1),
            valid_until=dt.date(2027, 1, 1) if i % 6 == 0 else dt.date(2026, 6, 30))
            for i in numbers if i % 6 in (0, 3) for code in ("qf", "vaccins")])
        guardians = dict(Guardian.select(Guardian.household, Guardian.id)
                         .where(Guardian.household.in_(list(house.values()))).tuples())
        _insert(ChangeRequest, [dict(
            household=house[i], target=("household", "guardian", "child")[i % 3],
            guardian=guardians[house[i]] if i % 3 == 1 else None, child=first[i] if i % 3 == 2 else None,
            changes=json.dumps([{"field": "quotient_familial", "label": "Quotient familial", "old": "500",
                                 "new": "650", "value": 650}]), created_at=NOW - dt.timedelta(minutes=i))
            for i in numbers])

        # Billing: an overdue October invoice (on direct debit for one household in four, with a
        # credit note for one in five), a November invoice paid by card, a mandate, a mail.
        _insert(DirectDebitMandate, [dict(
            household=house[i], reference=f"ESSAI{i:06d}", holder=f"Camille Essai{i:04d}",
            iban="FR7630006000011234567890189", signed_at=NOW) for i in numbers if i % 4 == 0])
        _insert(Invoice, [dict(
            regie=regie, household=house[i], number=f"ESSAI-F{i:05d}", period_start=dt.date(2026, 10, 1),
            period_end=dt.date(2026, 10, 31), issued_at=NOW, issued_on=OVERDUE_ISSUED, payable_from=OVERDUE_ISSUED,
            due_on=OVERDUE_ISSUED + dt.timedelta(days=30), amount=2000 + i, credited=500 if i % 5 == 0 else 0,
            payer_name=f"Madame Camille{i} Essai{i:04d}", direct_debit=i % 4 == 0, run=run) for i in numbers])
        InvoicingRun.update(invoices_issued=InvoicingRun.invoices_issued + count,
                            households_done=InvoicingRun.households_done + count).where(InvoicingRun.id == run.id).execute()
        _insert(Invoice, [dict(
            regie=ctx["regies"]["periscolaire"], household=house[i], number=f"ESSAI-P{i:05d}",
            period_start=dt.date(2026, 10, 1), period_end=dt.date(2026, 10, 31), issued_at=NOW, issued_on=PAID_ISSUED,
            payable_from=PAID_ISSUED, due_on=PAID_ISSUED + dt.timedelta(days=30), amount=1500, paid=1500,
            payer_name=f"Madame Camille{i} Essai{i:04d}") for i in numbers])
        invoices = _ids(Invoice, Invoice.number, [f"ESSAI-{k}{i:05d}" for i in numbers for k in "FP"])
        _insert(Invoice, [dict(
            regie=regie, household=house[i], kind="credit", number=f"ESSAI-A{i:05d}",
            period_start=dt.date(2026, 10, 1), period_end=dt.date(2026, 10, 31), issued_at=NOW, issued_on=PAID_ISSUED,
            payable_from=PAID_ISSUED, due_on=PAID_ISSUED, amount=500, corrects=invoices[f"ESSAI-F{i:05d}"],
            reason="Journée annulée") for i in numbers if i % 5 == 0])
        _insert(Payment, [dict(household=house[i], mode="carte", amount=1500, received_on=CARD_DAY,
                               reference=f"essai-{i:04d}", recorded_at=NOW) for i in numbers])
        payments = _ids(Payment, Payment.reference, [f"essai-{i:04d}" for i in numbers])
        _insert(PaymentAllocation, [dict(payment=payments[f"essai-{i:04d}"], invoice=invoices[f"ESSAI-P{i:05d}"],
                                         amount=1500) for i in numbers])
        _insert(OnlineTransaction, [dict(
            household=house[i], invoice=invoices[f"ESSAI-P{i:05d}"], backend="dummy", transaction_id=f"essai-{i:04d}",
            amount=1500, status="paid", payment=payments[f"essai-{i:04d}"],
            created_at=dt.datetime.combine(CARD_DAY, dt.time(10, 0)),
            completed_at=dt.datetime.combine(CARD_DAY, dt.time(10, 5))) for i in numbers])
        _insert(OutgoingMail, [dict(
            to=f"parent{i:04d}@essai.example.fr", subject="Votre facture", body="Bonjour", message_id=f"<essai-{i}@t>",
            status="sent" if i % 3 else "pending", created_at=NOW, next_attempt_at=NOW) for i in numbers])
