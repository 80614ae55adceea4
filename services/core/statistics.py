"""The query planner's statistics. SQLite keeps none until ANALYZE is run: without them it takes any
index on an equality for a selective one, and read every validated enrolment of the commune through
`enrolment(status)` to find a household's activities (the home page, 4.8 % of the rush's CPU). With
them it goes through `enrolment(child_id)`. PostgreSQL's autovacuum keeps its own; ANALYZE there only
refreshes them sooner, and a server with autovacuum switched off is named (autovacuum_warning)."""
from __future__ import annotations

import time

from models import db
from services.core.transactions import is_sqlite


def refresh() -> str:
    """ANALYZE the whole database (every night, and after each upgrade): a few seconds at 10,000 households."""
    started = time.perf_counter()
    if is_sqlite():
        db.execute_sql("PRAGMA analysis_limit=0")  # every row: a sampled count misleads on skewed columns
    db.execute_sql("ANALYZE")
    done = f"statistiques du planificateur à jour en {time.perf_counter() - started:.1f} s"
    warning = autovacuum_warning()
    return f"{done} ; {warning}" if warning else done


AUTOVACUUM_OFF = ("ATTENTION : l'autovacuum de PostgreSQL est désactivé. Le panier, les commandes et les "
                  "courriels sont réécrits toute la journée : sans lui, leurs lectures gardent le plan d'une table "
                  "vide et parcourent chaque ligne morte (README, « PostgreSQL »). "
                  "ALTER SYSTEM SET autovacuum = on; SELECT pg_reload_conf();")


def autovacuum_warning() -> str:
    """A warning when the PostgreSQL server runs without autovacuum (a test or CI server may); else empty."""
    # Measured in the 5 December rush: the basket's prepared reads, planned on an empty table, read every dead
    # line of it (7 million rows every 10 s), as nothing refreshed the statistics nor removed the lines.
    if is_sqlite():
        return ""
    (setting,) = db.execute_sql("SHOW autovacuum").fetchone()
    return "" if setting == "on" else AUTOVACUUM_OFF
