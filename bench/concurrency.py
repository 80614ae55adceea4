"""Concurrency benchmark (issue 9): gunicorn (3 sync workers) and the huey worker as in production,
20 parents at once signing in, signing up, ticking cells and validating baskets for 60 s; then the
database invariants. A script, not a timed test: it prints figures and exits 1 on any error.

    .venv/bin/python bench/concurrency.py                      # SQLite, in a fresh temporary folder
    .venv/bin/python bench/concurrency.py --database-url postgresql://postgres@127.0.0.1:5432/portail_bench
    .venv/bin/python bench/concurrency.py --seconds 60 --clients 20 --workers 3 --households 200

The PostgreSQL database is dropped and recreated (its name must contain « bench »). The instance
folder (database, huey queue, outbox, gunicorn and worker logs) is kept and printed at the end.
"""
from __future__ import annotations

import argparse
import itertools
import os
import random
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import harness
from harness import WEEKS, Browser, Servers, pick_cells, reported

SIGNUP_SHARE = 0.2  # one session in five is a new family signing up; the others are parents booking
DOUBLE_SHARE = 0.1  # a form or a cell sent twice at once: a double tap, or two guardians on one basket


class Stats:
    """Latencies and errors per endpoint, shared by the client threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.messages: list[str] = []
        self.orders: list[int] = []

    def record(self, label: str, seconds: float, ok: bool) -> None:
        with self.lock:
            self.times[label].append(seconds)
            if not ok:
                self.errors[label] += 1

    def failed(self, error: Exception) -> None:
        with self.lock:
            self.messages.append(str(error)[:400])

    def table(self, elapsed: float, server: dict[str, list[float]]) -> list[str]:
        rows = [f"  {'':<36}{'':>8}{'':>9}{'':>8}{'vu du client (ms)':>27}{'serveur (ms)':>16}",
                f"  {'requête':<36}{'nombre':>8}{'erreurs':>9}{'req/s':>8}{'p50':>9}{'p95':>9}{'p99':>9}"
                f"{'p50':>8}{'p95':>8}"]
        everything: list[float] = []
        for label in sorted(self.times):
            samples = self.times[label]
            everything += samples
            rows.append(_row(label, samples, self.errors.get(label, 0), elapsed, server.get(label, [])))
        rows.append(_row("total", everything, sum(self.errors.values()), elapsed,
                         [t for times in server.values() for t in times]))
        return rows


def percentile_ms(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def _row(label: str, samples: list[float], errors: int, elapsed: float, server: list[float]) -> str:
    return (f"  {label:<36}{len(samples):>8}{errors:>9}{len(samples) / elapsed:>8.1f}"
            f"{percentile_ms(samples, .5):>9.0f}{percentile_ms(samples, .95):>9.0f}{percentile_ms(samples, .99):>9.0f}"
            f"{percentile_ms(server, .5):>8.0f}{percentile_ms(server, .95):>8.0f}")


def server_times(access_log: Path, offset: int, labels) -> dict[str, list[float]]:
    """Seconds spent in a gunicorn worker per request kind (access log from `offset`; queueing excluded)."""
    times: dict[str, list[float]] = defaultdict(list)
    with access_log.open() as log:
        log.seek(offset)
        for line in log:
            method, path, _status, micros = line.split()
            label = f"{method} {path}"
            if label not in labels:
                label = "GET / (accueil)" if method == "GET" else label
            times[label].append(int(micros) / 1e6)
    return times


def client(number: int, base: str, emails: list[str], deadline: float, stats: Stats, counter) -> None:
    """One parent after another on this connection, until the time is up."""
    rng = random.Random(number)
    while time.monotonic() < deadline:
        browser = Browser(base, stats.record, deadline=deadline)
        with reported(stats, f"client {number}"):
            if rng.random() < SIGNUP_SHARE:
                browser.sign_up(f"nouveau{next(counter)}-{os.getpid()}@banc.example.fr",
                                double=rng.random() < DOUBLE_SHARE)
                continue
            browser.sign_in(rng.choice(emails))
            for _ in range(rng.randint(1, 3)):
                keys = browser.week(rng.choice(WEEKS))
                for key in pick_cells(keys, rng.randint(2, 5)):
                    browser.toggle(key, double=rng.random() < DOUBLE_SHARE)
                order = browser.validate(double=rng.random() < DOUBLE_SHARE)
                if order is not None:
                    with stats.lock:
                        stats.orders.append(order)
            browser.sign_out()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (the database is recreated); SQLite if empty")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--households", type=int, default=200, help="extra families with a parent account")
    parser.add_argument("--folder", default="", help="instance folder (default: a new temporary one)")
    args = parser.parse_args()

    folder = Path(args.folder or tempfile.mkdtemp(prefix="portail-concurrence-")).resolve()
    url = args.database_url or f"sqlite:///{folder / 'portail.db'}"
    kind = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(f"Instance : {folder} ({kind})")
    started = time.perf_counter()
    emails = harness.build_instance(folder, url, args.households)
    print(f"Commune de démo + {len(emails) // 2} foyers, deux comptes parents chacun "
          f"({time.perf_counter() - started:.0f} s)")

    import invariants

    from models import db

    harness.bind_database(folder, url)
    with db.connection_context():
        start = invariants.before()
    db.close_all()
    servers = Servers(folder, url, workers=args.workers)
    stats = Stats()
    try:
        servers.start_worker()
        servers.start_web()
        load = os.getloadavg()[0]
        print(f"gunicorn : {args.workers} workers sync sur {servers.base} ; worker huey ; horloge figée au "
              f"{harness.NOW} ; charge de la machine au départ : {load:.1f} ({os.cpu_count()} cœurs)")
        print(f"{args.clients} clients pendant {args.seconds:g} s …", flush=True)
        log_offset = (folder / "access.log").stat().st_size
        deadline = time.monotonic() + args.seconds
        counter = itertools.count(1)
        threads = [threading.Thread(target=client, args=(n, servers.base, harness.accounts_of(emails, n, args.clients),
                                                         deadline, stats, counter))
                   for n in range(args.clients)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        servers.stop_web()
        with db.connection_context():
            outbox = invariants.wait_for_outbox(120)
            checks = invariants.all_checks(start, stats.orders) + [outbox]
    finally:
        servers.stop()
    db.close_all()

    print(f"\nRequêtes ({elapsed:.0f} s, {args.clients} clients, {args.workers} workers gunicorn, {kind}) :")
    print("\n".join(stats.table(elapsed, server_times(folder / "access.log", log_offset, stats.times))))
    print("  (vu du client : attente dans la file de gunicorn comprise ; serveur : temps dans un worker)")
    print(f"  {len(stats.orders)} commandes passées par les parents")
    return harness.verdict(stats.messages, checks, folder)  # every unexpected answer ended its session with one message


if __name__ == "__main__":
    sys.exit(main())
