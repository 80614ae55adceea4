"""Communication models: the outgoing-mail table (the transactional outbox the worker delivers), the
messaging between households and services (Service, Thread, Message), and what the commune publishes
(news, documents) with the households' read markers."""
from __future__ import annotations

from peewee import BooleanField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, TextField

from models.accounts import Household, School, User
from models.activities import Activity
from models.base import BaseModel
from models.family import Child
from models.prepared import PreparedCreate


class OutgoingMail(PreparedCreate, BaseModel):
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
# --- What the commune publishes: news (actualités) and documents (menus, tarifs, règlements…) ---------
# Both carry the same audience fields: everyone, one school, one activity, or one class level (of one
# school when `school` is set). services/communication/audience.py holds the one rule that reads them.
AUDIENCES = ("all", "school", "activity", "class")


class NewsItem(BaseModel):
    """An actualité: Markdown text shown to the households of its audience during its window."""

    title = CharField(max_length=200)
    body = TextField(default="")  # Markdown, rendered and cleaned on display (services/communication/rendering.py)
    audience = CharField(default="all", max_length=20)
    school = ForeignKeyField(School, null=True, on_delete="SET NULL")
    activity = ForeignKeyField(Activity, null=True, on_delete="SET NULL")
    class_level = CharField(default="", max_length=10)
    publish_from = DateTimeField(index=True)
    publish_until = DateTimeField(null=True)
    attachment_stored = CharField(default="", max_length=80)  # random name in UPLOAD_DIR/publications
    attachment_name = CharField(default="", max_length=120)  # the cleaned original name shown to parents
    attachment_mime = CharField(default="", max_length=40)
    author = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField()
    updated_at = DateTimeField()
    unpublished_at = DateTimeField(null=True)
    mailed_at = DateTimeField(null=True)  # when the worker e-mailed its audience (once, when it went live)


class NewsRead(BaseModel):
    """A household has opened a news item: it is no longer « Nouveau » for that family."""

    news = ForeignKeyField(NewsItem, backref="reads", on_delete="CASCADE")
    household = ForeignKeyField(Household, on_delete="CASCADE")
    read_at = DateTimeField()

    class Meta:
        indexes = ((("news", "household"), True),)


class PublicationCategory(BaseModel):
    """A heading of /documents (Menus, Tarifs…), named and ordered by the administrator."""

    name = CharField(max_length=80, unique=True)
    position = IntegerField(default=0)


class PublishedDocument(BaseModel):
    """A file the commune publishes under a category, for an audience, during a window."""

    category = ForeignKeyField(PublicationCategory, backref="documents", on_delete="RESTRICT")
    title = CharField(max_length=200)
    document_date = DateField()  # the date shown beside the file (menu of the week of…, tariffs of…)
    stored_name = CharField(max_length=80)
    original_name = CharField(max_length=120)
    content_type = CharField(max_length=40)
    size = IntegerField(default=0)
    audience = CharField(default="all", max_length=20)
    school = ForeignKeyField(School, null=True, on_delete="SET NULL")
    activity = ForeignKeyField(Activity, null=True, on_delete="SET NULL")
    class_level = CharField(default="", max_length=10)
    publish_from = DateTimeField(index=True)
    publish_until = DateTimeField(null=True)
    author = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField()
    updated_at = DateTimeField()
    unpublished_at = DateTimeField(null=True)


class PublicationRead(BaseModel):
    """A household has opened a published document: it no longer counts as new in its category."""

    document = ForeignKeyField(PublishedDocument, backref="reads", on_delete="CASCADE")
    household = ForeignKeyField(Household, on_delete="CASCADE")
    read_at = DateTimeField()

    class Meta:
        indexes = ((("document", "household"), True),)
