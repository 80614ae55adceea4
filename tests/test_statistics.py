"""The planner's statistics (services/core/statistics.py): without them SQLite read every validated
enrolment of the commune through enrolment(status) to find one household's activities (the home page
of the 17:55 rush); the nightly job, `flask refresh-statistics` and each upgrade give them."""
from __future__ import annotations

import datetime as dt

import jobs
from models import Activity, Enrolment, db
from services.core import statistics
from services.core.transactions import is_sqlite


def _plan_of_a_households_activities(children: list[int]) -> str:
    """How the database reads the home page's « activities of these children » (audience._enrolled_activities)."""
    query = (Enrolment.select(Enrolment.activity).join(Activity)
             .where(Enrolment.child.in_(children) & (Enrolment.status == "validated") & Activity.active)
             .distinct().tuples())
    sql, params = query.sql()
    explain = "EXPLAIN QUERY PLAN " if is_sqlite() else "EXPLAIN "
    return "\n".join(str(row) for row in db.execute_sql(explain + sql, params).fetchall())


def test_a_households_activities_are_read_through_its_children_once_statistics_exist(demo):
    children = [child.id for child in demo["households"]["martin"].children]
    if is_sqlite():
        assert "enrolment_status" in _plan_of_a_households_activities(children)  # the observed defect
    assert "statistiques du planificateur à jour" in statistics.refresh()
    plan = _plan_of_a_households_activities(children)
    assert "enrolment_status" not in plan, plan
    if is_sqlite():
        assert db.execute_sql("SELECT count(*) FROM sqlite_stat1").fetchone()[0] > 0


def test_the_worker_refreshes_them_every_night_and_the_command_now(app, demo):
    task = jobs.refresh_statistics.task_class()
    assert task.validate_datetime(dt.datetime(2026, 12, 4, 3, 50))
    assert not task.validate_datetime(dt.datetime(2026, 12, 4, 3, 51))
    assert jobs.refresh_statistics.call_local().startswith("statistiques du planificateur à jour")
    result = app.test_cli_runner().invoke(args=["refresh-statistics"])
    assert result.exit_code == 0 and "statistiques du planificateur à jour" in result.output


def test_a_postgresql_server_without_autovacuum_is_named(app):
    """The 5 December rush ran on a server with autovacuum off (this CI's): the basket's reads kept the plan of an
    empty table and walked every dead line. The refresh (nightly, `refresh-statistics`, after an upgrade) says so
    when the server's own setting is off (on SQLite, nothing to say)."""
    if is_sqlite():
        assert statistics.autovacuum_warning() == ""
        assert "autovacuum" not in statistics.refresh()
        return
    (setting,) = db.execute_sql("SHOW autovacuum").fetchone()
    off = setting != "on"
    assert (statistics.autovacuum_warning() == statistics.AUTOVACUUM_OFF) is off
    assert (statistics.AUTOVACUUM_OFF in statistics.refresh()) is off
    result = app.test_cli_runner().invoke(args=["refresh-statistics"])
    assert result.exit_code == 0
    assert (statistics.AUTOVACUUM_OFF in result.output) is off
