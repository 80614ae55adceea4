"""« Mes données » (right of access, RGPD art. 15): everything held about one household as JSON, and
one zip with that JSON and the household's document files.

Plain functions on models (no service of the booking or billing areas, which sit above this one):
one query per table, each scoped to the household, whatever the size of its history.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path

from peewee import JOIN

from models import (
    AbsenceDeclaration,
    Activity,
    Alert,
    AuditLog,
    BasketLine,
    Booking,
    ChangeRequest,
    Child,
    ChildContact,
    Diet,
    DirectDebitMandate,
    DocumentType,
    Enrolment,
    FamilyDocument,
    Guardian,
    Household,
    Invoice,
    InvoiceLine,
    Message,
    OnlineTransaction,
    Order,
    OrderLine,
    Payment,
    PaymentAllocation,
    Regie,
    School,
    Thread,
    Unit,
    User,
)
from services.core import audit, clock, formatting
from services.core.transactions import write_transaction

EXPORT_ACTION = "export des données personnelles du foyer (santé comprise)"
FORMAT_VERSION = 1
JSON_NAME = "donnees.json"
DOCUMENTS_FOLDER = "documents"
# Amount columns (integer cents): each is written twice, `<name>_cents` and `<name>_euros` ("12,34 €").
AMOUNTS = {"amount", "paid", "credited", "unit_price", "total", "amount_due", "price", "simulated_amount"}
# Never exported: secrets of a login, and the internal key of an open card payment.
SECRETS = {"password_hash", "session_version", "ical_token", "open_key"}


def _value(value):
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return value


def _row(row: dict) -> dict:
    """A row as JSON: ISO dates, amounts in cents and in euros, secrets left out."""
    out = {}
    for key, value in row.items():
        if key in SECRETS:
            continue
        if key in AMOUNTS:
            out[f"{key}_cents"] = value
            out[f"{key}_euros"] = formatting.money(value) if value is not None else None
        else:
            out[key] = _value(value)
    return out


def _rows(query) -> list[dict]:
    return [_row(row) for row in query.dicts()]


def _fields(model, *without: str) -> list:
    return [field for name, field in model._meta.fields.items() if name not in without and name not in SECRETS]


def collect(household: Household) -> dict:
    """Everything held about the household, ready for json.dumps (about twenty queries in all)."""
    hid = household.id
    children = Child.select().where(Child.household == hid)
    invoices = Invoice.select(Invoice.id).where(Invoice.household == hid)
    payments = Payment.select(Payment.id).where(Payment.household == hid)
    orders = Order.select(Order.id).where(Order.household == hid)
    actor = User.alias()
    return {
        "format": FORMAT_VERSION,
        "exported_at": _value(clock.local_now()),
        "household": _row(Household.select().where(Household.id == hid).dicts().get()),
        "guardians": _rows(Guardian.select().where(Guardian.household == hid).order_by(Guardian.position, Guardian.id)),
        "children": _rows(
            Child.select(*_fields(Child), School.name.alias("school_name"), Diet.name.alias("diet_name"))
            .join(School, on=(Child.school == School.id), join_type=JOIN.LEFT_OUTER).switch(Child)
            .join(Diet, on=(Child.diet == Diet.id), join_type=JOIN.LEFT_OUTER)
            .where(Child.household == hid).order_by(Child.position, Child.id)),
        "child_contacts": _rows(ChildContact.select().where(ChildContact.child.in_(children.select(Child.id)))
                                .order_by(ChildContact.id)),
        "enrolments": _rows(
            Enrolment.select(*_fields(Enrolment), Activity.name.alias("activity_name")).join(Activity)
            .where(Enrolment.child.in_(children.select(Child.id))).order_by(Enrolment.id)),
        "bookings": _rows(
            Booking.select(*_fields(Booking), Unit.name.alias("unit_name"), Activity.name.alias("activity_name"))
            .join(Unit).join(Activity).where(Booking.household == hid).order_by(Booking.date, Booking.id)),
        "basket": _rows(BasketLine.select().where(BasketLine.household == hid).order_by(BasketLine.id)),
        "orders": _rows(Order.select().where(Order.household == hid).order_by(Order.id)),
        "order_lines": _rows(OrderLine.select().where(OrderLine.order.in_(orders)).order_by(OrderLine.id)),
        "absence_declarations": _rows(AbsenceDeclaration.select().where(AbsenceDeclaration.household == hid)
                                      .order_by(AbsenceDeclaration.id)),
        "invoices": _rows(
            Invoice.select(*_fields(Invoice), Regie.name.alias("regie_name")).join(Regie)
            .where(Invoice.household == hid).order_by(Invoice.issued_at, Invoice.id)),
        "invoice_lines": _rows(InvoiceLine.select().where(InvoiceLine.invoice.in_(invoices))
                               .order_by(InvoiceLine.invoice, InvoiceLine.position, InvoiceLine.id)),
        "payments": _rows(Payment.select().where(Payment.household == hid).order_by(Payment.received_on, Payment.id)),
        "payment_allocations": _rows(PaymentAllocation.select().where(PaymentAllocation.payment.in_(payments))
                                     .order_by(PaymentAllocation.id)),
        "online_payments": _rows(OnlineTransaction.select().where(OnlineTransaction.household == hid)
                                 .order_by(OnlineTransaction.id)),
        "direct_debit_mandates": _rows(DirectDebitMandate.select().where(DirectDebitMandate.household == hid)
                                       .order_by(DirectDebitMandate.id)),
        "documents": _rows(
            FamilyDocument.select(*_fields(FamilyDocument), DocumentType.name.alias("type_name")).join(DocumentType)
            .where(FamilyDocument.household == hid).order_by(FamilyDocument.uploaded_at, FamilyDocument.id)),
        "change_requests": _rows(ChangeRequest.select().where(ChangeRequest.household == hid)
                                 .order_by(ChangeRequest.id)),
        "alerts": _rows(Alert.select().where(Alert.household == hid).order_by(Alert.created_at, Alert.id)),
        "message_threads": _rows(Thread.select().where(Thread.household == hid).order_by(Thread.id)),
        "messages": _rows(
            Message.select(Message.id, Message.thread, Message.from_staff, Message.body, Message.attachment_name,
                           Message.created_at)
            .where(Message.thread.in_(Thread.select(Thread.id).where(Thread.household == hid))).order_by(Message.id)),
        "logins": _rows(User.select(*_fields(User)).where(User.household == hid).order_by(User.id)),
        # Who acted is given by role only: the names of the town hall's staff are their own personal data.
        "audit_entries": _rows(
            AuditLog.select(AuditLog.id, AuditLog.at, AuditLog.action, AuditLog.object_type, AuditLog.object_id,
                            AuditLog.detail, actor.role.alias("by_role"))
            .join(actor, on=(AuditLog.user == actor.id), join_type=JOIN.LEFT_OUTER)
            .where(AuditLog.household == hid).order_by(AuditLog.at, AuditLog.id)),
    }


def archive_name(document: dict) -> str:
    """Where a document's file goes in the zip: documents/<id>-<name as sent>."""
    name = (document.get("original_name") or document["stored_name"]).replace("/", "_").replace("\\", "_")
    return f"{DOCUMENTS_FOLDER}/{document['id']}-{name}"


def build_zip(household: Household, upload_dir: str | Path) -> bytes:
    """The zip a parent (or staff for them) downloads: donnees.json and documents/ with the files."""
    data = collect(household)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for document in data["documents"]:
            path = Path(upload_dir) / document["stored_name"]
            document["file_in_archive"] = archive_name(document) if path.is_file() else None
            if path.is_file():
                archive.write(path, document["file_in_archive"])
        archive.writestr(JSON_NAME, json.dumps(data, ensure_ascii=False, indent=2))
    return buffer.getvalue()


def file_name(household: Household) -> str:
    """The download's name: mes-donnees-foyer-<id>-<date>.zip."""
    return f"mes-donnees-foyer-{household.id}-{clock.local_now():%Y-%m-%d}.zip"


def staff_export(staff: User, household: Household, upload_dir: str | Path) -> bytes:
    """The same zip, made by staff for a family (at the desk, or to answer a written request): it holds
    the children's health data, so it is written to the audit log as a read of health data."""
    with write_transaction():
        audit.record(staff, EXPORT_ACTION, household)
    return build_zip(household, upload_dir)
