"""Demo services of the Mairie de Démo for the school year 2026-2027: canteens, garderies, ALSH.

Also loads public holidays and zone B school holidays from the packages into the database, and
enrols the demo children (validated). Puts ctx["activities"], ctx["units"], ctx["regies"] and
ctx["policies"] for the bookings and billing seeds.
"""
from __future__ import annotations

import datetime as dt

from models import Activity, ActivityStaff, Attendance, DeadlinePolicy, Enrolment, Regie, TariffBand, Unit, UnitRule
from services.booking import calendar
from services.core import clock

YEAR = 2026
QF_BANDS = ((0, 600, 100), (600, 1000, 210), (1000, None, 290))  # euros, euros, cents


def create_activity(name: str, kind: str, year: int = YEAR, **fields) -> Activity:
    """An activity covering the whole school year (septembre → août)."""
    start, end = calendar.school_year_bounds(year)
    fields.setdefault("starts_on", start)
    fields.setdefault("ends_on", end)
    return Activity.create(name=name, kind=kind, school_year=year, **fields)


def create_unit(activity: Activity, name: str, bands=(), **fields) -> Unit:
    """A unit with optional QF bands ((qf_min, qf_max, cents), …)."""
    unit = Unit.create(activity=activity, name=name, **fields)
    for qf_min, qf_max, price in bands:
        TariffBand.create(unit=unit, qf_min=qf_min, qf_max=qf_max, price=price)
    return unit


def seed(ctx: dict) -> None:
    calendar.refresh_holidays([YEAR, YEAR + 1], zone=ctx["commune"].school_zone if "commune" in ctx else "B")
    schools = ctx["schools"]
    # A made-up but well-formed SEPA creditor (ICS, IBAN and BIC keys are valid): the demo exports its
    # prélèvements; a real commune types its own on the régie's settings.
    creditor = dict(sepa_creditor_id="FR72ZZZ123456", sepa_iban="FR7630001007941234567890185", sepa_bic="BDFEFRPPCCT")
    regies = {
        "periscolaire": Regie.create(name="Régie périscolaire", code="PERI", **creditor),
        "loisirs": Regie.create(name="Régie accueil de loisirs", code="ALSH", **creditor),
    }
    policies = {
        "cantine": DeadlinePolicy.create(kind="weekday_previous_week", weekday=3, amount=1, at_time="18:00",
                                         skip_public_holidays=True),
        "garderie": DeadlinePolicy.create(kind="days_before", amount=1, at_time="18:00"),
        "alsh_mercredi": DeadlinePolicy.create(kind="hours_before", amount=48, at_time="00:00"),
        "alsh_vacances": DeadlinePolicy.create(kind="weeks_before", amount=2, at_time="12:00"),
    }
    # Seed guide: next year's bookings open on a given day in July.
    opens = dt.datetime(YEAR, 7, 6, 8, 0)
    activities, units = {}, {}
    for key, school in (("phare", schools["phare"]), ("petit_prince", schools["petit_prince"])):
        canteen = create_activity(f"Restauration scolaire – {school.name}", "cantine", school=school,
                                  regie=regies["periscolaire"], booking_opens_at=opens, position=1,
                                  description="Repas du midi les lundis, mardis, jeudis et vendredis.")
        units[f"repas_{key}"] = create_unit(
            canteen, "Repas", QF_BANDS, weekdays="0,1,3,4", start_time="11:45", end_time="13:30",
            booking_policy=policies["cantine"], default_price=290, pai_price=150, late_surcharge=100,
            absence_fee=150, late_absence_hours=48,
            # « Abonnement restauration » offered at the Petit Prince only, with a 20 € monthly forfait;
            # nobody is subscribed in the demo (services/booking/subscriptions.py).
            subscription=key == "petit_prince", monthly_fee=2000 if key == "petit_prince" else None)
        garderie = create_activity(f"Garderie – {school.name}", "garderie", school=school,
                                   regie=regies["periscolaire"], booking_opens_at=opens, position=2,
                                   description="Accueil périscolaire du matin et du soir.")
        units[f"garderie_matin_{key}"] = create_unit(
            garderie, "Garderie matin", ((0, 600, 60), (600, 1000, 90), (1000, None, 120)), weekdays="0,1,3,4",
            start_time="07:30", end_time="08:30", booking_policy=policies["garderie"], default_price=120,
            position=1, late_absence_hours=24)
        units[f"garderie_soir_{key}"] = create_unit(
            garderie, "Garderie soir", ((0, 600, 90), (600, 1000, 140), (1000, None, 180)), weekdays="0,1,3,4",
            start_time="16:30", end_time="18:30", booking_policy=policies["garderie"], default_price=180,
            position=2, late_absence_hours=24)
        activities[f"cantine_{key}"] = canteen
        activities[f"garderie_{key}"] = garderie
    mercredi = create_activity("ALSH Mercredi", "alsh_mercredi", regie=regies["loisirs"], booking_validation=True,
                               booking_opens_at=opens, requires_certified_record=False, position=3,
                               description="Accueil de loisirs du mercredi, sur validation du service.")
    for key, name, bands, default, position, hours in (
            ("alsh_journee", "Journée", ((0, 600, 500), (600, 1000, 900), (1000, None, 1300)), 1300, 1,
             ("07:30", "18:30")),
            ("alsh_matin", "Matin", ((0, 600, 250), (600, 1000, 450), (1000, None, 650)), 650, 2, ("07:30", "12:00")),
            ("alsh_apres_midi", "Après-midi", ((0, 600, 250), (600, 1000, 450), (1000, None, 650)), 650, 3,
             ("13:30", "18:30")),
            ("alsh_repas", "Repas", QF_BANDS, 290, 4, ("12:00", "13:30"))):
        units[key] = create_unit(mercredi, name, bands, weekdays="2", capacity=24, waiting_list=True,
                                 last_places_threshold=3, booking_policy=policies["alsh_mercredi"],
                                 default_price=default, position=position, start_time=hours[0],
                                 end_time=hours[1], late_absence_hours=48, absence_fee=300 if key == "alsh_journee" else 0)
    # One Wednesday is « Journée » or « Matin » / « Après-midi », and « Repas » comes with a morning (issue 15).
    for other in ("alsh_matin", "alsh_apres_midi"):
        UnitRule.create(unit=units["alsh_journee"], other=units[other], kind="excludes")
    for other in ("alsh_matin", "alsh_journee"):
        UnitRule.create(unit=units["alsh_repas"], other=units[other], kind="requires")
    vacances = create_activity("ALSH Vacances", "alsh_vacances", regie=regies["loisirs"], booking_validation=True,
                               auto_confirm_waiting=False, booking_opens_at=dt.datetime(YEAR, 9, 28, 8, 0),
                               position=4, description="Accueil de loisirs pendant les vacances scolaires.")
    units["vacances_journee"] = create_unit(
        vacances, "Journée", ((0, 600, 600), (600, 1000, 1000), (1000, None, 1400)), weekdays="0,1,2,3,4",
        period="holidays", capacity=40, waiting_list=True, booking_policy=policies["alsh_vacances"],
        default_price=1400, start_time="07:30", end_time="18:30", late_absence_hours=48)
    activities["alsh_mercredi"] = mercredi
    if "animateur" in ctx.get("users", {}):
        ActivityStaff.create(user=ctx["users"]["animateur"], activity=mercredi)
    activities["alsh_vacances"] = vacances

    now = clock.local_now()
    children = ctx["children"]
    plan = {
        "lea": ("cantine_phare", "garderie_phare", "alsh_mercredi", "alsh_vacances"),
        "hugo": ("cantine_petit_prince", "garderie_petit_prince", "alsh_mercredi"),
        "ines": ("cantine_phare", "garderie_phare", "alsh_mercredi"),
        "malo": ("cantine_phare", "garderie_phare", "alsh_vacances"),
        "jade": ("cantine_petit_prince", "garderie_petit_prince"),
    }
    admin = ctx.get("users", {}).get("admin")
    for child_key, activity_keys in plan.items():
        for activity_key in activity_keys:
            Enrolment.create(child=children[child_key], activity=activities[activity_key], status="validated",
                             requested_at=now, decided_at=now, decided_by=admin)
    _seed_evening_care(ctx, schools["phare"], regies["periscolaire"], activities, units, children["lea"], admin)
    ctx["regies"] = regies
    ctx["policies"] = policies
    ctx["activities"] = activities
    ctx["units"] = units


def _seed_evening_care(ctx: dict, school, regie: Regie, activities: dict, units: dict, lea, admin) -> None:
    """« Accueil du soir (sans réservation) » at École du Phare (issue 15): enrolment only, billed per
    quarter-hour started; Léa is enrolled and was recorded twice in November (6 and 4 quarter-hours)."""
    now = clock.local_now()
    activity = create_activity(f"Accueil du soir (sans réservation) – {school.name}", "garderie", school=school,
                               regie=regie, position=5,
                               description="Accueil après l'étude, sans réservation : facturé au quart d'heure.")
    unit = create_unit(activity, "Accueil du soir", ((0, 600, 30), (600, 1000, 45), (1000, None, 60)),
                       weekdays="0,1,3,4", start_time="16:30", end_time="18:30", default_price=60,
                       attendance_only=True, attendance_pricing="quarter_hour")
    activities["accueil_soir_phare"], units["accueil_soir_phare"] = activity, unit
    Enrolment.create(child=lea, activity=activity, status="validated", requested_at=now, decided_at=now,
                     decided_by=admin)
    agent = ctx.get("users", {}).get("agent")
    for day, arrived, left in ((dt.date(YEAR, 11, 19), "16:40", "18:05"), (dt.date(YEAR, 11, 24), "16:30", "17:20")):
        Attendance.create(household=lea.household_id, child=lea, unit=unit, date=day, arrived_at=arrived,
                          left_at=left, recorded_at=dt.datetime.combine(day, dt.time(18, 10)), recorded_by=agent)
