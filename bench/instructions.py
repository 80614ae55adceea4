"""Instructions per request of the parents' pages, counted by valgrind's callgrind: the same figure on a
quiet or a busy machine (a timing on these shared 2-core machines moves by 1.5× within minutes), so two
versions of the code can be compared one after the other. The demo commune on SQLite, the 3-child Dupont
household, Flask's test client in one process; PostgreSQL's server is another process and is not counted.

    .venv/bin/python bench/instructions.py                       # toggle, grid, basket, month, dashboard
    .venv/bin/python bench/instructions.py --pages toggle --requests 40

Each page runs in its own process under callgrind, once with `--requests` requests after the warm-up and
once without: the difference divided by the requests is the figure. About a minute per page on 2 cores.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WEEK = "2026-W50"  # open on TEST_NOW (Sunday 29 November 2026): its deadline is Thursday 3 December
PAGES = ("toggle", "grid", "basket", "month", "dashboard")


def _app(folder: Path):
    """The application on the demo database in `folder`, clock frozen, mail and queue in memory."""
    os.environ["PORTAIL_QUEUE"] = "memory"
    os.environ.pop("PORTAIL_NOW", None)
    from app import create_app
    from services.core import clock
    from tests.conftest import TEST_NOW  # noqa: F401 - also sets cheap password hashing, as the demo was seeded

    clock.freeze(TEST_NOW)
    return create_app({"TESTING": True, "SECRET_KEY": "bench", "PORTAIL_ENV": "development", "PORTAIL_NOW": "",
                       "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}", "OUTBOX_DIR": str(folder / "outbox"),
                       "UPLOAD_DIR": str(folder / "uploads"), "MAIL_SERVER": "", "SERVER_NAME": "portail.test"})


def seed(folder: Path) -> None:
    """The demo commune in folder/bench.db (outside valgrind: seeding is not what is measured)."""
    import models
    from models import db
    from services.demo import seed_demo

    _app(folder)
    db.connect(reuse_if_open=True)
    db.create_tables(models.all_models())
    ctx = seed_demo()
    db.close_all()
    (folder / "cell").write_text(f"{ctx['children']['ines'].id}:{ctx['units']['repas_phare'].id}:2026-12-07")


def run_pages(folder: Path, pages: list[str], requests: int) -> None:
    """Sign in, warm every page up, then `requests` requests of each page (a toggle ticks and unticks one cell)."""
    from tests.conftest import Auth, csrf_token

    client = _app(folder).test_client()
    Auth(client).login("famille.dupont@example.fr")
    key = (folder / "cell").read_text()  # Inès's canteen on Monday 7 December
    token = csrf_token(client, f"/reservations?semaine={WEEK}")
    headers = {"HX-Request": "true", "X-CSRFToken": token}
    calls = {
        "toggle": lambda n: client.post("/reservations/case", headers=headers,
                                        data={"cell": key, **({"cells": key} if n % 2 == 0 else {})}),
        "grid": lambda n: client.get(f"/reservations?semaine={WEEK}"),
        "basket": lambda n: client.get("/panier"),
        "month": lambda n: client.get("/reservations/mois?mois=2026-12"),
        "dashboard": lambda n: client.get("/mon-espace"),
    }
    for name, call in calls.items():  # caches filled, as in a running server
        for n in range(2):
            assert call(n).status_code == 200, name
    for page in pages:
        for n in range(requests):
            assert calls[page](n).status_code == 200, page


def instructions(folder: Path, page: str, requests: int) -> int:
    """Instructions callgrind counted for a whole child process."""
    work = Path(tempfile.mkdtemp(prefix=f"bench-instr-{page}-{requests}-"))
    try:
        shutil.copy(folder / "bench.db", work / "bench.db")
        shutil.copy(folder / "cell", work / "cell")
        if (folder / "uploads").exists():
            shutil.copytree(folder / "uploads", work / "uploads")
        done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
                               __file__, "--child", str(work), "--pages", page, "--requests", str(requests)],
                              capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": "0"})  # the same run, instruction for instruction
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return int(re.search(r"Collected : (\d+)", done.stderr).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", default=",".join(PAGES), help=f"among {', '.join(PAGES)}")
    parser.add_argument("--requests", type=int, default=20, help="requests counted per page")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    parser.add_argument("--seed", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    pages = [p for p in args.pages.split(",") if p]
    if unknown := set(pages) - set(PAGES):
        parser.error(f"pages inconnues : {', '.join(sorted(unknown))}")
    if args.seed:
        seed(Path(args.seed))
        return
    if args.child:
        run_pages(Path(args.child), pages, args.requests)
        return
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind manque (Debian : apt-get install valgrind)")
    folder = Path(tempfile.mkdtemp(prefix="bench-instructions-"))
    try:
        subprocess.run([sys.executable, __file__, "--seed", str(folder)], check=True, capture_output=True)
        jobs = [(page, n) for page in pages for n in (0, args.requests)]
        with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
            counted = dict(zip(jobs, pool.map(lambda job: instructions(folder, *job), jobs)))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    commit = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h %s"], capture_output=True,
                            text=True).stdout.strip()
    print(f"Instructions par requête (callgrind ; démo, SQLite, Famille Dupont, 3 enfants ; {args.requests} "
          f"requêtes par page) — {commit[:72]}")
    for page in pages:
        per_request = (counted[(page, args.requests)] - counted[(page, 0)]) / args.requests
        print(f"  {page:<10} {per_request / 1e6:8.2f} millions")


if __name__ == "__main__":
    main()
