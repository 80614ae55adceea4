"""Demo messaging: the four usual services, and a few conversations — Famille Martin asked the Service
enfance a question (answered and read) and reports Hugo sick this morning (not read yet by the service);
Famille Dupont asked the Régie about an invoice (answered, not read yet by the family)."""
from __future__ import annotations

import datetime as dt

from models import Message, Service, Thread
from services.communication import messaging

TODAY = dt.date(2026, 11, 19)  # the demo's "today" (services/demo/bookings.py)


def _at(days_before: int, hour: int, minute: int = 0) -> dt.datetime:
    day = TODAY - dt.timedelta(days=days_before)
    return dt.datetime(day.year, day.month, day.day, hour, minute)


def _thread(household, service, subject, messages, *, child=None, sick=False, status="open", read_by_family=True,
            read_by_staff=True) -> Thread:
    """A thread and its messages (author, from_staff, body, time), markers set as told."""
    first = messages[0][3]
    thread = Thread.create(household=household, service=service, subject=subject, child=child, sick_notice=sick,
                           status=status, created_by=messages[0][0], created_at=first, updated_at=messages[-1][3],
                           last_message_at=messages[-1][3])
    for author, from_staff, body, at in messages:
        row = Message.create(thread=thread, author=author, from_staff=from_staff, body=body, created_at=at)
        if from_staff:
            thread.last_staff_message = row.id
        else:
            thread.last_family_message = row.id
    if read_by_family:
        thread.household_read_upto, thread.household_read_at = thread.last_staff_message, messages[-1][3]
    if read_by_staff:
        thread.staff_read_upto, thread.staff_read_at = thread.last_family_message, messages[-1][3]
    thread.save()
    return thread


def seed(ctx: dict) -> None:
    messaging.ensure_default_services()
    services = {s.name: s for s in Service.select()}
    users, households, children = ctx["users"], ctx["households"], ctx["children"]
    martin, dupont, agent, regisseur = users["martin"], users["dupont"], users["agent"], users["regisseur"]
    _thread(households["martin"], services["Service enfance"], "Inscription aux vacances de Noël", [
        (martin, False, "Bonjour,\nLéa pourra-t-elle aller au centre de loisirs pendant les vacances de Noël ? "
                        "Merci, Claire Martin", _at(6, 9, 12)),
        (agent, True, "Bonjour Madame Martin,\nOui : les inscriptions ouvrent le 1er décembre dans « Inscriptions ». "
                      "Le programme est sur https://www.example.fr/alsh-noel.\nBien cordialement, Sophie Le Gall",
         _at(5, 14, 30)),
    ], child=children["lea"], status="done")
    ctx["threads"] = {"martin_sick": _thread(households["martin"], services["Service enfance"], "Enfant malade", [
        (martin, False, "Bonjour, Hugo a de la fièvre : il ne viendra pas à l'école aujourd'hui ni demain. "
                        "Pourriez-vous décompter la cantine et la garderie ? Merci, Claire Martin", _at(0, 7, 45)),
    ], child=children["hugo"], sick=True, read_by_staff=False)}
    ctx["threads"]["dupont_invoice"] = _thread(households["dupont"], services["Régie"], "Facture d'octobre", [
        (dupont, False, "Bonjour, la facture d'octobre compte deux repas de trop pour Malo. Karim Dupont",
         _at(3, 20, 5)),
        (regisseur, True, "Bonjour Monsieur Dupont, vous avez raison : un avoir sera joint à la facture de novembre. "
                          "Nolwenn Guivarc'h, régie", _at(1, 11, 0)),
    ], child=children["malo"], read_by_family=False)
