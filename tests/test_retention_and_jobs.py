"""Retention by partition, the job wrapper, job status, health, and pg_cron for real."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg.rows import dict_row

from pgpkg.install import install
from tests.conftest import track_events

TODAY = datetime.now(UTC).date()
JOBS = [
    "aggregate-analytics-daily",
    "analytics-cleanup",
    "analytics-maintain-partitions",
    "analytics-refresh-views",
    "analytics-rollup",
]


def exists(conn, relation: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL AS ok", (relation,)).fetchone()["ok"]


def test_cleanup_drops_expired_partitions_after_rolling_them_up(conn):
    old_day = TODAY - timedelta(days=100)
    kept_day = TODAY - timedelta(days=10)
    conn.execute("SELECT analytics.create_partitions(%s, %s)", (old_day, old_day))
    conn.execute("SELECT analytics.create_partitions(%s, %s)", (kept_day, kept_day))
    # Written around the ingest checks (too old for track_events), and never rolled up.
    for day in (old_day, kept_day):
        conn.execute(
            "INSERT INTO analytics.events (session_id, event_type, occurred_at) "
            "SELECT 's' || g, 'click', %s::date + interval '12 hours' FROM generate_series(1, 50) g",
            (day,),
        )
    assert conn.execute("SELECT count(*) AS n FROM analytics.dirty_buckets").fetchone()["n"] == 2

    report = conn.execute("SELECT analytics.cleanup() AS r").fetchone()["r"]

    assert report["raw"]["dropped"] == [f"events_p{old_day:%Y%m%d}"]
    assert report["raw"]["rolled_up_first"] == 1
    assert not exists(conn, f"analytics.events_p{old_day:%Y%m%d}")
    assert exists(conn, f"analytics.events_p{kept_day:%Y%m%d}")
    daily = conn.execute("SELECT day, events, sessions FROM analytics.rollup_daily_totals ORDER BY day").fetchall()
    assert daily == [{"day": old_day, "events": 50, "sessions": 50}]  # the kept day is still pending: fine
    # Hourly rollups past their own retention are trimmed; daily tables stay.
    for table in (
        "rollup_hourly",
        "rollup_hourly_totals",
        "rollup_hourly_properties",
        "rollup_hourly_visits",
        "rollup_hourly_entry_exit_pages",
        "rollup_hourly_paths",
    ):
        old_rows = f"SELECT count(*) AS n FROM analytics.{table} WHERE bucket < now() - interval '90 days'"
        assert conn.execute(old_rows).fetchone()["n"] == 0, table
    assert (
        conn.execute("SELECT count(*) AS n FROM analytics.sessions WHERE first_seen < %s", (kept_day,)).fetchone()["n"]
        == 50
    )  # the visits themselves stay
    assert conn.execute("SELECT count(*) AS n FROM analytics.events").fetchone()["n"] == 50
    # The key of the expired rows goes with them, and comes back with the kept day's.
    assert report["event_keys_deleted"] == 1
    assert conn.execute("SELECT count(*) AS n FROM analytics.event_keys").fetchone()["n"] == 0
    conn.execute("SELECT analytics.refresh_rollups()")
    keys = conn.execute("SELECT event_type, name FROM analytics.event_keys").fetchall()
    assert keys == [{"event_type": "click", "name": None}]


def test_cleanup_drops_the_user_paths_with_the_raw_events_they_mirror(conn):
    """The per-user paths (0018) go with the raw events: the days the raw cut-off may reach (a local day
    starts at most 14 hours before its UTC date) lose their paths and their span, and funnel() by user
    then probes what the raw events still hold; later days keep theirs."""
    conn.execute("UPDATE analytics.settings SET value = '5' WHERE key = 'raw_retention_days'")
    days = [TODAY - timedelta(days=d) for d in (7, 5, 2)]
    conn.execute("SELECT analytics.create_partitions(%s, %s)", (days[0], days[-1]))
    for day in days:
        conn.execute(
            "INSERT INTO analytics.events (session_id, user_id, event_type, name, occurred_at)"
            " SELECT 's' || g, 'u' || g, t.event_type, t.name, %s::date + interval '12 hours' + t.m * interval '1 minute'"
            " FROM generate_series(1, 3) g, (VALUES ('pageview', '/pricing', 0), ('click', 'cta', 5)) AS t(event_type, name, m)",
            (day,),
        )
    conn.execute("SELECT analytics.refresh_rollups()")
    spans = "SELECT day FROM analytics.rollup_daily_totals WHERE paths_span IS NOT NULL ORDER BY day"
    assert [r["day"] for r in conn.execute(spans).fetchall()] == days
    report = conn.execute("SELECT analytics.cleanup() AS r").fetchone()["r"]
    assert f"events_p{days[0]:%Y%m%d}" in report["raw"]["dropped"] and exists(
        conn, f"analytics.events_p{days[1]:%Y%m%d}"
    )
    assert report["user_paths_deleted"] == 6
    assert [r["day"] for r in conn.execute(spans).fetchall()] == [days[2]]
    paths = conn.execute("SELECT DISTINCT day FROM analytics.rollup_daily_user_paths").fetchall()
    assert [r["day"] for r in paths] == [days[2]]
    counts = conn.execute(
        "SELECT analytics.funnel(ARRAY['pageview=/pricing', 'click=cta'], %s, now(), count_by => 'user',"
        " project_id => 'default') AS r",
        (datetime.combine(days[1], datetime.min.time(), UTC),),
    ).fetchone()["r"]
    assert [s["count"] for s in counts["steps"]] == [3, 3]  # the users of the second day, by probes


def test_cleanup_keeps_the_event_keys_of_the_hour_its_cut_off_falls_in(conn):
    """A session may start in the kept part of the hour the hourly cut-off falls in, and funnel() then
    matches its path; that hour's rows go, but its keys must stay. Keys of older hours go."""
    conn.execute("UPDATE analytics.settings SET value = '2' WHERE key = 'rollup_retention_days'")
    cutoff = datetime.now(UTC) - timedelta(days=2)
    next_hour = cutoff.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    kept_part = cutoff + (next_hour - cutoff) / 2
    track_events(
        conn,
        [
            {"session_id": "a", "event_type": "click", "name": "kept", "occurred_at": kept_part.isoformat()},
            {
                "session_id": "b",
                "event_type": "click",
                "name": "old",
                "occurred_at": (cutoff - timedelta(hours=2)).isoformat(),
            },
        ],
    )
    conn.execute("SELECT analytics.refresh_rollups()")
    report = conn.execute("SELECT analytics.cleanup() AS r").fetchone()["r"]
    assert report["event_keys_deleted"] == 1
    assert [r["name"] for r in conn.execute("SELECT name FROM analytics.event_keys").fetchall()] == ["kept"]


def test_cleanup_trims_rejected_events_and_job_runs(conn):
    track_events(conn, [{"session_id": "", "event_type": "x"}])
    conn.execute("UPDATE analytics.rejected_events SET rejected_at = now() - interval '31 days'")
    conn.execute("SELECT analytics.run_job('analytics-rollup')")
    conn.execute("UPDATE analytics.job_runs SET started_at = now() - interval '31 days'")
    report = conn.execute("SELECT analytics.cleanup() AS r").fetchone()["r"]
    assert (report["rejected_deleted"], report["job_runs_deleted"]) == (1, 1)
    assert report["cron_details_deleted"] is None  # no pg_cron in this database


def test_cleanup_old_raw_events_takes_the_seed_argument(conn):
    day = TODAY - timedelta(days=3)
    conn.execute("SELECT analytics.create_partitions(%s, %s)", (day, day))
    result = conn.execute("SELECT analytics.cleanup_old_raw_events(days => 2) AS r").fetchone()["r"]
    assert f"events_p{day:%Y%m%d}" in result["dropped"]
    assert exists(conn, f"analytics.events_p{TODAY:%Y%m%d}")
    with pytest.raises(psycopg.Error) as error:
        conn.execute("SELECT analytics.cleanup_old_raw_events(days => 0)")
    assert error.value.sqlstate == "22023"


def test_run_job_records_each_run(conn):
    track_events(conn, [{"session_id": "s", "event_type": "click"}])
    result = conn.execute("SELECT analytics.run_job('analytics-rollup') AS r").fetchone()["r"]
    assert result["status"] == "succeeded" and result["result"]["buckets"] == 1
    run = conn.execute("SELECT * FROM analytics.job_runs").fetchone()
    assert (run["job_name"], run["status"], run["rows"]) == ("analytics-rollup", "succeeded", 1)
    assert run["finished_at"] >= run["started_at"]
    status = conn.execute("SELECT * FROM analytics.job_status WHERE job_name = 'analytics-rollup'").fetchone()
    assert status["last_status"] == "succeeded" and status["runs_24h"] == 1 and status["schedule"] == "* * * * *"


@pytest.mark.parametrize("job", JOBS)
def test_every_job_runs(conn, job):
    assert conn.execute("SELECT analytics.run_job(%s) AS r", (job,)).fetchone()["r"]["status"] == "succeeded"


def test_a_run_is_skipped_while_the_previous_holds_the_lock(dsn, conn):
    with psycopg.connect(dsn) as previous:
        previous.execute("SELECT pg_advisory_xact_lock(hashtext('analytics.job:analytics-rollup'))")
        result = conn.execute("SELECT analytics.run_job('analytics-rollup') AS r").fetchone()["r"]
    assert result["status"] == "skipped"
    assert conn.execute("SELECT status FROM analytics.job_runs").fetchone()["status"] == "skipped"


def test_a_failing_job_is_recorded_with_its_error(conn):
    conn.execute("UPDATE analytics.settings SET value = '0' WHERE key = 'rollup_max_buckets'")
    result = conn.execute("SELECT analytics.run_job('analytics-rollup') AS r").fetchone()["r"]
    assert result["status"] == "failed" and result["error"].startswith("22023")
    health = conn.execute("SELECT analytics.health() AS h").fetchone()["h"]
    assert health["jobs"]["analytics-rollup"]["last_error"].startswith("22023")
    assert health["jobs"]["analytics-rollup"]["failures_24h"] == 1


def test_unknown_job(conn):
    with pytest.raises(psycopg.Error) as error:
        conn.execute("SELECT analytics.run_job('nope')")
    assert error.value.sqlstate == "22023" and "analytics-rollup" in error.value.diag.message_hint


def test_without_pg_cron_schedule_jobs_returns_crontab_lines(conn):
    result = conn.execute("SELECT analytics.schedule_jobs() AS r").fetchone()["r"]
    assert result["pg_cron"] is False
    assert (
        '0 2 * * * psql "$DATABASE_URL" -c "SELECT analytics.run_job(\'aggregate-analytics-daily\')"'
        in result["crontab"]
    )
    assert len(result["crontab"]) == 5
    assert conn.execute("SELECT analytics.unschedule_jobs() AS r").fetchone()["r"] == {
        "pg_cron": False,
        "unscheduled": [],
    }


def test_health_at_a_glance(conn):
    track_events(
        conn,
        [
            {
                "session_id": "s",
                "event_type": "click",
                "occurred_at": (datetime.now(UTC) - timedelta(days=40)).isoformat(),
            }
        ],
    )
    health = conn.execute("SELECT analytics.health() AS h").fetchone()["h"]
    assert health["pending_buckets"] == 1 and health["default_partition_rows"] == 1
    assert health["partitions_ahead"] == 7 and set(health["jobs"]) == set(JOBS)
    assert health["oldest_pending_bucket"] is not None


@pytest.mark.slow
def test_pg_cron_runs_the_rollup_job_by_itself(cron_dsn):
    install(cron_dsn)
    with psycopg.connect(cron_dsn, autocommit=True, row_factory=dict_row) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_cron")
        try:
            scheduled = conn.execute("SELECT analytics.schedule_jobs() AS r").fetchone()["r"]
            assert scheduled["pg_cron"] is True
            assert sorted(j["jobname"] for j in scheduled["jobs"]) == JOBS
            again = conn.execute("SELECT analytics.schedule_jobs() AS r").fetchone()["r"]  # idempotent
            assert sorted(j["jobid"] for j in again["jobs"]) == sorted(j["jobid"] for j in scheduled["jobs"])
            track_events(conn, [{"session_id": "cron", "event_type": "click"}])
            deadline = time.monotonic() + 90
            run = None
            while time.monotonic() < deadline and run is None:
                run = conn.execute(
                    "SELECT * FROM analytics.job_runs WHERE job_name = 'analytics-rollup' AND status = 'succeeded'"
                ).fetchone()
                time.sleep(1)
            assert run is not None, "pg_cron did not run analytics-rollup within 90 s"
            status = conn.execute("SELECT * FROM analytics.job_status WHERE job_name = 'analytics-rollup'").fetchone()
            assert status["last_success_at"] is not None
            assert conn.execute("SELECT sum(events) AS n FROM analytics.rollup_hourly").fetchone()["n"] == 1
            unscheduled = conn.execute("SELECT analytics.unschedule_jobs() AS r").fetchone()["r"]
            assert sorted(unscheduled["unscheduled"]) == JOBS
            assert conn.execute("SELECT count(*) AS n FROM cron.job").fetchone()["n"] == 0
        finally:
            conn.execute("DROP EXTENSION IF EXISTS pg_cron CASCADE")


@pytest.mark.slow
def test_uninstall_unschedules_the_jobs(cron_dsn):
    from pgpkg.install import uninstall

    install(cron_dsn)
    with psycopg.connect(cron_dsn, autocommit=True, row_factory=dict_row) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_cron")
        try:
            conn.execute("SELECT analytics.schedule_jobs()")
            assert conn.execute("SELECT count(*) AS n FROM cron.job").fetchone()["n"] == 5
            uninstall(cron_dsn)
            assert conn.execute("SELECT count(*) AS n FROM cron.job").fetchone()["n"] == 0
        finally:
            conn.execute("DROP EXTENSION IF EXISTS pg_cron CASCADE")
