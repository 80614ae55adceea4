"""The mail outbox and its worker, against a real local SMTP server (aiosmtpd): mail is written with
the change it reports, delivered after commit with retries, never lost and never sent twice."""
from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

import jobs
from models import Booking, Household, Order, OutgoingMail, User
from services.booking import basket
from services.core import clock, outbox
from services.core.transactions import write_transaction
from tests.conftest import Auth, post_form
from tests.test_accounts import GOOD as GOOD_PASSWORD


class Recorder:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_port(app):
    """A port where nothing listens yet; mail goes there over SMTP (1 s timeout)."""
    port = _free_port()
    outbox.configure(outbox.MailSettings(server="127.0.0.1", port=port, timeout=1.0,
                                     outbox=Path(app.config["OUTBOX_DIR"])))
    yield port
    outbox.configure(outbox.MailSettings(outbox=Path(app.config["OUTBOX_DIR"])))


def _start_smtp(port: int) -> tuple[Controller, Recorder]:
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, recorder


def _subjects(recorder: Recorder) -> list[str]:
    from email import message_from_bytes, policy
    return [str(message_from_bytes(envelope.content, policy=policy.default)["Subject"])
            for envelope in recorder.messages]


def _signup(client, email: str):
    return post_form(client, "/creer-mon-compte", {"email": email, "password": GOOD_PASSWORD},
                     token_page="/creer-mon-compte")


def test_mail_goes_over_smtp_once_with_its_message_id(client, demo, smtp_port):
    controller, recorder = _start_smtp(smtp_port)
    try:
        assert _signup(client, "nouveau@example.fr").status_code == 302
        row = OutgoingMail.get(OutgoingMail.to == "nouveau@example.fr")
        assert row.status == "pending"  # the request wrote it; it did not send it
        assert outbox.deliver_due().sent == 1
        assert outbox.deliver_due().sent == 0
    finally:
        controller.stop()
    assert len(recorder.messages) == 1
    envelope = recorder.messages[0]
    assert envelope.rcpt_tos == ["nouveau@example.fr"]
    assert b"Voici votre code" in envelope.content and row.message_id.encode() in envelope.content
    row = OutgoingMail.get_by_id(row.id)
    assert row.status == "sent" and row.sent_at is not None


def test_requests_wake_the_worker_after_commit(client, demo):
    jobs.huey.flush()
    _signup(client, "reveil@example.fr")
    assert [task.name for task in jobs.huey.pending()] == ["deliver_mail"]
    client.get("/contact")  # a request without mail queues nothing
    assert len(jobs.huey.pending()) == 1
    jobs.huey.flush()


def test_smtp_down_nothing_lost_nothing_rolled_back_then_sent_once(app, client, demo, smtp_port, freeze):
    freeze("2026-11-19T17:55")
    # A parent signs up, another validates a basket: SMTP is down, every request succeeds.
    assert _signup(client, "nouveau@example.fr").status_code == 302
    assert User.get(User.email == "nouveau@example.fr").password_hash
    martin = Auth(app.test_client())
    martin.login()
    household = Household.get_by_id(demo["households"]["martin"].id)
    lea, repas = demo["children"]["lea"], demo["units"]["repas_phare"]
    day = clock.local_now().date().replace(day=30)
    Booking.delete().where((Booking.child == lea.id) & (Booking.unit == repas.id) & (Booking.date == day)).execute()
    basket.set_cell(household, lea.id, repas.id, day, True)
    response = post_form(martin.client, "/panier/valider", token_page="/panier")
    assert response.status_code in (302, 303), response.get_data(as_text=True)
    order = Order.select().where(Order.household == household.id).order_by(Order.id.desc()).get()
    waiting = {row.subject for row in OutgoingMail.select().where(OutgoingMail.status == "pending")}
    assert "Code d'activation de votre compte" in waiting and f"Commande n° {order.number} enregistrée" in waiting
    queued = OutgoingMail.select().where(OutgoingMail.status == "pending").count()

    # The worker tries: every mail fails, is kept, and waits a minute before the next attempt.
    report = outbox.deliver_due()
    assert report.failed == queued and report.sent == 0
    assert all(row.attempts == 1 and row.status == "pending" and row.last_error
               for row in OutgoingMail.select().where(OutgoingMail.subject.in_(waiting)))
    assert outbox.deliver_due().failed == 0  # not due yet

    # SMTP is back: a minute later everything goes, once.
    controller, recorder = _start_smtp(smtp_port)
    try:
        freeze("2026-11-19T17:57")
        assert outbox.deliver_due().sent == queued
        freeze("2026-11-19T18:30")
        assert outbox.deliver_due().sent == 0
    finally:
        controller.stop()
    assert len(recorder.messages) == queued
    assert sorted(_subjects(recorder)) == sorted(row.subject for row in OutgoingMail.select()
                                                   .where(OutgoingMail.sent_at.is_null(False)))
    assert Order.get_by_id(order.id).number == order.number


def test_smtp_that_never_answers_is_a_recorded_failure(app, demo, smtp_port):
    silent = socket.socket()
    silent.bind(("127.0.0.1", smtp_port))
    silent.listen()  # accepts connections, never says hello
    try:
        outbox.send("famille.martin@example.fr", "Essai", "Bonjour")
        report = outbox.deliver_due()
    finally:
        silent.close()
    assert report.failed == 1
    row = OutgoingMail.get(OutgoingMail.subject == "Essai")
    assert row.status == "pending" and row.attempts == 1 and "timed out" in row.last_error


def test_a_rolled_back_change_sends_nothing(demo):
    with pytest.raises(RuntimeError), write_transaction():
        outbox.send("famille.martin@example.fr", "Annulé", "Ne doit pas partir")
        raise RuntimeError("the change fails")
    assert not OutgoingMail.select().where(OutgoingMail.subject == "Annulé").exists()


def test_two_workers_never_send_a_mail_twice(app, demo, smtp_port):
    for number in range(20):
        outbox.send(f"parent{number}@example.fr", f"Message {number}", "Bonjour")
    controller, recorder = _start_smtp(smtp_port)
    errors: list[Exception] = []

    def work():
        try:
            with app.app_context():
                outbox.deliver_due()
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            from models import db
            db.close()

    try:
        threads = [threading.Thread(target=work) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        controller.stop()
    assert not errors
    assert sorted(_subjects(recorder)) == sorted(f"Message {n}" for n in range(20))
    assert OutgoingMail.select().where(OutgoingMail.subject.startswith("Message ")
                                       & (OutgoingMail.status == "sent")).count() == 20


def test_a_worker_killed_while_sending_leaves_the_mail_to_the_next_one(demo, freeze):
    freeze("2026-11-19T10:00")
    row = outbox.send("famille.martin@example.fr", "Interrompu", "Bonjour")
    OutgoingMail.update(status="sending", claimed_at=clock.local_now()).where(OutgoingMail.id == row.id).execute()
    assert outbox.deliver_due().sent == 0  # another worker may still be sending it
    freeze("2026-11-19T10:11")
    assert outbox.deliver_due().sent == 1
    assert OutgoingMail.get_by_id(row.id).status == "sent"


def test_gives_up_after_ten_attempts_and_staff_can_resend(app, client, demo, smtp_port, freeze):
    freeze("2026-11-19T10:00")
    row = outbox.send("famille.martin@example.fr", "Relance", "Bonjour")
    OutgoingMail.update(attempts=outbox.MAX_ATTEMPTS - 1).where(OutgoingMail.id == row.id).execute()
    assert outbox.deliver_due().failed == 1
    row = OutgoingMail.get_by_id(row.id)
    assert row.status == "failed" and row.attempts == outbox.MAX_ATTEMPTS

    Auth(client).login("agent@example.fr")
    page = client.get("/gestion/courriels/?statut=echec").get_data(as_text=True)
    assert "Relance" in page and "Échec 10 fois (abandonné)" in page
    response = post_form(client, f"/gestion/courriels/{row.id}/renvoyer", token_page="/gestion/courriels/")
    assert response.status_code == 302
    assert OutgoingMail.get_by_id(row.id).status == "pending"
    controller, recorder = _start_smtp(smtp_port)
    try:
        assert outbox.deliver_due().sent == 1
    finally:
        controller.stop()
    assert _subjects(recorder) == ["Relance"]
    assert "Envoyé" in client.get("/gestion/courriels/").get_data(as_text=True)


@pytest.mark.parametrize("email, status", [("famille.martin@example.fr", 404), ("cuisine@example.fr", 403),
                                           ("regisseur@example.fr", 403), ("admin@example.fr", 200)])
def test_mail_log_is_for_agents_and_admins(client, demo, email, status):
    Auth(client).login(email)
    assert client.get("/gestion/courriels/").status_code == status


def test_resend_of_an_unknown_mail_is_a_404(client, demo):
    Auth(client).login("agent@example.fr")
    assert post_form(client, "/gestion/courriels/999999/renvoyer", token_page="/gestion/courriels/").status_code == 404
