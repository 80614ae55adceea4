"""The register of an outing (« Liste des inscrits »): the children registered, then the waiting list in
order, with household, phone, documents received and, for the roles that may read them, PAI and
allergies; and its CSV export."""
from __future__ import annotations

from dataclasses import dataclass

from models import Booking, Child, DocumentType, Guardian, Household, Outing
from services.booking import outings, placement
from services.booking.day_status import ACTIVE
from services.core import formatting
from services.core.csv_export import csv_text


@dataclass
class RegisterRow:
    booking: Booking
    child: Child
    household: Household
    phone: str
    documents: list[tuple[DocumentType, str]]  # (type, accepted | pending | missing)
    position: int | None = None  # on the waiting list

    @property
    def status_label(self) -> str:
        label = outings.REGISTRATION_LABELS.get(self.booking.status, self.booking.status)
        return f"{label} (position {self.position})" if self.position else label

    @property
    def age(self) -> int | None:
        return None if self.child.birth_date is None else outings.age_on(self.child.birth_date, self.booking.date)


@dataclass
class Register:
    outing: Outing
    registered: list[RegisterRow]
    waiting: list[RegisterRow]
    places_left: int | None
    types: list[DocumentType]


def _phones(household_ids: set[int]) -> dict[int, str]:
    """The payer's phone (else the first guardian's), mobile first, by household."""
    phones: dict[int, str] = {}
    for guardian in (Guardian.select().where(Guardian.household.in_(sorted(household_ids) or [0]))
                     .order_by(Guardian.is_payer.desc(), Guardian.position, Guardian.id)):
        phone = guardian.phone_mobile or guardian.phone_home or ""
        if guardian.household_id not in phones and phone:
            phones[guardian.household_id] = phone
    return phones


def register_of(outing: Outing) -> Register:
    """Registered children (arrival order), then the waiting list in order: five queries."""
    bookings = list(Booking.select(Booking, Child, Household)
                    .join(Child, attr="child").switch(Booking).join(Household, attr="household")
                    .where((Booking.unit == outing.unit_id) & (Booking.date == outing.starts_on)
                           & Booking.status.in_(ACTIVE))
                    .order_by(Booking.sequence, Booking.id))
    households = {b.household_id for b in bookings}
    phones = _phones(households)
    facts = outings.document_status(households, outing)
    type_ids = outing.activity.required_document_ids()
    types = {t.id: t for t in DocumentType.select().where(DocumentType.id.in_(type_ids or [0]))}
    registered, waiting = [], []
    for booking in bookings:
        row = RegisterRow(booking, booking.child, booking.household, phones.get(booking.household_id, ""),
                          [(types[i], state) for i, state in outings.child_documents(facts, booking.child, outing)
                           if i in types])
        if booking.status == "waiting_list":
            row.position = len(waiting) + 1
            waiting.append(row)
        else:
            registered.append(row)
    places = placement.places_left(outing.unit, outing.starts_on)
    return Register(outing, registered, waiting, places, [types[i] for i in type_ids if i in types])


def register_csv(register: Register, with_health: bool) -> str:
    """The register as a CSV (« ; », UTF-8 with BOM): health columns only for the roles that read them."""
    header = ["Enfant", "Âge", "Foyer", "Téléphone", "État", "Prix"]
    header += [t.name for t in register.types]
    if with_health:
        header += ["PAI", "Allergies"]
    rows = []
    for row in register.registered + register.waiting:
        cells = [row.child.full_name, row.age if row.age is not None else "", row.household.name, row.phone,
                 row.status_label, formatting.money(row.booking.price) if row.booking.price is not None else ""]
        cells += [outings.DOCUMENT_LABELS[state] for _type, state in row.documents]
        if with_health:
            cells += ["Oui" if row.child.has_pai else "Non", row.child.allergies]
        rows.append(cells)
    return csv_text(header, rows)
