"""The pgpkg commands for rollups, retention and jobs, as a DBA types them."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from tests.conftest import track_events


def pgpkg(dsn: str, *args: str) -> object:
    result = subprocess.run([sys.executable, "-m", "pgpkg.cli", "--dsn", dsn, *args], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_refresh_aggregate_backfill_cleanup(dsn, conn):
    yesterday = datetime.now(UTC) - timedelta(days=1)
    track_events(
        conn,
        [
            {
                "session_id": f"s{i}",
                "event_type": "pageview",
                "name": "/",
                "occurred_at": (yesterday + timedelta(minutes=i)).isoformat(),
            }
            for i in range(10)
        ],
    )
    refreshed = pgpkg(dsn, "refresh")
    assert refreshed["rollups"]["buckets"] >= 1 and refreshed["views"]["rows"] == 1
    day = yesterday.date().isoformat()
    assert pgpkg(dsn, "aggregate", "--day", day)["day"] == day
    backfilled = pgpkg(dsn, "backfill", (yesterday.date() - timedelta(days=1)).isoformat(), day)
    assert backfilled["days"] == 2 and backfilled["buckets"] >= 1
    assert "raw" in pgpkg(dsn, "cleanup")
    totals = conn.execute("SELECT sum(events) AS n FROM analytics.rollup_daily_totals").fetchone()["n"]
    assert totals == 10


def test_jobs_commands(dsn, conn):
    runs = pgpkg(dsn, "jobs", "run")
    assert [r["job"] for r in runs] == [
        "analytics-maintain-partitions",
        "analytics-rollup",
        "aggregate-analytics-daily",
        "analytics-refresh-views",
        "analytics-cleanup",
    ]
    assert {r["status"] for r in runs} == {"succeeded"}
    assert pgpkg(dsn, "jobs", "run", "analytics-rollup")[0]["status"] == "succeeded"
    status = pgpkg(dsn, "jobs", "status")
    rollup = next(s for s in status if s["job_name"] == "analytics-rollup")
    assert rollup["runs_24h"] == 2
    assert pgpkg(dsn, "jobs", "schedule")["pg_cron"] is False  # prints crontab lines instead
    assert pgpkg(dsn, "status")["health"]["pending_buckets"] == 0


def test_errors_come_back_with_their_sqlstate(dsn):
    result = subprocess.run(
        [sys.executable, "-m", "pgpkg.cli", "--dsn", dsn, "jobs", "run", "nope"], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "22023" in result.stderr and "unknown job" in result.stderr
