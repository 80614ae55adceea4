"""The worker's queue: SQLite by default, Redis when REDIS_URL is set; tasks run through the real
queue (enqueued, dequeued, executed) as the consumer runs them."""
from __future__ import annotations

import os
import socket

import pytest
from huey import RedisHuey, SqliteHuey

import jobs
from models import OutgoingMail
from services.core import outbox

REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


def _deliver_through(queue) -> None:
    """Enqueue the mail task on this queue, then dequeue and run it as the consumer does."""
    task_on_queue = queue.task(name="deliver_mail")(jobs.deliver_mail.func)
    queue.flush()
    task_on_queue()
    task = queue.dequeue()
    assert task is not None and task.name == "deliver_mail"
    queue.execute(task)


def test_sqlite_queue_by_default(app, demo, tmp_path, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("PORTAIL_QUEUE", raising=False)
    monkeypatch.setenv("HUEY_DB", str(tmp_path / "huey.db"))
    queue = jobs._make_huey()
    assert isinstance(queue, SqliteHuey)
    row = outbox.send("famille.martin@example.fr", "Par la file SQLite", "Bonjour")
    _deliver_through(queue)
    assert OutgoingMail.get_by_id(row.id).status == "sent"


def test_redis_queue_when_redis_url_is_set(app, demo, monkeypatch):
    if not _redis_up():
        if os.environ.get("CI"):
            pytest.fail("Redis ne répond pas sur 127.0.0.1:6379")
        pytest.skip("Redis absent (127.0.0.1:6379)")
    monkeypatch.delenv("PORTAIL_QUEUE", raising=False)
    monkeypatch.setenv("REDIS_URL", REDIS)
    queue = jobs._make_huey()
    assert isinstance(queue, RedisHuey)
    row = outbox.send("famille.martin@example.fr", "Par Redis", "Bonjour")
    _deliver_through(queue)
    assert OutgoingMail.get_by_id(row.id).status == "sent"
    queue.flush()


def test_wake_ups_coalesce_so_an_invoicing_run_is_not_queued_behind_them(app, demo):
    # Each request that writes mail wakes the worker: under load with a slow SMTP, 1,389 wake-ups queued
    # one by one kept « Émettre »'s run waiting more than 5 minutes (bench/crash.py). At most one waits.
    jobs.huey.flush()
    for number in range(20):
        outbox.send(f"parent{number}@example.fr", "Réveil", "Bonjour")
        jobs.wake_worker()
    jobs.run_invoicing(1)
    assert [task.name for task in jobs.huey.pending()] == ["deliver_mail", "run_invoicing"]
    jobs.huey.execute(jobs.huey.dequeue())  # the one wake-up delivers the 20 mails
    assert OutgoingMail.select().where((OutgoingMail.subject == "Réveil") & (OutgoingMail.status == "sent")).count() == 20
    outbox.send("parent@example.fr", "Après", "Bonjour")  # mail written once it started wakes the worker again
    jobs.wake_worker()
    assert [task.name for task in jobs.huey.pending()] == ["run_invoicing", "deliver_mail"]
    jobs.huey.flush()
