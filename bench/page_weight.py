"""What a parent's phone downloads on a first visit to the week grid (Famille Martin, demo commune,
week 2026-W48): each resource's size raw and as sent compressed (gzip, as Chromium asks over plain
HTTP; br, as it asks over HTTPS), and the total; then the grid's HTML for the 3-child Famille Dupont.
Figures are printed, never asserted.

    .venv/bin/python bench/page_weight.py
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import models  # noqa: E402
from app import create_app  # noqa: E402
from models import db  # noqa: E402
from services.accounts import users  # noqa: E402
from services.core import clock  # noqa: E402
from services.demo import seed_demo  # noqa: E402

PAGE = "/reservations?semaine=2026-W48"


def main() -> None:
    users.configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)
    folder = Path(tempfile.mkdtemp(prefix="bench-weight-"))
    os.environ.pop("PORTAIL_NOW", None)
    clock.freeze("2026-11-19T17:55")
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}", "OUTBOX_DIR": str(folder / "outbox"),
                      "UPLOAD_DIR": str(folder / "uploads")})
    with db.connection_context():
        db.create_tables(models.all_models())
        seed_demo()
    client = app.test_client()
    client.post("/connexion", data={"email": "famille.martin@example.fr", "password": "Demo-Portail-2026!"})
    page = client.get(PAGE)
    assert page.status_code == 200, page.status_code
    links = re.findall(r'(?:href|src)="(/static/[^"]+|/theme\.css[^"]*)"', page.get_data(as_text=True))
    rows, totals = [], {"raw": 0, "gzip": 0, "br": 0}
    for url in [PAGE, *links]:
        raw = len(client.get(url).data)
        sizes = {"raw": raw}
        for encoding in ("gzip", "br"):
            sizes[encoding] = len(client.get(url, headers={"Accept-Encoding": encoding}).data)
        rows.append((url.split("?")[0], sizes))
        for key in totals:
            totals[key] += sizes[key]
    print(f"{'Ressource':<42} {'brut':>9} {'gzip':>9} {'br':>9}")
    for url, sizes in rows:
        print(f"{url:<42} {sizes['raw'] / 1000:>7.1f} k {sizes['gzip'] / 1000:>7.1f} k {sizes['br'] / 1000:>7.1f} k")
    print(f"{'Total (' + str(len(rows)) + ' requêtes)':<42} {totals['raw'] / 1000:>7.1f} k "
          f"{totals['gzip'] / 1000:>7.1f} k {totals['br'] / 1000:>7.1f} k")
    # The grid's HTML for the demo's 3-child household (issue 14's target: at most 40 KB).
    other = app.test_client()
    other.post("/connexion", data={"email": "famille.dupont@example.fr", "password": "Demo-Portail-2026!"})
    grid = other.get(PAGE)
    cells = grid.get_data(as_text=True).count('class="cell ')
    print(f"Grille de la Famille Dupont (3 enfants, {cells} cases) : {len(grid.data) / 1000:.1f} k de HTML, "
          f"{len(other.get(PAGE, headers={'Accept-Encoding': 'gzip'}).data) / 1000:.1f} k en gzip")


if __name__ == "__main__":
    main()
