"""Early years (petite enfance) models: the crèches and multi-accueils of the commune and the families'
requests for a place (« Demandes d'accueil »), examined in commission."""
from __future__ import annotations

from peewee import BooleanField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, TextField

from models.accounts import Household, User
from models.base import BaseModel, now
from models.family import Child


class EarlyYearsStructure(BaseModel):
    """A structure families may ask a place in (multi-accueil, crèche familiale, halte-garderie…)."""

    name = CharField(unique=True)
    kind = CharField(default="multi-accueil")  # multi-accueil, creche-familiale, halte-garderie, micro-creche
    address = CharField(default="")
    position = IntegerField(default=0)
    active = BooleanField(default=True)


class EarlyYearsRequest(BaseModel):
    """A family's request for a place: wished structure, start date, weekly hours and situation."""

    household = ForeignKeyField(Household, backref="early_years_requests", on_delete="CASCADE")
    child = ForeignKeyField(Child, backref="early_years_requests", on_delete="CASCADE")
    structure = ForeignKeyField(EarlyYearsStructure, backref="requests", on_delete="RESTRICT")
    start_date = DateField()
    schedule = TextField(default="{}")  # JSON: {"0": ["08:30", "17:30"], …} weekday (0 = lundi) → from, to
    situation = CharField(default="")
    comment = TextField(default="")
    status = CharField(default="sent", index=True)  # sent, commission, accepted, refused, waiting_list, withdrawn
    commission_date = DateField(null=True)
    reason = TextField(default="")  # the refusal reason, told to the family
    waiting_rank = IntegerField(null=True)
    created_at = DateTimeField(default=now)
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    decided_at = DateTimeField(null=True)
    decided_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
