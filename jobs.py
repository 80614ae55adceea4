"""The background worker: one huey instance, its tasks and periodic jobs. Each task calls a service.

Storage: huey's SQLite file in the instance folder by default (nothing else to install), Redis when
REDIS_URL is set (several app servers, as many workers as needed). `flask --app app worker` runs it.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import click
from flask import current_app
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab

from models import db
from services.billing import invoicing_runs, online_payments
from services.booking import basket, calendar, deadline_reminders, orders, school_year
from services.communication import news
from services.core import clock, events, outbox, statistics
from services.family import retention

log = logging.getLogger("portail.jobs")


def _make_huey():
    """The queue: memory for the test suite (tasks run by hand), Redis if REDIS_URL, else a SQLite file."""
    if os.environ.get("PORTAIL_QUEUE") == "memory":
        return MemoryHuey("portail", utc=False)
    if os.environ.get("REDIS_URL"):
        return RedisHuey("portail", url=os.environ["REDIS_URL"], utc=False)
    instance = Path(os.environ.get("INSTANCE_PATH") or Path(__file__).parent / "instance")
    instance.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("portail", filename=str(os.environ.get("HUEY_DB") or instance / "huey.db"), utc=False)


huey = _make_huey()


@huey.pre_execute()
def _connect(task) -> None:
    db.connect(reuse_if_open=True)


@huey.post_execute()
def _close(task, task_value, exc) -> None:
    if outbox.take_queued() and task.name != "deliver_mail":
        wake_worker()  # mail written by this task (an expiry, a payment) leaves now, not in a minute
    if not db.is_closed():
        db.close()


# --- Tasks ------------------------------------------------------------------------------------


WAKE_UP_QUEUED = "deliver-mail-queued"  # set while a wake-up waits in the queue: later ones are not queued


@huey.task()
def deliver_mail() -> str:
    """Deliver the outbox now (queued by the web app after a request that wrote mail)."""
    huey.delete(WAKE_UP_QUEUED)  # mail written from now on wakes the worker again
    report = outbox.deliver_due()
    return f"{report.sent} envoyé(s), {report.failed} échec(s)"


@huey.task()
def run_invoicing(run_id: int) -> str:
    """An invoicing run queued by « Émettre » or « Reprendre »: household by household, resumable."""
    run = invoicing_runs.execute_run(run_id)
    return f"{run.households_done} / {run.households_total} foyers, {run.invoices_issued} facture(s) : {run.status}"


def queue_invoicing_run(run_id: int) -> bool:
    """Hand a queued run to the worker; False if the queue is unreachable (the run waits, « Reprendre » later)."""
    try:
        run_invoicing(run_id)
    except Exception:  # noqa: BLE001 - the run stays queued and shows as waiting for the worker
        log.warning("file de tâches injoignable : la facturation %s attend", run_id, exc_info=True)
        return False
    return True


@huey.periodic_task(crontab(minute="*"))
def deliver_mail_periodically() -> str:
    """Every minute: retries whose time has come, and anything a lost wake-up left behind."""
    return deliver_mail.call_local()


@huey.periodic_task(crontab(minute="*"))
def expire_orders_and_baskets() -> str:
    """Every minute: prepaid orders unpaid after an hour, then baskets untouched for 7 days."""
    expired = orders.expire_unpaid_orders()
    emptied = basket.expire_stale_baskets()
    return f"{expired} commande(s) expirée(s), {emptied} panier(s) vidé(s)"


@huey.periodic_task(crontab(minute="*/5"))
def reconcile_payments() -> str:
    """Every 5 minutes: card payments still pending after 5 minutes are asked to the bank (settled,
    or abandoned once PayFiP's session is long over); paid orders whose confirmation failed are confirmed."""
    return str(online_payments.reconcile_pending())


@huey.periodic_task(crontab(minute="15", hour="3"))
def refresh_holidays() -> str:
    """Every night: public and school holidays of this year and the next ones (from the packages)."""
    year = clock.local_now().year
    public, school = calendar.refresh_holidays(range(year - 1, year + 3))
    return f"{public} jours fériés, {school} périodes de vacances"


@huey.periodic_task(crontab(minute="45", hour="3"))
def apply_retention() -> str:
    """Every night: closed households whose retention period is over are anonymised (RGPD)."""
    return str(retention.apply_retention())


@huey.periodic_task(crontab(minute="50", hour="3"))
def refresh_statistics() -> str:
    """Every night: the query planner's statistics (services/core/statistics.py)."""
    return statistics.refresh()


@huey.periodic_task(crontab(minute="30", hour="3"))
def start_school_year() -> str:
    """Every night: once a school year has started, the classes confirmed at réinscription apply."""
    return f"{school_year.start_school_year()} enfant(s) changent de classe"


@huey.periodic_task(crontab(minute="*/15"))
def send_deadline_reminders() -> str:
    """Every 15 minutes: households with nothing booked for a week whose deadline is in the next 24 h are
    reminded once (Commune.reminders_enabled and the parents' opt-out honoured)."""
    return str(deadline_reminders.send_deadline_reminders())


@huey.periodic_task(crontab(minute="*/5"))
def mail_news() -> str:
    """Every 5 minutes: news items that went live are e-mailed once to their audience (opt-out honoured)."""
    return f"{news.mail_published_news(base_url=PUBLIC['url'])} actualité(s) envoyée(s)"


# The site's public address for links in mail written by the worker (its threads have no app context).
PUBLIC = {"url": os.environ.get("PUBLIC_URL", "")}


def wake_worker() -> None:
    """Ask the worker to deliver mail now; if the queue is unreachable, the periodic run will."""
    try:
        # One waiting wake-up delivers everything due: hundreds of them would hold other tasks back.
        if huey.put_if_empty(WAKE_UP_QUEUED, 1):
            deliver_mail()
    except Exception:  # noqa: BLE001 - a lost wake-up only delays mail by a minute
        log.warning("file de tâches injoignable : les courriels partiront au prochain passage", exc_info=True)


@click.command("worker")
@click.option("--workers", default=2, show_default=True, help="Nombre de fils d'exécution.")
def worker_command(workers: int) -> None:
    """Run the background worker (mail delivery, expiry, payment checks, invoicing runs)."""
    # huey's own lines (task started, finished) in the same format as the portal's (LOG_FORMAT).
    logging.basicConfig(level=logging.INFO, handlers=[events.stream_handler(current_app.config["LOG_FORMAT"])])
    PUBLIC["url"] = current_app.config.get("PUBLIC_URL") or PUBLIC["url"]
    click.echo(f"Travailleur démarré ({type(huey).__name__}, {workers} fils) le "
               f"{clock.local_now():%d/%m/%Y à %H:%M}.")
    with db.connection_context():
        warning = statistics.autovacuum_warning()
    if warning:
        click.echo(warning, err=True)
    huey.create_consumer(workers=workers, worker_type="thread", periodic=True).run()
