"""Server time of the parents' pages at 10,000 households (issue 16): week grid, cell toggle, basket,
« Valider », month and invoice PDF, each requested --runs times (after a warm-up) through Flask's test
client in this process — no HTTP, no gunicorn — on the demo commune scaled to --households with a school
year of bookings (bench/commune_cache.py: built once, kept in bench/.cache/); median, p95 and the SQL
statements of one request, against the issue's targets. Prints figures; exits 1 on an unexpected answer.

    .venv/bin/python bench/pages.py                                   # SQLite, 10,000 households, 50 runs
    .venv/bin/python bench/pages.py --households 200 --runs 5
    .venv/bin/python bench/pages.py --database-url postgresql://postgres@127.0.0.1:5432/portail_bench_pages
    .venv/bin/python bench/pages.py --both postgresql://postgres@127.0.0.1:5432/portail_bench_pages

Clock frozen at Thursday 19 November 2026, 17:55 (week 48's canteen closes at 18:00). The parent measured
is the first added household with 3 children (pointe<n>@banc.example.fr, signed in through the form;
CSRF on, tokens read from the pages). Grid and month: week 48, November. Toggle: one open cell of week
48 ticked then unticked in turn (the counted request is a tick). Basket: /panier with 3 cells ticked.
« Valider »: every run is another 3-child household (the next one, the list starting again if the
commune has too few) who signs in, opens week 48 and changes two open cells — untimed — then validates:
each timed request places a real order. Invoice PDF: the demo's Famille Dupont (the added households
have no invoices). --both runs each database in its own process (caches of this process are not
carried from one database to the other) and prints them side by side with the PG/SQLite ratio.
"""
from __future__ import annotations

import argparse
import json
import logging
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import harness
from commune_cache import EMAIL, PASSWORD, prepare
from concurrency import percentile_ms
from harness import ROOT, Browser, Unexpected

from services.demo import DEMO_PASSWORD  # noqa: E402 - after harness, which sets the paths
from tests.test_query_counts import counting_queries  # noqa: E402

NOW = harness.NOW
WEEK = "2026-W48"
MONTH = "2026-11"
WARM_UP = 5  # requests before the timed ones: templates compiled, configuration cache filled
BASKET_LINES = 3
DUPONT = "famille.dupont@example.fr"
PG_RATIO = 1.3  # PostgreSQL within 1.3× of SQLite
# (page, target median in ms, target SQL statements or None): issue 16 at 10,000 households.
TARGETS = [
    ("grille de la semaine", 10, 12),
    ("case (htmx)", 5, 8),
    ("panier", 5, None),
    ("valider", 10, None),
    ("mois", 12, None),
    ("facture PDF", 50, None),
]


class InProcessSession:
    """The part of requests.Session harness.Browser uses, answered by Flask's test client in this process."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()
        self.headers: dict[str, str] = {}
        self.cookies = self  # Browser.sign_in clears the cookies: a new test client

    def clear(self) -> None:
        self.client = self.app.test_client()

    def request(self, method: str, url: str, timeout=None, allow_redirects=False, data=None, headers=None):
        return self.client.open(url, method=method, data=data, headers={**self.headers, **(headers or {})},
                                follow_redirects=allow_redirects)


class Timings:
    """Every request's time by label, as harness.Browser reports them."""

    def __init__(self):
        self.times: dict[str, list[float]] = defaultdict(list)

    def record(self, label: str, seconds: float, ok: bool) -> None:
        self.times[label].append(seconds)


def parent(app, timings: Timings, email: str, password: str = PASSWORD) -> Browser:
    """A parent signed in through the form, on the test client."""
    browser = Browser("", timings.record, address="127.0.0.1")
    browser.session = InProcessSession(app)
    browser.sign_in(email, password)
    return browser


def measure(timings: Timings, label: str, action, runs: int, setup=None) -> dict:
    """WARM_UP + `runs` requests (setup(i) untimed before each), then one counted: median, p95, statements."""
    for i in range(WARM_UP + runs):
        if setup:
            setup(i)
        action(i)
    samples = timings.times[label][-runs:]
    if setup:
        setup(WARM_UP + runs)
    with counting_queries() as log:
        action(WARM_UP + runs)
    return {"median": statistics.median(samples) * 1000, "p95": percentile_ms(samples, .95),
            "queries": len(log.statements)}


def toggle(browser: Browser, key: str, want: bool) -> None:
    """Tick (`want`) or untick one cell; an answer that does not show the cell so is an error."""
    if browser.cells.get(key, False) == want:
        raise SystemExit(f"case {key} : déjà dans l'état voulu ({want})")
    browser.toggle(key)
    if browser.cells[key] != want:
        raise SystemExit(f"POST /reservations/case : case {key} non {'cochée' if want else 'décochée'} (refusée ?)")


def three_child_parents(count: int) -> list[str]:
    """The first `count` parent accounts of the added households with 3 children."""
    from peewee import fn

    from models import Child, User, db

    with db.connection_context():
        query = (User.select(User.email).join(Child, on=(Child.household == User.household))
                 .where(User.email.startswith(EMAIL.split("{")[0])).group_by(User.id, User.email)
                 .having(fn.COUNT(Child.id) == 3).order_by(User.id).limit(count))
        return [user.email for user in query]


def dupont_invoice() -> int:
    """An invoice of the demo's Famille Dupont."""
    from models import Invoice, User, db

    with db.connection_context():
        household = User.get(User.email == DUPONT).household_id
        return Invoice.select(Invoice.id).where(Invoice.household == household).order_by(Invoice.id).first().id


def run_pages(app, runs: int) -> tuple[dict[str, dict], str]:
    """The six pages, measured ({page: {median, p95, queries}}), and who was measured."""
    timings = Timings()
    emails = three_child_parents(WARM_UP + runs + 2)
    if len(emails) < 2:
        raise SystemExit("Moins de deux foyers de 3 enfants : --households trop petit.")
    me = parent(app, timings, emails[0])
    keys = me.week(WEEK)
    free = [key for key in keys if not me.cells[key]]  # open and not booked: a tick adds a basket line
    if len(free) < BASKET_LINES + 1:
        raise SystemExit(f"{emails[0]} : {len(free)} cases libres en {WEEK}, il en faut {BASKET_LINES + 1}")
    results = {"grille de la semaine": measure(timings, "GET /reservations", lambda i: me.week(WEEK), runs)}

    def tick_before_count(i: int) -> None:
        """The counted toggle is a tick (an addition to the basket), as in tests/test_parent_query_counts.py."""
        if i == WARM_UP + runs and me.cells[free[0]]:
            toggle(me, free[0], False)

    results["case (htmx)"] = measure(timings, "POST /reservations/case",
                                            lambda i: toggle(me, free[0], not me.cells[free[0]]), runs,
                                            setup=tick_before_count)
    for key in free[1:BASKET_LINES + 1]:
        toggle(me, key, True)
    results["panier"] = measure(timings, "GET /panier", lambda i: me.page("GET /panier", "/panier"), runs)
    results["mois"] = measure(timings, "GET /reservations/mois",
                              lambda i: me.page("GET /reservations/mois", f"/reservations/mois?mois={MONTH}"), runs)

    others, visitors, current = emails[1:], {}, {}

    def fill_basket(i: int) -> None:
        """Sign the next household in (once), open week 48, change two open cells (another pair each visit)."""
        n = i % len(others)
        if n not in visitors:
            visitors[n] = parent(app, timings, others[n])
        browser = current["parent"] = visitors[n]
        cells = browser.week(WEEK)
        turn = i // len(others)
        for key in cells[2 * turn % len(cells):][:2] or cells[:2]:
            toggle(browser, key, not browser.cells[key])

    def validate(i: int) -> None:
        browser = current["parent"]
        response = browser.call("POST /panier/valider", "POST", "/panier/valider", (302,),
                                data={"csrf_token": browser.csrf})
        location = response.headers.get("Location", "")
        if "/commandes/" not in location:
            raise Unexpected("POST /panier/valider", response, f"pas de commande : renvoyé vers {location}")

    results["valider"] = measure(timings, "POST /panier/valider", validate, runs, setup=fill_basket)

    dupont = parent(app, timings, DUPONT, password=DEMO_PASSWORD)
    invoice = dupont_invoice()

    def invoice_pdf(i: int) -> None:
        response = dupont.call("GET /factures/<id>/pdf", "GET", f"/factures/{invoice}/pdf", (200,))
        if response.mimetype != "application/pdf":
            raise Unexpected("GET /factures/<id>/pdf", response, f"pas un PDF : {response.mimetype}")

    results["facture PDF"] = measure(timings, "GET /factures/<id>/pdf", invoice_pdf, runs)
    measured = (f"foyer mesuré : {emails[0]} (3 enfants) ; « Valider » : {min(len(others), WARM_UP + runs + 1)} "
                f"foyers de 3 enfants ; PDF : facture {invoice} de la Famille Dupont")
    return {name: results[name] for name, _ms, _queries in TARGETS}, measured


def measure_database(url: str, households: int, runs: int, rebuild: bool) -> dict:
    """Prepare the commune on this database, then measure the pages; the figures as a dict."""
    from models import db
    from services.core import clock

    folder = Path(tempfile.mkdtemp(prefix="portail-pages-")).resolve()
    url = url or f"sqlite:///{folder / 'portail.db'}"
    kind = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(f"Instance : {folder} ({kind}, effacée à la fin)")
    print(f"Commune de démo + {households} foyers : {prepare(folder, url, households, rebuild)}", flush=True)
    if kind == "PostgreSQL":
        print(harness.postgres_line(url), flush=True)
    app = harness.bind_database(folder, url)
    # The households' sign-ins would fill the report with INFO lines; the pages measured log none.
    logging.getLogger("portail").setLevel(logging.WARNING)
    clock.freeze(NOW)
    started = time.perf_counter()
    try:
        pages, measured = run_pages(app, runs)
    except Unexpected as error:
        raise SystemExit(f"Réponse inattendue ({kind}) : {error}") from None
    finally:
        db.close_all()
        shutil.rmtree(folder, ignore_errors=True)  # nothing to read afterwards, and 10,000 households weigh 1 GB
    print(f"Mesures faites en {time.perf_counter() - started:.0f} s ; {harness.machine_line()}", flush=True)
    return {"kind": kind, "households": households, "runs": runs, "pages": pages, "measured": measured}


# --- The report ---------------------------------------------------------------------------------


def target_text(ms: float, queries: int | None, both: bool) -> str:
    parts = [f"≤ {ms:g} ms"] + ([f"≤ {queries} req."] if queries else []) + ([f"PG ≤ {PG_RATIO:g}×"] if both else [])
    return ", ".join(parts)


def misses(figures: dict, ms: float, queries: int | None, kind: str) -> list[str]:
    """What one database misses of a page's target (empty: met)."""
    kind = "PG" if kind == "PostgreSQL" else kind
    found = [f"{kind} {figures['median']:.1f} ms"] if figures["median"] > ms else []
    if queries and figures["queries"] > queries:
        found.append(f"{kind} {figures['queries']} req.")
    return found


def report(results: list[dict]) -> None:
    """One table: per page and database the median, p95 and statements, the ratio, the target, met or not."""
    both = len(results) == 2
    first = results[0]
    kinds = " et ".join(r["kind"] for r in results)
    print(f"\nPages des familles, {first['households']} foyers ajoutés à la démo, {kinds}, horloge au "
          f"{NOW.replace('T', ' ')} ; {first['measured']}.\nMédiane et p95 de {first['runs']} requêtes (après "
          f"{WARM_UP} d'échauffement, client de test Flask dans le processus), requêtes SQL d'une requête :")
    head = f"  {'page':<22}" + "".join(f"{r['kind'] + ' méd. / p95':>26}{'req.':>6}" for r in results)
    head += (f"{'PG/SQLite':>11}" if both else "") + f"   {'objectif':<34}atteint"
    print(head)
    for name, ms, queries in TARGETS:
        row = f"  {name:<22}"
        failed: list[str] = []
        for result in results:
            figures = result["pages"][name]
            row += f"{figures['median']:>15.1f} / {figures['p95']:>6.1f} ms{figures['queries']:>6}"
            failed += misses(figures, ms, queries, result["kind"])
        if both:
            ratio = results[1]["pages"][name]["median"] / results[0]["pages"][name]["median"]
            row += f"{ratio:>10.2f}×"
            if ratio > PG_RATIO:
                failed.append(f"PG {ratio:.2f}×")
        row += f"   {target_text(ms, queries, both):<34}" + ("oui" if not failed else f"non ({', '.join(failed)})")
        print(row)


def run_both(args, pg_url: str) -> list[dict]:
    """SQLite, then PostgreSQL, each in a process of its own; their figures."""
    results = []
    for url in ("", pg_url):
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            command = [sys.executable, __file__, "--households", str(args.households), "--runs", str(args.runs),
                       "--json", out.name, *(["--database-url", url] if url else []),
                       *(["--rebuild"] if args.rebuild else [])]
            if subprocess.run(command, cwd=ROOT).returncode != 0:
                raise SystemExit(f"Échec de la mesure sur {'PostgreSQL' if url else 'SQLite'}")
            results.append(json.loads(Path(out.name).read_text()))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=10_000, help="families added to the demo commune")
    parser.add_argument("--runs", type=int, default=50, help="timed requests per page")
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (the database is recreated); SQLite if empty")
    parser.add_argument("--both", default="", metavar="URL", help="SQLite and this PostgreSQL URL, side by side")
    parser.add_argument("--rebuild", action="store_true", help="build the commune again, cache or not")
    parser.add_argument("--json", default="", help=argparse.SUPPRESS)  # --both's child processes write here
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs doit être au moins 1")
    if args.both:
        report(run_both(args, args.both))
        return 0
    result = measure_database(args.database_url, args.households, args.runs, args.rebuild)
    if args.json:
        Path(args.json).write_text(json.dumps(result))
    else:
        report([result])
    return 0


if __name__ == "__main__":
    sys.exit(main())
