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
    status_before_closing = CharField(default="")  # restored if staff refuse the closure request
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


# --- Services, calendars, bookings (issues 4 and 5) ------------------------------------------
# The rules that read these tables live in services/calendar.py, deadlines.py, booking.py,
# pricing.py and enrolment.py; views never re-implement them.


class Regie(BaseModel):
    """A régie de recettes: invoices are numbered per régie."""

    name = CharField(unique=True)
    code = CharField(default="")  # short code used in invoice numbers, e.g. "PERI"
    prepayment = BooleanField(default=False)  # "au comptant": orders are paid before confirmation
    payment_days = IntegerField(default=30)  # invoices are due N days after issue (billing, issue 6)
    treasury_days = IntegerField(default=0)  # payable online N days after issue ("en cours de validation")


class DeadlinePolicy(BaseModel):
    """When a day can still be booked (or cancelled): see services/deadlines.py for the kinds.

    kind: days_before (N jours, or N jours ouvrés with working_days, avant à HH:MM),
    weekday_previous_week (le <weekday> de la semaine précédente, or N semaines avant, à HH:MM),
    weeks_before (N semaines avant, même jour, à HH:MM), same_day (le jour même avant HH:MM),
    previous_month (le mois précédent, le <month_day> à HH:MM), hours_before (N heures avant
    HH:MM le jour même, elapsed time, so summer time changes count).
    """

    kind = CharField(default="days_before")
    amount = IntegerField(default=1)  # N days, weeks or hours
    working_days = BooleanField(default=False)
    weekday = IntegerField(null=True)  # 0 = lundi … 6 = dimanche
    month_day = IntegerField(null=True)  # 1…31, clamped to the month's length
    at_time = CharField(default="18:00")  # "HH:MM", Europe/Paris wall clock
    skip_weekends = BooleanField(default=False)  # a deadline falling on a weekend moves earlier
    skip_public_holidays = BooleanField(default=False)  # … or on a public holiday


class Activity(BaseModel):
    """A service for one school year ("Restauration scolaire – École du Phare", "ALSH Mercredi")."""

    KINDS = ("cantine", "garderie", "alsh_mercredi", "alsh_vacances", "autre")

    name = CharField()
    kind = CharField(default="autre")
    regie = ForeignKeyField(Regie, null=True, backref="activities", on_delete="SET NULL")
    school = ForeignKeyField(School, null=True, backref="activities", on_delete="SET NULL")
    school_year = IntegerField(index=True)  # 2026 = année scolaire 2026-2027
    starts_on = DateField()
    ends_on = DateField()
    description = TextField(default="")
    booking_validation = BooleanField(default=False)  # bookings "En attente de validation" by staff
    auto_confirm_waiting = BooleanField(default=False)  # a freed place goes to the first waiting
    booking_opens_at = DateTimeField(null=True)  # reservations open from (Paris wall clock)
    enrolment_open = BooleanField(default=True)  # parents may ask to enrol
    enrolment_validation = BooleanField(default=True)  # enrolments need staff validation
    requires_certified_record = BooleanField(default=False)  # fiche enfant certifiée exigée
    required_documents = CharField(default="")  # comma-separated DocumentType ids
    active = BooleanField(default=True)
    position = IntegerField(default=0)

    @property
    def year_label(self) -> str:
        return f"{self.school_year}-{self.school_year + 1}"

    def required_document_ids(self) -> list[int]:
        return [int(part) for part in self.required_documents.split(",") if part.strip().isdigit()]


class Unit(BaseModel):
    """What one booking is for (repas, garderie matin, journée…), with its calendar and rules."""

    PERIODS = ("school", "holidays", "all")

    activity = ForeignKeyField(Activity, backref="units", on_delete="CASCADE")
    name = CharField()
    weekdays = CharField(default="0,1,3,4")  # weekly pattern, 0 = lundi
    period = CharField(default="school")  # school: hors vacances; holidays: vacances only; all
    start_time = CharField(default="")  # "07:30", shown to parents
    end_time = CharField(default="")
    capacity = IntegerField(null=True)  # places per day; None = unlimited
    waiting_list = BooleanField(default=False)
    last_places_threshold = IntegerField(default=3)  # "Dernières places" at or below
    booking_policy = ForeignKeyField(DeadlinePolicy, null=True, on_delete="SET NULL")
    cancel_policy = ForeignKeyField(DeadlinePolicy, null=True, on_delete="SET NULL")
    late_absence_hours = IntegerField(default=0)  # illness absence declarable until N h after the day
    default_price = IntegerField(default=0)  # cents, when the QF is unknown or no band matches
    pai_price = IntegerField(null=True)  # cents, meal for a child with a PAI (panier repas)
    late_surcharge = IntegerField(default=0)  # cents added to a booking made after the deadline
    absence_fee = IntegerField(default=0)  # cents charged for an unjustified absence
    # A child present without booking (pointage): "late" = price + late surcharge, "normal" = price,
    # "free" = not billed (billing, issue 6).
    unbooked_presence = CharField(default="late")
    position = IntegerField(default=0)

    def weekday_set(self) -> frozenset[int]:
        return frozenset(int(part) for part in self.weekdays.split(",") if part.strip().isdigit())


class TariffBand(BaseModel):
    """Price of a unit for households whose QF is in [qf_min, qf_max) (qf_max None = no ceiling)."""

    unit = ForeignKeyField(Unit, backref="tariff_bands", on_delete="CASCADE")
    qf_min = IntegerField(default=0)  # euros
    qf_max = IntegerField(null=True)
    price = IntegerField()  # cents


class CapacityOverride(BaseModel):
    unit = ForeignKeyField(Unit, backref="capacity_overrides", on_delete="CASCADE")
    date = DateField()
    capacity = IntegerField()

    class Meta:
        indexes = ((("unit", "date"), True),)


class Closure(BaseModel):
    """Days a service does not run (pont, grève…): one unit, one activity, or everything."""

    activity = ForeignKeyField(Activity, null=True, backref="closures", on_delete="CASCADE")
    unit = ForeignKeyField(Unit, null=True, backref="closures", on_delete="CASCADE")
    starts_on = DateField(index=True)
    ends_on = DateField(index=True)
    reason = CharField(default="Fermeture")


class ExtraDay(BaseModel):
    """A day a unit runs outside its weekly pattern (e.g. a Wednesday worked at school)."""

    unit = ForeignKeyField(Unit, backref="extra_days", on_delete="CASCADE")
    date = DateField()
    reason = CharField(default="")

    class Meta:
        indexes = ((("unit", "date"), True),)


class PublicHoliday(BaseModel):
    """Jour férié, loaded from the holidays package by `flask refresh-holidays` (French names)."""

    date = DateField(unique=True)
    name = CharField()


class SchoolHoliday(BaseModel):
    """A school holiday period of a zone, loaded from vacances-scolaires-france."""

    zone = CharField(index=True)  # A, B, C
    name = CharField()
    starts_on = DateField()
    ends_on = DateField()

    class Meta:
        indexes = ((("zone", "starts_on"), True),)


class Enrolment(BaseModel):
    """A child's inscription in an activity (which fixes the school year)."""

    STATUSES = ("requested", "validated", "waiting_list", "refused", "cancelled")

    child = ForeignKeyField(Child, backref="enrolments", on_delete="CASCADE")
    activity = ForeignKeyField(Activity, backref="enrolments", on_delete="CASCADE")
    status = CharField(default="requested", index=True)
    requested_at = DateTimeField()
    decided_at = DateTimeField(null=True)
    decided_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    refusal_reason = TextField(default="")
    renewal = BooleanField(default=False)  # created by the réinscription

    class Meta:
        indexes = ((("child", "activity"), True),)


class Booking(BaseModel):
    """A réservation: child × unit × date, one row whatever its history (status changes in place)."""

    STATUSES = ("requested", "booked", "waiting_list", "cancel_requested", "cancelled", "refused", "held")
    # "held": a day of a prepaid order ("au comptant") kept for its household until paid or expired.
    OCCUPYING = ("requested", "booked", "cancel_requested", "held")  # statuses that hold a place

    household = ForeignKeyField(Household, backref="bookings", on_delete="CASCADE")
    child = ForeignKeyField(Child, backref="bookings", on_delete="CASCADE")
    unit = ForeignKeyField(Unit, backref="bookings", on_delete="CASCADE")
    date = DateField(index=True)
    status = CharField(default="booked", index=True)
    sequence = IntegerField(default=0)  # arrival order within unit × date (waiting list)
    price = IntegerField(null=True)  # cents, fixed when placed
    late = BooleanField(default=False)  # booked after the deadline (by staff): surcharge applies
    prepaid = BooleanField(default=False)  # paid with its order (régie au comptant): never invoiced
    attendance = CharField(default="")  # "", present, absent, absent_justified
    refusal_reason = TextField(default="")
    created_at = DateTimeField()
    updated_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("child", "unit", "date"), True), (("unit", "date", "status"), False))


class BasketLine(BaseModel):
    """A pending change in a household's basket: add (réserver) or remove (annuler) one day."""

    household = ForeignKeyField(Household, backref="basket_lines", on_delete="CASCADE")
    child = ForeignKeyField(Child, backref="basket_lines", on_delete="CASCADE")
    unit = ForeignKeyField(Unit, backref="basket_lines", on_delete="CASCADE")
    date = DateField()
    action = CharField(default="add")  # add, remove
    created_at = DateTimeField()

    class Meta:
        indexes = ((("household", "child", "unit", "date"), True),)


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


# --- Billing (issue 6) -----------------------------------------------------------------------
# (added by the billing work)


class Attendance(BaseModel):
    """A pointage of a child present without booking (booked days carry Booking.attendance)."""

    household = ForeignKeyField(Household, backref="unbooked_presences", on_delete="CASCADE")
    child = ForeignKeyField(Child, backref="unbooked_presences", on_delete="CASCADE")
    unit = ForeignKeyField(Unit, backref="unbooked_presences", on_delete="CASCADE")
    date = DateField(index=True)
    recorded_at = DateTimeField()
    recorded_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")

    class Meta:
        indexes = ((("child", "unit", "date"), True),)


class NumberCounter(BaseModel):
    """The last number given per régie, kind (F invoice, A credit note) and year: locked and bumped
    in the transaction that issues the document, so numbers are gapless and never reused."""

    regie = ForeignKeyField(Regie, backref="counters", on_delete="CASCADE")
    kind = CharField()  # F, A
    year = IntegerField()
    last = IntegerField(default=0)

    class Meta:
        indexes = ((("regie", "kind", "year"), True),)


class Invoice(BaseModel):
    """An issued facture (kind "invoice") or avoir (kind "credit"): never edited once issued.

    amount is positive for both kinds; a credit note lowers `credited` on the invoice it corrects.
    Left to pay = amount − paid − credited (never below 0; any surplus is the household's avoir).
    """

    regie = ForeignKeyField(Regie, backref="invoices", on_delete="RESTRICT")
    household = ForeignKeyField(Household, backref="invoices", on_delete="RESTRICT")
    kind = CharField(default="invoice")  # invoice, credit
    number = CharField()
    period_start = DateField()
    period_end = DateField()
    issued_at = DateTimeField()
    issued_on = DateField(index=True)
    payable_from = DateField()
    due_on = DateField()
    amount = IntegerField()  # cents
    paid = IntegerField(default=0)  # cents allocated from payments
    credited = IntegerField(default=0)  # cents of credit notes correcting this invoice
    corrects = ForeignKeyField("self", null=True, backref="credit_notes", on_delete="RESTRICT")
    reason = TextField(default="")  # why a credit note was made
    payer_name = CharField(default="")
    payer_address = CharField(default="")
    quotient_familial = IntegerField(null=True)  # QF when issued, printed on the PDF
    direct_debit = BooleanField(default=False)  # household on prélèvement when issued
    issued_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")

    class Meta:
        indexes = ((("regie", "number"), True), (("regie", "household", "period_start", "kind"), False))

    @property
    def balance(self) -> int:
        return max(0, self.amount - self.paid - self.credited) if self.kind == "invoice" else 0


class InvoicePeriodLock(BaseModel):
    """One row per régie × household × month invoiced: the unique guard against a double run."""

    regie = ForeignKeyField(Regie, backref="+", on_delete="CASCADE")
    household = ForeignKeyField(Household, backref="+", on_delete="CASCADE")
    period_start = DateField()
    invoice = ForeignKeyField(Invoice, backref="+", on_delete="CASCADE")

    class Meta:
        indexes = ((("regie", "household", "period_start"), True),)


class InvoiceLine(BaseModel):
    """One line: child × unit × kind of charge, with its days, unit price and quantity."""

    invoice = ForeignKeyField(Invoice, backref="lines", on_delete="CASCADE")
    child = ForeignKeyField(Child, null=True, backref="+", on_delete="SET NULL")
    unit = ForeignKeyField(Unit, null=True, backref="+", on_delete="SET NULL")
    activity_kind = CharField(default="")  # cantine, garderie, alsh_… (for the fiscal certificate)
    child_name = CharField(default="")
    heading = CharField(default="")  # "Restauration scolaire – École du Phare, novembre 2026"
    label = CharField()  # "Repas", "Repas – absence non justifiée"
    days = TextField(default="")  # "lun. 2 nov., mar. 3 nov."
    band = CharField(default="")  # "QF de 600 à 999 €", "QF inconnu : tarif de base", "PAI"
    unit_price = IntegerField()
    quantity = IntegerField()
    amount = IntegerField()
    position = IntegerField(default=0)


class Payment(BaseModel):
    """A règlement: card (PayFiP), direct debit, cheque, cash, CESU or transfer."""

    MODES = {"carte": "Carte bancaire (PayFiP)", "prelevement": "Prélèvement", "cheque": "Chèque",
             "especes": "Espèces", "cesu": "CESU", "virement": "Virement"}

    household = ForeignKeyField(Household, backref="payments", on_delete="RESTRICT")
    mode = CharField()
    amount = IntegerField()  # cents
    received_on = DateField(index=True)
    reference = CharField(default="")  # n° de chèque, référence du virement, n° de transaction
    recorded_at = DateTimeField()
    recorded_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")

    @property
    def mode_label(self) -> str:
        return self.MODES.get(self.mode, self.mode)


class PaymentAllocation(BaseModel):
    """The part of a payment that settles one invoice."""

    payment = ForeignKeyField(Payment, backref="allocations", on_delete="CASCADE")
    invoice = ForeignKeyField(Invoice, null=True, backref="allocations", on_delete="RESTRICT")
    order = ForeignKeyField(Order, null=True, backref="allocations", on_delete="RESTRICT")  # prepaid order
    amount = IntegerField()


class OnlineTransaction(BaseModel):
    """A card payment asked to the payment backend (PayFiP or the dummy one) for one invoice, or for
    a prepaid order (régie "au comptant")."""

    household = ForeignKeyField(Household, backref="online_transactions", on_delete="RESTRICT")
    invoice = ForeignKeyField(Invoice, null=True, backref="online_transactions", on_delete="RESTRICT")
    order = ForeignKeyField(Order, null=True, backref="online_transactions", on_delete="RESTRICT")
    backend = CharField()
    transaction_id = CharField(unique=True)
    amount = IntegerField()  # what we asked for, in cents (the only amount we trust)
    status = CharField(default="pending", index=True)  # pending, paid, refused, cancelled, anomaly
    bank_status = CharField(default="")
    bank_data = TextField(default="")
    simulated_result = CharField(default="")  # dummy backend: what the local simulator answered
    simulated_amount = IntegerField(null=True)  # dummy backend: amount the simulator charged
    payment = ForeignKeyField(Payment, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField()
    completed_at = DateTimeField(null=True)


class DirectDebitMandate(BaseModel):
    """A SEPA mandate: the household's invoices are paid by prélèvement, not by card."""

    household = ForeignKeyField(Household, backref="mandates", on_delete="CASCADE")
    reference = CharField(unique=True)  # RUM
    holder = CharField()
    iban = CharField()
    bic = CharField(default="")
    signed_at = DateTimeField()
    active = BooleanField(default=True)
    revoked_at = DateTimeField(null=True)
