"""The Peewee schema of Portail Famille: one database proxy, one model per domain noun.

Sections follow the issues that introduced them. Amounts are integer cents; datetimes are
naive Europe/Paris wall-clock times as given by services.clock.now() (tz stripped on write).
"""
from __future__ import annotations

import datetime as dt

from flask_login import UserMixin
from peewee import (
    BooleanField,
    CharField,
    DatabaseProxy,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

db = DatabaseProxy()


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


def all_models() -> list[type[BaseModel]]:
    """Every concrete model, found by walking BaseModel's subclasses."""
    seen: list[type[BaseModel]] = []
    stack = list(BaseModel.__subclasses__())
    while stack:
        model = stack.pop(0)
        if model not in seen:
            seen.append(model)
            stack.extend(model.__subclasses__())
    return seen


# --- Foundation (issue 2): commune, accounts -------------------------------------------------


class Commune(BaseModel):
    """The single row of settings of the commune running the portal."""

    name = CharField(default="Mairie de Démo")
    address = CharField(default="1 place de la Mairie")
    postal_code = CharField(default="00000")
    city = CharField(default="Démo-sur-Mer")
    phone = CharField(default="01 23 45 67 89")
    email = CharField(default="mairie@example.fr")
    opening_hours = CharField(default="du lundi au vendredi, de 8 h 30 à 12 h et de 13 h 30 à 17 h")
    presentation = TextField(default="")
    school_zone = CharField(default="C")  # A, B or C (vacances scolaires)
    publisher = CharField(default="Le maire de la commune")  # directeur de la publication
    host = CharField(default="Hébergé par la commune sur son propre serveur")

    @classmethod
    def get_current(cls) -> "Commune":
        """The commune row, created with defaults on first use."""
        commune = cls.select().order_by(cls.id).first()
        if commune is None:
            commune = cls.create()
        return commune


class School(BaseModel):
    name = CharField(unique=True)
    address = CharField(default="")


class Household(BaseModel):
    """A foyer: the family account that bookings, documents and invoices belong to."""

    name = CharField(default="")  # display name, e.g. "Famille Martin"
    organisme = CharField(default="")  # CAF, MSA, autre
    allocataire_number = CharField(default="")
    no_allocataire_number = BooleanField(default=False)
    family_situation = CharField(default="")
    quotient_familial = IntegerField(null=True)  # in euros, as printed on the CAF attestation
    # draft → submitted → validated; closing_requested when the parent asks to close the account
    status = CharField(default="draft", index=True)
    needs = TextField(default="")  # comma-separated activity kinds ticked in "Besoins"
    submitted_at = DateTimeField(null=True)
    validated_at = DateTimeField(null=True)
    refusal_reason = TextField(default="")
    closing_requested_at = DateTimeField(null=True)
    ical_token = CharField(null=True, unique=True)
    created_at = DateTimeField(default=dt.datetime.now)


class Guardian(BaseModel):
    """A responsable légal (or conjoint) of a household."""

    household = ForeignKeyField(Household, backref="guardians", on_delete="CASCADE")
    quality = CharField(default="")  # père, mère, tuteur, autre
    civility = CharField(default="")  # Madame, Monsieur
    last_name = CharField(default="")
    first_name = CharField(default="")
    address = CharField(default="")
    postal_code = CharField(default="")
    city = CharField(default="")
    email = CharField(default="")
    phone_home = CharField(default="")
    phone_mobile = CharField(default="")
    phone_work = CharField(default="")
    occupation_category = CharField(default="")  # catégorie socio-professionnelle
    is_payer = BooleanField(default=False)
    position = IntegerField(default=0)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class User(BaseModel, UserMixin):
    """A login: a parent (linked to a household) or a staff member."""

    ROLES = ("parent", "agent", "regisseur", "admin", "cuisine")
    STAFF_ROLES = ("agent", "regisseur", "admin", "cuisine")

    email = CharField(unique=True)
    password_hash = CharField(null=True)  # null until an invited parent sets one
    role = CharField(default="parent")
    first_name = CharField(default="")
    last_name = CharField(default="")
    household = ForeignKeyField(Household, null=True, backref="users", on_delete="SET NULL")
    guardian = ForeignKeyField(Guardian, null=True, backref="users", on_delete="SET NULL")
    activated = BooleanField(default=False)  # e-mail confirmed by code or by invitation link
    failed_logins = IntegerField(default=0)
    last_failed_login_at = DateTimeField(null=True)
    locked_until = DateTimeField(null=True)
    last_login_at = DateTimeField(null=True)
    created_at = DateTimeField(default=dt.datetime.now)

    @property
    def is_staff(self) -> bool:
        return self.role in self.STAFF_ROLES

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email

    def can_see_health(self) -> bool:
        """Health data (allergies, PAI, médecin) is for agents and admins, not the kitchen list."""
        return self.role in ("agent", "admin")


class EmailCode(BaseModel):
    """A 4-digit code e-mailed to confirm a new account."""

    user = ForeignKeyField(User, backref="email_codes", on_delete="CASCADE")
    code_hash = CharField()
    expires_at = DateTimeField()
    attempts = IntegerField(default=0)
    used_at = DateTimeField(null=True)
    voided = BooleanField(default=False)
    created_at = DateTimeField()


class AccessToken(BaseModel):
    """A single-use link token: password reset or account initialisation."""

    user = ForeignKeyField(User, backref="access_tokens", on_delete="CASCADE")
    purpose = CharField()  # reset, init
    token_hash = CharField(unique=True)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)
    created_at = DateTimeField()


class LoginFailure(BaseModel):
    """A failed sign-in, kept to throttle one client address across accounts."""

    ip = CharField(index=True)
    email = CharField(default="")
    at = DateTimeField(index=True)


class AuditLog(BaseModel):
    """Who did what, when: every staff change and every read of sensitive health documents."""

    user = ForeignKeyField(User, null=True, backref="audit_entries", on_delete="SET NULL")
    at = DateTimeField(index=True)
    action = CharField()
    object_type = CharField(default="")
    object_id = IntegerField(null=True)
    detail = TextField(default="")


# --- Household file (issue 3) ----------------------------------------------------------------


class Diet(BaseModel):
    """A régime alimentaire offered by the commune (staff-managed list)."""

    name = CharField(unique=True)
    position = IntegerField(default=0)


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
    position = IntegerField(default=0)

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


# --- Services, calendars, bookings (issues 4 and 5) ------------------------------------------
# (added by the rules-engine and reservations work)


# --- Billing (issue 6) -----------------------------------------------------------------------
# (added by the billing work)
