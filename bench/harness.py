"""What the concurrency and crash scripts share: a fresh instance (SQLite or PostgreSQL) with the demo
commune and extra families, gunicorn and the huey worker as real processes, a parent's HTTP client,
and the database invariants checked after a run."""
from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ["PORTAIL_QUEUE"] = "memory"  # this process only reads the database: no huey file of its own

import requests  # noqa: E402

NOW = "2026-11-19T17:55"  # a Thursday before 18:00: next week's canteen and the Wednesdays are still open
WEEKS = ("2026-W48", "2026-W49", "2026-W50", "2026-W51")
PASSWORD = "Banc-Concurrence-2026!"
SIGNUP_PASSWORD = "Inscription-Banc-2026!"
PARENT_EMAIL = "parent{}{}@banc.example.fr"  # two guardians per family: parent12a, parent12b


def machine_speed() -> float:
    """Milliseconds one core takes for a fixed piece of pure Python (best of 5): the same code's figures
    differ by 1.5× from one machine of this kind to the next, so every benchmark prints it beside them."""
    def work() -> float:
        started = time.perf_counter()
        seen: dict[int, int] = {}
        for i in range(300_000):
            seen[i % 1000] = seen.get(i % 1000, 0) + i
        return (time.perf_counter() - started) * 1000
    return min(work() for _ in range(5))


def machine_line() -> str:
    """« charge … ; vitesse … »: what a reader needs to compare two runs' figures."""
    return (f"charge de la machine : {os.getloadavg()[0]:.1f} ({os.cpu_count()} cœurs) ; vitesse d'un cœur : "
            f"{machine_speed():.0f} ms pour la boucle de référence (bench/harness.py machine_speed)")


def postgres_line(url: str) -> str:
    """PostgreSQL's settings that change the figures (empty on SQLite). Autovacuum keeps a busy table's
    planner statistics and visibility map: without it the basket's prepared reads kept the plan of an empty
    table and walked every dead line (the rush of 5 December; a CI server may switch it off)."""
    if not url.startswith("postgres"):
        return ""
    import psycopg2

    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT name, setting FROM pg_settings WHERE name IN ('autovacuum', 'synchronous_commit', "
                       "'shared_buffers', 'shared_preload_libraries') ORDER BY name")
        settings = dict(cursor.fetchall())
    connection.close()
    line = ", ".join(f"{name}={value or '—'}" for name, value in settings.items())
    if settings.get("autovacuum") != "on":
        from services.core.statistics import AUTOVACUUM_OFF  # the portal's own warning

        line += f" — {AUTOVACUUM_OFF}"
    return f"PostgreSQL : {line}"


# --- The instance -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reset_postgres(url: str) -> None:
    """Drop and recreate the database named in the URL (only a benchmark database: its name says so)."""
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"\w*(bench|crash)\w*", name):
        raise SystemExit(f"Refus d'effacer la base « {name} » : son nom doit contenir « bench » ou « crash ».")
    admin = psycopg2.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
                             user=parts.username or "postgres", password=parts.password or None, dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def environment(folder: Path, database_url: str, now: str = NOW, **extra: str) -> dict[str, str]:
    """The environment of the web and worker processes: development mode, frozen clock, this folder."""
    env = {k: v for k, v in os.environ.items() if k not in ("PORTAIL_QUEUE", "REDIS_URL", "HUEY_DB")}
    env.update(INSTANCE_PATH=str(folder), DATABASE_URL=database_url, PORTAIL_ENV="development",
               PORTAIL_NOW=now, SECRET_KEY="banc-concurrence", MAIL_SERVER="", PYTHONUNBUFFERED="1",
               PROXY_FIX="1")  # clients send X-Forwarded-For: each parent has its own address, as behind nginx
    env.update(extra)
    return env


def bind_database(folder: Path, database_url: str):
    """Bind the models in this process (to build the data and check invariants); returns the app."""
    from app import create_app

    return create_app({"DATABASE_URL": database_url, "SECRET_KEY": "banc", "PORTAIL_NOW": NOW,
                       "OUTBOX_DIR": str(folder / "outbox"), "UPLOAD_DIR": str(folder / "uploads")})


def demo_context() -> dict:
    """The parts of the demo commune bench_reservations.scale() needs, looked up by name."""
    from models import Activity, School, Unit

    phare = School.get(School.name.contains("Phare"))
    cantine = Activity.get((Activity.kind == "cantine") & (Activity.school == phare))
    garderie = Activity.get((Activity.kind == "garderie") & (Activity.school == phare))
    mercredi = Activity.get(Activity.kind == "alsh_mercredi")

    def unit(activity, name):
        return Unit.get((Unit.activity == activity) & (Unit.name == name))

    return {"schools": {"phare": phare},
            "activities": {"cantine_phare": cantine, "garderie_phare": garderie, "alsh_mercredi": mercredi},
            "units": {"repas_phare": unit(cantine, "Repas"), "garderie_matin_phare": unit(garderie, "Garderie matin"),
                      "garderie_soir_phare": unit(garderie, "Garderie soir"), "alsh_journee": unit(mercredi, "Journée")}}


def build_instance(folder: Path, database_url: str, households: int) -> list[str]:
    """`flask init-db`, then `households` families with two parent accounts each; returns their addresses."""
    # bench_reservations' builder: 1–3 children, canteen, garderie, ALSH mercredi, a year of canteen bookings.
    folder.mkdir(parents=True, exist_ok=True)
    if database_url.startswith("postgres"):
        reset_postgres(database_url)
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "init-db"], cwd=ROOT, check=True,
                   env=environment(folder, database_url), stdout=subprocess.DEVNULL)
    from argon2 import PasswordHasher
    from bench_reservations import scale

    from models import Household, User, db
    from services.core.transactions import write_transaction

    bind_database(folder, database_url)
    # The production argon2 parameters, as a real sign-in pays them; one hash serves every parent.
    password_hash = PasswordHasher().hash(PASSWORD)
    with db.connection_context():
        scale(demo_context(), households)
        families = list(Household.select().where(Household.name.startswith("Famille Banc ")).order_by(Household.id))
        accounts = [(PARENT_EMAIL.format(n, guardian), family) for n, family in enumerate(families)
                    for guardian in "ab"]
        with write_transaction():
            User.insert_many([dict(email=email, role="parent", household=family.id, activated=True,
                                   password_hash=password_hash, first_name="Parent", last_name=family.name[8:],
                                   created_at="2026-09-01 08:00:00")
                              for email, family in accounts]).execute()
    db.close_all()
    return [email for email, _family in accounts]


# --- Processes ----------------------------------------------------------------------------------


@dataclass
class Servers:
    """gunicorn and the huey worker of one instance, with their logs in its folder."""

    folder: Path
    database_url: str
    workers: int = 3
    port: int = field(default_factory=free_port)
    extra_env: dict = field(default_factory=dict)
    extra_args: list = field(default_factory=list)  # more gunicorn options (--threads, --worker-class…)
    web: subprocess.Popen | None = None
    worker: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, **overrides: str) -> dict[str, str]:
        return environment(self.folder, self.database_url, **{**self.extra_env, **overrides})

    def start_web(self, **overrides: str) -> None:
        log = open(self.folder / "gunicorn.log", "ab")
        self.web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
             "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
             "--access-logfile", str(self.folder / "access.log"),
             "--access-logformat", "%(m)s %(U)s %(s)s %(D)s",  # method, path, status, µs in the worker
             *self.extra_args, "app:create_app()"],
            cwd=ROOT, env=self.env(**overrides), stdout=log, stderr=subprocess.STDOUT)
        self.wait_ready()

    def start_worker(self, **overrides: str) -> None:
        log = open(self.folder / "worker.log", "ab")
        self.worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker"], cwd=ROOT,
                                       env=self.env(**overrides), stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.web.poll() is not None:
                raise SystemExit(f"gunicorn s'est arrêté : voir {self.folder / 'gunicorn.log'}")
            try:
                if requests.get(self.base + "/connexion", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise SystemExit(f"gunicorn ne répond pas : voir {self.folder / 'gunicorn.log'}")

    def web_workers(self) -> list[int]:
        """The pids of gunicorn's worker processes (children of the master)."""
        path = Path(f"/proc/{self.web.pid}/task/{self.web.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    @staticmethod
    def _stop(process: subprocess.Popen | None, sig=signal.SIGTERM) -> None:
        if process is not None and process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def stop_web(self) -> None:
        self._stop(self.web)

    def stop_worker(self) -> None:
        self._stop(self.worker, signal.SIGINT)  # huey finishes the task in hand on SIGINT

    def stop(self) -> None:
        self.stop_web()
        self.stop_worker()


# --- A parent's browser -------------------------------------------------------------------------

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CSRF_HEADER = re.compile(r'"X-CSRFToken": "([^"]+)"')
# A box the parent can tick (templates/reservations/_cell.html): its key, and whether it is ticked.
CELL = re.compile(r'name="cells" value="([^"]+)"(?: checked)? hx-post="[^"]+"')
CHECKED = re.compile(r'name="cells" value="([^"]+)" checked')
ORDER = re.compile(r"/commandes/(\d+)$")


class Unexpected(Exception):
    """A response other than the one a browser expects (an error of the run)."""

    def __init__(self, label: str, response: requests.Response | None, detail: str = ""):
        self.label = label
        self.answered = response is not None  # False: no answer at all (connection refused or reset)
        status = response.status_code if response is not None else "-"
        text = detail or (_page_text(response.text) if response is not None else "")
        super().__init__(f"{label} → {status} {text}".strip())


def _page_text(html: str) -> str:
    """The title and first heading of an error page, or the start of the body."""
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    parts = [re.sub(r"\s+", " ", m.group(1)).strip() for m in (title, heading) if m]
    return " | ".join(parts) if parts else re.sub(r"\s+", " ", html[:300])


def answered(record, label: str, started: float, response, expect: tuple[int, ...], error: Exception | None = None):
    """Record a request's time and whether it got an expected status; Unexpected otherwise (a browser's
    `call` ends here, `response` None when nothing came back)."""
    ok = response is not None and response.status_code in expect
    record(label, time.perf_counter() - started, ok)
    if response is None:
        raise Unexpected(label, None, f"{type(error).__name__}: {error}") from None
    if not ok:
        raise Unexpected(label, response)
    return response


class Finished(Exception):
    """The run's time is up: the session stops before its next request."""


@contextmanager
def reported(stats, who: str) -> Iterator[None]:
    """One client's journey: the time being up ends it quietly; an unexpected answer, or a bug of the
    bench itself, is an error of the run (`stats.failed`), never hidden."""
    try:
        yield
    except Finished:
        pass
    except Unexpected as error:
        stats.failed(error)
    except Exception as error:  # noqa: BLE001 - reported, not hidden
        stats.failed(RuntimeError(f"{who}: {type(error).__name__}: {error}"))


class Browser:
    """One parent's session against the running server; `record(label, seconds, ok)` gets every request."""

    def __init__(self, base: str, record, timeout: float = 60, deadline: float | None = None,
                 address: str = ""):
        self.base, self.record, self.timeout, self.deadline = base, record, timeout, deadline
        self.session = requests.Session()
        # Each parent has its own client address (per-address sign-up limits apply to each, not to the bench).
        self.address = address or f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
        self.session.headers["X-Forwarded-For"] = self.address
        self.csrf = ""
        self.cells: dict[str, bool] = {}

    def call(self, label: str, method: str, path: str, expect: tuple[int, ...], **kwargs) -> requests.Response:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise Finished
        started = time.perf_counter()
        try:
            response = self.session.request(method, self.base + path, timeout=self.timeout,
                                            allow_redirects=False, **kwargs)
        except requests.RequestException as error:
            return answered(self.record, label, started, None, expect, error)
        return answered(self.record, label, started, response, expect)

    def page(self, label: str, path: str) -> str:
        html = self.call(label, "GET", path, (200,)).text
        match = CSRF_HEADER.search(html) or CSRF_FIELD.search(html)
        if match:
            self.csrf = match.group(1)
        return html

    def sign_in(self, email: str, password: str = PASSWORD) -> None:
        self.session.cookies.clear()
        self.page("GET /connexion", "/connexion")
        response = self.call("POST /connexion", "POST", "/connexion", (302,),
                             data={"csrf_token": self.csrf, "email": email, "password": password})
        if "/connexion" in response.headers.get("Location", ""):
            raise Unexpected("POST /connexion", response, "renvoyé vers la connexion")
        self.page("GET / (accueil)", urlsplit(response.headers["Location"]).path)

    def sign_out(self) -> None:
        self.call("POST /deconnexion", "POST", "/deconnexion", (302,), data={"csrf_token": self.csrf})

    def sign_up(self, email: str, double: bool = False) -> None:
        """Create an account; `double` submits the form twice at once (a double tap)."""
        self.session.cookies.clear()
        self.page("GET /creer-mon-compte", "/creer-mon-compte")
        self.at_once("_submit_sign_up", email) if double else self._submit_sign_up(email)
        self.page("GET /creer-mon-compte/confirmation", "/creer-mon-compte/confirmation")

    def _submit_sign_up(self, email: str) -> None:
        response = self.call("POST /creer-mon-compte", "POST", "/creer-mon-compte", (302,),
                             data={"csrf_token": self.csrf, "email": email, "password": SIGNUP_PASSWORD})
        if not response.headers.get("Location", "").endswith("/creer-mon-compte/confirmation"):
            raise Unexpected("POST /creer-mon-compte", response, "pas de page de confirmation")

    def week(self, week: str) -> list[str]:
        """Open a week of the grid; returns the cells that can change."""
        html = self.page("GET /reservations", f"/reservations?semaine={week}")
        keys = CELL.findall(html)
        checked = set(CHECKED.findall(html))
        self.cells = {key: key in checked for key in keys}
        return keys

    def toggle(self, key: str, double: bool = False) -> None:
        """Click a cell as htmx does: the cell key, and `cells` when the box is now ticked."""
        if double:
            self.at_once("toggle", key)
            return
        want = not self.cells.get(key, False)
        data = {"cell": key, **({"cells": key} if want else {})}
        response = self.call("POST /reservations/case", "POST", "/reservations/case", (200,), data=data,
                             headers={"HX-Request": "true", "X-CSRFToken": self.csrf})
        self.cells[key] = f'value="{key}" checked' in response.text

    def validate(self, double: bool = False) -> int | None:
        """« Valider » on /panier (`double`: tapped twice); returns the order id it led to, if any."""
        self.page("GET /panier", "/panier")
        if double:
            return max(self.at_once("_submit_validation"), key=lambda order: order or 0)
        return self._submit_validation()

    def _submit_validation(self) -> int | None:
        response = self.call("POST /panier/valider", "POST", "/panier/valider", (302,),
                             data={"csrf_token": self.csrf})
        match = ORDER.search(urlsplit(response.headers.get("Location", "")).path)
        return int(match.group(1)) if match else None

    def at_once(self, action: str, *args) -> list:
        """The same request sent twice together on this session (a double tap, two guardians' phones)."""
        twin = Browser(self.base, self.record, self.timeout, self.deadline, self.address)
        twin.session.cookies.update(self.session.cookies)
        twin.csrf, twin.cells = self.csrf, dict(self.cells)
        outcome: dict = {}

        def run():
            try:
                outcome["twin"] = getattr(twin, action)(*args)
            except Exception as error:  # noqa: BLE001 - raised below, in the caller's thread
                outcome["error"] = error

        thread = threading.Thread(target=run)
        thread.start()
        try:
            mine = getattr(self, action)(*args)
        finally:
            thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return [mine, outcome["twin"]]


def accounts_of(emails: list[str], client: int, clients: int) -> list[str]:
    """The accounts one client signs in with (the two guardians of a family go to different clients)."""
    # No two clients share an account: a sign-out ends every session of its account.
    return emails[client::clients] or emails


def pick_cells(keys: list[str], count: int) -> list[str]:
    return random.sample(keys, min(count, len(keys)))


def verdict(messages: list[str], checks: list, folder: Path) -> int:
    """The end of a bench's report: the first errors, the invariants, OK or ÉCHEC; the exit status."""
    if messages:
        print(f"\nErreurs ({len(messages)}), les premières (traces du serveur : {folder / 'gunicorn.log'}) :")
        for message in messages[:8]:
            print(f"  - {message}")
    print("\nInvariants :")
    print("\n".join(check.line() for check in checks))
    failed = [c for c in checks if not c.ok]
    print(f"\n{'ÉCHEC' if messages or failed else 'OK'} : {len(messages)} erreur(s), "
          f"{len(failed)} invariant(s) en échec. Journaux : {folder}")
    return 1 if messages or failed else 0
