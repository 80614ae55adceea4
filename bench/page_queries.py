"""SQL statements per request of the parents' pages (issue 16), for the 3-child Dupont household: on
the demo commune, then with households added by tests/bulk_commune.py (300 as in
tests/test_parent_query_counts.py, which asserts the bounds; --households for more). SQLite.

    .venv/bin/python bench/page_queries.py [--households 300]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["PORTAIL_QUEUE"] = "memory"

import models  # noqa: E402
from app import create_app  # noqa: E402
from models import db  # noqa: E402
from services.core import clock  # noqa: E402
from services.demo import seed_demo  # noqa: E402
from tests.bulk_commune import add_households  # noqa: E402
from tests.conftest import TEST_NOW, Auth  # noqa: E402 - also sets cheap password hashing
from tests.test_parent_query_counts import BOUNDS, DAYS, measure_parent_pages  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=300, help="households added for the second count")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-page-queries-"))
    os.environ.pop("PORTAIL_NOW", None)
    clock.freeze(TEST_NOW)
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "PORTAIL_ENV": "development", "PORTAIL_NOW": "",
                      "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}", "OUTBOX_DIR": str(folder / "outbox"),
                      "UPLOAD_DIR": str(folder / "uploads"), "MAIL_SERVER": "", "SERVER_NAME": "portail.test"})
    db.connect(reuse_if_open=True)  # as the tests do: each request closes it, the next opens it again
    db.create_tables(models.all_models())
    ctx = seed_demo()
    client = app.test_client()
    Auth(client).login("famille.dupont@example.fr")
    small = measure_parent_pages(client, ctx, DAYS["small"])
    add_households(ctx, 1, args.households)
    large = measure_parent_pages(client, ctx, DAYS["large"])
    db.close_all()
    print("Requêtes SQL par page (Famille Dupont, 3 enfants ; SQLite ; borne : tests/test_parent_query_counts.py)")
    print(f"{'page':<22}{'démo':>8}{f'+{args.households} foyers':>16}{'borne':>8}")
    for name in small:
        print(f"{name:<22}{small[name]:>8}{large[name]:>16}{BOUNDS[name]:>8}")


if __name__ == "__main__":
    main()
