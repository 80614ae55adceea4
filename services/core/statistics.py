"""The query planner's statistics. SQLite keeps none until ANALYZE is run: without them it takes any
index on an equality for a selective one, and read every validated enrolment of the commune through
`enrolment(status)` to find a household's activities (the home page, 4.8 % of the rush's CPU). With
them it goes through `enrolment(child_id)`. PostgreSQL's autovacuum keeps its own; ANALYZE there only
refreshes them sooner."""
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
    return f"statistiques du planificateur à jour en {time.perf_counter() - started:.1f} s"
