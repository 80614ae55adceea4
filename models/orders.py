"""Orders (validated baskets), their lines, family alerts and absence declarations."""
from __future__ import annotations

from peewee import BooleanField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, TextField

from models.accounts import Household, User
from models.activities import Booking, Unit
from models.base import BaseModel
from models.family import Child


class OrderCounter(BaseModel):
    """The last order number given in a year: locked and bumped in the transaction that creates
    the order, so "2026-000123" numbers are gapless and never reused."""

    year = IntegerField(unique=True)
    last = IntegerField(default=0)


class Order(BaseModel):
    """A validated basket ("Commande n° 2026-000123"); its lines say what became of each change."""

    household = ForeignKeyField(Household, backref="orders", on_delete="CASCADE")
    number = CharField(unique=True)  # "2026-000123"
    created_at = DateTimeField()
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    total = IntegerField(default=0)  # cents: additions minus cancellations, at validation time
    # Prepayment (régie "au comptant"): "awaiting_payment" until paid ("paid") or expired ("expired").
    payment_status = CharField(default="", index=True)  # "" when nothing is paid in advance
    amount_due = IntegerField(default=0)  # cents to pay before confirmation (held days)
    expires_at = DateTimeField(null=True)  # Paris wall clock: unpaid after this, the places are freed
    # Saisie au guichet: staff (created_by) booked for the family; past the parents' deadline, the reason.
    at_desk = BooleanField(default=False)
    staff_reason = TextField(default="")


class OrderLine(BaseModel):
    order = ForeignKeyField(Order, backref="lines", on_delete="CASCADE")
    child = ForeignKeyField(Child, backref="+", on_delete="CASCADE")
    unit = ForeignKeyField(Unit, backref="+", on_delete="CASCADE")
    date = DateField()
    action = CharField(default="add")  # add, remove
    outcome = CharField(default="booked")  # LineResult.outcome at validation time
    message = CharField(default="")
    price = IntegerField(null=True)
    booking = ForeignKeyField(Booking, null=True, backref="order_lines", on_delete="SET NULL")


class Alert(BaseModel):
    """A notice for a household, listed under "Mes alertes" (decisions, waiting list, basket)."""

    household = ForeignKeyField(Household, backref="alerts", on_delete="CASCADE")
    created_at = DateTimeField()
    title = CharField()
    body = TextField(default="")
    read = BooleanField(default=False)


class AbsenceDeclaration(BaseModel):
    """An illness absence declared by a parent after the cancel deadline; staff accept or refuse."""

    booking = ForeignKeyField(Booking, backref="absence_declarations", on_delete="CASCADE")
    household = ForeignKeyField(Household, backref="+", on_delete="CASCADE")
    reason = TextField(default="")
    document_path = CharField(default="")  # relative to UPLOAD_DIR
    document_name = CharField(default="")
    status = CharField(default="pending", index=True)  # pending, accepted, refused
    created_at = DateTimeField()
    decided_at = DateTimeField(null=True)
    decided_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    refusal_reason = TextField(default="")
    # A staff member who recorded it at the desk (accepted at once); None when a parent declared it.
    declared_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
