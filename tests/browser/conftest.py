"""Browser tests: a real server in a subprocess (its own SQLite database with the demo commune),
headless Debian Chromium driven by Playwright, and axe-core on every page visited.

Fixtures: `live_server` (module scope: .url, .outbox(), .set_clock(iso), .instance),
`page_phone` (390×844), `page_desktop` (1280×900), `page` (parametrised over both),
and the helpers `sign_in(page, url, email)` (the sign-in form, as a new user of the browser) and
`axe_check(page)` asserting 0 WCAG 2.1 A/AA violations.
"""
from __future__ import annotations

import atexit
import email
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from email import policy
from pathlib import Path

import pytest

from services.demo import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
DEFAULT_NOW = "2026-11-19T17:55"
_TEMPLATES = Path(tempfile.mkdtemp(prefix="portail-demo-"))  # seeded instances, one per moment
atexit.register(shutil.rmtree, _TEMPLATES, True)

try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - make test installs it
    sync_playwright = None
    PlaywrightError = Exception


def pytest_collection_modifyitems(config, items):
    """Every test under tests/browser is marked `browser`, and skipped with a reason when it can't run."""
    reason = None
    if sync_playwright is None:
        reason = "Playwright n'est pas installé (make test l'installe)."
    elif not Path(CHROMIUM).exists():
        reason = f"Chromium absent ({CHROMIUM}) : installez le paquet Debian « chromium » (make test le fait en root)."
    elif not AXE_JS.exists():
        reason = "axe-core absent : lancez « npm ci » (make test le fait)."
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.browser)
            if reason and os.environ.get("CI"):
                item.missing_browser = reason  # CI never skips them: pytest_runtest_setup fails them
            elif reason:
                item.add_marker(pytest.mark.skip(reason=reason))


def pytest_runtest_setup(item):
    """In CI (CI set), a browser test whose Chromium, Playwright or axe-core is missing fails."""
    reason = getattr(item, "missing_browser", None)
    if reason:
        pytest.fail(f"CI : {reason}", pytrace=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """A development server of the portal on its own port, database and outbox."""

    def __init__(self, instance: Path, now: str = DEFAULT_NOW):
        self.instance = instance
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "INSTANCE_PATH": str(instance), "PORTAIL_ENV": "development",
                    "DATABASE_URL": f"sqlite:///{instance / 'portail.db'}", "PORTAIL_NOW": now,
                    "DEV_CLOCK_CONTROL": "1", "SECRET_KEY": "browser-tests", "MAIL_SERVER": "",
                    "OUTBOX_DIR": str(instance / "outbox"), "UPLOAD_DIR": str(instance / "uploads")}
        self.env.pop("PORTAIL_QUEUE", None)  # the live server and its worker share instance/huey.db
        self.worker: subprocess.Popen | None = None
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        flask = [sys.executable, "-m", "flask", "--app", "app"]
        self._init_db(flask)
        self.log = open(self.instance / "server.log", "w")
        self.process = subprocess.Popen(flask + ["run", "--port", str(self.port), "--no-reload"],
                                        cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        # The background worker delivers mail as `make run` does.
        self.worker = subprocess.Popen(flask + ["worker"], cwd=ROOT, env=self.env, stdout=self.log,
                                       stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.url + "/contact", timeout=2)
                return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.2)
        raise RuntimeError("the live server did not start:\n" + (self.instance / "server.log").read_text())

    def _init_db(self, flask: list[str]) -> None:
        """The demo commune at this server's moment: seeded once per moment and session (~2 s), then
        copied into each module's instance. An instance that already has its database (a test that
        prepared it) runs init-db itself."""
        if (self.instance / "portail.db").exists() or self.env["PORTAIL_ENV"] != "development":
            subprocess.run(flask + ["init-db"], cwd=ROOT, env=self.env, check=True, capture_output=True)
            return
        template = _TEMPLATES / self.env["PORTAIL_NOW"].replace(":", "-")
        if not template.exists():
            folder = template.with_suffix(".partial")
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            env = {**self.env, "INSTANCE_PATH": str(folder), "DATABASE_URL": f"sqlite:///{folder / 'portail.db'}",
                   "OUTBOX_DIR": str(folder / "outbox"), "UPLOAD_DIR": str(folder / "uploads")}
            subprocess.run(flask + ["init-db"], cwd=ROOT, env=env, check=True, capture_output=True)
            (folder / "huey.db").unlink(missing_ok=True)  # each server's queue starts empty
            folder.rename(template)
        shutil.copytree(template, self.instance, dirs_exist_ok=True)

    def stop(self) -> None:
        for process in (self.process, self.worker):
            if process:
                process.terminate()
                process.wait(timeout=10)
        self.log.close()

    def set_clock(self, iso: str) -> None:
        """Move the server's frozen clock (e.g. from Thursday 17:55 to 18:01)."""
        request = urllib.request.Request(self.url + "/dev/horloge", data=json.dumps({"now": iso}).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        urllib.request.urlopen(request, timeout=5).read()

    def outbox(self, wait: float = 5.0) -> list[dict]:
        """Mails the worker delivered, newest first: to, subject, body (waits for the queue to drain)."""
        folder = self.instance / "outbox"
        deadline = time.time() + wait
        while time.time() < deadline and self._undelivered():
            time.sleep(0.1)
        messages = []
        for path in sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns, reverse=True) if folder.exists() else []:
            parsed = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            body = parsed.get_body(preferencelist=("plain",))
            messages.append({"to": parsed["To"], "subject": parsed["Subject"],
                             "body": body.get_content() if body else ""})
        return messages


    def _undelivered(self) -> int:
        """Mails still waiting in the server's outbox table."""
        import sqlite3
        with sqlite3.connect(self.instance / "portail.db") as connection:
            return connection.execute("SELECT COUNT(*) FROM outgoing_mail WHERE status != 'sent'").fetchone()[0]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    instance = tmp_path_factory.mktemp("live-instance")
    server = LiveServer(instance)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


def _new_page(browser, viewport: str):
    # bypass_csp lets axe-core be injected; the portal's own pages never need it.
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="fr-FR", bypass_csp=True,
                                  timezone_id="Europe/Paris")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.viewport_name = viewport
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.js_errors = errors
    return context, page


@pytest.fixture
def page_phone(browser):
    context, page = _new_page(browser, "phone")
    yield page
    context.close()


@pytest.fixture
def page_desktop(browser):
    context, page = _new_page(browser, "desktop")
    yield page
    context.close()


@pytest.fixture(params=["phone", "desktop"])
def page(request, browser):
    context, page = _new_page(browser, request.param)
    yield page
    context.close()


def sign_in(page, url: str, email: str, password: str = DEMO_PASSWORD, *, landing=None) -> None:
    """Sign in through /connexion as a new user of the browser; wait for `landing` (glob, regex) or any other page."""
    page.context.clear_cookies()  # a previous user's session
    page.goto(url + "/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(landing if landing is not None else lambda address: "/connexion" not in address)


def _run_axe(page, attempts: int = 3) -> dict:
    """Inject axe-core and run it once the current document has loaded."""
    for attempt in range(attempts):
        # A click that navigates returns before the next document exists: injecting then finds
        # no <head> (CI stop 20). Wait for the load, and start again if a navigation raced us.
        page.wait_for_load_state("load")
        try:
            page.add_script_tag(path=str(AXE_JS))
            return page.evaluate(
                """async () => await axe.run(document, {runOnly: {type: 'tag',
                     values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})""")
        except PlaywrightError:
            if attempt == attempts - 1:
                raise
            page.wait_for_timeout(100)
    raise AssertionError("unreachable")


def axe_check(page, context: str = "") -> None:
    """Run axe-core (WCAG 2.0/2.1 A and AA rules) on the current page and fail on any violation.
    Also checks there is no horizontal scrolling at the current width."""
    result = _run_axe(page)
    violations = [
        f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(n["target"][0] if isinstance(n["target"][0], str)
                                                               else str(n["target"]) for n in v["nodes"][:5])
        for v in result["violations"]
    ]
    assert not violations, f"axe-core on {page.url} {context}:\n" + "\n".join(violations)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"horizontal scroll of {overflow}px on {page.url}"
