"""Outgoing e-mail through a transactional outbox: `send` writes a row, the worker delivers it.

`send` never talks to SMTP: it writes an OutgoingMail row in the caller's transaction, so a
rolled-back change sends nothing and a committed one always has its mail. `deliver_due` (run by the
worker, see jobs.py) delivers the rows after commit, over SMTP when a server is configured or as
.eml files in the outbox folder otherwise, with retries and a growing delay between attempts.
"""
from __future__ import annotations

import datetime as dt
import smtplib
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from peewee import fn

from models import Commune, OutgoingMail
from services.core import clock, events
from services.core.errors import NotFound
from services.core.transactions import write_transaction

MAX_ATTEMPTS = 10  # about 17 hours of retries (1, 2, 4 … 240 minutes) before giving up
STALE_CLAIM = dt.timedelta(minutes=10)  # a worker killed while sending: the row is tried again
STATUS_LABELS = {"pending": "En attente", "sending": "En cours d'envoi", "sent": "Envoyé", "failed": "Échec"}


@dataclass
class MailSettings:
    """Where mail goes; set once by the app factory."""

    server: str = ""
    port: int = 25
    username: str = ""
    password: str = ""
    use_tls: bool = False
    use_ssl: bool = False
    sender: str = "Portail Famille <nepasrepondre@example.fr>"
    outbox: Path = field(default_factory=lambda: Path("instance/outbox"))
    timeout: float = 15.0


settings = MailSettings()
_queued = threading.local()  # whether this thread wrote mail since the last take_queued()


def configure(new_settings: MailSettings) -> None:
    """Replace the mail settings (called by create_app)."""
    global settings
    settings = new_settings


def send(to: str, subject: str, body: str) -> OutgoingMail:
    """Queue one plain-text message in French, in the caller's transaction (delivered after commit)."""
    now = clock.local_now()
    row = OutgoingMail.create(to=to, subject=subject[:500], body=body, created_at=now, next_attempt_at=now,
                              message_id=make_msgid(idstring=uuid.uuid4().hex[:12], domain="portail-famille.local"))
    _queued.flag = True
    return row


def send_many(messages: list[tuple[str, str, str]]) -> int:
    """Queue several (to, subject, body) messages in one insert, in the caller's transaction, in
    order (as many send() calls would); returns how many."""
    now = clock.local_now()
    rows = [dict(to=to, subject=subject[:500], body=body, created_at=now, next_attempt_at=now,
                 message_id=make_msgid(idstring=uuid.uuid4().hex[:12], domain="portail-famille.local"))
            for to, subject, body in messages]
    for start in range(0, len(rows), 500):
        OutgoingMail.insert_many(rows[start:start + 500]).execute()
    if rows:
        _queued.flag = True
    return len(rows)


def take_queued() -> bool:
    """Whether mail was queued on this thread since the last call (the app then wakes the worker)."""
    flag = getattr(_queued, "flag", False)
    _queued.flag = False
    return flag


# --- Delivery (the worker) ---------------------------------------------------------------------


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0


def retry_delay(attempts: int) -> dt.timedelta:
    """Wait before the next attempt after `attempts` failures: 1, 2, 4 … minutes, at most 4 hours."""
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), 240))


def deliver_due(now: dt.datetime | None = None, limit: int = 200) -> DeliveryReport:
    """Deliver every mail whose time has come; each is claimed first, so two workers never send it twice."""
    now = clock.to_local_naive(now or clock.now())
    report = DeliveryReport()
    with write_transaction():  # a worker killed mid-send left its claim: release it
        (OutgoingMail.update(status="pending", claimed_at=None)
         .where((OutgoingMail.status == "sending") & (OutgoingMail.claimed_at < now - STALE_CLAIM)).execute())
    # A first attempt is always due (the web and the worker may not share a frozen test clock);
    # retries wait for their time.
    due = list(OutgoingMail.select(OutgoingMail.id)
               .where((OutgoingMail.status == "pending")
                      & ((OutgoingMail.attempts == 0) | (OutgoingMail.next_attempt_at <= now)))
               .order_by(OutgoingMail.next_attempt_at, OutgoingMail.id).limit(limit))
    for row in due:
        with write_transaction():
            claimed = (OutgoingMail.update(status="sending", claimed_at=now)
                       .where((OutgoingMail.id == row.id) & (OutgoingMail.status == "pending")).execute())
        if not claimed:
            continue  # another worker took it
        item = OutgoingMail.get_by_id(row.id)
        try:
            transmit(build_message(item))  # outside any transaction: SMTP may be slow
        except Exception as error:  # noqa: BLE001 - whatever went wrong is recorded; the row must not stay claimed
            _record_failure(item, error, now)
            report.failed += 1
        else:
            with write_transaction():
                OutgoingMail.update(status="sent", sent_at=clock.local_now(), claimed_at=None,
                                    attempts=OutgoingMail.attempts + 1).where(OutgoingMail.id == item.id).execute()
            report.sent += 1
    return report


def _record_failure(item: OutgoingMail, error: Exception, now: dt.datetime) -> None:
    attempts = item.attempts + 1
    gave_up = attempts >= MAX_ATTEMPTS
    text = f"{type(error).__name__}: {error}"[:1000]
    events.emit("mail_failed", mail=item.id, attempts=attempts, gave_up=gave_up, error=type(error).__name__)
    with write_transaction():
        OutgoingMail.update(status="failed" if gave_up else "pending", attempts=attempts, last_error=text,
                            claimed_at=None, next_attempt_at=now + retry_delay(attempts)).where(
            OutgoingMail.id == item.id).execute()


def build_message(item: OutgoingMail) -> EmailMessage:
    """The e-mail of an outbox row, with the Message-ID it was given when queued."""
    message = EmailMessage()
    # The sender the commune entered in its settings, else the environment's (MAIL_SENDER).
    message["From"] = Commune.select(Commune.mail_sender).order_by(Commune.id).scalar() or settings.sender
    message["To"] = item.to
    message["Subject"] = item.subject
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = item.message_id
    message.set_content(item.body)
    return message


def transmit(message: EmailMessage) -> None:
    """Hand one message to the SMTP server, or write it to the outbox folder when none is configured."""
    if not settings.server:
        write_to_outbox(message)
        return
    smtp_class = smtplib.SMTP_SSL if settings.use_ssl else smtplib.SMTP
    try:
        with smtp_class(settings.server, settings.port, timeout=settings.timeout) as smtp:
            if settings.use_tls and not settings.use_ssl:
                smtp.starttls()
            if settings.username:
                smtp.login(settings.username, settings.password)
            smtp.send_message(message)
    except socket.timeout as error:
        raise smtplib.SMTPException(f"le serveur SMTP ne répond pas ({settings.timeout:g} s)") from error


def write_to_outbox(message: EmailMessage) -> Path:
    """Store a message as an .eml file, named so that a listing sorts by time."""
    settings.outbox.mkdir(parents=True, exist_ok=True)
    stamp = clock.now().strftime("%Y%m%d-%H%M%S")
    # The real nanosecond counter keeps messages in sending order even under a frozen clock.
    path = settings.outbox / f"{stamp}-{time.time_ns()}-{uuid.uuid4().hex[:6]}.eml"
    path.write_bytes(bytes(message))
    return path


# --- Staff: the mail log -----------------------------------------------------------------------


def status_label(item: OutgoingMail) -> str:
    """« En attente », « Envoyé », « Échec 3 fois (nouvel essai à 10:32) », « Échec (abandonné) »."""
    if item.status == "pending" and item.attempts:
        return f"Échec {item.attempts} fois (nouvel essai à {item.next_attempt_at:%H:%M})"
    if item.status == "failed":
        return f"Échec {item.attempts} fois (abandonné)"
    return STATUS_LABELS.get(item.status, item.status)


def recent(status: str = "", limit: int = 200) -> list[OutgoingMail]:
    """The newest mails, optionally of one status (« echec » = pending after a failure, or failed)."""
    query = OutgoingMail.select().order_by(OutgoingMail.id.desc()).limit(limit)
    if status == "echec":
        query = query.where((OutgoingMail.status == "failed")
                            | ((OutgoingMail.status == "pending") & (OutgoingMail.attempts > 0)))
    elif status in STATUS_LABELS:
        query = query.where(OutgoingMail.status == status)
    return list(query)


PER_PAGE = 50


@dataclass
class MailPage:
    mails: list[OutgoingMail]
    total: int
    page: int
    pages: int


def search(status: str = "", address: str = "", page: int = 1) -> MailPage:
    """The mail log: newest first, PER_PAGE at a time (two queries), by status (as recent()) and by a part
    of the recipient's address (case-insensitive)."""
    query = OutgoingMail.select()
    if status == "echec":
        query = query.where((OutgoingMail.status == "failed")
                            | ((OutgoingMail.status == "pending") & (OutgoingMail.attempts > 0)))
    elif status in STATUS_LABELS:
        query = query.where(OutgoingMail.status == status)
    if address.strip():
        query = query.where(fn.LOWER(OutgoingMail.to).contains(address.strip().lower()))
    total = query.count()
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(page, 1), pages)
    return MailPage(list(query.order_by(OutgoingMail.id.desc()).paginate(page, PER_PAGE)), total, page, pages)


def counts() -> dict[str, int]:
    """How many mails wait, failed at least once, or were given up."""
    waiting = OutgoingMail.select().where(OutgoingMail.status.in_(("pending", "sending"))).count()
    failing = OutgoingMail.select().where((OutgoingMail.status == "failed")
                                          | ((OutgoingMail.status == "pending") & (OutgoingMail.attempts > 0))).count()
    return {"waiting": waiting, "failing": failing}


def resend(mail_id: int) -> OutgoingMail:
    """Staff « Renvoyer »: a failed or sent mail is queued again now (same Message-ID)."""
    with write_transaction():
        item = OutgoingMail.get_or_none(OutgoingMail.id == mail_id)
        if item is None:
            raise NotFound("Ce courriel n'existe pas.")
        item.status, item.next_attempt_at, item.claimed_at = "pending", clock.local_now(), None
        item.save()
    _queued.flag = True
    return item


def outbox_messages() -> list[dict]:
    """The outbox folder, newest first, as dicts (file name, from, to, subject, date, body)."""
    from email import policy
    from email.parser import BytesParser

    if not settings.outbox.exists():
        return []
    messages = []
    for path in sorted(settings.outbox.glob("*.eml"), reverse=True):
        parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        body = parsed.get_body(preferencelist=("plain",))
        messages.append({
            "name": path.name,
            "from": parsed["From"],
            "to": parsed["To"],
            "subject": parsed["Subject"],
            "date": parsed["Date"],
            "body": body.get_content() if body else "",
        })
    return messages
