"""RGPD: what is erased when an account closes or a child leaves, and the anonymisation of closed
households once the retention period set by the commune is over (the daily job in jobs.py).

At closure (or when a child leaves the file) the children's health data (allergies, PAI, doctor, diet)
and the documents sent (rows and files) are erased at once: nothing requires keeping them. After
Commune.retention_identity_months the household's identity goes too (names, addresses, phones, e-mails,
birth dates, logins), while invoices and payments keep their amounts, numbers and dates for the accounts.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from dateutil.relativedelta import relativedelta

from models import (
    AbsenceDeclaration,
    AccessToken,
    Alert,
    AuditLog,
    BasketLine,
    ChangeRequest,
    Child,
    ChildContact,
    Commune,
    DirectDebitMandate,
    EmailCode,
    FamilyDocument,
    Guardian,
    Household,
    Invoice,
    InvoiceLine,
    LoginThrottle,
    Message,
    OnlineTransaction,
    OutgoingMail,
    Thread,
    ThrottleEvent,
    User,
)
from services.core import audit, clock, events
from services.core.transactions import write_transaction
from services.family import documents

ANONYMISED_ACTION = "foyer anonymisé (durée de conservation échue)"
MESSAGE_FOLDER = "messages"  # services/communication/messaging.FOLDER, under the upload directory
HEALTH_CLEARED = {"allergies": "", "has_pai": False, "pai_details": "", "doctor_name": "", "doctor_phone": "",
                  "diet": None}


def _upload_dir(upload_dir: str | Path | None) -> Path | None:
    folder = upload_dir or documents.default_upload_dir
    return Path(folder) if folder else None


def _unlink(upload_dir: Path | None, names: list[str]) -> None:
    if upload_dir is None:
        return
    for name in names:
        if name:
            (upload_dir / name).unlink(missing_ok=True)


def erase_children_health(child_ids: list[int], upload_dir: str | Path | None = None) -> int:
    """A child leaves (or the account closes): health fields cleared, the child's documents deleted
    (rows, then files). Returns the number of documents deleted."""
    if not child_ids:
        return 0
    Child.update(**HEALTH_CLEARED).where(Child.id.in_(child_ids)).execute()
    rows = FamilyDocument.select(FamilyDocument.id, FamilyDocument.stored_name).where(FamilyDocument.child.in_(child_ids))
    names = [row.stored_name for row in rows]
    FamilyDocument.delete().where(FamilyDocument.child.in_(child_ids)).execute()
    _unlink(_upload_dir(upload_dir), names)
    return len(names)


def erase_at_closure(household: Household, upload_dir: str | Path | None = None) -> str:
    """The account is closed: health data, documents, absence certificates and pending changes (which may
    hold health values) erased now. Returns a summary for the audit log (counts, no personal data)."""
    children = [c.id for c in Child.select(Child.id).where(Child.household == household.id)]
    deleted = erase_children_health(children, upload_dir)
    rows = FamilyDocument.select(FamilyDocument.stored_name).where(FamilyDocument.household == household.id)
    names = [row.stored_name for row in rows]
    FamilyDocument.delete().where(FamilyDocument.household == household.id).execute()
    certificates = [row.document_path for row in AbsenceDeclaration.select(AbsenceDeclaration.document_path)
                    .where((AbsenceDeclaration.household == household.id) & (AbsenceDeclaration.document_path != ""))]
    AbsenceDeclaration.update(document_path="", document_name="", reason="").where(
        AbsenceDeclaration.household == household.id).execute()
    ChangeRequest.delete().where(ChangeRequest.household == household.id).execute()
    BasketLine.delete().where(BasketLine.household == household.id).execute()
    # Messages to the services (a sick child's notice is health data) go with their attachments; the
    # models are read directly: messaging sits above this area and is not imported here.
    threads = Thread.select(Thread.id).where(Thread.household == household.id)
    attachments = [f"{MESSAGE_FOLDER}/{row.attachment_stored}" for row in Message.select(Message.attachment_stored)
                   .where(Message.thread.in_(threads) & (Message.attachment_stored != ""))]
    Message.delete().where(Message.thread.in_(threads)).execute()
    conversations = Thread.delete().where(Thread.household == household.id).execute()
    _unlink(_upload_dir(upload_dir), names + certificates + attachments)
    return (f"données de santé effacées ({len(children)} enfant(s)), {deleted + len(names)} document(s), "
            f"{len(certificates)} justificatif(s) d'absence et {conversations} conversation(s) supprimés")


def identity_deadline(closed_at: dt.datetime, commune: Commune) -> dt.datetime:
    """When a household closed at `closed_at` is anonymised."""
    return closed_at + relativedelta(months=commune.retention_identity_months)


def anonymise(household: Household) -> None:
    """Replace or clear everything that identifies the household; amounts, numbers and dates stay."""
    hid = household.id
    label = f"Foyer anonymisé n° {hid}"
    logins = list(User.select().where(User.household == hid))
    emails = {u.email for u in logins} | {g.email for g in Guardian.select(Guardian.email)
                                          .where((Guardian.household == hid) & (Guardian.email != ""))}
    children = Child.select(Child.id).where(Child.household == hid)
    Household.update(name=label, organisme="", allocataire_number="", no_allocataire_number=False,
                     family_situation="", quotient_familial=None, needs="", refusal_reason="", ical_token=None,
                     anonymised_at=clock.local_now()).where(Household.id == hid).execute()
    Guardian.update(civility="", last_name="Anonyme", first_name="", address="", postal_code="", city="", email="",
                    phone_home="", phone_mobile="", phone_work="", occupation_category="").where(
        Guardian.household == hid).execute()
    Child.update(first_name="Enfant", last_name="Anonyme", sex="", birth_date=None, expected_date=None,
                 class_level="", **HEALTH_CLEARED).where(Child.household == hid).execute()
    ChildContact.delete().where(ChildContact.child.in_(children)).execute()
    for model in (Alert, BasketLine, ChangeRequest):
        model.delete().where(model.household == hid).execute()
    AbsenceDeclaration.update(reason="", document_path="", document_name="").where(
        AbsenceDeclaration.household == hid).execute()
    Invoice.update(payer_name=label, payer_address="").where(Invoice.household == hid).execute()
    InvoiceLine.update(child_name="").where(InvoiceLine.invoice.in_(
        Invoice.select(Invoice.id).where(Invoice.household == hid))).execute()
    DirectDebitMandate.update(holder=label, iban="", bic="", active=False).where(
        DirectDebitMandate.household == hid).execute()
    OnlineTransaction.update(bank_data="").where(OnlineTransaction.household == hid).execute()
    AuditLog.update(detail="").where(AuditLog.household == hid).execute()
    user_ids = [u.id for u in logins]
    if user_ids:
        for model in (EmailCode, AccessToken):
            model.delete().where(model.user.in_(user_ids)).execute()
        for login in logins:
            login.delete_instance(recursive=True, delete_nullable=False)  # nullable references set to NULL
    if emails:
        OutgoingMail.delete().where(OutgoingMail.to.in_(sorted(emails))).execute()
        ThrottleEvent.delete().where(ThrottleEvent.email.in_(sorted(emails))).execute()
        LoginThrottle.delete().where(LoginThrottle.email.in_(sorted(emails))).execute()


@dataclass
class RetentionReport:
    anonymised: int = 0
    waiting: int = 0  # closed, retention period not over yet

    def __str__(self) -> str:
        return f"{self.anonymised} foyer(s) anonymisé(s), {self.waiting} en attente de la fin de conservation"


def apply_retention() -> RetentionReport:
    """The daily job: anonymise every closed household whose retention period is over (each in its own
    transaction, audited); running it again does nothing more."""
    commune = Commune.get_current()
    now = clock.local_now()
    report = RetentionReport()
    closed = Household.select().where((Household.status == "closed") & Household.anonymised_at.is_null())
    for household in closed.order_by(Household.id):
        closed_at = household.closed_at or household.closing_requested_at or household.created_at
        if identity_deadline(closed_at, commune) > now:
            report.waiting += 1
            continue
        with write_transaction():
            anonymise(household)
            audit.record(None, ANONYMISED_ACTION, household,
                         detail=f"fermé le {closed_at:%d/%m/%Y}, conservation {commune.retention_identity_months} mois")
        events.emit("retention.household_anonymised", household=household.id)
        report.anonymised += 1
    events.emit("retention.done", anonymised=report.anonymised, waiting=report.waiting)
    return report
