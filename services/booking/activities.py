"""Staff configuration of activities and units: values typed in /gestion arrive parsed and typed
(the forms in blueprints/staff/activity_forms.py); the rules that span fields or rows (periods,
deadline policies, overlapping QF bands, one extra day per date) are checked here, then everything is
saved in one transaction and audited. A régie's billing settings are in services/billing/regies.py."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from models import (
    Activity,
    Booking,
    CapacityOverride,
    Closure,
    DeadlinePolicy,
    ExtraDay,
    Regie,
    School,
    TariffBand,
    Unit,
    User,
)
from services.booking import calendar, deadlines
from services.booking.timed_attendance import PRICING_LABELS
from services.core import audit, clock
from services.core.errors import InvalidInput
from services.core.transactions import write_transaction

# How a child present without booking (pointage) is billed: Unit.unbooked_presence.
UNBOOKED_PRESENCE_LABELS = {
    "late": "Facturé comme une réservation hors délai (tarif + majoration hors délai)",
    "normal": "Facturé au tarif normal",
    "free": "Non facturé (signalé seulement comme anomalie)",
}

KIND_LABELS = {
    "cantine": "Restauration scolaire",
    "garderie": "Garderie / accueil périscolaire",
    "alsh_mercredi": "Accueil de loisirs du mercredi",
    "alsh_vacances": "Accueil de loisirs des vacances",
    "sortie": "Sortie (/gestion/sorties)",
    "espace_jeunes": "Espace jeunes (/gestion/sorties)",
    "sejour": "Séjour (/gestion/sorties)",
    "autre": "Autre",
}


def parse_date(raw: str | None, name: str = "date", label: str = "la date") -> dt.date:
    """'2026-12-03' or '03/12/2026'; InvalidInput naming the field otherwise (forms and ?date= use it)."""
    raw = (raw or "").strip()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        if "/" in raw:
            try:
                return dt.datetime.strptime(raw, "%d/%m/%Y").date()
            except ValueError:
                pass
        raise InvalidInput(f"Indiquez {label} au format jj/mm/aaaa.", name) from None


@dataclass
class ActivitySettings:
    """An activity's values, as typed and parsed; no period means the whole school year."""

    name: str
    school_year: int
    kind: str = "autre"
    school: School | None = None
    regie: Regie | None = None
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    description: str = ""
    booking_validation: bool = False
    auto_confirm_waiting: bool = False
    booking_opens_at: dt.datetime | None = None
    enrolment_open: bool = False
    enrolment_validation: bool = False
    requires_certified_record: bool = False
    required_documents: list[int] = field(default_factory=list)
    active: bool = True


def save_activity(staff: User, settings: ActivitySettings, activity: Activity | None = None) -> Activity:
    """Create (always active) or update an activity."""
    start, end = calendar.school_year_bounds(settings.school_year)
    starts_on, ends_on = settings.starts_on or start, settings.ends_on or end
    if ends_on < starts_on:
        raise InvalidInput("La date de fin doit suivre la date de début.", "ends_on")
    values = dict(
        name=settings.name, kind=settings.kind, school_year=settings.school_year, school=settings.school,
        regie=settings.regie, starts_on=starts_on, ends_on=ends_on, description=settings.description,
        booking_validation=settings.booking_validation, auto_confirm_waiting=settings.auto_confirm_waiting,
        booking_opens_at=settings.booking_opens_at, enrolment_open=settings.enrolment_open,
        enrolment_validation=settings.enrolment_validation,
        requires_certified_record=settings.requires_certified_record,
        required_documents=",".join(map(str, settings.required_documents)),
        active=settings.active if activity is not None else True,
    )
    with write_transaction():
        if activity is None:
            activity = Activity.create(**values)
            audit.record(staff, "activity.create", activity, settings.name)
        else:
            for key, value in values.items():
                setattr(activity, key, value)
            activity.save()
            audit.record(staff, "activity.update", activity, settings.name)
    return activity


def _checked_policy(policy: deadlines.Policy, prefix: str) -> deadlines.Policy:
    """A deadline policy checked as a whole, its time written 18:00; errors name the page's field."""
    try:
        deadlines.validate(policy)
        time = deadlines.parse_time(policy.at_time)
    except InvalidInput as error:
        raise InvalidInput(error.message, f"{prefix}{error.field}") from None
    return deadlines.Policy(**{**policy.__dict__, "at_time": time.strftime("%H:%M")})


def _store_policy(row: DeadlinePolicy | None, policy: deadlines.Policy) -> DeadlinePolicy:
    if row is None:
        return DeadlinePolicy.create(**policy.__dict__)
    for key, value in policy.__dict__.items():
        setattr(row, key, value)
    row.save()
    return row


@dataclass
class UnitSettings:
    """A unit's values, as typed and parsed (times written 07:30, amounts in cents); no cancel policy
    means cancelling follows the booking policy."""

    name: str
    weekdays: list[int]
    default_price: int
    booking: deadlines.Policy
    cancel: deadlines.Policy | None = None
    period: str = "school"
    start_time: str = ""
    end_time: str = ""
    capacity: int | None = None
    waiting_list: bool = False
    last_places_threshold: int = 0
    late_absence_hours: int = 0
    pai_price: int | None = None
    late_surcharge: int = 0
    absence_fee: int = 0
    unbooked_presence: str = "late"
    subscription: bool = False  # « Abonnement » offered at enrolment (services/booking/subscriptions.py)
    monthly_fee: int | None = None  # forfait per month for subscribers (services/billing/forfaits.py)
    attendance_only: bool = False  # « sans réservation »: enrolment only, billed on the pointage
    attendance_pricing: str = "presence"  # PRICING_LABELS
    slot_minutes: int = 60


def save_unit(staff: User, activity: Activity, settings: UnitSettings, unit: Unit | None = None) -> Unit:
    """Create or update a unit: weekly pattern, period, capacity, prices, deadline policies."""
    if settings.monthly_fee is not None and not settings.subscription:
        raise InvalidInput("Un forfait mensuel ne s'applique qu'aux abonnés : cochez « Abonnement possible ».",
                           "monthly_fee")
    booking = _checked_policy(settings.booking, "booking_")
    if settings.attendance_pricing not in PRICING_LABELS:
        raise InvalidInput("Choisissez comment facturer la présence dans la liste.", "attendance_pricing")
    if settings.attendance_only and unit is not None and not unit.attendance_only:
        # Parents could no longer cancel those days: they must be settled before the switch.
        ahead = (Booking.select().where((Booking.unit == unit.id) & (Booking.date >= clock.today())
                                        & Booking.status.in_(("requested", "booked", "waiting_list", "cancel_requested",
                                                              "held"))).count())
        if ahead:
            raise InvalidInput(f"« {unit.name} » a encore {ahead} réservation(s) à venir : annulez-les avant de "
                               "la passer sans réservation.", "attendance_only")
    cancel = None if settings.cancel is None else _checked_policy(settings.cancel, "cancel_")
    values = dict(
        name=settings.name, weekdays=",".join(map(str, sorted(set(settings.weekdays)))), period=settings.period,
        start_time=settings.start_time, end_time=settings.end_time, capacity=settings.capacity,
        waiting_list=settings.waiting_list, last_places_threshold=settings.last_places_threshold,
        late_absence_hours=settings.late_absence_hours, default_price=settings.default_price,
        pai_price=settings.pai_price, late_surcharge=settings.late_surcharge, absence_fee=settings.absence_fee,
        unbooked_presence=settings.unbooked_presence, subscription=settings.subscription,
        monthly_fee=settings.monthly_fee, attendance_only=settings.attendance_only,
        attendance_pricing=settings.attendance_pricing, slot_minutes=settings.slot_minutes,
    )
    with write_transaction():
        if unit is None:
            unit = Unit.create(activity=activity, **values)
        else:
            for key, value in values.items():
                setattr(unit, key, value)
        unit.booking_policy = _store_policy(unit.booking_policy, booking)
        if cancel is None:
            old = unit.cancel_policy
            unit.cancel_policy = None
            unit.save()
            if old is not None:
                old.delete_instance()
        else:
            unit.cancel_policy = _store_policy(unit.cancel_policy, cancel)
        unit.save()
        audit.record(staff, "unit.save", unit, f"{activity.name} – {settings.name}")
    return unit


def save_bands(staff: User, unit: Unit, rows: list[tuple[int, int | None, int]]) -> list[TariffBand]:
    """Replace a unit's QF bands with the rows typed: (QF from, QF below or None for no ceiling, price)."""
    rows = sorted(rows, key=lambda row: (row[0], row[1] is None, row[1] or 0, row[2]))
    for (a_min, a_max, _), (b_min, _, _) in zip(rows, rows[1:]):
        if a_max is None or a_max > b_min:
            raise InvalidInput("Les tranches de QF se chevauchent : vérifiez les bornes.", "qf_min_0")
    with write_transaction():
        TariffBand.delete().where(TariffBand.unit == unit.id).execute()
        bands = [TariffBand.create(unit=unit, qf_min=a, qf_max=b, price=p) for a, b, p in rows]
        audit.record(staff, "unit.tariffs", unit, f"{len(bands)} tranche(s)")
    return bands


def add_closure(staff: User, starts_on: dt.date, ends_on: dt.date | None, reason: str,
                activity: Activity | None = None, unit: Unit | None = None) -> Closure:
    """A closure from `starts_on` to `ends_on` (the same day when None); no activity or unit: every service."""
    ends_on = ends_on or starts_on
    if ends_on < starts_on:
        raise InvalidInput("Le dernier jour doit suivre le premier.", "ends_on")
    with write_transaction():
        closure = Closure.create(activity=activity, unit=unit, starts_on=starts_on, ends_on=ends_on, reason=reason)
        audit.record(staff, "closure.create", closure, reason)
    return closure


def add_extra_day(staff: User, unit: Unit, day: dt.date, reason: str = "") -> ExtraDay:
    """A day the unit runs outside its weekly pattern (once per date)."""
    if ExtraDay.get_or_none((ExtraDay.unit == unit.id) & (ExtraDay.date == day)):
        raise InvalidInput("Ce jour est déjà ajouté.", "date")
    with write_transaction():
        extra = ExtraDay.create(unit=unit, date=day, reason=reason)
        audit.record(staff, "extra_day.create", extra, str(day))
    return extra


def set_capacity(staff: User, unit: Unit, day: dt.date, capacity: int) -> CapacityOverride:
    """The number of places of one day, instead of the unit's capacity."""
    with write_transaction():
        row = CapacityOverride.get_or_none((CapacityOverride.unit == unit.id) & (CapacityOverride.date == day))
        if row is None:
            row = CapacityOverride.create(unit=unit, date=day, capacity=capacity)
        else:
            row.capacity = capacity
            row.save()
        audit.record(staff, "capacity.set", row, f"{day}: {capacity}")
    return row
