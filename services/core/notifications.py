"""Telling a household: alerts under « Mes alertes », each one also sent by e-mail through the outbox."""
from __future__ import annotations

from peewee import fn

from models import Alert, Household
from models.prepared import prepared
from services.core import clock, outbox
from services.core.transactions import write_transaction


def notify(household: Household, title: str, body: str, *, email: bool = True) -> Alert:
    """An alert under "Mes alertes", and the same text by e-mail to the household's parents."""
    alert = Alert.create(household=household, created_at=clock.local_now(), title=title, body=body)
    if email:
        for address in household.parent_emails():
            outbox.send(address, title, body + "\n\nRetrouvez vos alertes sur le portail famille, « Mes alertes ».")
    return alert


def alerts(household: Household) -> list[Alert]:
    return list(Alert.select().where(Alert.household == household.id).order_by(Alert.created_at.desc(), Alert.id.desc()))


def unread_alerts(household: Household) -> int:
    return unread_count(household.id)


@prepared
def _unread(household):
    return Alert.select(fn.COUNT(Alert.id)).where((Alert.household == household) & ~Alert.read)


def unread_count(household_id: int) -> int:
    """Unread alerts of a household, by id (the menu's count, on every page: one query, no household row)."""
    return _unread.scalar(household_id)


def mark_alerts_read(household: Household) -> int:
    """« Tout marquer comme lu »: returns how many alerts were unread."""
    with write_transaction():
        return Alert.update(read=True).where((Alert.household == household.id) & ~Alert.read).execute()
