"""Communication models: the outgoing-mail table (the transactional outbox the worker delivers) and the
messaging between households and services (Service, Thread, Message)."""
from __future__ import annotations

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from models.accounts import Household, User
from models.base import BaseModel
from models.family import Child


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


# --- Messaging (/messagerie): threads between a household and a service of the mairie -------------


class Service(BaseModel):
    """A service families write to (« Service enfance », « Régie »…); `roles` says which staff roles read
    its inbox (comma-separated; the administrator reads every inbox)."""

    name = CharField(unique=True, max_length=100)
    email = CharField(default="", max_length=320)  # told (without content) when a family writes; optional
    roles = CharField(default="agent", max_length=200)
    position = IntegerField(default=0)
    active = BooleanField(default=True)

    def role_list(self) -> list[str]:
        return [role.strip() for role in self.roles.split(",") if role.strip()]


class Thread(BaseModel):
    """A conversation of one household with one service. Read markers are message ids, not times: two
    messages may share a second (and the tests' frozen clock), ids are strictly ordered."""

    household = ForeignKeyField(Household, backref="threads", on_delete="CASCADE")
    service = ForeignKeyField(Service, backref="threads", on_delete="RESTRICT")
    subject = CharField(max_length=200)
    child = ForeignKeyField(Child, null=True, backref="+", on_delete="SET NULL")
    status = CharField(default="open", index=True)  # open (« À traiter »), done (« Traité »)
    assigned_to = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    sick_notice = BooleanField(default=False)  # « Signaler une absence (enfant malade) »
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField()
    updated_at = DateTimeField()
    last_message_at = DateTimeField(index=True)
    last_family_message = IntegerField(default=0)  # id of the family's last message
    last_staff_message = IntegerField(default=0)  # id of the service's last message
    household_read_upto = IntegerField(default=0)  # id of the last message the family has seen
    household_read_at = DateTimeField(null=True)
    staff_read_upto = IntegerField(default=0)  # id of the last message the service has seen
    staff_read_at = DateTimeField(null=True)


class Message(BaseModel):
    """One message of a thread: plain text (shown escaped, links made clickable), an optional attachment
    stored outside static/ under a random name."""

    thread = ForeignKeyField(Thread, backref="messages", on_delete="CASCADE")
    author = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    from_staff = BooleanField(default=False)
    body = TextField()
    attachment_stored = CharField(default="", max_length=100)
    attachment_name = CharField(default="", max_length=120)
    attachment_type = CharField(default="", max_length=50)
    attachment_size = IntegerField(default=0)
    created_at = DateTimeField()
