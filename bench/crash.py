"""Crash and restart (issue 9): gunicorn and the huey worker on SQLite, 10 parents validating baskets,
mail to a slow local SMTP server (aiosmtpd); SIGKILL of gunicorn workers and then of the whole of
gunicorn during validations, and of the worker in the middle of an SMTP delivery; each is restarted.
Then: nothing half-written, numbering gapless, every mail sent (duplicates counted), no booking
without its order line. A script, not a test: it prints what happened and exits 1 on a failure.

    .venv/bin/python bench/crash.py [--clients 10] [--households 60] [--smtp-delay 0.5]
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from email import message_from_bytes, policy
from pathlib import Path

from aiosmtpd.controller import Controller

import harness
from harness import WEEKS, Browser, Finished, Servers, Unexpected, pick_cells


class SlowSmtp:
    """An SMTP server that waits before its « 250 »: a kill then cuts a delivery it already accepted."""

    def __init__(self, delay: float):
        self.delay = delay
        self.received: Counter[str] = Counter()
        self.in_data = threading.Event()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message_id = str(message_from_bytes(envelope.content, policy=policy.default)["Message-ID"]).strip()
        with self.lock:
            self.received[message_id] += 1
        self.in_data.set()
        await asyncio.sleep(self.delay)
        self.in_data.clear()
        return "250 Message accepted for delivery"


class Load:
    """Parents signing in, ticking cells and validating until stopped; cut requests are counted."""

    def __init__(self, base: str, emails: list[str], clients: int):
        self.base, self.emails = base, emails
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.validating = 0  # validations sent and not yet answered
        self.orders: list[int] = []
        self.answered = Counter()  # label → answered requests
        self.cut = Counter()  # label → requests cut by a kill (no answer: connection reset or refused)
        self.server_errors: list[str] = []  # 5xx or unexpected answers: always a failure
        self.threads = [threading.Thread(target=self.client, args=(n,)) for n in range(clients)]

    def record(self, label: str, seconds: float, ok: bool) -> None:
        if ok:
            with self.lock:
                self.answered[label] += 1

    def client(self, number: int) -> None:
        rng = random.Random(number)
        mine = harness.accounts_of(self.emails, number, len(self.threads))
        while not self.stop.is_set():
            browser = Browser(self.base, self.record, timeout=60)
            try:
                browser.sign_in(rng.choice(mine))
                while not self.stop.is_set():
                    keys = browser.week(rng.choice(WEEKS))
                    for key in pick_cells(keys, rng.randint(2, 4)):
                        browser.toggle(key)
                    browser.page("GET /panier", "/panier")
                    with self.lock:
                        self.validating += 1
                    try:
                        order = browser._submit_validation()
                    finally:
                        with self.lock:
                            self.validating -= 1
                    if order is not None:
                        with self.lock:
                            self.orders.append(order)
            except Finished:
                return
            except Unexpected as error:
                with self.lock:
                    if not error.answered:  # the process was killed, or is not back yet
                        self.cut[error.label] += 1
                    else:
                        self.server_errors.append(str(error)[:300])
                time.sleep(0.3)

    def wait_validations(self, at_least: int, timeout: float = 20) -> int:
        """Wait until `at_least` validations are in flight (so a kill lands among them)."""
        deadline = time.monotonic() + timeout
        while self.validating < at_least and time.monotonic() < deadline:
            time.sleep(0.002)
        return self.validating


def later(moment: str, minutes: int) -> str:
    return (dt.datetime.fromisoformat(moment) + dt.timedelta(minutes=minutes)).isoformat(timespec="minutes")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--households", type=int, default=60)
    parser.add_argument("--smtp-delay", type=float, default=0.5, help="seconds before the SMTP server says 250")
    parser.add_argument("--folder", default="")
    args = parser.parse_args()

    folder = Path(args.folder or tempfile.mkdtemp(prefix="portail-crash-")).resolve()
    url = f"sqlite:///{folder / 'portail.db'}"
    print(f"Instance : {folder} (SQLite)")
    emails = harness.build_instance(folder, url, args.households)
    smtp = SlowSmtp(args.smtp_delay)
    smtp_port = harness.free_port()
    controller = Controller(smtp, hostname="127.0.0.1", port=smtp_port)
    controller.start()

    from models import Order, OutgoingMail, db
    import invariants

    harness.bind_database(folder, url)
    with db.connection_context():
        start = invariants.before()
    servers = Servers(folder, url, workers=3, extra_env={"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_port),
                                                         "MAIL_TIMEOUT": "10"})
    log: list[str] = []
    cut_mails: set[str] = set()

    def say(text: str) -> None:
        log.append(text)
        print(f"  {text}", flush=True)

    try:
        servers.start_worker()
        servers.start_web()
        load = Load(servers.base, emails, args.clients)
        for thread in load.threads:
            thread.start()
        print(f"{args.clients} parents valident des paniers ; SMTP lent ({args.smtp_delay:g} s avant « 250 ») :")
        time.sleep(4)
        for _ in range(2):
            in_flight = load.wait_validations(2)
            while not servers.web_workers():  # the master may still be starting the last one's successor
                time.sleep(0.1)
            victim = random.choice(servers.web_workers())
            os.kill(victim, signal.SIGKILL)
            say(f"SIGKILL d'un worker gunicorn (pid {victim}) avec {in_flight} validation(s) en cours ; "
                "le maître en relance un")
            time.sleep(4)
        in_flight = load.wait_validations(3)
        pids = [servers.web.pid, *servers.web_workers()]
        for pid in pids:
            os.kill(pid, signal.SIGKILL)  # the whole of gunicorn at once, as a crash or the OOM killer would
        servers.web.wait()
        say(f"SIGKILL de gunicorn entier (maître et {len(pids) - 1} workers) avec {in_flight} validation(s) en cours")
        time.sleep(2)
        servers.start_web()
        say("gunicorn redémarré")
        time.sleep(4)
        if not smtp.in_data.wait(30):
            raise SystemExit("aucune livraison SMTP en cours : le worker n'a rien à envoyer ?")
        os.kill(servers.worker.pid, signal.SIGKILL)
        servers.worker.wait()
        with db.connection_context():
            cut_mails = {m.message_id for m in OutgoingMail.select().where(OutgoingMail.status == "sending")}
        say(f"SIGKILL du worker pendant une livraison SMTP : {len(cut_mails)} courriel(s) resté(s) « en cours d'envoi »")
        time.sleep(3)
        # Restarted "11 minutes later" (its clock only): a claim older than 10 minutes is released.
        servers.start_worker(PORTAIL_NOW=later(harness.NOW, 11))
        say("worker redémarré (horloge + 11 min : les envois interrompus sont repris)")
        time.sleep(6)
        load.stop.set()
        for thread in load.threads:
            thread.join()
        servers.stop_web()
        with db.connection_context():
            outbox = invariants.wait_for_outbox(180)
            checks = invariants.all_checks(start, load.orders) + [outbox]
            sent = {m.message_id for m in OutgoingMail.select().where(OutgoingMail.status == "sent")}
            created = Order.select().where(Order.id > start.last_order).count()
    finally:
        servers.stop()
        controller.stop()
        db.close_all()

    lost = sorted(sent - set(smtp.received))
    twice = {mid: n for mid, n in smtp.received.items() if n > 1}
    checks.append(invariants.Check(f"chaque courriel envoyé est arrivé au serveur SMTP ({len(sent)})", not lost,
                                   ", ".join(lost[:5])))
    checks.append(invariants.Check(
        f"doublons seulement pour une livraison coupée après acceptation par le SMTP ({len(twice)} doublon(s), "
        f"{len(cut_mails)} livraison(s) coupée(s))",
        set(twice) <= cut_mails and all(n == 2 for n in twice.values()),
        "" if set(twice) <= cut_mails else str(twice)))
    checks.append(invariants.Check("aucune erreur 5xx ni réponse inattendue", not load.server_errors,
                                   "; ".join(load.server_errors[:3])))
    cut = ", ".join(f"{label} : {n}" for label, n in sorted(load.cut.items())) or "aucune"
    print(f"\nRequêtes coupées par les arrêts (sans réponse, attendu) : {cut}")
    cut_validations = load.cut["POST /panier/valider"]
    print(f"Validations : {len(load.orders)} commandes annoncées aux parents ; {cut_validations} validation(s) "
          f"coupée(s), dont {created - len(load.orders)} enregistrée(s) entière(s) avant l'arrêt (seule la "
          "réponse est perdue) et les autres annulées entières (le panier reste à valider)")
    print("\nInvariants après redémarrage :")
    print("\n".join(check.line() for check in checks))
    failed = [c for c in checks if not c.ok]
    print(f"\n{'ÉCHEC' if failed else 'OK'} : {len(failed)} vérification(s) en échec. Journaux : {folder}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
