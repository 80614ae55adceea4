"""Benchmark of the reservations screens (issue 5): the demo commune scaled to 2,000 households
with a school year of bookings; median server time of rendering /reservations for a 3-child
household and of a cell toggle (Flask test client, SQLite), and the toggle response size.

    .venv/bin/python bench/bench_reservations.py [--households 2000] [--runs 50] [--readme]

--readme appends the figures to README.md under "Réservations". Figures are printed, never
asserted in timed tests.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import models  # noqa: E402
from app import create_app  # noqa: E402
from models import Booking, Child, Enrolment, Household, User, db  # noqa: E402
from services.accounts import users  # noqa: E402
from services.booking import calendar
from services.core import clock
from services.core.transactions import write_transaction  # noqa: E402
from services.demo import seed_demo  # noqa: E402

NOW = "2026-11-19T17:55"
WEEK = "2026-W48"


def scale(ctx: dict, households: int) -> Household:
    """Add `households` families (1–3 children, canteen + garderie, a year of bookings) and one
    3-child household to measure; returns the latter."""
    units = ctx["units"]
    activities = ctx["activities"]
    start, end = calendar.school_year_bounds(2026)
    days = {key: calendar.opening_days(units[key], start, end)
            for key in ("repas_phare", "garderie_soir_phare", "garderie_matin_phare", "alsh_journee")}
    stamp = dt.datetime(2026, 8, 31, 12, 0)
    bookings: list[dict] = []
    enrolments: list[dict] = []

    def family(index: int, n_children: int) -> Household:
        household = Household.create(name=f"Famille Banc {index}", status="validated", quotient_familial=400 + index % 1200)
        for position in range(n_children):
            child = Child.create(household=household, first_name=f"Enfant{position}", last_name=f"Banc{index}",
                                 school=ctx["schools"]["phare"], position=position)
            for key in ("cantine_phare", "garderie_phare", "alsh_mercredi"):
                enrolments.append(dict(child=child.id, activity=activities[key].id, status="validated",
                                       requested_at=stamp))
            for key, weekdays in (("repas_phare", {0, 1, 3, 4}), ("garderie_soir_phare", {0, 3})):
                unit = units[key]
                for day in days[key]:
                    if day.weekday() in weekdays:
                        bookings.append(dict(household=household.id, child=child.id, unit=unit.id, date=day,
                                             status="booked", sequence=1, price=210, created_at=stamp))
        return household

    with write_transaction():
        for index in range(households):
            family(index, 1 + index % 3)
        measured = family(households, 3)
        User.create(email="banc@example.fr", role="parent", household=measured, activated=True,
                    password_hash=users.hash_password("Banc-Portail-2026!"), created_at=stamp)
        for chunk in range(0, len(enrolments), 2000):
            Enrolment.insert_many(enrolments[chunk:chunk + 2000]).execute()
        for chunk in range(0, len(bookings), 5000):
            Booking.insert_many(bookings[chunk:chunk + 5000]).execute()
    return measured


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--readme", action="store_true", help="append the figures to README.md")
    args = parser.parse_args()

    users.configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)
    folder = Path(tempfile.mkdtemp(prefix="bench-reservations-"))
    os.environ.pop("PORTAIL_NOW", None)
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}", "OUTBOX_DIR": str(folder / "outbox"),
                      "UPLOAD_DIR": str(folder / "uploads"), "SERVER_NAME": "portail.test"})
    started = time.perf_counter()
    with db.connection_context():
        db.create_tables(models.all_models())
        ctx = seed_demo()
        measured = scale(ctx, args.households)
        total_bookings = Booking.select().count()
        user = User.get(User.email == "banc@example.fr")
        child = Child.select().where(Child.household == measured).order_by(Child.position).first()
        cell = f"{child.id}:{ctx['units']['repas_phare'].id}:2026-11-23"
    print(f"Données : {args.households + 3} foyers, {total_bookings} réservations "
          f"(préparation {time.perf_counter() - started:.0f} s)")

    clock.freeze(NOW)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()  # "<id>.<session version>", as Flask-Login stores it
        session["_fresh"] = True

    grid_times = []
    for _ in range(args.runs + 3):
        t0 = time.perf_counter()
        response = client.get(f"/reservations?semaine={WEEK}")
        grid_times.append(time.perf_counter() - t0)
        assert response.status_code == 200 and "Panier (" in response.get_data(as_text=True)
    grid_times = grid_times[3:]  # warm-up

    toggle_times, sizes = [], []
    for i in range(args.runs + 3):
        data = {"cell": cell}
        if i % 2 == 0:
            data["cells"] = cell
        t0 = time.perf_counter()
        response = client.post("/reservations/case", data=data, headers={"HX-Request": "true"})
        toggle_times.append(time.perf_counter() - t0)
        assert response.status_code == 200, response.status_code
        sizes.append(len(response.data))
    toggle_times = toggle_times[3:]

    grid_ms, toggle_ms, size = median_ms(grid_times), median_ms(toggle_times), max(sizes)
    lines = [
        f"- Données : {args.households + 3} foyers, {total_bookings} réservations (année scolaire 2026-2027), SQLite.",
        f"- `/reservations` (foyer de 3 enfants, 7 prestations chacun, semaine {WEEK}) : médiane "
        f"{grid_ms:.1f} ms sur {args.runs} rendus (client de test).",
        f"- Case cochée/décochée (htmx) : médiane {toggle_ms:.1f} ms sur {args.runs} requêtes ; "
        f"réponse de {size} octets au plus.",
    ]
    print("\n".join(lines))
    if args.readme:
        readme = ROOT / "README.md"
        with readme.open("a", encoding="utf-8") as handle:
            handle.write("\n## Réservations\n\nMesures de `bench/bench_reservations.py` "
                         f"({dt.date.today().strftime('%d/%m/%Y')}, objectif : moins de 20 ms et 4 Ko) :\n\n"
                         + "\n".join(lines) + "\n")
        print("Chiffres ajoutés à README.md (section « Réservations »).")


if __name__ == "__main__":
    main()
