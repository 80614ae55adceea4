"""Services, calendars and bookings: régies, deadline policies, activities, units, tariffs,
closures, holidays, enrolments, bookings and basket lines."""
from __future__ import annotations

import functools

from peewee import BooleanField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, TextField

from models.accounts import Household, School, User
from models.base import BaseModel, ConfigModel
from models.family import Child
from models.prepared import PreparedCreate


class Regie(ConfigModel):
    """A régie de recettes: invoices are numbered per régie. Configuration: whether it is « au comptant »
    is read from the cache by every basket and « Valider »."""

    name = CharField(unique=True)
    # Short code (2–8 capitals or digits, unique) that starts the régie's invoice numbers, e.g.
    # "PERI-2026-11-00001": numbers stay unique across the commune. No default: it is required.
    code = CharField(unique=True)
    prepayment = BooleanField(default=False)  # "au comptant": orders are paid before confirmation
    payment_days = IntegerField(default=30)  # invoices are due N days after issue (billing, issue 6)
    treasury_days = IntegerField(default=0)  # payable online N days after issue ("en cours de validation")
    # The SEPA creditor of its prélèvements (pain.008): empty until staff fill them in, and the export
    # refuses until they do (services/billing/direct_debit.creditor_of). The name defaults to the régie's.
    sepa_creditor_name = CharField(default="")
    sepa_creditor_id = CharField(default="")  # ICS, identifiant créancier SEPA (FR12ZZZ123456)
    sepa_iban = CharField(default="")
    sepa_bic = CharField(default="")
    # Its own PayFiP client number (numcli, 6 digits): each régie has one in French communes; empty =
    # the commune's (/gestion/parametres), then PAYFIP_NUMCLI (services/billing/online_payments.py).
    payfip_client = CharField(default="")
    # The payment modes it accepts, comma-separated keys of Payment.MODES; without "carte" online
    # payment is off on purpose for its invoices.
    payment_modes = CharField(default="carte,prelevement,cheque,especes,cesu,virement")

    @property
    def mode_list(self) -> list[str]:
        return [mode for mode in self.payment_modes.split(",") if mode]


class DeadlinePolicy(ConfigModel):
    """When a day can still be booked (or cancelled): see services/booking/deadlines.py for the kinds.

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


class Activity(ConfigModel):
    """A service for one school year ("Restauration scolaire – École du Phare", "ALSH Mercredi")."""

    KINDS = ("cantine", "garderie", "alsh_mercredi", "alsh_vacances", "sortie", "espace_jeunes", "sejour", "autre")

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


class ActivityStaff(BaseModel):
    """An animateur leading an activity: they record its attendance and see its lists, and no other's."""

    user = ForeignKeyField(User, backref="led_activities", on_delete="CASCADE")
    activity = ForeignKeyField(Activity, backref="staff", on_delete="CASCADE")

    class Meta:
        indexes = ((("user", "activity"), True),)


class Unit(ConfigModel):
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
    # « Sans réservation » (issue 15): enrolment is enough, parents never book; staff record arrival and
    # departure on the pointage and the month bills them (services/billing/attendance_billing.py) per
    # `attendance_pricing`: "presence" (flat per day), "slot" (per started slot of `slot_minutes`),
    # "quarter_hour" (per started quarter-hour); the QF band gives the price of one.
    attendance_only = BooleanField(default=False)
    attendance_pricing = CharField(default="presence")
    slot_minutes = IntegerField(default=60)
    position = IntegerField(default=0)
    # Abonnement (services/booking/subscriptions.py): parents may choose fixed weekdays for the year at
    # enrolment; monthly_fee (cents) bills subscribers a forfait per month instead of each day.
    subscription = BooleanField(default=False)
    monthly_fee = IntegerField(null=True)

    def weekday_set(self) -> frozenset[int]:
        return _weekday_set(self.weekdays)


class UnitRule(ConfigModel):
    """A rule between two units of one activity on the same day (services/booking/unit_rules.py):
    "excludes" (never both; symmetric for the engine, the declaring unit wins a swap in the basket) or
    "requires" (the unit needs one of the units it requires, e.g. « Repas » requires « Matin » or « Journée »)."""

    KINDS = ("excludes", "requires")

    unit = ForeignKeyField(Unit, backref="rules", on_delete="CASCADE")
    other = ForeignKeyField(Unit, backref="+", on_delete="CASCADE")
    kind = CharField()

    class Meta:
        indexes = ((("unit", "other"), True),)


class TariffBand(ConfigModel):
    """Price of a unit for households whose QF is in [qf_min, qf_max) (qf_max None = no ceiling)."""

    unit = ForeignKeyField(Unit, backref="tariff_bands", on_delete="CASCADE")
    qf_min = IntegerField(default=0)  # euros
    qf_max = IntegerField(null=True)
    price = IntegerField()  # cents


class CapacityOverride(ConfigModel):
    unit = ForeignKeyField(Unit, backref="capacity_overrides", on_delete="CASCADE")
    date = DateField()
    capacity = IntegerField()

    class Meta:
        indexes = ((("unit", "date"), True),)


class Closure(ConfigModel):
    """Days a service does not run (pont, grève…): one unit, one activity, or everything."""

    activity = ForeignKeyField(Activity, null=True, backref="closures", on_delete="CASCADE")
    unit = ForeignKeyField(Unit, null=True, backref="closures", on_delete="CASCADE")
    starts_on = DateField(index=True)
    ends_on = DateField(index=True)
    reason = CharField(default="Fermeture")


class ExtraDay(ConfigModel):
    """A day a unit runs outside its weekly pattern (e.g. a Wednesday worked at school)."""

    unit = ForeignKeyField(Unit, backref="extra_days", on_delete="CASCADE")
    date = DateField()
    reason = CharField(default="")

    class Meta:
        indexes = ((("unit", "date"), True),)


class PublicHoliday(ConfigModel):
    """Jour férié, loaded from the holidays package by `flask refresh-holidays` (French names)."""

    date = DateField(unique=True)
    name = CharField()


class SchoolHoliday(ConfigModel):
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
        # (unit, date, sequence): a day's last arrival number read from the index alone (placement), not
        # from every booking of a canteen's day (10,000 households: 95 ms). Attendance and child after
        # (unit, date, status): the headcounts' absences and régimes read from the index too (migration 028).
        indexes = ((("child", "unit", "date"), True), (("unit", "date", "status", "attendance", "child"), False),
                   (("unit", "date", "sequence"), False))


class BasketLine(PreparedCreate, BaseModel):
    """A pending change in a household's basket: add (réserver) or remove (annuler) one day."""

    household = ForeignKeyField(Household, backref="basket_lines", on_delete="CASCADE")
    child = ForeignKeyField(Child, backref="basket_lines", on_delete="CASCADE")
    unit = ForeignKeyField(Unit, backref="basket_lines", on_delete="CASCADE")
    date = DateField()
    action = CharField(default="add")  # add, remove
    created_at = DateTimeField()

    class Meta:
        indexes = ((("household", "child", "unit", "date"), True),)


class ReminderSent(BaseModel):
    """A deadline reminder sent to a household for one unit's week (services/booking/deadline_reminders.py):
    the unique index is what makes « never twice » hold, even when two workers run the job at once."""

    household = ForeignKeyField(Household, backref="+", on_delete="CASCADE")
    unit = ForeignKeyField(Unit, backref="+", on_delete="CASCADE")
    week_start = DateField()  # the Monday of the week the reminder was about
    sent_at = DateTimeField()

    class Meta:
        indexes = ((("household", "unit", "week_start"), True),)


@functools.lru_cache(maxsize=64)  # asked for every cell of a grid; a commune has a few distinct values
def _weekday_set(weekdays: str) -> frozenset[int]:
    return frozenset(int(part) for part in weekdays.split(",") if part.strip().isdigit())
