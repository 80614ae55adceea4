"""Household file models: diets, children and their contacts, family documents, pending
changes."""
from __future__ import annotations

from peewee import BooleanField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, TextField

from models.accounts import Guardian, Household, School, User
from models.base import BaseModel, now


class Diet(BaseModel):
    """A régime alimentaire offered by the commune (staff-managed list)."""

    name = CharField(unique=True)
    position = IntegerField(default=0)
    active = BooleanField(default=True)


class Child(BaseModel):
    household = ForeignKeyField(Household, backref="children", on_delete="CASCADE")
    first_name = CharField(default="")
    last_name = CharField(default="")
    sex = CharField(default="")  # F, M
    birth_date = DateField(null=True)
    unborn = BooleanField(default=False)
    expected_date = DateField(null=True)
    school = ForeignKeyField(School, null=True, backref="children", on_delete="SET NULL")
    class_level = CharField(default="")  # PS, MS, GS, CP, CE1, CE2, CM1, CM2
    diet = ForeignKeyField(Diet, null=True, backref="children", on_delete="SET NULL")
    allergies = TextField(default="")
    has_pai = BooleanField(default=False)
    pai_details = TextField(default="")
    doctor_name = CharField(default="")
    doctor_phone = CharField(default="")
    photo_allowed = BooleanField(default=False)
    leave_alone_allowed = BooleanField(default=False)
    emergency_care_allowed = BooleanField(default=False)
    certified_at = DateTimeField(null=True)
    certified_year = IntegerField(null=True)  # the school year the certification is for (2027: 2027-2028)
    next_class_level = CharField(default="")  # confirmed at réinscription; « Collège » leaves the primary school
    next_class_year = IntegerField(null=True)  # the school year next_class_level applies from
    position = IntegerField(default=0)
    archived = BooleanField(default=False)  # removed from the file after validation (bookings kept)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class ChildContact(BaseModel):
    """An emergency contact (urgence) or a person allowed to collect the child (sortie)."""

    child = ForeignKeyField(Child, backref="contacts", on_delete="CASCADE")
    kind = CharField(default="urgence")  # urgence, sortie
    name = CharField()
    relation = CharField(default="")
    phone = CharField(default="")


class DocumentType(BaseModel):
    """A kind of pièce justificative; `required` ones are listed as missing until accepted."""

    name = CharField(unique=True)
    code = CharField(default="", index=True)  # "qf" for the attestation asked in the foyer step
    scope = CharField(default="household")  # household, child
    required = BooleanField(default=False)
    health = BooleanField(default=False)  # PAI and medical papers: every staff read is audited
    validity_months = IntegerField(default=12)
    position = IntegerField(default=0)
    active = BooleanField(default=True)


class FamilyDocument(BaseModel):
    """A file a parent sent, for the household or one child, reviewed by staff."""

    household = ForeignKeyField(Household, backref="documents", on_delete="CASCADE")
    child = ForeignKeyField(Child, null=True, backref="documents", on_delete="CASCADE")
    doc_type = ForeignKeyField(DocumentType, backref="documents", on_delete="RESTRICT")
    original_name = CharField(default="")
    stored_name = CharField(unique=True)
    content_type = CharField()
    size = IntegerField()
    status = CharField(default="pending", index=True)  # pending, accepted, refused
    refusal_reason = TextField(default="")
    valid_from = DateField(null=True)
    valid_until = DateField(null=True)
    uploaded_at = DateTimeField()
    uploaded_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    reviewed_at = DateTimeField(null=True)
    reviewed_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")


class ChangeRequest(BaseModel):
    """A change to validated data, waiting for staff: old value → new value, field by field."""

    household = ForeignKeyField(Household, backref="change_requests", on_delete="CASCADE")
    target = CharField()  # household, guardian, child
    action = CharField(default="update")  # update, add_guardian, add_child, remove_child
    guardian = ForeignKeyField(Guardian, null=True, backref="change_requests", on_delete="CASCADE")
    child = ForeignKeyField(Child, null=True, backref="change_requests", on_delete="CASCADE")
    changes = TextField(default="[]")  # JSON: [{"field", "label", "old", "new", "value"}]
    status = CharField(default="pending", index=True)  # pending, accepted, refused
    reason = TextField(default="")
    created_at = DateTimeField()
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    decided_at = DateTimeField(null=True)
    decided_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")


class CustodyShare(BaseModel):
    """Garde alternée: the child's file stays with its household; `household` is the other parent's
    household, which has the child on the weeks the pattern gives it and books and pays for those."""

    child = ForeignKeyField(Child, backref="custody_shares", on_delete="CASCADE", unique=True)
    household = ForeignKeyField(Household, backref="shared_children", on_delete="CASCADE")
    pattern = CharField(default="odd")  # the other household's weeks: odd / even ISO weeks, or calendar
    created_at = DateTimeField(default=now)


class CustodyWeek(BaseModel):
    """A week (its Monday) spent with the other household, when the pattern is « calendar »."""

    share = ForeignKeyField(CustodyShare, backref="weeks", on_delete="CASCADE")
    monday = DateField()

    class Meta:
        indexes = ((("share", "monday"), True),)
