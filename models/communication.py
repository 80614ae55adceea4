"""Communication models: the outgoing-mail table (the transactional outbox the worker delivers)."""
from __future__ import annotations

from peewee import CharField, DateTimeField, IntegerField, TextField

from models.base import BaseModel


class OutgoingMail(BaseModel):
    """One e-mail, written in the transaction of the change it reports and delivered by the worker.

    status: pending (waiting, possibly after failures: attempts > 0), sending (claimed by a worker),
    sent, failed (given up after too many attempts; staff can resend). The Message-ID is fixed when
    the row is written, so a delivery repeated after a crash can be recognised by the receiver."""

    to = CharField(max_length=320)
    subject = CharField(max_length=500)
    body = TextField()
    message_id = CharField(unique=True)
    status = CharField(default="pending", index=True)
    attempts = IntegerField(default=0)
    last_error = TextField(default="")
    created_at = DateTimeField()
    next_attempt_at = DateTimeField(index=True)
    claimed_at = DateTimeField(null=True)
    sent_at = DateTimeField(null=True)
