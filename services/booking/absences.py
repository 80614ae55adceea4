"""Absences declared by parents after the cancel deadline (illness, with an optional certificate)
and the staff decision: accepted, the day is « Absence justifiée » and not charged."""
from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from models import AbsenceDeclaration, Booking, Child, Household, Unit, User
from services.booking import day_status as engine
from services.booking.orders import OrderError
from services.core import clock, formatting, notifications, permissions
from services.core.errors import DomainError, NotFound
from services.core.transactions import write_transaction
from services.family.uploads import check_content


class AbsenceRefused(DomainError):
    """An absence cannot be declared for this day (not booked, too early or too late)."""


def declarable_booking(household: Household, booking_id: int, now: dt.datetime | None = None):
    """The booking and its status if the engine allows "Déclarer une absence" (else AbsenceRefused)."""
    booking = Booking.get_or_none((Booking.id == booking_id) & (Booking.household == household.id))
    if booking is None:
        raise NotFound("Réservation introuvable.")
    status = engine.day_status(booking.child, booking.unit, booking.date, now)
    if AbsenceDeclaration.select().where((AbsenceDeclaration.booking == booking.id)
                                         & (AbsenceDeclaration.status != "refused")).exists():
        raise AbsenceRefused("Une absence est déjà déclarée pour ce jour.")
    if not status.can_declare_absence:
        if status.can_cancel:
            raise AbsenceRefused("Ce jour est encore annulable : annulez-le depuis la grille des réservations.")
        raise AbsenceRefused("Le délai pour déclarer une absence pour ce jour est dépassé.")
    return booking, status


def declare_absence(household: Household, booking_id: int, reason: str, certificate: bytes | None = None,
                    filename: str = "", upload_dir: str | Path = "", now: dt.datetime | None = None) -> AbsenceDeclaration:
    """"Déclarer une absence" (maladie) after the cancel deadline, within the late-absence window.

    A certificate gets the same checks as household documents (PDF, JPEG or PNG by content, 10 MB)
    and is stored outside static/ under a random name."""
    reason = (reason or "").strip()
    if not reason:
        raise AbsenceRefused("Indiquez le motif de l'absence (par exemple : maladie).", "reason")
    path = ""
    if certificate:
        try:
            _content_type, extension = check_content(certificate)
        except DomainError as refusal:
            raise AbsenceRefused(refusal.message, "document") from None
        path = f"absences/{uuid.uuid4().hex}{extension}"
    try:
        with write_transaction():
            booking, _status = declarable_booking(household, booking_id, now)
            if path:
                permissions.private_dir(Path(upload_dir) / "absences")
                permissions.private_file(Path(upload_dir) / path).write_bytes(certificate)
            return AbsenceDeclaration.create(booking=booking, household=household, reason=reason[:1000],
                                             document_path=path, document_name=_safe_name(filename) if path else "",
                                             created_at=clock.local_now())
    except Exception:
        if path:  # the declaration was not saved: neither is its file
            (Path(upload_dir) / path).unlink(missing_ok=True)
        raise


def _safe_name(filename: str) -> str:
    """A file name to show and download with (no folders, no control characters)."""
    name = Path((filename or "").replace("\\", "/")).name
    return "".join(c for c in name if c.isprintable())[:200] or "justificatif"


def absence_certificate(declaration_id: int, upload_dir: str | Path) -> tuple[AbsenceDeclaration, Path]:
    """The certificate of a declaration, for the staff who decide (NotFound if none)."""
    declaration = AbsenceDeclaration.get_or_none(AbsenceDeclaration.id == declaration_id)
    if declaration is None or not declaration.document_path:
        raise NotFound("Aucun justificatif pour cette déclaration.")
    path = Path(upload_dir) / declaration.document_path
    if not path.is_file():
        raise NotFound("Le fichier n'est plus disponible.")
    return declaration, path


def pending_absences(limit: int = 500) -> list[AbsenceDeclaration]:
    return list(AbsenceDeclaration.select(AbsenceDeclaration, Booking, Child, Unit)
                .join(Booking, attr="booking").join(Child, attr="child").switch(Booking)
                .join(Unit, attr="unit")
                .where(AbsenceDeclaration.status == "pending")
                .order_by(AbsenceDeclaration.created_at).limit(limit))


def decide_absence(declaration_id: int, accept: bool, reason: str = "", staff: User | None = None,
                   upload_dir: str | Path = "") -> AbsenceDeclaration:
    """Accepted: the day becomes "Absence justifiée" (not charged); refused: "Absence" (charged) and its
    certificate, a health paper kept for no purpose, is deleted."""
    declaration = AbsenceDeclaration.get_or_none(AbsenceDeclaration.id == declaration_id)
    if declaration is None:
        raise NotFound("Déclaration introuvable.")
    if declaration.status != "pending":
        raise OrderError("Cette déclaration a déjà été traitée.")
    reason = (reason or "").strip()
    if not accept and not reason:
        raise OrderError("Indiquez le motif du refus.", "reason")
    with write_transaction():
        declaration.status = "accepted" if accept else "refused"
        declaration.decided_at, declaration.decided_by = clock.local_now(), staff
        declaration.refusal_reason = "" if accept else reason
        refused_file = "" if accept else declaration.document_path
        if refused_file:
            declaration.document_path = ""
        declaration.save()
        booking = declaration.booking
        booking.attendance = "absent_justified" if accept else "absent"
        booking.updated_at = clock.local_now()
        booking.save()
        name = formatting.cell_name(booking.child, booking.unit, booking.date)
        if accept:
            notifications.notify(declaration.household, "Absence justifiée", f"Votre déclaration d'absence est acceptée : {name}. "
                                                               "Ce jour ne sera pas facturé.")
        else:
            notifications.notify(declaration.household, "Absence non justifiée",
                   f"Votre déclaration d'absence est refusée : {name}.\nMotif : {reason}")
    if refused_file and upload_dir:
        (Path(upload_dir) / refused_file).unlink(missing_ok=True)
    return declaration
