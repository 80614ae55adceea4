"""Forms of the staff activity screens (/gestion/activites, /gestion/prestations): each field is read
and checked here, with the French message naming it; services/booking/activities.py (and
/gestion/regies for a régie) get typed values and keep the rules that span fields or rows.
Field names are the pages' input names."""
from __future__ import annotations

from wtforms import FormField
from wtforms.validators import ValidationError

from blueprints.form_fields import (
    Choice,
    Day,
    Flag,
    Identifier,
    Ids,
    InputForm,
    Moment,
    Money,
    Text,
    Typed,
    WholeNumber,
)
from models import Activity, Regie, School, Unit
from services.booking import activities as config
from services.booking import calendar, deadlines
from services.core.errors import InvalidInput


class ActivityForm(InputForm):
    name = Text("le nom de l'activité", required=True)
    kind = Choice(config.KIND_LABELS, "Choisissez un type d'activité dans la liste.", default="autre")
    school_year = WholeNumber("l'année scolaire", required=True, minimum=2000, maximum=2100)
    school_id = WholeNumber("l'école")
    regie_id = WholeNumber("la régie")
    starts_on = Day("la date de début")
    ends_on = Day("la date de fin")
    description = Text("la description", max_length=2000)
    booking_validation = Flag()
    auto_confirm_waiting = Flag()
    booking_opens_at = Moment("l'ouverture des réservations")
    enrolment_open = Flag()
    enrolment_validation = Flag()
    requires_certified_record = Flag()
    required_documents = Ids()
    active = Flag()

    school: School | None = None
    regie: Regie | None = None

    def validate_school_id(self, field) -> None:
        self.school = School.get_or_none(School.id == field.data) if field.data else None
        if field.data and self.school is None:
            raise ValidationError("Choisissez une école dans la liste.")

    def validate_regie_id(self, field) -> None:
        self.regie = Regie.get_or_none(Regie.id == field.data) if field.data else None
        if field.data and self.regie is None:
            raise ValidationError("Choisissez une régie dans la liste.")

    @classmethod
    def new(cls, school_year: int) -> ActivityForm:
        return cls(data={"school_year": school_year, "enrolment_open": True, "enrolment_validation": True})

    @classmethod
    def of(cls, activity: Activity) -> ActivityForm:
        values = {name: getattr(activity, name) for name in (
            "name", "kind", "school_year", "description", "school_id", "regie_id", "starts_on", "ends_on",
            "booking_opens_at", "booking_validation", "auto_confirm_waiting", "enrolment_open",
            "enrolment_validation", "requires_certified_record", "active")}
        return cls(data={**values, "required_documents": activity.required_document_ids()})

    def settings(self) -> config.ActivitySettings:
        return config.ActivitySettings(
            name=self.name.data, kind=self.kind.data, school_year=self.school_year.data, school=self.school,
            regie=self.regie, starts_on=self.starts_on.data, ends_on=self.ends_on.data,
            description=self.description.data or "", booking_validation=self.booking_validation.data,
            auto_confirm_waiting=self.auto_confirm_waiting.data, booking_opens_at=self.booking_opens_at.data,
            enrolment_open=self.enrolment_open.data, enrolment_validation=self.enrolment_validation.data,
            requires_certified_record=self.requires_certified_record.data,
            required_documents=self.required_documents.data, active=self.active.data)


class PolicyForm(InputForm):
    """A deadline policy (booking_… or cancel_… fields); deadlines.validate checks it as a whole."""

    kind = Typed()
    weekday = WholeNumber("le jour de la semaine", maximum=6)
    month_day = WholeNumber("le jour du mois", minimum=1, maximum=31)
    amount = WholeNumber("le nombre", maximum=366)
    working_days = Flag()
    at_time = Typed()
    skip_weekends = Flag()
    skip_public_holidays = Flag()

    def policy(self) -> deadlines.Policy:
        return deadlines.Policy(
            kind=self.kind.data or "", amount=self.amount.data or 0, working_days=self.working_days.data,
            weekday=self.weekday.data, month_day=self.month_day.data, at_time=self.at_time.data or "00:00",
            skip_weekends=self.skip_weekends.data, skip_public_holidays=self.skip_public_holidays.data)

    @staticmethod
    def values(policy) -> dict:
        return {"kind": policy.kind, "amount": policy.amount, "weekday": policy.weekday,
                "month_day": policy.month_day or None, "at_time": policy.at_time,
                "working_days": policy.working_days, "skip_weekends": policy.skip_weekends,
                "skip_public_holidays": policy.skip_public_holidays}


class TimeOfDay(Text):
    """'07:30' (or 7 h 30), written back 07:30."""

    def parse(self, text: str) -> str:
        text = super().parse(text)
        try:
            return deadlines.parse_time(text).strftime("%H:%M")
        except InvalidInput:
            raise ValueError("Indiquez une heure au format 07:30.") from None


class UnitForm(InputForm):
    name = Text("le nom de la prestation", required=True)
    weekdays = Ids(bounds=range(7))
    period = Choice(calendar.PERIOD_LABELS, "Choisissez une période dans la liste.", default="school")
    booking = FormField(PolicyForm, separator="_")
    cancel_same = Flag()
    cancel = FormField(PolicyForm, separator="_")
    start_time = TimeOfDay("l'heure de début", max_length=5)
    end_time = TimeOfDay("l'heure de fin", max_length=5)
    capacity = WholeNumber("la capacité", minimum=1, maximum=10000)
    waiting_list = Flag()
    last_places_threshold = WholeNumber("le seuil « Dernières places »", maximum=1000)
    late_absence_hours = WholeNumber("le délai de justification d'absence", maximum=24 * 31)
    default_price = Money("le tarif par défaut", required=True)
    pai_price = Money("le tarif PAI")
    late_surcharge = Money("la majoration hors délai")
    absence_fee = Money("la pénalité d'absence")
    unbooked_presence = Choice(config.UNBOOKED_PRESENCE_LABELS,
                               "Choisissez comment facturer un enfant présent sans réservation.", default="late")
    subscription = Flag()
    monthly_fee = Money("le forfait mensuel des abonnés")
    attendance_only = Flag()
    attendance_pricing = Choice(config.PRICING_LABELS, "Choisissez comment facturer la présence dans la liste.",
                                default="presence")
    slot_minutes = WholeNumber("la durée du créneau", minimum=5, maximum=600)

    def validate_weekdays(self, field) -> None:
        if not field.data:
            raise ValidationError("Cochez au moins un jour de la semaine.")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.cancel_same.data:  # the cancel policy's fields are not used: their values do not matter
            for field in self.cancel:
                field.errors = []
            valid = self.problem() is None
        return valid

    @classmethod
    def new(cls) -> UnitForm:
        return cls(data={"weekdays": [0, 1, 3, 4], "period": "school", "cancel_same": True,
                         "booking": {"kind": "days_before", "amount": 1, "at_time": "18:00"},
                         "last_places_threshold": 3})

    @classmethod
    def of(cls, unit: Unit) -> UnitForm:
        values = {name: getattr(unit, name) for name in (
            "name", "period", "start_time", "end_time", "capacity", "waiting_list", "last_places_threshold",
            "default_price", "pai_price", "late_surcharge", "absence_fee", "unbooked_presence", "subscription",
            "monthly_fee", "attendance_only", "attendance_pricing", "slot_minutes")}
        values.update(weekdays=sorted(unit.weekday_set()), late_absence_hours=unit.late_absence_hours or None,
                      cancel_same=not unit.cancel_policy_id)
        for name, policy in (("booking", unit.booking_policy), ("cancel", unit.cancel_policy)):
            if policy is not None:
                values[name] = PolicyForm.values(policy)
        return cls(data=values)

    def settings(self) -> config.UnitSettings:
        return config.UnitSettings(
            name=self.name.data, weekdays=self.weekdays.data, period=self.period.data,
            booking=self.booking.form.policy(),
            cancel=None if self.cancel_same.data else self.cancel.form.policy(),
            start_time=self.start_time.data or "", end_time=self.end_time.data or "", capacity=self.capacity.data,
            waiting_list=self.waiting_list.data, last_places_threshold=self.last_places_threshold.data or 0,
            late_absence_hours=self.late_absence_hours.data or 0, default_price=self.default_price.data,
            pai_price=self.pai_price.data, late_surcharge=self.late_surcharge.data or 0,
            absence_fee=self.absence_fee.data or 0, unbooked_presence=self.unbooked_presence.data,
            subscription=self.subscription.data, monthly_fee=self.monthly_fee.data,
            attendance_only=bool(self.attendance_only.data), attendance_pricing=self.attendance_pricing.data,
            slot_minutes=self.slot_minutes.data or 60)


BAND_ROWS = 20  # rows read from the tariff table (the page shows the bands and two empty rows)
BAND_FIELDS = ("qf_min", "qf_max", "price")  # the columns, as named on TariffBand


class BandsForm(InputForm):
    """The QF band rows qf_min_N, qf_max_N, price_N; an empty row is ignored, a typed one is checked."""

    @classmethod
    def of(cls, bands) -> BandsForm:
        return cls(data={f"{name}_{index}": getattr(band, name) for index, band in enumerate(bands)
                         for name in BAND_FIELDS})

    def table(self, count: int) -> list[dict[str, str]]:
        """The first `count` rows as the page shows them."""
        shown = self.shown()
        return [{name: shown.get(f"{name}_{index}", "") for name in BAND_FIELDS} for index in range(count)]

    def _row(self, index: int) -> tuple:
        return tuple(self[f"{name}_{index}"] for name in BAND_FIELDS)

    def _used(self, index: int) -> bool:
        return any((field.raw_data or [""])[0].strip() for field in self._row(index))

    def validate(self, extra_validators=None) -> bool:
        for index in range(BAND_ROWS):
            qf_min, _qf_max, price = self._row(index)
            qf_min.required = price.required = self._used(index)
        super().validate(extra_validators)
        for index in range(BAND_ROWS):
            qf_min, qf_max, _price = self._row(index)
            if not (qf_min.errors or qf_max.errors) and None not in (qf_min.data, qf_max.data) \
                    and qf_max.data <= qf_min.data:
                qf_max.errors.append("Le QF maximum doit être supérieur au QF minimum.")
        return self.problem() is None

    def rows(self) -> list[tuple[int, int | None, int]]:
        return [tuple(field.data for field in self._row(index)) for index in range(BAND_ROWS) if self._used(index)]


for _index in range(BAND_ROWS):
    setattr(BandsForm, f"qf_min_{_index}", WholeNumber("le QF minimum", maximum=100000))
    setattr(BandsForm, f"qf_max_{_index}", WholeNumber("le QF maximum", maximum=100000))
    setattr(BandsForm, f"price_{_index}", Money("le tarif"))


class CapacityForm(InputForm):
    date = Day("la date", required=True)
    capacity = WholeNumber("la capacité du jour", required=True, maximum=10000)


class ExtraDayForm(InputForm):
    date = Day("la date du jour supplémentaire", required=True)
    reason = Text("le motif")


class UnitRulesForm(InputForm):
    """The units of the activity this one excludes (same day, never both) or requires (one of them);
    services/booking/unit_rules.save_rules checks them against each other."""

    excludes = Ids()
    requires = Ids()


SECTION_FORMS = {"unit": UnitForm, "bands": BandsForm, "capacity": CapacityForm, "extra": ExtraDayForm,
                 "rules": UnitRulesForm}


class SectionForm(InputForm):
    """Which of the unit page's forms was sent (hidden field « section »)."""

    section = Typed()

    def which(self) -> str:
        """The section's name; an unknown one is the unit's settings."""
        return self.section.data if self.section.data in SECTION_FORMS else "unit"


class ClosureForm(InputForm):
    starts_on = Day("le premier jour de fermeture", required=True)
    ends_on = Day("le dernier jour")
    reason = Text("le motif (ex. « Pont de l'Ascension », « Grève »)", required=True)
    scope = Typed()  # "all": every service of the commune; otherwise this activity

    @property
    def every_service(self) -> bool:
        return self.scope.data == "all"


class ClosureBackForm(InputForm):
    activity_id = Identifier()  # the activity page to go back to


class EnrolmentDecisionForm(InputForm):
    decision = Choice(("accept", "refuse", "waiting_list"), "Choisissez une décision.")
    reason = Typed()  # checked by services.booking.enrolment.refuse
