"""Invoicing speed: a month for 2,000 households (about 60,000 booked days) issued as the worker does it
(an InvoicingRun, one transaction per household), its progress, and one invoice PDF.

Run: .venv/bin/python bench/bench_invoicing.py  (a throw-away SQLite database in a temp folder;
DATABASE_URL=postgresql://…/portail_bench to measure PostgreSQL instead — that database is dropped and
recreated first, so its name must contain « bench »).
"""
from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import harness  # noqa: E402 - reset_postgres; sets the queue to memory before the app is imported
import models  # noqa: E402
from app import create_app  # noqa: E402
from models import (  # noqa: E402
    Activity,
    Booking,
    Child,
    Guardian,
    Household,
    Invoice,
    Regie,
    School,
    TariffBand,
    Unit,
    db,
)
from services.billing import billing_periods, invoicing, invoicing_runs
from services.booking import calendar  # noqa: E402
from services.core import clock, pdf
from services.core.transactions import write_transaction  # noqa: E402

HOUSEHOLDS = 2000
TARGET_SECONDS = {"sqlite": 10, "postgresql": 15}  # issue 16: the month of 2,000 households
YEAR, MONTH = 2027, 3  # March 2027: no school holidays in zone B before the 4th week


def build(households: int) -> tuple[Regie, int]:
    """Units with QF bands, households with a child booked on every canteen and garderie day."""
    school = School.create(name="École du Banc")
    regie = Regie.create(name="Régie banc", code="BANC")
    canteen = Activity.create(name="Restauration scolaire – École du Banc", kind="cantine", regie=regie,
                              school=school, school_year=2026, starts_on=dt.date(2026, 9, 1), ends_on=dt.date(2027, 8, 31))
    garderie = Activity.create(name="Garderie – École du Banc", kind="garderie", regie=regie, school=school,
                               school_year=2026, starts_on=dt.date(2026, 9, 1), ends_on=dt.date(2027, 8, 31))
    repas = Unit.create(activity=canteen, name="Repas", default_price=290, pai_price=150, late_surcharge=100,
                        absence_fee=150)
    soir = Unit.create(activity=garderie, name="Garderie soir", default_price=180)
    for unit, prices in ((repas, (100, 210, 290)), (soir, (90, 140, 180))):
        for (low, high), price in zip(((0, 600), (600, 1000), (1000, None)), prices):
            TariffBand.create(unit=unit, qf_min=low, qf_max=high, price=price)
    start, end = billing_periods.month_bounds(YEAR, MONTH)
    days = [d for d in calendar.daterange(start, end) if d.weekday() in (0, 1, 3, 4)]
    evenings = days[:-4] if len(days) > 4 else days
    now = dt.datetime(2027, 2, 1, 9, 0)
    rows = []
    with write_transaction():
        for n in range(households):
            household = Household.create(name=f"Famille Banc {n:04d}", status="validated",
                                         quotient_familial=None if n % 10 == 0 else (n * 37) % 1600)
            Guardian.create(household=household, first_name="Alex", last_name=f"Banc{n}", is_payer=True,
                            email=f"banc{n}@example.fr")
            child = Child.create(household=household, first_name="Sam", last_name=f"Banc{n}",
                                 birth_date=dt.date(2019, 1, 1), has_pai=n % 25 == 0)
            for unit, unit_days in ((repas, days), (soir, evenings)):
                for index, day in enumerate(unit_days):
                    attendance = "absent" if index == 3 and n % 7 == 0 else "present"
                    rows.append(dict(household=household.id, child=child.id, unit=unit.id, date=day, status="booked",
                                     late=index == 5 and n % 11 == 0, attendance=attendance, created_at=now))
        for chunk in range(0, len(rows), 5000):
            Booking.insert_many(rows[chunk:chunk + 5000]).execute()
    return regie, len(rows)


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-invoicing-"))
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder / 'bench.db'}"
    kind = "postgresql" if url.startswith("postgres") else "sqlite"
    if kind == "postgresql":
        if "bench" not in urlsplit(url).path:
            raise SystemExit(f"Refus d'effacer {url} : le nom de la base doit contenir « bench ».")
        harness.reset_postgres(url)
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url, "SERVER_NAME": "portail.test",
                      "OUTBOX_DIR": str(folder / "outbox"), "PORTAIL_NOW": ""})
    clock.freeze("2027-04-01T08:00")
    db.connect(reuse_if_open=True)
    if True:  # one connection for the whole run (the PDF's request context closes it at the end)
        db.drop_tables(models.all_models(), safe=True, **({} if url.startswith("sqlite") else {"cascade": True}))
        db.create_tables(models.all_models())
        started = time.perf_counter()
        regie, booked = build(HOUSEHOLDS)
        print(f"Jeu de données : {HOUSEHOLDS} foyers, {booked} jours réservés ({time.perf_counter() - started:.1f} s)")
        db.execute_sql("ANALYZE")  # statistics, as a database in use has them (else PostgreSQL scans a month per family)
        started = time.perf_counter()
        preview = invoicing.preview_run(regie, YEAR, MONTH)
        print(f"Aperçu de la facturation : {len(preview.to_issue)} factures, {preview.anomaly_count} anomalies, "
              f"{time.perf_counter() - started:.2f} s")
        started = time.perf_counter()
        run = invoicing_runs.request_run(regie, YEAR, MONTH)
        print(f"« Émettre » (vérifications, clôture, facturation en file) : {(time.perf_counter() - started) * 1000:.0f} ms")
        ticks = []

        def tick(done, total, issued):
            ticks.append((time.perf_counter(), done))

        started, cpu = time.perf_counter(), time.process_time()
        run = invoicing_runs.execute_run(run.id, on_progress=tick)  # what jobs.run_invoicing does in the worker
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        gaps = [b[0] - a[0] for a, b in zip(ticks, ticks[1:])]
        print(f"Facturation du mois par le travailleur : {run.invoices_issued} factures ({run.households_done} / "
              f"{run.households_total} foyers) en {elapsed:.2f} s, soit {elapsed / max(run.households_done, 1) * 1000:.1f} ms "
              f"par foyer (transaction la plus longue : {max(gaps) * 1000:.0f} ms ; temps processeur de ce processus, "
              f"sans celui de PostgreSQL : {cpu:.2f} s) ; objectif sur {kind} : "
              f"< {TARGET_SECONDS[kind]} s, {'atteint' if elapsed < TARGET_SECONDS[kind] else 'NON atteint'}")
        assert run.status == "done" and run.invoices_issued == HOUSEHOLDS
        invoice = Invoice.select().order_by(Invoice.id).first()
        from blueprints.billing import render_invoice_pdf
        with app.test_request_context():
            timings = []
            for _ in range(6):
                started = time.perf_counter()
                data = pdf.html_to_pdf(render_invoice_pdf(invoice))
                timings.append(time.perf_counter() - started)
        print(f"PDF d'une facture : premier rendu {timings[0] * 1000:.0f} ms, ensuite {min(timings[1:]) * 1000:.0f}"
              f"–{max(timings[1:]) * 1000:.0f} ms ({len(data) // 1024} Ko)")
    if not db.is_closed():
        db.close()
    clock.freeze(None)


if __name__ == "__main__":
    main()
