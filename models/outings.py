"""Outings and youth activities (sorties, Espace jeunes, séjours): a dated event on top of the booking
engine. The event is an Activity with one Unit open on its first day only; a booking of that unit on
that day is a child's registration (price, capacity, waiting list, deadline and order as for any day)."""
from __future__ import annotations

from peewee import BooleanField, CharField, DateField, ForeignKeyField, IntegerField, TextField

from models.activities import Activity, Unit
from models.base import BaseModel


class Outing(BaseModel):
    """What a dated event adds to its activity and unit: its days, place, programme and age group."""

    activity = ForeignKeyField(Activity, unique=True, backref="outings", on_delete="CASCADE")
    unit = ForeignKeyField(Unit, unique=True, backref="+", on_delete="CASCADE")
    starts_on = DateField(index=True)  # the registration is a booking of `unit` on this day
    ends_on = DateField()  # a séjour lasts several days; its price is the whole stay's
    place = CharField(default="")
    programme = TextField(default="")  # plain text, line breaks kept
    min_age = IntegerField(null=True)  # years on the first day, both bounds included
    max_age = IntegerField(null=True)
    published = BooleanField(default=True)  # shown to families on /activites
