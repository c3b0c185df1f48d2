"""`pgpkg bench`: ingest rates measured against baselines taken in the same run.

Runs in a scratch database created next to the target one (and dropped at
the end), so a production database is never written to. The same generated
events go through each path into the same empty table; each rate is reported
with its ratio to a plain COPY of those rows into analytics.events, the
ceiling of any ingest path. Machines are noisy: compare ratios within one
run, not absolute figures across runs.
"""

from __future__ import annotations

import csv
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.string import TextLoader

from pgpkg import db, sample
from pgpkg.ingest import EVENT_KEYS
from pgpkg.install import install

COLUMNS = EVENT_KEYS


def _scratch_database(dsn: str) -> tuple[str, Callable[[], None]]:
    params = conninfo_to_dict(dsn)
    name = f"pgpkg_bench_{os.getpid()}"
    admin = make_conninfo(dsn, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    params["dbname"] = name
    return make_conninfo("", **{k: v for k, v in params.items() if v is not None}), drop


def _write_files(directory: Path, events: int) -> tuple[Path, Path]:
    """The same events as NDJSON (for the RPC and file paths) and as CSV (for COPY)."""
    ndjson, copy_csv = directory / "events.ndjson", directory / "events.csv"
    with ndjson.open("w", encoding="utf-8") as nd, copy_csv.open("w", newline="", encoding="utf-8") as cf:
        writer = csv.writer(cf)
        for event in sample.events(events, days=1, projects=10, seed=1):
            nd.write(json.dumps(event) + "\n")
            writer.writerow(
                [
                    "" if event.get(c) is None else (json.dumps(event[c]) if c == "properties" else event[c])
                    for c in COLUMNS
                ]
            )
    return ndjson, copy_csv


def _reset(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE analytics.events, analytics.dirty_buckets, analytics.rejected_events")
        conn.execute("CHECKPOINT")


def _count(dsn: str) -> int:
    with db.connect(dsn) as conn:
        return int(db.call(conn, "SELECT count(*) AS result FROM analytics.events"))


def _timed(label: str, dsn: str, events: int, run: Callable[[], None]) -> dict[str, Any]:
    _reset(dsn)
    started = time.perf_counter()
    run()
    seconds = time.perf_counter() - started
    stored = _count(dsn)
    return {
        "path": label,
        "events": events,
        "stored": stored,
        "seconds": round(seconds, 2),
        "events_per_second": round(stored / seconds),
    }


def _copy(dsn: str, copy_csv: Path) -> None:
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        statement = f"COPY analytics.events ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT csv)"
        with cur.copy(statement) as copy, copy_csv.open("rb") as f:
            while block := f.read(1 << 20):
                copy.write(block)


def _batches(ndjson: Path, size: int, part: int = 0, parts: int = 1) -> Iterator[str]:
    batch: list[str] = []
    with ndjson.open(encoding="utf-8") as f:
        for number, line in enumerate(f):
            if number % parts != part:
                continue
            batch.append(line.strip())
            if len(batch) == size:
                yield "[" + ",".join(batch) + "]"
                batch = []
    if batch:
        yield "[" + ",".join(batch) + "]"


def _track_events(dsn: str, ndjson: Path, size: int, connections: int) -> None:
    def worker(part: int) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            for body in _batches(ndjson, size, part, connections):
                conn.execute("SELECT analytics.track_events(%s::json)", (body,))

    threads = [threading.Thread(target=worker, args=(part,)) for part in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _ingest_cli(dsn: str, ndjson: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pgpkg.cli", "--dsn", dsn, "ingest", str(ndjson)], check=True, capture_output=True
    )


def _single_inserts(dsn: str, ndjson: Path, limit: int) -> None:
    """The seeds' way: one INSERT per event, autocommit (seed 000 prisma create, seed 003 createEvent)."""
    with psycopg.connect(dsn, autocommit=True) as conn, ndjson.open(encoding="utf-8") as f:
        statement = (
            f"INSERT INTO analytics.events ({', '.join(COLUMNS)}) "
            "SELECT "
            + ", ".join(f"e.{c}" for c in COLUMNS)
            + " FROM jsonb_populate_record(null::analytics.events, %s::jsonb) e"
        )
        for number, line in enumerate(f):
            if number >= limit:
                break
            conn.execute(statement, (line,), prepare=True)


def run(dsn: str | None = None, events: int = 200_000, batch_size: int = 1000) -> dict[str, Any]:
    target = db.resolve_dsn(dsn)
    scratch, drop = _scratch_database(target)
    try:
        install(scratch)
        today = datetime.now(UTC).date()
        with db.connect(scratch, autocommit=True) as conn:
            conn.execute("SELECT analytics.create_partitions(%s, %s)", (today - timedelta(days=2), today))
            server = db.call(conn, "SELECT current_setting('server_version') AS result")
        with tempfile.TemporaryDirectory(prefix="pgpkg-bench-") as tmp:
            ndjson, copy_csv = _write_files(Path(tmp), events)
            naive = min(events, 20_000)
            results = [
                _timed("COPY into analytics.events (baseline)", scratch, events, lambda: _copy(scratch, copy_csv)),
                _timed(
                    f"track_events, batches of {batch_size}, 1 connection",
                    scratch,
                    events,
                    lambda: _track_events(scratch, ndjson, batch_size, 1),
                ),
                _timed(
                    f"track_events, batches of {batch_size}, 2 connections",
                    scratch,
                    events,
                    lambda: _track_events(scratch, ndjson, batch_size, 2),
                ),
                _timed("pgpkg ingest FILE (NDJSON)", scratch, events, lambda: _ingest_cli(scratch, ndjson)),
                _timed(
                    "one INSERT per event, autocommit (the seeds' way)",
                    scratch,
                    naive,
                    lambda: _single_inserts(scratch, ndjson, naive),
                ),
            ]
            ingest_peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            file_mb = ndjson.stat().st_size / 1e6
        baseline = results[0]["events_per_second"]
        for result in results:
            result["ratio_to_copy"] = round(result["events_per_second"] / baseline, 2)
        return {
            "server_version": server,
            "events": events,
            "ndjson_mb": round(file_mb, 1),
            "pgpkg_ingest_peak_rss_mb": round(ingest_peak_mb, 1),
            "results": results,
            "note": "Same rows, same empty table for each path; compare ratios within a run.",
        }
    finally:
        drop()


# History made inside the database, one statement per day: sessions of 20
# events (a few seconds long) over `projects` projects, the seeds' event
# types, names and properties; 5,000 known users, and anonymous events.
_GENERATE_DAY = """
INSERT INTO analytics.events (project_id, occurred_at, session_id, user_id, event_type, name, experiment_id,
                              variant_key, value, properties)
SELECT 'project_' || (g %% %(projects)s),
       %(start)s::timestamptz + (g::double precision / %(rows)s) * interval '1 day',
       'd' || %(day_number)s || '-s' || (g / 20),
       CASE WHEN g %% 5 < 3 THEN 'u' || (g / 60) %% 5000 END,
       (ARRAY['pageview','pageview','pageview','click','tool_used','api_call','exposure','conversion'])[1 + g %% 8],
       CASE g %% 8 WHEN 0 THEN '/' WHEN 1 THEN '/pricing' WHEN 2 THEN '/docs' WHEN 3 THEN 'cta-signup'
                  WHEN 4 THEN 'FAAB' WHEN 5 THEN 'chat' END,
       CASE WHEN g %% 8 IN (6, 7) THEN 'checkout-button' END,
       CASE WHEN g %% 8 IN (6, 7) THEN (ARRAY['control', 'treatment'])[1 + (g / 20) %% 2] END,
       CASE WHEN g %% 8 IN (4, 5) THEN g %% 500 END,
       jsonb_build_object('plan', (ARRAY['free', 'pro'])[1 + g %% 2], 'risk_mode',
                          (ARRAY['protect', 'neutral', 'chase'])[1 + g %% 3])
  FROM generate_series(1, %(rows)s) g
"""


def _load_history(conn: psycopg.Connection[Any], events: int, days: int, projects: int) -> None:
    """`events` events over the `days` whole UTC days before today, generated in the database."""
    today = datetime.now(UTC).date()
    conn.execute("SELECT analytics.create_partitions(%s, %s)", (today - timedelta(days=days + 7), today))
    for n in range(days):
        day = today - timedelta(days=days - n)
        conn.execute(
            _GENERATE_DAY,
            {
                "start": datetime.combine(day, datetime.min.time(), UTC),
                "rows": events // days,
                "day_number": n,
                "projects": projects,
            },
        )
    conn.execute("VACUUM ANALYZE analytics.events")


def _seconds(conn: psycopg.Connection[Any], statement: str, params: Any = None) -> tuple[float, Any]:
    started = time.perf_counter()
    result = db.call(conn, statement, params)
    return round(time.perf_counter() - started, 3), result


def _track_last_quarter_hour(conn: psycopg.Connection[Any], events: int, seed: int) -> None:
    """The last quarter hour's traffic in 10 projects (10k at 1M a day), sent over RPC in batches of
    1,000, as the every-minute rollup job sees it."""
    fresh = [
        json.dumps(e) for e in sample.events(events, days=15 / 1440, projects=10, seed=seed, end=datetime.now(UTC))
    ]
    for i in range(0, events, 1000):
        conn.execute("SELECT analytics.track_events(%s::json)", ("[" + ",".join(fresh[i : i + 1000]) + "]",))


def run_rollups(
    dsn: str | None = None,
    events: int = 10_000_000,
    days: int = 30,
    day_events: int = 1_000_000,
    new_events: int = 10_000,
) -> dict[str, Any]:
    """The rollup figures: refresh_rollups() after `new_events` new events with `events` stored,
    aggregate_analytics_daily() for a day of `day_events`, and cleanup() expiring such a day next to a DELETE."""
    target = db.resolve_dsn(dsn)
    scratch, drop = _scratch_database(target)
    report: dict[str, Any] = {"events": events, "days": days, "day_events": day_events, "new_events": new_events}
    try:
        install(scratch)
        today = datetime.now(UTC).date()
        with db.connect(scratch, autocommit=True) as conn:
            started = time.perf_counter()
            _load_history(conn, events, days, projects=10)
            report["history_load_rows_per_second"] = round(events / (time.perf_counter() - started))
            report["initial_refresh_rollups_seconds"], first = _seconds(
                conn, "SELECT analytics.refresh_rollups(max_buckets => 100000) AS result"
            )
            report["initial_refresh_rollups_buckets"] = first["buckets"]

            _track_last_quarter_hour(conn, new_events, seed=99)
            report["refresh_rollups_after_new_events_seconds"], incremental = _seconds(
                conn, "SELECT analytics.refresh_rollups() AS result"
            )
            report["refresh_rollups_after_new_events_buckets"] = incremental["buckets"]
            report["refresh_rollups_after_new_events_days"] = incremental["days"]

            # The same again with one saved funnel per project: what saving costs the rollup job;
            # then with one saved by user per project as well.
            for save, name, walks, seed in (
                (SAVE_DASHBOARD_FUNNEL, "funnels", "funnel_sessions", 98),
                (SAVE_DASHBOARD_USER_FUNNEL, "user_funnels", "funnel_users", 97),
            ):
                started = time.perf_counter()
                for project in range(10):
                    conn.execute(save, (f"project_{project}",))
                report[f"save_{name[:-1]}_seconds_per_project"] = round((time.perf_counter() - started) / 10, 2)
                _track_last_quarter_hour(conn, new_events, seed=seed)
                report[f"refresh_rollups_after_new_events_with_saved_{name}_seconds"], incremental = _seconds(
                    conn, "SELECT analytics.refresh_rollups() AS result"
                )
                report[f"refresh_rollups_after_new_events_with_saved_{name}_{walks}"] = incremental[walks]

            big_day, delete_day = today - timedelta(days=days + 2), today - timedelta(days=days + 3)
            for number, day in ((1000, big_day), (1001, delete_day)):
                conn.execute(
                    _GENERATE_DAY,
                    {
                        "start": datetime.combine(day, datetime.min.time(), UTC),
                        "rows": day_events,
                        "day_number": number,
                        "projects": 10,
                    },
                )
            conn.execute("VACUUM ANALYZE analytics.events")
            conn.execute("SELECT analytics.refresh_rollups(max_buckets => 100000)")
            report["aggregate_analytics_daily_seconds"], daily = _seconds(
                conn, "SELECT analytics.aggregate_analytics_daily(%s) AS result", (big_day,)
            )
            report["aggregate_analytics_daily_rows"] = daily["rows"]
            report["refresh_views_seconds"], _ = _seconds(conn, "SELECT analytics.refresh_views() AS result")

            partition = f"analytics.events_p{delete_day:%Y%m%d}"
            size = db.call(conn, "SELECT pg_total_relation_size(%s) AS result", (partition,))
            start = datetime.combine(delete_day, datetime.min.time(), UTC)
            report["delete_day_seconds"], _ = _seconds(
                conn,
                "WITH d AS (DELETE FROM analytics.events WHERE occurred_at >= %s AND occurred_at < %s"
                " RETURNING 1) SELECT count(*) AS result FROM d",
                (start, start + timedelta(days=1)),
            )
            after = db.call(conn, "SELECT pg_total_relation_size(%s) AS result", (partition,))
            report["delete_day_bytes_before_after"] = [size, after]
            # The DELETE marked its buckets; roll them up first, so that cleanup() is timed
            # on what it does in the normal case: drop a day whose rollups are current.
            report["refresh_rollups_after_delete_seconds"], _ = _seconds(
                conn, "SELECT analytics.refresh_rollups(max_buckets => 100000) AS result"
            )
            report["cleanup_drop_day_seconds"], cleaned = _seconds(
                conn, "SELECT analytics.cleanup_old_raw_events(days => %s) AS result", (days + 1,)
            )
            report["cleanup_dropped"] = cleaned["dropped"]
        return report
    finally:
        drop()


# The last hour's traffic, at the history's rate: what realtime() and
# recent_events() read in a live system.
_GENERATE_LAST_HOUR = """
INSERT INTO analytics.events (project_id, occurred_at, session_id, user_id, event_type, name)
SELECT %(project)s, now() - interval '1 hour' + (g::double precision / %(rows)s) * interval '1 hour',
       'live-s' || (g / 20), CASE WHEN g %% 5 < 3 THEN 'u' || (g / 60) %% 5000 END,
       (ARRAY['pageview', 'pageview', 'click', 'tool_used'])[1 + g %% 4],
       (ARRAY['/', '/pricing', 'cta-signup', 'FAAB'])[1 + g %% 4]
  FROM generate_series(1, %(rows)s) g
"""

# Each read function as an application calls it: (label, SQL). Ranges end
# now, so the partial hour at the start of each range is read from raw events.
READ_CALLS: list[tuple[str, str]] = [
    ("recent_events(hours => 1, lim => 1000)", "SELECT analytics.recent_events(hours => 1, lim => 1000)"),
    ("realtime(minutes => 5)", "SELECT analytics.realtime(minutes => 5)"),
    ("hourly_rollups(hours => 24)", "SELECT analytics.hourly_rollups(hours => 24)"),
    (
        "hourly_rollups(hours => 24, breakdown_by => 'risk_mode')",
        "SELECT analytics.hourly_rollups(hours => 24, breakdown_by => 'risk_mode')",
    ),
    ("top('page', last 30 days)", "SELECT analytics.top('page', now() - interval '30 days', now())"),
    ("top('property:plan', last 30 days)", "SELECT analytics.top('property:plan', now() - interval '30 days', now())"),
    ("top('experiment', last 30 days)", "SELECT analytics.top('experiment', now() - interval '30 days', now())"),
    ("top('entry_page', last 30 days)", "SELECT analytics.top('entry_page', now() - interval '30 days', now())"),
    (
        "metrics(last 30 days, 'day', 'UTC')",
        "SELECT analytics.metrics(now() - interval '30 days', now(), 'day', 'UTC')",
    ),
    (
        "metrics(last 30 days, 'day', 'Asia/Kolkata')",
        "SELECT analytics.metrics(now() - interval '30 days', now(), 'day', 'Asia/Kolkata')",
    ),
    (
        "metrics(last 7 days, 'hour', 'America/New_York')",
        "SELECT analytics.metrics(now() - interval '7 days', now(), 'hour', 'America/New_York')",
    ),
    (
        "metrics(last 24 hours, 'hour', 'UTC')",
        "SELECT analytics.metrics(now() - interval '1 day', now(), 'hour', 'UTC')",
    ),
    ("experiment_results('checkout-button')", "SELECT analytics.experiment_results('checkout-button')"),
    (
        "user_stats(last 30 days, user_id => 'u42')",
        "SELECT analytics.user_stats(current_date - 30, current_date, 'u42')",
    ),
    ("user_stats(last 30 days, lim => 1000)", "SELECT analytics.user_stats(current_date - 30, current_date)"),
    ("group_stats(last 30 days)", "SELECT analytics.group_stats(current_date - 30, current_date)"),
    (
        "group_stats(last 30 days, trait => 'plan'), rolled up",
        "SELECT analytics.group_stats(current_date - 30, current_date, trait => 'plan')",
    ),
    (
        "group_stats(last 30 days, trait => 'country'), 40 values: rolled up by the job",
        "SELECT analytics.group_stats(current_date - 30, current_date, trait => 'country')",
    ),
    (
        "group_stats(last 30 days, trait => 'company'), 250 values: rolled up by the job",
        "SELECT analytics.group_stats(current_date - 30, current_date, trait => 'company')",
    ),
    (
        "daily_stats(last 30 days, event_type => 'pageview')",
        "SELECT analytics.daily_stats(current_date - 30, current_date, event_type => 'pageview')",
    ),
    (
        "funnel(3 steps, last 24 hours), saved",
        "SELECT analytics.funnel(ARRAY['pageview=/', 'pageview=/pricing', 'click=cta-signup'],"
        " now() - interval '1 day', now())",
    ),
    (
        "funnel(3 steps, last 30 days), saved",
        "SELECT analytics.funnel(ARRAY['pageview=/', 'pageview=/pricing', 'click=cta-signup'],"
        " now() - interval '30 days', now())",
    ),
    (
        "funnel(3 steps, last 24 hours), not saved: session paths",
        "SELECT analytics.funnel(ARRAY['pageview=/', 'pageview=/pricing', 'click=cta-signup'],"
        " now() - interval '1 day', now(), within => '12 hours')",
    ),
    (
        "funnel(3 steps, last 30 days), not saved: session paths",
        "SELECT analytics.funnel(ARRAY['pageview=/', 'pageview=/pricing', 'click=cta-signup'],"
        " now() - interval '30 days', now(), within => '12 hours')",
    ),
    (
        "funnel(3 steps, one a type only, last 30 days), not saved: session paths",
        "SELECT analytics.funnel(ARRAY['pageview=/docs', 'api_call', 'conversion'], now() - interval '30 days', now())",
    ),
    (
        "funnel(3 steps, last 24 hours, count_by => 'user')",
        "SELECT analytics.funnel(ARRAY['pageview=/', 'pageview=/pricing', 'click=cta-signup'],"
        " now() - interval '1 day', now(), count_by => 'user')",
    ),
    (
        "funnel(3 steps, last 30 days, count_by => 'user')",
        "SELECT analytics.funnel(ARRAY['pageview=/', 'pageview=/pricing', 'click=cta-signup'],"
        " now() - interval '30 days', now(), count_by => 'user')",
    ),
    (
        "funnel(3 steps, last 24 hours, count_by => 'user'), saved",
        "SELECT analytics.funnel(ARRAY['pageview=/', 'pageview=/pricing', 'click=cta-signup'],"
        " now() - interval '1 day', now(), within => '12 hours', count_by => 'user')",
    ),
    (
        "funnel(3 steps, last 30 days, count_by => 'user'), saved",
        "SELECT analytics.funnel(ARRAY['pageview=/', 'pageview=/pricing', 'click=cta-signup'],"
        " now() - interval '30 days', now(), within => '12 hours', count_by => 'user')",
    ),
]
# The funnel a dashboard shows, saved so that funnel() answers it from rollups;
# the "not saved" calls above ask for another window or other steps. The same
# steps counted by user are saved with a 12-hour window, so that the calls by
# user with the default window above stay unsaved.
SAVE_DASHBOARD_FUNNEL = (
    "SELECT analytics.save_funnel('landing-to-signup', ARRAY['pageview=/', 'pageview=/pricing', 'click=cta-signup'],"
    " project_id => %s) AS result"
)
SAVE_DASHBOARD_USER_FUNNEL = (
    "SELECT analytics.save_funnel('landing-to-signup-users',"
    " ARRAY['pageview=/', 'pageview=/pricing', 'click=cta-signup'], within => '12 hours', count_by => 'user',"
    " project_id => %s) AS result"
)


def time_reads(dsn: str, project: str, repeats: int = 5) -> list[dict[str, Any]]:
    """Each of READ_CALLS as a reader bound to `project` by its JWT claim, as PostgREST calls it:
    one warming call, then the median and worst of `repeats` timed calls, in milliseconds; with the
    `source` a funnel() says it counted from. As PostgREST, the client takes the JSON as text and
    does not parse it (psycopg's json.loads of a 7,750-object answer took 17 ms, on the client)."""
    results = []
    with db.connect(dsn, autocommit=True) as conn:
        conn.adapters.register_loader("json", TextLoader)
        conn.adapters.register_loader("jsonb", TextLoader)
        conn.execute("SELECT set_config('request.jwt.claims', %s, false)", (json.dumps({"project_id": project}),))
        conn.execute("SET ROLE analytics_reader")
        for label, statement in READ_CALLS:
            warm = conn.execute(statement).fetchone() or {}
            answer = next(iter(warm.values()), None)
            if isinstance(answer, str) and answer.startswith("{"):
                answer = json.loads(answer)
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                conn.execute(statement).fetchall()
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            result = {"call": label, "median_ms": round(times[len(times) // 2], 1), "max_ms": round(times[-1], 1)}
            if isinstance(answer, dict) and "source" in answer:
                result["source"] = answer["source"]
            results.append(result)
    return results


def run_reads(dsn: str | None = None, events: int = 10_000_000, days: int = 30, repeats: int = 5) -> dict[str, Any]:
    """Read latency: `events` events over `days` days in one project, rolled up, plus the last
    hour's traffic; then every read function, warm, as a reader over RPC."""
    target = db.resolve_dsn(dsn)
    scratch, drop = _scratch_database(target)
    report: dict[str, Any] = {"events": events, "days": days, "repeats": repeats}
    try:
        install(scratch)
        with db.connect(scratch, autocommit=True) as conn:
            started = time.perf_counter()
            _load_history(conn, events, days, projects=1)
            conn.execute(_GENERATE_LAST_HOUR, {"project": "project_0", "rows": events // days // 24})
            conn.execute(
                "SELECT analytics.identify('u' || g, jsonb_build_object('group', 'group-' || g % 20,"
                " 'plan', (ARRAY['free', 'pro', 'team'])[g % 3 + 1], 'country', 'c' || g % 40,"
                " 'company', 'co' || g % 250), 'project_0')"
                " FROM generate_series(0, 4999) g"
            )
            report["load_seconds"] = round(time.perf_counter() - started, 1)
            report["refresh_rollups_seconds"], _ = _seconds(
                conn, "SELECT analytics.refresh_rollups(max_buckets => 100000) AS result"
            )
            report["save_funnel_seconds"], _ = _seconds(conn, SAVE_DASHBOARD_FUNNEL, ("project_0",))
            report["save_user_funnel_seconds"], saved = _seconds(conn, SAVE_DASHBOARD_USER_FUNNEL, ("project_0",))
            report["save_user_funnel_entries"] = saved["entries"]
            report["save_trait_rollup_seconds"], _ = _seconds(
                conn, "SELECT analytics.save_trait_rollup('plan', project_id => 'project_0') AS result"
            )
            conn.execute("VACUUM ANALYZE")
            # As under steady ingest at the worst minute, the 59th: a whole hour of traffic written
            # since the last refresh (funnel() walks its sessions over raw events). The last hour's
            # traffic spans the current hour and the one before; both are marked, whatever the minute.
            conn.execute(
                "INSERT INTO analytics.dirty_buckets (project_id, bucket)"
                " VALUES ('project_0', date_trunc('hour', now(), 'UTC')),"
                " ('project_0', date_trunc('hour', now() - interval '1 hour', 'UTC'))"
            )
            report["sessions"] = db.call(conn, "SELECT count(*) AS result FROM analytics.sessions")
            # How much the path rollup compresses this generator's sessions: real traffic repeats its
            # paths less, and the rollup then holds up to a row per session.
            report["path_rollup_rows"] = db.call(conn, "SELECT count(*) AS result FROM analytics.rollup_hourly_paths")
            report["distinct_paths"] = db.call(conn, "SELECT count(DISTINCT path) AS result FROM analytics.sessions")
            # Reads are timed in a steady state: not while the checkpointer writes out the load's
            # gigabytes (a spread checkpoint after a load runs for minutes and slowed every read).
            conn.execute("CHECKPOINT")
            report["server"] = {
                name: db.call(conn, f"SELECT current_setting('{name}') AS result")
                for name in ("shared_buffers", "work_mem", "max_wal_size")
            }
        report["reads"] = time_reads(scratch, "project_0", repeats)
        return report
    finally:
        drop()


def format_table(report: dict[str, Any]) -> str:
    out = io.StringIO()
    out.write(f"{'path':58} {'events/s':>10} {'x COPY':>7}\n")
    for r in report["results"]:
        out.write(f"{r['path']:58} {r['events_per_second']:>10,} {r['ratio_to_copy']:>7}\n")
    return out.getvalue()
