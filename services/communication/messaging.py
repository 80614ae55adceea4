"""Messaging (« Messagerie »): threads between a household and a service of the mairie (Service enfance,
Restauration scolaire, Centre de loisirs, Régie…), replies in order, unread markers, attachments with the
household documents' checks, and the staff inbox of each service, open only to the roles given to it.

Texts are stored as typed (plain text); pages escape them (web/text.py). A family is told of a reply by
e-mail without its content: a sick child's message is health data, an e-mail is not a safe place for it.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from peewee import JOIN, fn

from models import Child, Household, Message, Service, Thread, User
from models.prepared import prepared
from services.accounts import mail_preferences
from services.core import audit, clock, outbox, permissions
from services.core.errors import InvalidInput, NotFound
from services.core.transactions import write_transaction
from services.family.uploads import check_content

# The services a new commune starts with (migration 016 creates them; the demo too): name → roles
# reading the inbox. The kitchen role reads headcounts only; the animateur reads the leisure centre's.
DEFAULT_SERVICES = [("Service enfance", "agent"), ("Restauration scolaire", "agent"),
                    ("Centre de loisirs", "agent,animateur"), ("Régie", "regisseur")]
STATUS_LABELS = {"open": "À traiter", "done": "Traité"}
SUBJECT_MAX, BODY_MAX = 150, 5000
FOLDER = "messages"  # under the upload directory, beside the household documents


class MessageRefused(InvalidInput):
    """A message or a staff action on a thread was refused (nothing changed)."""


@dataclass
class Attachment:
    """A file sent with a message: the name the browser gave and the bytes read (at most 10 MB + 1)."""

    filename: str
    content: bytes


def ensure_default_services() -> list[Service]:
    """Create the usual services that do not exist yet (demo and tests; production has migration 016)."""
    with write_transaction():
        for position, (name, roles) in enumerate(DEFAULT_SERVICES):
            if not Service.select().where(Service.name == name).exists():
                Service.create(name=name, roles=roles, position=position)
    return active_services()


def active_services() -> list[Service]:
    return list(Service.select().where(Service.active == True).order_by(Service.position, Service.name))  # noqa: E712


def may_read(user: User, service: Service) -> bool:
    """Whether a staff member reads this service's inbox: the administrator always, others by role."""
    return user.is_staff and (user.role == "admin" or user.role in service.role_list())


def services_for(user: User) -> list[Service]:
    """The services whose inbox this staff member reads."""
    return [service for service in Service.select().order_by(Service.position, Service.name) if may_read(user, service)]


def staff_who_read(service: Service) -> list[User]:
    """The colleagues a thread of this service may be assigned to (active staff whose role reads it)."""
    roles = service.role_list() + ["admin"]
    return list(User.select().where(User.role.in_(roles) & User.deactivated_at.is_null()
                                    & User.password_hash.is_null(False))
                .order_by(User.last_name, User.first_name, User.email))


# --- Text and attachments ---------------------------------------------------------------------------


def clean_body(text: str | None) -> str:
    """The message as typed, lines kept, control characters dropped; MessageRefused if empty or too long."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(c for c in text if c in "\n\t" or c.isprintable()).strip()
    if not text:
        raise MessageRefused("Écrivez votre message.", "body")
    if len(text) > BODY_MAX:
        raise MessageRefused(f"Le message : {BODY_MAX} caractères au plus.", "body")
    return text


def clean_subject(text: str | None) -> str:
    subject = " ".join("".join(c if c.isprintable() else " " for c in (text or "")).split())
    if not subject:
        raise MessageRefused("Indiquez l'objet du message.", "subject")
    if len(subject) > SUBJECT_MAX:
        raise MessageRefused(f"L'objet : {SUBJECT_MAX} caractères au plus.", "subject")
    return subject


def safe_name(filename: str, extension: str) -> str:
    """A display name for the download: the base name, letters, digits and « -_() » only, our extension."""
    base = Path((filename or "").replace("\\", "/")).name
    stem = "".join(c for c in Path(base).stem if c.isalnum() or c in " -_()")[:80].strip() or "piece-jointe"
    return stem + extension


def _store(attachment: Attachment | None, upload_dir: str | Path) -> dict:
    """Check the file by content (services/family/uploads.py rules) and write it under a random name."""
    if attachment is None or not attachment.filename:
        return {}
    try:
        content_type, extension = check_content(attachment.content)
    except InvalidInput as refusal:
        raise MessageRefused(refusal.message, "attachment") from None
    directory = permissions.private_dir(Path(upload_dir) / FOLDER)
    stored = secrets.token_hex(16) + extension
    permissions.private_file(directory / stored).write_bytes(attachment.content)
    return {"attachment_stored": stored, "attachment_name": safe_name(attachment.filename, extension),
            "attachment_type": content_type, "attachment_size": len(attachment.content)}


def add_message(thread: Thread, author: User, body: str, stored: dict, from_staff: bool) -> Message:
    """Append a message and move the thread's markers: the writer has read everything up to it."""
    stamp = clock.local_now()
    message = Message.create(thread=thread, author=author, from_staff=from_staff, body=body, created_at=stamp,
                             **stored)
    thread.last_message_at = thread.updated_at = stamp
    if from_staff:
        thread.last_staff_message = thread.staff_read_upto = message.id
        thread.staff_read_at = stamp
    else:
        thread.last_family_message = thread.household_read_upto = message.id
        thread.household_read_at = stamp
        thread.status = "open"  # a family's new message is to be dealt with again
    thread.save()
    return message


def _write(upload_dir, attachment, action):
    """Store the attachment, run `action(stored)` in one write transaction; no file left if it fails."""
    stored = _store(attachment, upload_dir)
    try:
        with write_transaction():
            return action(stored)
    except Exception:
        if stored:
            (Path(upload_dir) / FOLDER / stored["attachment_stored"]).unlink(missing_ok=True)
        raise


# --- Families ---------------------------------------------------------------------------------------


def start_thread(user: User, household: Household, service_id: int | None, subject: str, child_id: int | None,
                 body: str, sick_notice: bool, attachment: Attachment | None, upload_dir: str | Path,
                 staff_link=None) -> Thread:
    """« Nouveau message »: a thread with a service; the service's address (if any) is told, without content."""
    service = Service.get_or_none((Service.id == (service_id or 0)) & (Service.active == True))  # noqa: E712
    if service is None:
        raise MessageRefused("Choisissez le service à qui écrire.", "service")
    subject, body = clean_subject(subject), clean_body(body)
    child = None
    if child_id:
        child = Child.get_or_none((Child.id == child_id) & (Child.household == household.id)
                                  & (Child.archived == False))  # noqa: E712
        if child is None:
            raise MessageRefused("Choisissez l'enfant concerné dans la liste.", "child")
    if sick_notice and child is None:
        raise MessageRefused("Pour signaler une absence, indiquez l'enfant malade.", "child")

    def action(stored):
        stamp = clock.local_now()
        thread = Thread.create(household=household, service=service, subject=subject, child=child,
                               sick_notice=bool(sick_notice), created_by=user, created_at=stamp, updated_at=stamp,
                               last_message_at=stamp)
        add_message(thread, user, body, stored, from_staff=False)
        if service.email and staff_link:
            outbox.send(service.email, f"Nouveau message pour {service.name}",
                        f"Une famille a écrit au service {service.name}.\n\nLisez le message sur le portail "
                        f"(connexion requise) : {staff_link(thread.id)}\n")
        return thread
    return _write(upload_dir, attachment, action)


def family_thread(household: Household, thread_id: int) -> Thread:
    """A thread of this household, or NotFound (another household's thread does not exist for it)."""
    thread = (Thread.select(Thread, Service).join(Service)
              .where((Thread.id == thread_id) & (Thread.household == household.id)).first())
    if thread is None:
        raise NotFound("Conversation introuvable.")
    return thread


def family_reply(user: User, household: Household, thread_id: int, body: str, attachment: Attachment | None,
                 upload_dir: str | Path) -> Message:
    body = clean_body(body)

    def action(stored):
        return add_message(family_thread(household, thread_id), user, body, stored, from_staff=False)
    return _write(upload_dir, attachment, action)


def read_as_family(household: Household, thread_id: int) -> tuple[Thread, list[Message]]:
    """Open a thread: its messages in order, and everything in it is now read by the family."""
    with write_transaction():
        thread = family_thread(household, thread_id)
        if thread.household_read_upto < thread.last_staff_message:
            thread.household_read_upto, thread.household_read_at = thread.last_staff_message, clock.local_now()
            Thread.update(household_read_upto=thread.household_read_upto, household_read_at=thread.household_read_at
                          ).where(Thread.id == thread.id).execute()
    return thread, messages_of(thread)


def messages_of(thread: Thread) -> list[Message]:
    return list(Message.select(Message, User).join(User, JOIN.LEFT_OUTER, on=(Message.author == User.id),
                                                   attr="author")
                .where(Message.thread == thread.id).order_by(Message.id))


def family_unread(thread: Thread) -> bool:
    return thread.last_staff_message > thread.household_read_upto


def family_threads(household: Household) -> list[Thread]:
    """The household's threads, the most recent first."""
    return list(Thread.select(Thread, Service).join(Service).where(Thread.household == household.id)
                .order_by(Thread.last_message_at.desc(), Thread.id.desc()))


def unread_count(household: Household) -> int:
    """How many of the household's threads have a reply it has not read (for the dashboard): one query."""
    return _unread_threads.scalar(household.id)


@prepared
def _unread_threads(household):
    return Thread.select(fn.COUNT(Thread.id)).where((Thread.household == household)
                                                    & (Thread.last_staff_message > Thread.household_read_upto))


def attachment_for_family(household: Household, thread_id: int, message_id: int, upload_dir: str | Path):
    """(message, path) of an attachment in one of this household's threads, or NotFound."""
    return _attachment(family_thread(household, thread_id), message_id, upload_dir)


def _attachment(thread: Thread, message_id: int, upload_dir: str | Path):
    message = Message.get_or_none((Message.id == message_id) & (Message.thread == thread.id))
    if message is None or not message.attachment_stored:
        raise NotFound("Pièce jointe introuvable.")
    path = Path(upload_dir) / FOLDER / message.attachment_stored
    if not path.is_file():
        raise NotFound("Le fichier n'est plus disponible.")
    return message, path


# --- Staff ------------------------------------------------------------------------------------------


def staff_thread(user: User, thread_id: int) -> Thread:
    """A thread of a service this staff member reads, or NotFound (another service's inbox is closed)."""
    thread = (Thread.select(Thread, Service, Household).join(Service).switch(Thread).join(Household)
              .where(Thread.id == thread_id).first())
    if thread is None or not may_read(user, thread.service):
        raise NotFound("Conversation introuvable.")
    return thread


def read_as_staff(user: User, thread_id: int) -> tuple[Thread, list[Message]]:
    """Open a thread at the desk: its messages in order; the family's messages are now read by the service."""
    with write_transaction():
        thread = staff_thread(user, thread_id)
        if thread.staff_read_upto < thread.last_family_message:
            thread.staff_read_upto, thread.staff_read_at = thread.last_family_message, clock.local_now()
            Thread.update(staff_read_upto=thread.staff_read_upto, staff_read_at=thread.staff_read_at
                          ).where(Thread.id == thread.id).execute()
    return thread, messages_of(thread)


def staff_unread(thread: Thread) -> bool:
    return thread.last_family_message > thread.staff_read_upto


def staff_reply(user: User, thread_id: int, body: str, attachment: Attachment | None, upload_dir: str | Path,
                family_link) -> Message:
    """The service answers: the family gets « Nouvelle réponse du service … » by e-mail, with the link only."""
    body = clean_body(body)

    def action(stored):
        thread = staff_thread(user, thread_id)
        message = add_message(thread, user, body, stored, from_staff=True)
        tell_family(thread, family_link(thread.id))
        audit.record(user, "réponse à un message", thread, f"{thread.service.name} – conversation n° {thread.id}")
        return message
    return _write(upload_dir, attachment, action)


def tell_family(thread: Thread, link: str) -> None:
    """E-mail the household's parents that the service wrote; never the text (it may be health data)."""
    service = thread.service.name
    # « Réponses de la mairie » can be switched off (/mon-compte/courriels): the unread marker stays.
    for address in mail_preferences.addresses_wanting([thread.household_id], mail_preferences.REPLIES).get(
            thread.household_id, []):
        outbox.send(address, f"Nouvelle réponse du service {service}",
                    f"Bonjour,\n\nLe service {service} vous a répondu sur le portail famille.\n"
                    f"Lisez sa réponse (connexion requise) : {link}\n\n"
                    "Pour protéger vos informations, le contenu des messages n'est jamais envoyé par e-mail.\n")


def assign(user: User, thread_id: int, assignee_id: int | None) -> Thread:
    """Give a thread to a colleague who reads that service (or to nobody)."""
    with write_transaction():
        thread = staff_thread(user, thread_id)
        assignee = None
        if assignee_id:
            assignee = next((u for u in staff_who_read(thread.service) if u.id == assignee_id), None)
            if assignee is None:
                raise MessageRefused("Choisissez un membre de l'équipe qui lit ce service.", "assignee")
        thread.assigned_to, thread.updated_at = assignee, clock.local_now()
        thread.save()
        audit.record(user, "message attribué", thread,
                     f"conversation n° {thread.id} → {assignee.display_name if assignee else 'personne'}")
    return thread


def set_done(user: User, thread_id: int, done: bool) -> Thread:
    """« Marquer comme traité » or « Rouvrir »."""
    with write_transaction():
        thread = staff_thread(user, thread_id)
        thread.status, thread.updated_at = ("done" if done else "open"), clock.local_now()
        thread.save()
        audit.record(user, "message traité" if done else "message rouvert", thread, f"conversation n° {thread.id}")
    return thread


def attachment_for_staff(user: User, thread_id: int, message_id: int, upload_dir: str | Path):
    """(message, path) for staff who read the thread's service; the read is journaled (it may be a medical
    certificate or a photo of a sick child)."""
    with write_transaction():
        thread = staff_thread(user, thread_id)
        message, path = _attachment(thread, message_id, upload_dir)
        audit.record(user, "lecture d'une pièce jointe de message", thread,
                     f"{thread.service.name} – conversation n° {thread.id} – {message.attachment_name}")
    return message, path


@dataclass
class InboxFilter:
    service_id: int | None = None
    status: str | None = None  # open, done or None (both)
    mine: bool = False


def inbox(user: User, chosen: InboxFilter, limit: int = 200) -> list[Thread]:
    """Threads of the services this staff member reads, filtered, the most recent first."""
    ids = [s.id for s in services_for(user)]
    if chosen.service_id:
        ids = [i for i in ids if i == chosen.service_id]
    query = (Thread.select(Thread, Service, Household).join(Service).switch(Thread).join(Household)
             .where(Thread.service.in_(ids or [0])))
    if chosen.status in STATUS_LABELS:
        query = query.where(Thread.status == chosen.status)
    if chosen.mine:
        query = query.where(Thread.assigned_to == user.id)
    return list(query.order_by(Thread.last_message_at.desc(), Thread.id.desc()).limit(limit))


def staff_counts(user: User) -> tuple[int, int]:
    """(threads with a family message unread, threads « à traiter ») in the inboxes this member reads."""
    ids = [s.id for s in services_for(user)] or [0]
    row = (Thread.select(fn.SUM((Thread.last_family_message > Thread.staff_read_upto).cast("integer")),
                         fn.SUM((Thread.status == "open").cast("integer")))
           .where(Thread.service.in_(ids)).tuples().first())
    return int((row or (0, 0))[0] or 0), int((row or (0, 0))[1] or 0)


def household_threads(user: User, household: Household) -> list[Thread]:
    """A family's threads on its staff page, among the services this member reads."""
    ids = [s.id for s in services_for(user)] or [0]
    return list(Thread.select(Thread, Service).join(Service)
                .where((Thread.household == household.id) & Thread.service.in_(ids))
                .order_by(Thread.last_message_at.desc(), Thread.id.desc()))
