"""Staff configuration of activities and units: every value typed in /gestion is parsed and
checked here (French messages naming the field), then saved in one transaction and audited."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from models import (
    Activity,
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
from services.billing import invoice_numbers
from services.booking import calendar, deadlines
from services.core import audit
from services.core.errors import InvalidInput
from services.core.formatting import parse_money
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
    "autre": "Autre",
}


def _text(data: Mapping, name: str, label: str, required: bool = True, max_length: int = 200) -> str:
    value = (data.get(name) or "").strip()
    if required and not value:
        raise InvalidInput(f"Indiquez {label}.", name)
    if len(value) > max_length:
        raise InvalidInput(f"{label[0].upper()}{label[1:]} : {max_length} caractères au plus.", name)
    return value


def _flag(data: Mapping, name: str) -> bool:
    return (data.get(name) or "") in ("1", "on", "y", "true", "oui")


def _int(data: Mapping, name: str, label: str, *, required: bool = False, minimum: int = 0,
         maximum: int = 100000) -> int | None:
    raw = (data.get(name) or "").strip()
    if not raw:
        if required:
            raise InvalidInput(f"Indiquez {label}.", name)
        return None
    if not raw.lstrip("-").isdigit():
        raise InvalidInput(f"{label[0].upper()}{label[1:]} doit être un nombre entier.", name)
    value = int(raw)
    if not minimum <= value <= maximum:
        raise InvalidInput(f"{label[0].upper()}{label[1:]} doit être compris entre {minimum} et {maximum}.", name)
    return value


def _money(data: Mapping, name: str, label: str, required: bool = False) -> int | None:
    raw = (data.get(name) or "").strip()
    if not raw:
        if required:
            raise InvalidInput(f"Indiquez {label}.", name)
        return None
    try:
        value = parse_money(raw)
    except ValueError:
        raise InvalidInput(f"{label[0].upper()}{label[1:]} : saisissez un montant comme 2,90.", name) from None
    if value < 0:
        raise InvalidInput(f"{label[0].upper()}{label[1:]} ne peut pas être négatif.", name)
    return value


def parse_date(raw: str | None, name: str = "date", label: str = "la date") -> dt.date:
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


def _datetime(data: Mapping, name: str, label: str) -> dt.datetime | None:
    raw = (data.get(name) or "").strip()
    if not raw:
        return None
    try:
        return dt.datetime.fromisoformat(raw.replace(" ", "T"))
    except ValueError:
        raise InvalidInput(f"Indiquez {label} sous la forme date et heure.", name) from None


def save_activity(staff: User, data: Mapping, activity: Activity | None = None) -> Activity:
    """Create or update an activity from form values."""
    name = _text(data, "name", "le nom de l'activité")
    kind = data.get("kind") or "autre"
    if kind not in KIND_LABELS:
        raise InvalidInput("Choisissez un type d'activité dans la liste.", "kind")
    year = _int(data, "school_year", "l'année scolaire", required=True, minimum=2000, maximum=2100)
    school_id = _int(data, "school_id", "l'école")
    school = School.get_or_none(School.id == school_id) if school_id else None
    if school_id and school is None:
        raise InvalidInput("Choisissez une école dans la liste.", "school_id")
    regie_id = _int(data, "regie_id", "la régie")
    regie = Regie.get_or_none(Regie.id == regie_id) if regie_id else None
    if regie_id and regie is None:
        raise InvalidInput("Choisissez une régie dans la liste.", "regie_id")
    start, end = calendar.school_year_bounds(year)
    starts_on = parse_date(data.get("starts_on"), "starts_on", "la date de début") if data.get("starts_on") else start
    ends_on = parse_date(data.get("ends_on"), "ends_on", "la date de fin") if data.get("ends_on") else end
    if ends_on < starts_on:
        raise InvalidInput("La date de fin doit suivre la date de début.", "ends_on")
    values = dict(
        name=name, kind=kind, school_year=year, school=school, regie=regie, starts_on=starts_on, ends_on=ends_on,
        description=_text(data, "description", "la description", required=False, max_length=2000),
        booking_validation=_flag(data, "booking_validation"),
        auto_confirm_waiting=_flag(data, "auto_confirm_waiting"),
        booking_opens_at=_datetime(data, "booking_opens_at", "l'ouverture des réservations"),
        enrolment_open=_flag(data, "enrolment_open"),
        enrolment_validation=_flag(data, "enrolment_validation"),
        requires_certified_record=_flag(data, "requires_certified_record"),
        required_documents=",".join(str(int(v)) for v in data.getlist("required_documents") if str(v).isdigit())
        if hasattr(data, "getlist") else "",
        active=_flag(data, "active") if activity is not None else True,
    )
    with write_transaction():
        if activity is None:
            activity = Activity.create(**values)
            audit.record(staff, "activity.create", activity, name)
        else:
            for key, value in values.items():
                setattr(activity, key, value)
            activity.save()
            audit.record(staff, "activity.update", activity, name)
    return activity


def _policy_values(data: Mapping, prefix: str) -> deadlines.Policy:
    def get(name):
        return data.get(f"{prefix}{name}")
    weekday = _int(data, f"{prefix}weekday", "le jour de la semaine", minimum=0, maximum=6)
    month_day = _int(data, f"{prefix}month_day", "le jour du mois", minimum=1, maximum=31)
    amount = _int(data, f"{prefix}amount", "le nombre", minimum=0, maximum=366)
    policy = deadlines.Policy(
        kind=get("kind") or "", amount=amount if amount is not None else 0,
        working_days=_flag(data, f"{prefix}working_days"), weekday=weekday, month_day=month_day,
        at_time=(get("at_time") or "").strip() or "00:00", skip_weekends=_flag(data, f"{prefix}skip_weekends"),
        skip_public_holidays=_flag(data, f"{prefix}skip_public_holidays"))
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


def save_unit(staff: User, activity: Activity, data: Mapping, unit: Unit | None = None) -> Unit:
    """Create or update a unit: weekly pattern, period, capacity, prices, deadline policies."""
    name = _text(data, "name", "le nom de la prestation")
    weekdays = sorted({int(v) for v in (data.getlist("weekdays") if hasattr(data, "getlist") else [])
                       if str(v).isdigit() and 0 <= int(v) <= 6})
    if not weekdays:
        raise InvalidInput("Cochez au moins un jour de la semaine.", "weekdays")
    period = data.get("period") or "school"
    if period not in calendar.PERIOD_LABELS:
        raise InvalidInput("Choisissez une période dans la liste.", "period")
    booking = _policy_values(data, "booking_")
    cancel = None if _flag(data, "cancel_same") else _policy_values(data, "cancel_")
    values = dict(
        name=name, weekdays=",".join(map(str, weekdays)), period=period,
        start_time=_text(data, "start_time", "l'heure de début", required=False, max_length=5),
        end_time=_text(data, "end_time", "l'heure de fin", required=False, max_length=5),
        capacity=_int(data, "capacity", "la capacité", minimum=1, maximum=10000),
        waiting_list=_flag(data, "waiting_list"),
        last_places_threshold=_int(data, "last_places_threshold", "le seuil « Dernières places »",
                                   maximum=1000) or 0,
        late_absence_hours=_int(data, "late_absence_hours", "le délai de justification d'absence",
                                maximum=24 * 31) or 0,
        default_price=_money(data, "default_price", "le tarif par défaut", required=True),
        pai_price=_money(data, "pai_price", "le tarif PAI"),
        late_surcharge=_money(data, "late_surcharge", "la majoration hors délai") or 0,
        absence_fee=_money(data, "absence_fee", "la pénalité d'absence") or 0,
        unbooked_presence=_unbooked_presence(data),
    )
    for field in ("start_time", "end_time"):
        if values[field]:
            try:
                values[field] = deadlines.parse_time(values[field]).strftime("%H:%M")
            except InvalidInput:
                raise InvalidInput("Indiquez une heure au format 07:30.", field) from None
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
        audit.record(staff, "unit.save", unit, f"{activity.name} – {name}")
    return unit


def _unbooked_presence(data: Mapping) -> str:
    value = (data.get("unbooked_presence") or "late").strip()
    if value not in UNBOOKED_PRESENCE_LABELS:
        raise InvalidInput("Choisissez comment facturer un enfant présent sans réservation.", "unbooked_presence")
    return value


def save_regie(staff: User, regie: Regie, data: Mapping) -> Regie:
    """Billing settings of a régie: code of its numbers, due date delay, delay before online payment, prepayment."""
    code = invoice_numbers.normalise_code(data.get("code"))
    payment_days = _int(data, "payment_days", "le délai de paiement (en jours)", required=True, minimum=1,
                        maximum=365)
    treasury_days = _int(data, "treasury_days", "le délai avant paiement en ligne (en jours)", required=True,
                         minimum=0, maximum=365)
    if treasury_days > payment_days:
        raise InvalidInput("Le délai avant paiement en ligne ne peut pas dépasser le délai de paiement : "
                           "la facture doit pouvoir être payée avant son échéance.", "treasury_days")
    prepayment = _flag(data, "prepayment")
    changes = []
    for name, value in (("code", code), ("payment_days", payment_days), ("treasury_days", treasury_days),
                        ("prepayment", prepayment)):
        if getattr(regie, name) != value:
            changes.append(f"{name}: {getattr(regie, name)} → {value}")
            setattr(regie, name, value)
    with write_transaction():
        invoice_numbers.check_code_available(regie, code)  # under the lock: two régies cannot take one code
        regie.save()
        audit.record(staff, "regie.update", regie, f"{regie.name} : " + ("; ".join(changes) or "inchangé"))
    return regie


def save_bands(staff: User, unit: Unit, data: Mapping) -> list[TariffBand]:
    """Replace a unit's QF bands with the rows typed (qf_min_N, qf_max_N, price_N; empty rows ignored)."""
    rows = []
    for index in range(20):
        keys = (f"qf_min_{index}", f"qf_max_{index}", f"price_{index}")
        if not any((data.get(k) or "").strip() for k in keys):
            continue
        qf_min = _int(data, keys[0], "le QF minimum", required=True, maximum=100000)
        qf_max = _int(data, keys[1], "le QF maximum", maximum=100000)
        if qf_max is not None and qf_max <= qf_min:
            raise InvalidInput("Le QF maximum doit être supérieur au QF minimum.", keys[1])
        rows.append((qf_min, qf_max, _money(data, keys[2], "le tarif", required=True)))
    rows.sort()
    for (a_min, a_max, _), (b_min, _, _) in zip(rows, rows[1:]):
        if a_max is None or a_max > b_min:
            raise InvalidInput("Les tranches de QF se chevauchent : vérifiez les bornes.", "qf_min_0")
    with write_transaction():
        TariffBand.delete().where(TariffBand.unit == unit.id).execute()
        bands = [TariffBand.create(unit=unit, qf_min=a, qf_max=b, price=p) for a, b, p in rows]
        audit.record(staff, "unit.tariffs", unit, f"{len(bands)} tranche(s)")
    return bands


def add_closure(staff: User, data: Mapping, activity: Activity | None = None, unit: Unit | None = None) -> Closure:
    start = parse_date(data.get("starts_on"), "starts_on", "le premier jour de fermeture")
    end = parse_date(data.get("ends_on"), "ends_on", "le dernier jour") if data.get("ends_on") else start
    if end < start:
        raise InvalidInput("Le dernier jour doit suivre le premier.", "ends_on")
    reason = _text(data, "reason", "le motif (ex. « Pont de l'Ascension », « Grève »)")
    with write_transaction():
        closure = Closure.create(activity=activity, unit=unit, starts_on=start, ends_on=end, reason=reason)
        audit.record(staff, "closure.create", closure, reason)
    return closure


def add_extra_day(staff: User, unit: Unit, data: Mapping) -> ExtraDay:
    day = parse_date(data.get("date"), "date", "la date du jour supplémentaire")
    if ExtraDay.get_or_none((ExtraDay.unit == unit.id) & (ExtraDay.date == day)):
        raise InvalidInput("Ce jour est déjà ajouté.", "date")
    with write_transaction():
        extra = ExtraDay.create(unit=unit, date=day, reason=_text(data, "reason", "le motif", required=False))
        audit.record(staff, "extra_day.create", extra, str(day))
    return extra


def set_capacity(staff: User, unit: Unit, data: Mapping) -> CapacityOverride:
    day = parse_date(data.get("date"), "date", "la date")
    capacity = _int(data, "capacity", "la capacité du jour", required=True, minimum=0, maximum=10000)
    with write_transaction():
        row = CapacityOverride.get_or_none((CapacityOverride.unit == unit.id) & (CapacityOverride.date == day))
        if row is None:
            row = CapacityOverride.create(unit=unit, date=day, capacity=capacity)
        else:
            row.capacity = capacity
            row.save()
        audit.record(staff, "capacity.set", row, f"{day}: {capacity}")
    return row
