"""Rollups, retention and jobs from Python: each call is one call into a SQL function.

The same functions serve pg_cron, an external scheduler, POST /rpc and this
module; nothing here holds logic the SQL does not.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from pgpkg import db

# The order `pgpkg jobs run` uses when no job is named: partitions first, the
# rollups, the day, the views over the rollups, and retention last.
JOBS = [
    "analytics-maintain-partitions",
    "analytics-rollup",
    "aggregate-analytics-daily",
    "analytics-refresh-views",
    "analytics-cleanup",
]


def refresh(dsn: str | None = None, max_buckets: int | None = None) -> dict[str, Any]:
    """Roll up every marked bucket (in bounded calls, until none remain), then refresh the views."""
    dsn = db.resolve_dsn(dsn)
    runs = []
    while True:
        result = db.call(dsn, "SELECT analytics.refresh_rollups(max_buckets => %s) AS result", (max_buckets,))
        runs.append(result)
        if result.get("skipped") or result.get("remaining_buckets", 0) == 0:
            break
    views = db.call(dsn, "SELECT analytics.refresh_views() AS result")
    return {
        "rollups": {
            "runs": len(runs),
            "buckets": sum(r.get("buckets", 0) for r in runs),
            "skipped": any(r.get("skipped") for r in runs),
        },
        "views": views,
    }


def aggregate(dsn: str | None = None, day: date | None = None) -> dict[str, Any]:
    dsn = db.resolve_dsn(dsn)
    if day is None:
        return db.call(dsn, "SELECT analytics.aggregate_analytics_daily() AS result")
    return db.call(dsn, "SELECT analytics.aggregate_analytics_daily(%s) AS result", (day,))


def backfill(
    from_day: date, to_day: date, dsn: str | None = None, progress: Callable[[int, int, date], None] | None = None
) -> dict[str, Any]:
    """Rebuild the rollups of from_day..to_day, one day (one transaction) at a time."""
    dsn = db.resolve_dsn(dsn)
    days = (to_day - from_day).days + 1
    totals = {"days": 0, "buckets": 0, "hourly_rows": 0, "sessions": 0, "experiment_sessions": 0}
    with db.connect(dsn) as conn:
        for offset in range(max(days, 0)):
            day = from_day + timedelta(days=offset)
            result = db.call(conn, "SELECT analytics.backfill_aggregates(%s, %s) AS result", (day, day))
            conn.commit()
            totals["days"] += 1
            for key in ("buckets", "hourly_rows", "sessions", "experiment_sessions"):
                totals[key] += int(result.get(key) or 0)
            if progress:
                progress(offset + 1, days, day)
    return {"from_day": from_day.isoformat(), "to_day": to_day.isoformat(), **totals}


def cleanup(dsn: str | None = None) -> dict[str, Any]:
    return db.call(db.resolve_dsn(dsn), "SELECT analytics.cleanup() AS result")


def schedule_jobs(dsn: str | None = None) -> dict[str, Any]:
    return db.call(db.resolve_dsn(dsn), "SELECT analytics.schedule_jobs() AS result")


def unschedule_jobs(dsn: str | None = None) -> dict[str, Any]:
    return db.call(db.resolve_dsn(dsn), "SELECT analytics.unschedule_jobs() AS result")


def job_status(dsn: str | None = None) -> list[dict[str, Any]]:
    with db.connect(db.resolve_dsn(dsn)) as conn:
        return conn.execute("SELECT * FROM analytics.job_status ORDER BY job_name").fetchall()


def run_jobs(dsn: str | None = None, names: list[str] | None = None) -> list[dict[str, Any]]:
    """Run jobs once through analytics.run_job(), each in its own transaction."""
    dsn = db.resolve_dsn(dsn)
    return [db.call(dsn, "SELECT analytics.run_job(%s) AS result", (name,)) for name in (names or JOBS)]


def print_progress(done: int, total: int, day: date) -> None:
    """A one-line progress bar on stderr (only on a terminal)."""
    if not sys.stderr.isatty():
        return
    width = 30
    bar = "#" * int(width * done / max(total, 1))
    sys.stderr.write(f"\r[{bar:<{width}}] {done}/{total} days  {day.isoformat()}")
    sys.stderr.flush()
