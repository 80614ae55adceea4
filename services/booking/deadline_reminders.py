"""Deadline reminders (« Rappels de date limite »): 24 h before a unit's weekly booking deadline, a household
with a child enrolled in it and nothing booked for that week (no booking, no basket line) gets one e-mail.

Run by the worker every 15 minutes (jobs.py) or `flask --app app send-reminders`. A unit's week is due when
the earliest deadline of its open days falls in the next 24 hours (for « le jeudi de la semaine
précédente à 18 h » that is the week's one deadline). ReminderSent (unique household × unit × week) is
written in the transaction of the e-mails: a second run, even a concurrent one, sends nothing more.
Honours Commune.reminders_enabled and each parent's « Rappels de réservation » switch.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from peewee import IntegrityError

from models import BasketLine, Booking, Child, Commune, Enrolment, Household, ReminderSent
from services.accounts import mail_preferences
from services.booking import deadlines, week_deadlines
from services.booking.day_status import ACTIVE
from services.core import audit, clock, events, formatting, outbox
from services.core.transactions import write_transaction
from services.family import household as household_rules

WINDOW = dt.timedelta(hours=24)
ACTION = "deadline_reminder"


@dataclass
class ReminderReport:
    disabled: bool = False
    unit_weeks: int = 0  # unit × week whose deadline falls in the next 24 h
    households: int = 0  # households reminded now
    mails: int = 0
    already_sent: int = 0  # household × unit × week reminded by an earlier run
    opted_out: int = 0  # households whose every parent switched reminders off
    details: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        if self.disabled:
            return "rappels désactivés dans les paramètres de la commune"
        return (f"{self.unit_weeks} semaine(s) à échéance, {self.households} foyer(s) prévenu(s), "
                f"{self.mails} courriel(s), {self.already_sent} déjà prévenu(s), {self.opted_out} désinscrit(s)")


def due_unit_weeks(now: dt.datetime) -> list[week_deadlines.UnitWeek]:
    """Unit × week whose first booking deadline falls in (now, now + 24 h]."""
    today = now.astimezone(deadlines.PARIS).date()
    weeks = week_deadlines.HORIZON.days // 7 + 1
    found = week_deadlines.unit_weeks(week_deadlines.active_units(), today, weeks, now)
    return [week for week in found if now < week.first_deadline <= now + WINDOW]


def _waiting_households(due: list[week_deadlines.UnitWeek]) -> dict[int, list[week_deadlines.UnitWeek]]:
    """Household id → its due unit-weeks with a child enrolled and nothing booked nor in the basket.
    Three queries whatever the number of households, plus two per due unit-week."""
    activity_ids = sorted({week.unit.activity_id for week in due})
    enrolled: dict[int, set[int]] = defaultdict(set)  # activity id → household ids
    rows = (Enrolment.select(Enrolment.activity, Child.household).join(Child)
            .join(Household, on=(Child.household == Household.id))
            .where(Enrolment.activity.in_(activity_ids) & (Enrolment.status == "validated")
                   & (Child.archived == False) & Household.status.in_(household_rules.VALIDATED_STATUSES))  # noqa: E712
            .tuples())
    for activity_id, household_id in rows:
        enrolled[activity_id].add(household_id)
    waiting: dict[int, list[week_deadlines.UnitWeek]] = defaultdict(list)
    for week in due:
        candidates = enrolled.get(week.unit.activity_id, set())
        if not candidates:
            continue
        first, last = week.days[0], week.days[-1]
        busy = {h for (h,) in Booking.select(Booking.household).where(
            (Booking.unit == week.unit.id) & Booking.date.between(first, last) & Booking.status.in_(ACTIVE)).tuples()}
        busy |= {h for (h,) in BasketLine.select(BasketLine.household).where(
            (BasketLine.unit == week.unit.id) & BasketLine.date.between(first, last)).tuples()}
        for household_id in sorted(candidates - busy):
            waiting[household_id].append(week)
    return waiting


def unit_label(unit) -> str:
    return f"{unit.activity.name} ({unit.name})"


def reminder_text(weeks: list[week_deadlines.UnitWeek]) -> tuple[str, str]:
    """Subject and body of one household's reminder."""
    starts = sorted({week.week_start for week in weeks})
    subject = "Rappel : réservations de la semaine du " + formatting.date_long(starts[0])
    lines = "\n".join(f"- {unit_label(week.unit)}, semaine du {formatting.date_long(week.week_start)} : "
                      f"réservations jusqu'au {deadlines.format_deadline(week.first_deadline)}"
                      for week in sorted(weeks, key=lambda w: (w.week_start, w.first_deadline, w.unit.id)))
    body = ("Bonjour,\n\nVous n'avez encore rien réservé pour :\n" + lines + "\n\n"
            "Passé ce délai, ces jours ne pourront plus être réservés en ligne. Réservez sur le portail "
            "famille, rubrique « Réservations ». Si vos enfants n'en ont pas besoin, ne tenez pas compte "
            "de ce message.\n\nPour ne plus recevoir ces rappels : « Mon compte », « Préférences de "
            "courriels ».\n\nLe service enfance")
    return subject, body


def send_deadline_reminders(now: dt.datetime | None = None) -> ReminderReport:
    """The periodic job: one reminder per household for the unit-weeks due in the next 24 h, never twice.
    Idempotent; a bounded number of queries plus one insert per table for all households."""
    now = (now or clock.now()).astimezone(deadlines.PARIS)
    report = ReminderReport()
    if not Commune.get_current().reminders_enabled:
        report.disabled = True
        events.emit("reminders.done", disabled=True)
        return report
    due = due_unit_weeks(now)
    report.unit_weeks = len(due)
    waiting = _waiting_households(due) if due else {}
    if not waiting:
        events.emit("reminders.done", unit_weeks=report.unit_weeks, households=0, mails=0)
        return report
    addresses = mail_preferences.addresses_wanting(waiting, mail_preferences.REMINDERS)
    sent_at = clock.to_local_naive(now)
    try:
        with write_transaction():
            # Read under the write lock: a concurrent run that committed first is seen here.
            done = set(ReminderSent.select(ReminderSent.household, ReminderSent.unit, ReminderSent.week_start)
                       .where(ReminderSent.household.in_(sorted(waiting))
                              & ReminderSent.week_start.in_(sorted({w.week_start for w in due}))).tuples())
            rows, mails, audited = [], [], []
            for household_id, weeks in waiting.items():
                fresh = [w for w in weeks if (household_id, w.unit.id, w.week_start) not in done]
                report.already_sent += len(weeks) - len(fresh)
                if not fresh:
                    continue
                if not addresses.get(household_id):
                    report.opted_out += 1
                    continue
                subject, body = reminder_text(fresh)
                mails.extend((email, subject, body) for email in addresses[household_id])
                rows.extend({"household": household_id, "unit": w.unit.id, "week_start": w.week_start,
                             "sent_at": sent_at} for w in fresh)
                audited.append((Household(id=household_id), "; ".join(
                    f"{unit_label(w.unit)}, semaine du {formatting.date_short(w.week_start)}" for w in fresh)))
            if rows:
                ReminderSent.insert_many(rows).execute()  # the unique index refuses a second reminder
                report.mails = outbox.send_many(mails)
                audit.record_many(None, ACTION, audited)
            report.households = len(audited)
    except IntegrityError:
        # Another run reminded the same households meanwhile: nothing of this run is kept, nothing sent twice.
        events.emit("reminders.concurrent_run")
        return ReminderReport(unit_weeks=report.unit_weeks, already_sent=sum(len(w) for w in waiting.values()))
    events.emit("reminders.done", unit_weeks=report.unit_weeks, households=report.households, mails=report.mails,
                already_sent=report.already_sent, opted_out=report.opted_out)
    return report
