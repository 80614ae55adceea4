"""Outgoing e-mail: SMTP when a server is configured, otherwise .eml files in an outbox folder."""
from __future__ import annotations

import smtplib
import time
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from services import clock


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


settings = MailSettings()


def configure(new_settings: MailSettings) -> None:
    """Replace the mail settings (called by create_app)."""
    global settings
    settings = new_settings


def build_message(to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="portail-famille.local")
    message.set_content(body)
    return message


def send(to: str, subject: str, body: str) -> EmailMessage:
    """Send one plain-text message in French; never raises for the outbox path."""
    message = build_message(to, subject, body)
    if settings.server:
        smtp_class = smtplib.SMTP_SSL if settings.use_ssl else smtplib.SMTP
        with smtp_class(settings.server, settings.port, timeout=15) as smtp:
            if settings.use_tls and not settings.use_ssl:
                smtp.starttls()
            if settings.username:
                smtp.login(settings.username, settings.password)
            smtp.send_message(message)
    else:
        write_to_outbox(message)
    return message


def write_to_outbox(message: EmailMessage) -> Path:
    """Store a message as an .eml file, named so that a listing sorts by time."""
    settings.outbox.mkdir(parents=True, exist_ok=True)
    stamp = clock.now().strftime("%Y%m%d-%H%M%S")
    # The real nanosecond counter keeps messages in sending order even under a frozen clock.
    path = settings.outbox / f"{stamp}-{time.time_ns()}-{uuid.uuid4().hex[:6]}.eml"
    path.write_bytes(bytes(message))
    return path


def outbox_messages() -> list[dict]:
    """The outbox, newest first, as dicts (file name, to, subject, date, body)."""
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
            "to": parsed["To"],
            "subject": parsed["Subject"],
            "date": parsed["Date"],
            "body": body.get_content() if body else "",
        })
    return messages
