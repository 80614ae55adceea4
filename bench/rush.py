"""The Thursday 17:55 rush (issue 16): gunicorn and the huey worker on the demo commune scaled to N
households, P parents who sign in, open next week's grid, tick 10 cells and « Valider » in the last
minutes before the canteen's 18:00 deadline, while two staff users open the headcounts; then the
clock moves past 18:00 and parents keep ticking cells that have just closed. Prints requests/s,
latencies and errors per request, checks the database, exits 1 on any error or broken invariant.

    .venv/bin/python bench/rush.py                                   # SQLite, 5,000 households, 2,000 parents
    .venv/bin/python bench/rush.py --households 300 --parents 100 --arrivals 10 --seconds 20 --after 10
    .venv/bin/python bench/rush.py --database-url postgresql://postgres@127.0.0.1:5432/portail_bench
    .venv/bin/python bench/rush.py --workers 3 --threads 4 --worker-class gthread

The commune is built once per size and schema (bench/commune_cache.py: bench/.cache/, keyed by the
households and a digest of migrations/, models/ and the demo) and copied (SQLite) or restored with
pg_restore (PostgreSQL, whose database is dropped and recreated: its name must contain « bench »).
Parents' passwords are hashed with cheap argon2 parameters: a sign-in costs a query, not 0.4 s of a
core (staff keep theirs).
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import queue
import random
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import harness
from async_client import AsyncBrowser
from commune_cache import EMAIL, PASSWORD, prepare
from harness import Servers, Unexpected

import requests  # noqa: E402 - after harness, which sets the paths and the queue

NOW = harness.NOW  # Thursday 19 November 2026, 17:55: the canteen of week 48 closes at 18:00
AFTER = "2026-11-19T18:00:30"
DEADLINE = dt.datetime(2026, 11, 19, 18, 0)
WEEK = "2026-W48"
WEEK_DAYS = (dt.date(2026, 11, 23), dt.date(2026, 11, 27))
HEADCOUNT_DAY = "2026-11-23"
STAFF = ("agent@example.fr", "cuisine@example.fr")
TOGGLES = 10


# --- Clients ------------------------------------------------------------------------------------


async def parent_before(browser: AsyncBrowser, email: str, stats, served: list) -> None:
    """Sign in, next week's grid, tick 10 cells, the basket, « Valider »."""
    await browser.sign_in(email, PASSWORD)
    keys = await browser.week(WEEK)
    for key in harness.pick_cells(keys, TOGGLES):
        await browser.toggle(key)
    order = await browser.validate()
    if order is not None:
        stats.orders.append(order)
    served.append((email, keys))


async def parent_after(browser: AsyncBrowser, email: str, open_before: list[str], rng: random.Random,
                       tried: list) -> None:
    """Sign in after 18:00, open the same week: every cell that closed at 18:00 is refused when ticked."""
    await browser.sign_in(email, PASSWORD)
    still_open = set(await browser.week(WEEK))
    closed = [key for key in open_before if key not in still_open]  # the canteen; garderie closes the day before
    for key in rng.sample(closed, min(5, len(closed))):
        # The grid no longer says whether a closed day is booked: tick it, and if it already was
        # (« Aucun changement. »), untick it; either change must be refused.
        for want in (True, False):
            answer = await browser.tick(key, want)
            tried.append(key)
            if "Non modifié" in answer.text:
                break
            if not (want and "Aucun changement." in answer.text):
                raise Unexpected("POST /reservations/case", answer, f"case {key} changée après 18 h")


async def run_parents(base: str, work, arrivals: float, think: float, seconds: float, stats, peak) -> float:
    """Parents arriving `arrivals` a second (Poisson) until none is left or time is up, each pausing
    `think` seconds on average between two taps; a job is a coroutine function of (browser, rng).
    Waits for every parent who arrived; returns the seconds from the first arrival to the last answer."""
    deadline = time.monotonic() + seconds
    arrival = random.Random(7)

    async def parent(number: int, job) -> None:
        rng = random.Random(number)
        browser = AsyncBrowser(base, peak.recorder(stats), deadline=deadline, think=think, rng=rng)
        with harness.reported(stats, f"parent {number}"):
            await job(browser, rng)

    began = time.perf_counter()
    parents, start = [], time.monotonic()
    while time.monotonic() < deadline:
        try:
            job = work()
        except queue.Empty:
            break
        parents.append(asyncio.create_task(parent(len(parents), job)))
        start += arrival.expovariate(arrivals)
        await asyncio.sleep(max(0.0, start - time.monotonic()))
    await asyncio.gather(*parents)
    return time.perf_counter() - began


class Peak:
    """Answers counted per second, to report the busiest `window` seconds (ramp-up and tail aside)."""

    def __init__(self, window: int = 30):
        self.window, self.per_second = window, defaultdict(int)

    def recorder(self, stats):
        def record(label: str, seconds: float, ok: bool) -> None:
            stats.record(label, seconds, ok)
            self.per_second[int(time.monotonic())] += 1
        return record

    def rate(self) -> tuple[float, int, int]:
        """(requests per second over the busiest window, its length in seconds, its first second)."""
        if not self.per_second:
            return 0.0, 0, 0
        first, last = min(self.per_second), max(self.per_second)
        window = min(self.window, last - first + 1)
        best, start = max((sum(self.per_second.get(t, 0) for t in range(s, s + window)), s)
                          for s in range(first, last - window + 2))
        return best / window, window, start


async def staff_loop(base: str, email: str, stop: asyncio.Event, stats) -> None:
    """A staff user opening the day's headcounts again and again (a second apart) until stopped."""
    from services.demo import DEMO_PASSWORD

    browser = AsyncBrowser(base, stats.record)
    try:
        await browser.sign_in(email, DEMO_PASSWORD)
        while True:
            try:
                await asyncio.wait_for(stop.wait(), 1.0)
                return
            except asyncio.TimeoutError:
                await browser.page("GET /gestion/effectifs", f"/gestion/effectifs?date={HEADCOUNT_DAY}")
    except Unexpected as error:
        stats.failed(error)


async def play(servers: Servers, args, before, after, staff_stats, served: list, tried: list, peaks):
    """The two phases, staff opening headcounts throughout; returns (seconds before 18:00, the access
    log's size at 18:00, the workers whose clock moved, seconds after)."""
    stop = asyncio.Event()
    staff = [asyncio.create_task(staff_loop(servers.base, email, stop, staff_stats)) for email in STAFF]
    # Before 18:00: each parent once, taken by the next free client.
    parents = iter([EMAIL.format(n) for n in range(args.parents)])

    def next_parent():
        email = next(parents, None)
        if email is None:
            raise queue.Empty
        return lambda browser, rng: parent_before(browser, email, before, served)

    print(f"Avant 18 h ({NOW[11:]}) : {args.parents} parents, {args.arrivals:g} arrivées par seconde, "
          f"{args.think:g} s entre deux gestes, {args.seconds:g} s au plus …", flush=True)
    elapsed_before = await run_parents(servers.base, next_parent, args.arrivals, args.think, args.seconds, before,
                                       peaks[0])
    middle = (servers.folder / "access.log").stat().st_size

    # 18:00:30 in every worker, then the same parents tick the cells that closed.
    moved = await asyncio.to_thread(move_clock, servers, AFTER)
    print(f"Horloge de {len(moved)} workers gunicorn passée à {AFTER[11:]} ; {args.after:g} s de cases …",
          flush=True)
    cycle = iter(served * 1000)

    def next_after():
        try:
            email, keys = next(cycle)
        except StopIteration:
            raise queue.Empty from None
        return lambda browser, rng: parent_after(browser, email, keys, rng, tried)

    elapsed_after = await run_parents(servers.base, next_after, args.arrivals, args.think, args.after, after,
                                      peaks[1])
    stop.set()
    await asyncio.gather(*staff)
    return elapsed_before, middle, moved, elapsed_after


def move_clock(servers: Servers, iso: str, timeout: float = 30) -> set[int]:
    """Freeze every gunicorn worker's clock at `iso` (/dev/horloge answers from one process at a time)."""
    wanted, seen = set(servers.web_workers()), set()
    deadline = time.monotonic() + timeout

    def post(_):
        answer = requests.post(servers.base + "/dev/horloge", json={"now": iso}, timeout=10).json()
        return answer["pid"] if answer["now"].startswith(iso[:19]) else None

    with ThreadPoolExecutor(max(2, 2 * len(wanted))) as pool:
        while not wanted <= seen:
            if time.monotonic() > deadline:
                raise SystemExit(f"Horloge non déplacée dans les workers {sorted(wanted - seen)}")
            seen |= set(pool.map(post, range(2 * len(wanted)))) - {None}
    return seen


def server_times(access_log: Path, start: int, end: int, labels) -> dict[str, list[float]]:
    """Seconds in a worker per request kind, between two offsets of gunicorn's access log."""
    from concurrency import server_times as read

    part = access_log.with_suffix(".part")
    with access_log.open("rb") as log:
        log.seek(start)
        part.write_bytes(log.read(end - start))
    try:
        return read(part, 0, labels)
    finally:
        part.unlink()


# --- The run ------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (the database is recreated); SQLite if empty")
    parser.add_argument("--households", type=int, default=5000, help="families added to the demo commune")
    parser.add_argument("--parents", type=int, default=2000, help="parents who book before 18:00 (≤ households)")
    parser.add_argument("--arrivals", type=float, default=20, help="parents arriving per second (Poisson)")
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between two taps of a parent")
    parser.add_argument("--seconds", type=float, default=300, help="at most this long before 18:00")
    parser.add_argument("--after", type=float, default=30, help="seconds of ticking after 18:00")
    parser.add_argument("--workers", type=int, default=0,
                        help="gunicorn workers (default: as deploy/gunicorn.conf.py, 2 per core + 1, 4 on PostgreSQL)")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class (sync, gthread)")
    parser.add_argument("--rebuild", action="store_true", help="build the commune again, cache or not")
    parser.add_argument("--folder", default="", help="instance folder (default: a new temporary one)")
    args = parser.parse_args()
    if args.parents > args.households:
        parser.error("--parents doit être au plus --households")

    import concurrency
    import cpu
    import invariants

    from models import db

    folder = Path(args.folder or tempfile.mkdtemp(prefix="portail-pointe-")).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{folder / 'portail.db'}"
    kind = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    args.workers = args.workers or (os.cpu_count() or 1) * (4 if kind == "PostgreSQL" else 2) + 1
    print(f"Instance : {folder} ({kind})")
    print(f"Commune de démo + {args.households} foyers : {prepare(folder, url, args.households, args.rebuild)}",
          flush=True)
    if kind == "PostgreSQL":
        print(harness.postgres_line(url), flush=True)
    harness.bind_database(folder, url)
    with db.connection_context():
        start = invariants.before(days=WEEK_DAYS)
    db.close_all()

    settings = ["--worker-class", args.worker_class, "--threads", str(args.threads), "--max-requests", "0"]
    # --max-requests 0: a recycled worker would start again with the clock of PORTAIL_NOW (17:55).
    servers = Servers(folder, url, workers=args.workers, extra_env={"DEV_CLOCK_CONTROL": "1"}, extra_args=settings)
    before, after = concurrency.Stats(), concurrency.Stats()
    staff_stats = concurrency.Stats()
    served: list = []
    tried: list = []
    peaks = (Peak(), Peak())
    machine = harness.machine_line()  # before the servers start: their imports would slow the reference loop
    try:
        servers.start_worker()
        servers.start_web()
        access = folder / "access.log"
        print(f"gunicorn : worker_class={args.worker_class}, workers={args.workers}, threads={args.threads}, "
              f"max_requests=0 (deploy/gunicorn.conf.py pour le reste) sur {servers.base} ; worker huey ; "
              f"au départ, {machine}", flush=True)
        offset = access.stat().st_size
        meter = cpu.Meter(servers.web.pid, servers.worker.pid, postgres=kind == "PostgreSQL").start()
        try:
            elapsed_before, middle, moved, elapsed_after = asyncio.run(
                play(servers, args, before, after, staff_stats, served, tried, peaks))
        finally:
            meter.stop()
        restarted = set(servers.web_workers()) - moved
        end = access.stat().st_size
        servers.stop_web()
        with db.connection_context():
            outbox = invariants.wait_for_outbox(120)
            checks = [invariants.no_duplicate_booking(), invariants.capacity_respected(), invariants.orders_whole(),
                      invariants.numbering_gapless(), invariants.basket_lines_attached(),
                      invariants.bookings_have_order_lines(start), invariants.reported_orders_exist(before.orders),
                      invariants.nothing_changed_after(DEADLINE, len(tried)),
                      invariants.Check("des cases fermées à 18 h tentées après 18 h", bool(tried),
                                       "" if tried else "aucune : le contrôle des refus n'a rien vérifié"), outbox]
    finally:
        servers.stop()
    db.close_all()
    if restarted:
        after.failed(RuntimeError(f"workers gunicorn relancés avec l'horloge de 17:55 : {sorted(restarted)}"))

    for title, stats, elapsed, (first, last), peak in (
            (f"Avant 18 h ({elapsed_before:.0f} s)", before, elapsed_before, (offset, middle), peaks[0]),
            (f"Après 18 h ({elapsed_after:.0f} s)", after, elapsed_after, (middle, end), peaks[1])):
        rate, window, start = peak.rate()
        print(f"\n{title}, {args.arrivals:g} parents arrivant par seconde, {args.think:g} s entre deux gestes, "
              f"gunicorn {args.worker_class} {args.workers}×{args.threads}, {kind} — "
              f"au plus fort : {rate:.0f} requêtes/s sur {window} s :")
        times = server_times(access, first, last, set(stats.times) | set(staff_stats.times))
        print("\n".join(stats.table(elapsed, {label: times.get(label, []) for label in stats.times})))
        usage = meter.between(start, start + window)  # the processor over the same busiest seconds
        print("\n".join(usage.lines(rate) if usage else ["  (processeur non mesuré : /proc absent)"]))
    print(f"\nPersonnel ({', '.join(STAFF)}), les effectifs du {HEADCOUNT_DAY} toutes les secondes :")
    times = server_times(access, offset, end, set(staff_stats.times) | set(before.times) | set(after.times))
    print("\n".join(staff_stats.table(elapsed_before + elapsed_after,
                                      {label: times.get(label, []) for label in staff_stats.times})))
    print("  (vu du client : attente dans la file de gunicorn comprise ; serveur : temps dans un worker)")
    print(f"  {len(served)} / {args.parents} parents servis avant 18 h, {len(before.orders)} commandes ; "
          f"{len(tried)} cases tentées après 18 h")
    messages = before.messages + after.messages + staff_stats.messages
    return harness.verdict(messages, checks, folder)


if __name__ == "__main__":
    sys.exit(main())
