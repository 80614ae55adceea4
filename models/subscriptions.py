"""Abonnements (yearly subscriptions): a child's fixed weekdays for one unit of an activity, from which
services/booking/subscriptions.py generates the year's bookings."""
from __future__ import annotations

from peewee import CharField, DateTimeField, ForeignKeyField

from models.activities import Enrolment, Unit
from models.base import BaseModel, now


class Subscription(BaseModel):
    """« Abonnement restauration : lundi, mardi, jeudi »: one row per enrolment × unit (unit.subscription)."""

    enrolment = ForeignKeyField(Enrolment, backref="subscriptions", on_delete="CASCADE")
    unit = ForeignKeyField(Unit, backref="subscriptions", on_delete="CASCADE")
    weekdays = CharField()  # "0,1,3" (0 = lundi), among the unit's weekly pattern
    created_at = DateTimeField(default=now)
    updated_at = DateTimeField(null=True)
    generated_at = DateTimeField(null=True)  # last time its bookings were generated

    class Meta:
        indexes = ((("enrolment", "unit"), True),)

    def weekday_list(self) -> list[int]:
        return sorted({int(part) for part in self.weekdays.split(",") if part.strip().isdigit()})
