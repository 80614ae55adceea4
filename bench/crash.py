"""Crash and restart (issue 9): gunicorn and the huey worker on SQLite, 10 parents validating baskets,
mail to a slow local SMTP server (aiosmtpd); SIGKILL of gunicorn workers and then of the whole of
gunicorn during validations, of the worker in the middle of an invoicing run (resumed with
« Reprendre ») and in the middle of an SMTP delivery; each is restarted. Then: nothing half-written,
order and invoice numbers gapless, no household invoiced twice, every mail sent (duplicates
counted), no booking without its order line. A script, not a test: it prints what happened and
exits 1 on a failure.

    .venv/bin/python bench/crash.py [--clients 10] [--households 100] [--smtp-delay 0.2]
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

import harness
import invariants
from aiosmtpd.controller import Controller
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
        self.threads = [threading.Thread(target=self.client, args=(n,), daemon=True) for n in range(clients)]

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


RESTARTED = later(harness.NOW, 15)  # gunicorn and the worker come back a quarter of an hour later
RESTARTED_WORKER = later(RESTARTED, 11)  # … and the worker once more: claims older than 10 minutes are released


def sending() -> set[str]:
    """Mails a worker had claimed and not marked sent (its delivery was cut if it was killed)."""
    from models import OutgoingMail

    return {m.message_id for m in OutgoingMail.select().where(OutgoingMail.status == "sending")}


def kill_web_worker(servers: Servers, load: Load, say) -> None:
    in_flight = load.wait_validations(2)
    while not servers.web_workers():  # the master may still be starting the last one's successor
        time.sleep(0.1)
    victim = random.choice(servers.web_workers())
    os.kill(victim, signal.SIGKILL)
    say(f"SIGKILL d'un worker gunicorn (pid {victim}) avec {in_flight} validation(s) en cours ; le maître en relance un")


def start_invoicing(staff: Browser) -> int:
    """The régisseur's « Émettre » for the périscolaire régie's October: the worker does the run."""
    from models import Regie

    regie = Regie.get(Regie.code == "PERI")
    staff.page("GET /gestion/facturation/", "/gestion/facturation/")
    response = staff.call("POST /gestion/facturation/emettre", "POST", "/gestion/facturation/emettre", (302,),
                          data={"csrf_token": staff.csrf, "regie": regie.id, "annee": 2026, "mois": 10})
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def kill_worker_during_run(servers: Servers, run_id: int, say) -> set[str]:
    from models import InvoicingRun

    deadline = time.monotonic() + 300  # the run waits behind the mail deliveries queued before it
    while True:
        run = InvoicingRun.get_by_id(run_id)
        if run.status == "running" and run.households_done >= 3:
            break
        if run.status in ("done", "failed") or time.monotonic() > deadline:
            raise SystemExit(f"facturation « {run.status} » au moment de l'arrêt prévu : augmentez --households")
        time.sleep(0.01)
    os.kill(servers.worker.pid, signal.SIGKILL)
    servers.worker.wait()
    run = InvoicingRun.get_by_id(run_id)
    cut = sending()
    say(f"SIGKILL du worker pendant la facturation de la régie périscolaire (octobre 2026) : "
        f"{run.households_done} / {run.households_total} foyers faits, {run.invoices_issued} factures ; "
        f"{len(cut)} courriel(s) resté(s) « en cours d'envoi »")
    return cut


def paid_at_the_bank_only(base: str, password: str, say) -> int:
    """A parent clicks « Payer »; the bank records the payment, but neither its notification nor the
    parent's return reaches the portal (it is about to be killed): only the worker's check can settle it."""
    from models import Household, Invoice, OnlineTransaction, User
    from services.billing import online_payments

    email = "famille.martin@example.fr"
    household = User.get(User.email == email).household_id
    invoice = (Invoice.select().join(Household).where((Household.id == household) & (Invoice.kind == "invoice")
                                                      & (Invoice.paid + Invoice.credited < Invoice.amount))
               .order_by(Invoice.id).first())
    parent = Browser(base, lambda *record: None)
    parent.sign_in(email, password)
    parent.page("GET /factures/", "/factures/")
    parent.call("POST /factures/…/payer", "POST", f"/factures/{invoice.id}/payer", (302,),
                data={"csrf_token": parent.csrf})
    transaction = OnlineTransaction.get((OnlineTransaction.invoice == invoice.id) & (OnlineTransaction.status == "pending"))
    online_payments.simulate_bank(transaction.transaction_id, "paid", transaction.amount)
    say(f"facture {invoice.number} payée à la banque ({transaction.amount / 100:.2f} €) : ni la notification ni "
        "le retour du parent n'arrivent au portail")
    return transaction.id


def payment_settled(transaction_id: int, timeout: float) -> invariants.Check:
    """Wait for the worker's reconciliation (every 5 minutes) to settle the payment the portal never heard of."""
    from models import Invoice, OnlineTransaction, Payment

    deadline = time.monotonic() + timeout
    while (transaction := OnlineTransaction.get_by_id(transaction_id)).status == "pending" and time.monotonic() < deadline:
        time.sleep(2)
    invoice = Invoice.get_by_id(transaction.invoice_id)
    payments = Payment.select().where(Payment.reference == transaction.transaction_id).count()
    ok = transaction.status == "paid" and invoice.balance == 0 and payments == 1
    return invariants.Check(f"paiement à la banque repris par le worker après les arrêts ({transaction.status}, "
                            f"facture {invoice.number} soldée : {'oui' if invoice.balance == 0 else 'non'}, "
                            f"{payments} règlement)", ok)


def kill_all_of_gunicorn(servers: Servers, load: Load, say) -> None:
    in_flight = load.wait_validations(3)
    pids = [servers.web.pid, *servers.web_workers()]
    for pid in pids:
        os.kill(pid, signal.SIGKILL)  # the whole of gunicorn at once, as a crash or the OOM killer would
    servers.web.wait()
    say(f"SIGKILL de gunicorn entier (maître et {len(pids) - 1} workers) avec {in_flight} validation(s) en cours")


def resume_invoicing(staff: Browser, run_id: int, say) -> None:
    """« Reprendre » on the run's page (it shows as stopped), then wait for the worker to finish it."""
    from models import InvoicingRun

    staff.call("POST …/reprendre", "POST", f"/gestion/facturation/campagnes/{run_id}/reprendre", (302,),
               data={"csrf_token": staff.csrf})
    deadline = time.monotonic() + 180
    while (run := InvoicingRun.get_by_id(run_id)).status != "done" and time.monotonic() < deadline:
        time.sleep(0.5)
    say(f"facturation reprise (« Reprendre ») : {run.status}, {run.households_done} / {run.households_total} "
        f"foyers, {run.invoices_issued} factures, tentative n° {run.attempt}")


def kill_worker_during_delivery(servers: Servers, smtp: SlowSmtp, say) -> set[str]:
    if not smtp.in_data.wait(30):
        raise SystemExit("aucune livraison SMTP en cours : le worker n'a rien à envoyer ?")
    os.kill(servers.worker.pid, signal.SIGKILL)
    servers.worker.wait()
    cut = sending()
    say(f"SIGKILL du worker pendant une livraison SMTP : {len(cut)} courriel(s) resté(s) « en cours d'envoi »")
    return cut


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--households", type=int, default=100)
    parser.add_argument("--smtp-delay", type=float, default=0.2, help="seconds before the SMTP server says 250")
    parser.add_argument("--payment-wait", type=float, default=330, help="seconds to wait for the worker's "
                        "payment reconciliation (a periodic job, every 5 minutes)")
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
    from services.demo import DEMO_PASSWORD

    harness.bind_database(folder, url)
    with db.connection_context():
        start = invariants.before()
    servers = Servers(folder, url, workers=3, extra_env={"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_port),
                                                         "MAIL_TIMEOUT": "10"})
    cut_mails: set[str] = set()

    def say(text: str) -> None:
        print(f"  {text}", flush=True)

    try:
        servers.start_worker()
        servers.start_web()
        load = Load(servers.base, emails, args.clients)
        for thread in load.threads:
            thread.start()
        print(f"{args.clients} parents valident des paniers ; SMTP lent ({args.smtp_delay:g} s avant « 250 ») :")
        with db.connection_context():
            transaction_id = paid_at_the_bank_only(servers.base, DEMO_PASSWORD, say)
        time.sleep(4)
        for _ in range(2):
            kill_web_worker(servers, load, say)
            time.sleep(4)
        staff = Browser(servers.base, lambda *record: None)
        staff.sign_in("regisseur@example.fr", DEMO_PASSWORD)
        with db.connection_context():
            run_id = start_invoicing(staff)
            cut_mails |= kill_worker_during_run(servers, run_id, say)
        time.sleep(2)
        kill_all_of_gunicorn(servers, load, say)
        time.sleep(2)
        servers.start_web(PORTAIL_NOW=RESTARTED)
        servers.start_worker(PORTAIL_NOW=RESTARTED)
        say("gunicorn et le worker redémarrés un quart d'heure plus tard (horloge + 15 min) : les envois "
            "interrompus sont repris, la facturation s'affiche « Interrompue »")
        with db.connection_context():
            resume_invoicing(staff, run_id, say)
            time.sleep(2)
            cut_mails |= kill_worker_during_delivery(servers, smtp, say)
        time.sleep(3)
        servers.start_worker(PORTAIL_NOW=RESTARTED_WORKER)
        say("worker redémarré (horloge + 11 min : l'envoi interrompu est repris)")
        time.sleep(6)
        load.stop.set()
        for thread in load.threads:
            thread.join()
        servers.stop_web()
        with db.connection_context():
            outbox = invariants.wait_for_outbox(180)
            checks = invariants.all_checks(start, load.orders) + [invariants.run_resumed_whole(run_id), outbox]
            print("Attente du rapprochement des paiements par le worker (toutes les 5 minutes) …", flush=True)
            checks.append(payment_settled(transaction_id, args.payment_wait))
            sent = {m.message_id for m in OutgoingMail.select().where(OutgoingMail.status == "sent")}
            created = Order.select().where(Order.id > start.last_order).count()
    finally:
        if "load" in locals():
            load.stop.set()  # also when a step failed: the clients must not outlive the servers
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
