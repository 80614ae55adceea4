"""Deadline reminders: 24 h before a unit's weekly deadline, one e-mail to a household with a child enrolled
and nothing booked for that week; none to one that booked, opted out, was reminded already, or when the
commune switched reminders off; none outside the 24 h window.

The canteen's deadline is « le jeudi de la semaine précédente à 18 h »: for the week of Monday 7 December
2026 it is Thursday 3 December at 18 h. On Wednesday 2 December at 19 h it is 23 h away; the garderie
(« la veille ») and ALSH Mercredi (48 h before) weeks are not due then."""
from __future__ import annotations

import datetime as dt

import pytest

from models import db, AuditLog, BasketLine, Booking, Commune, MailOptOut, OutgoingMail, ReminderSent
from services.accounts import mail_preferences
from services.booking import deadline_reminders
from services.core import clock

WEDNESDAY_EVENING = "2026-12-02T19:00"
WEEK = dt.date(2026, 12, 7)
MARTIN, DUPONT = "famille.martin@example.fr", "famille.dupont@example.fr"


def reminders_to(address: str) -> list[OutgoingMail]:
    return list(OutgoingMail.select().where((OutgoingMail.to == address)
                                            & OutgoingMail.subject.startswith("Rappel : réservations")))


def book_dupont_week(demo) -> None:
    """The Dupont family books the canteen for Inès and puts Jade's Monday in the basket."""
    dupont, children, units = demo["households"]["dupont"], demo["children"], demo["units"]
    now = clock.local_now()
    Booking.create(household=dupont, child=children["ines"], unit=units["repas_phare"], date=WEEK + dt.timedelta(days=3),
                   status="booked", created_at=now)
    BasketLine.create(household=dupont, child=children["jade"], unit=units["repas_petit_prince"], date=WEEK,
                      action="add", created_at=now)


@pytest.fixture
def evening(demo, freeze):
    freeze(WEDNESDAY_EVENING)
    return demo


def test_exactly_one_reminder_to_the_household_with_nothing_booked_none_to_the_one_that_booked(evening):
    book_dupont_week(evening)
    report = deadline_reminders.send_deadline_reminders()
    martin_mails = reminders_to(MARTIN)
    assert len(martin_mails) == 1 and reminders_to(DUPONT) == []
    mail = martin_mails[0]
    assert mail.subject == "Rappel : réservations de la semaine du lundi 7 décembre 2026"
    assert "Restauration scolaire – École du Phare (Repas), semaine du lundi 7 décembre 2026 : réservations " \
           "jusqu'au jeudi 3 décembre à 18 h" in mail.body
    assert "École du Petit Prince (Repas)" in mail.body  # Hugo's canteen: one mail for both children
    assert "Garderie" not in mail.body and "ALSH" not in mail.body  # their deadlines are not in the next 24 h
    martin = evening["households"]["martin"]
    rows = list(ReminderSent.select().order_by(ReminderSent.unit))
    assert {(r.household_id, r.week_start) for r in rows} == {(martin.id, WEEK)}
    assert {r.unit_id for r in rows} == {evening["units"]["repas_phare"].id, evening["units"]["repas_petit_prince"].id}
    assert report.households == 1 and report.mails == 1
    assert AuditLog.select().where((AuditLog.action == "deadline_reminder") & (AuditLog.household == martin.id)).count() == 1


def test_never_twice_even_when_the_job_runs_again(evening):
    book_dupont_week(evening)
    deadline_reminders.send_deadline_reminders()
    again = deadline_reminders.send_deadline_reminders()
    clock.freeze("2026-12-03T09:00")  # later, still inside the window
    later = deadline_reminders.send_deadline_reminders()
    assert len(reminders_to(MARTIN)) == 1
    assert again.mails == later.mails == 0 and again.already_sent == 2
    assert ReminderSent.select().count() == 2


def test_a_concurrent_run_that_inserted_first_makes_this_one_send_nothing(evening, monkeypatch):
    """The unique index is the real guard: a row written by another worker between our read and our insert
    rolls this run back, e-mails included."""
    book_dupont_week(evening)
    martin, unit = evening["households"]["martin"], evening["units"]["repas_phare"]
    real_insert = ReminderSent.insert_many

    def other_worker_first(rows):
        ReminderSent.create(household=martin, unit=unit, week_start=WEEK, sent_at=clock.local_now())
        return real_insert(rows)

    monkeypatch.setattr(ReminderSent, "insert_many", other_worker_first)
    report = deadline_reminders.send_deadline_reminders()
    assert report.mails == 0 and reminders_to(MARTIN) == []
    assert ReminderSent.select().count() == 0  # rolled back with the rest (the other worker's row is its own)


def test_none_to_a_household_whose_parent_opted_out(evening):
    book_dupont_week(evening)
    martin_user = evening["users"]["martin"]
    mail_preferences.save(martin_user, {"replies": True, "news": True, "reminders": False})
    report = deadline_reminders.send_deadline_reminders()
    assert reminders_to(MARTIN) == [] and report.opted_out == 1 and report.mails == 0
    assert ReminderSent.select().count() == 0
    assert not mail_preferences.wants(martin_user, "reminders")


def test_opting_out_stops_only_that_parents_address(evening):
    dupont_user = evening["users"]["dupont"]
    MailOptOut.create(user=dupont_user, kind="reminders")
    deadline_reminders.send_deadline_reminders()
    assert len(reminders_to(MARTIN)) == 1 and reminders_to(DUPONT) == []


def test_none_when_the_commune_switched_reminders_off(evening):
    Commune.update(reminders_enabled=False).execute()
    report = deadline_reminders.send_deadline_reminders()
    assert report.disabled and str(report) == "rappels désactivés dans les paramètres de la commune"
    assert reminders_to(MARTIN) == [] and ReminderSent.select().count() == 0


@pytest.mark.parametrize("moment", ["2026-12-02T17:59", "2026-12-03T18:00"])
def test_none_outside_the_24_hours_before_the_deadline(demo, freeze, moment):
    """More than 24 h before Thursday 18 h, or once the deadline is reached: nothing for the canteen."""
    freeze(moment)
    deadline_reminders.send_deadline_reminders()
    assert not any("Restauration scolaire" in m.body for m in reminders_to(MARTIN))


def test_the_24_hour_window_starts_exactly_a_day_before(demo, freeze):
    freeze("2026-12-02T18:00")
    deadline_reminders.send_deadline_reminders()
    assert len(reminders_to(MARTIN)) == 1


def test_a_child_without_enrolment_brings_no_reminder(evening):
    """Only validated enrolments count: without them, the household is not reminded for that unit."""
    from models import Enrolment
    Enrolment.update(status="cancelled").where(Enrolment.child.in_(
        [evening["children"]["lea"].id, evening["children"]["hugo"].id])).execute()
    deadline_reminders.send_deadline_reminders()
    assert reminders_to(MARTIN) == []


def test_the_cli_and_the_worker_task_send_them(evening, app):
    import jobs

    result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert "Rappels de date limite : " in result.output and "2 foyer(s) prévenu(s)" in result.output
    assert len(reminders_to(MARTIN)) == 1 and len(reminders_to(DUPONT)) == 1
    db.connect(reuse_if_open=True)  # the command closed the test's connection
    assert "0 foyer(s) prévenu(s)" in jobs.send_deadline_reminders.call_local()
