"""Rollups are always exact: generated streams against the oracle, and the cases one by one."""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from datetime import UTC, date, datetime, time, timedelta

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.rows import dict_row

from tests.conftest import track_events
from tests.oracle import mismatches

ZONES = {"a": "UTC", "b": "Asia/Kolkata", "c": "America/New_York"}
# Events are placed around the last two UTC midnights, so that local days of
# every zone are cut through.
# At least 6 hours ago, so that every generated event (up to 90 minutes after it) and
# every fixed one (up to 4h45 after it) lies in the past whatever the hour CI runs at.
MIDNIGHT = (datetime.now(UTC) - timedelta(hours=6)).replace(hour=0, minute=0, second=0, microsecond=0)


def clocks_move_around(midnight: datetime) -> str:
    """A POSIX time zone 5 hours behind UTC whose clocks go forward on the day before `midnight` and
    back on its day: the session zone of a job run where the server's zone moves its clocks on the
    days the events lie on (pg_cron runs in the server's zone)."""
    day = midnight.timetuple().tm_yday - 1  # zero-based, counting 29 February
    return f"XST5XDT,{(day - 1) % 365}/1,{day}/1"


def set_zones(conn) -> None:
    for project, zone in ZONES.items():
        conn.execute("INSERT INTO analytics.project_settings VALUES (%s, 'time_zone', %s)", (project, zone))


def refresh_all(conn) -> None:
    for _ in range(100):
        result = conn.execute("SELECT analytics.refresh_rollups() AS r").fetchone()["r"]
        if result.get("remaining_buckets", 0) == 0 and not result.get("skipped"):
            return
    raise AssertionError("refresh_rollups() did not converge")


def assert_exact(conn) -> None:
    found = mismatches(conn)
    assert not found, {table: {"rollup": got[:5], "oracle": want[:5]} for table, (got, want) in found.items()}


event_strategy = st.builds(
    lambda project, minutes, session, user, kind, name, value, variant, mode: {
        "project_id": project,
        "event_id": str(uuid.uuid4()),
        "occurred_at": (MIDNIGHT + timedelta(minutes=minutes)).isoformat(),
        "session_id": session,
        "event_type": kind,
        **({"user_id": user} if user else {}),
        **({"name": name} if name else {}),
        **({"value": value} if value is not None else {}),
        **({"experiment_id": "e1", "variant_key": variant} if kind in ("exposure", "conversion") else {}),
        "properties": {"mode": mode} if mode else {},
    },
    project=st.sampled_from(list(ZONES)),
    minutes=st.integers(min_value=-30 * 60, max_value=90),
    session=st.sampled_from(["s1", "s2", "s3", "s4"]),
    user=st.sampled_from([None, "u1", "u2"]),
    kind=st.sampled_from(["pageview", "click", "exposure", "conversion", "tool_used"]),
    name=st.sampled_from([None, "/", "/pricing", "FAAB"]),
    value=st.one_of(st.none(), st.integers(min_value=0, max_value=1000)),
    variant=st.sampled_from(["A", "B"]),
    mode=st.sampled_from([None, "protect", "chase"]),
)

step_strategy = st.one_of(
    st.tuples(st.just("ingest"), st.lists(event_strategy, min_size=1, max_size=15)),
    st.tuples(st.just("resend"), st.integers(min_value=0, max_value=100)),  # a retry of an earlier batch
    st.tuples(st.just("refresh"), st.integers(min_value=1, max_value=4)),  # bounded runs
    st.tuples(st.just("aggregate"), st.integers(min_value=-2, max_value=0)),
    st.tuples(st.just("delete"), st.integers(min_value=0, max_value=100)),  # a DBA's direct DELETE
    st.tuples(st.just("maintain"), st.just(0)),  # drains the default partition
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(step_strategy, min_size=1, max_size=12),
    session_zone=st.sampled_from(["UTC", "Asia/Kathmandu", clocks_move_around(MIDNIGHT)]),
)
def test_generated_streams_match_the_oracle(conn, steps, session_zone):
    with conn.transaction(force_rollback=True):
        conn.execute("SELECT set_config('TimeZone', %s, true)", (session_zone,))  # must not matter
        set_zones(conn)
        sent: list[list[dict]] = []
        for kind, arg in steps:
            if kind == "ingest":
                sent.append(arg)
                track_events(conn, arg)
            elif kind == "resend" and sent:
                track_events(conn, sent[arg % len(sent)])
            elif kind == "refresh":
                conn.execute("SELECT analytics.refresh_rollups(max_buckets => %s)", (arg,))
            elif kind == "aggregate":
                conn.execute(
                    "SELECT analytics.aggregate_analytics_daily(%s)", ((MIDNIGHT + timedelta(days=arg)).date(),)
                )
            elif kind == "delete" and sent:
                batch = sent[arg % len(sent)]
                conn.execute("DELETE FROM analytics.events WHERE event_id = %s", (batch[0]["event_id"],))
            elif kind == "maintain":
                conn.execute("SELECT analytics.maintain_partitions()")
        refresh_all(conn)
        assert_exact(conn)


def test_a_late_event_corrects_a_rolled_up_hour(conn):
    hour = MIDNIGHT - timedelta(hours=5)
    track_events(conn, [{"session_id": "s1", "event_type": "pageview", "occurred_at": hour.isoformat()}])
    refresh_all(conn)
    late = [{"session_id": "s2", "event_type": "pageview", "occurred_at": (hour + timedelta(minutes=30)).isoformat()}]
    track_events(conn, late)
    refresh_all(conn)
    row = conn.execute(
        "SELECT events, sessions FROM analytics.rollup_hourly_totals WHERE bucket = %s", (hour,)
    ).fetchone()
    assert row == {"events": 2, "sessions": 2}
    assert_exact(conn)


def test_only_the_touched_tenant_is_recomputed(conn):
    at = (MIDNIGHT - timedelta(hours=3)).isoformat()
    track_events(conn, [{"project_id": p, "session_id": "s", "event_type": "click", "occurred_at": at} for p in "abc"])
    refresh_all(conn)
    track_events(conn, [{"project_id": "b", "session_id": "late", "event_type": "click", "occurred_at": at}])
    pending = conn.execute("SELECT DISTINCT project_id FROM analytics.dirty_buckets").fetchall()
    assert [p["project_id"] for p in pending] == ["b"]
    result = conn.execute("SELECT analytics.refresh_rollups() AS r").fetchone()["r"]
    assert result["buckets"] == 1


def test_max_buckets_bounds_the_work_and_reports_the_rest(conn):
    track_events(
        conn,
        [
            {"session_id": "s", "event_type": "click", "occurred_at": (MIDNIGHT - timedelta(hours=h)).isoformat()}
            for h in range(5)
        ],
    )
    first = conn.execute("SELECT analytics.refresh_rollups(max_buckets => 2) AS r").fetchone()["r"]
    assert (first["buckets"], first["remaining_buckets"]) == (2, 3)
    refresh_all(conn)
    assert_exact(conn)


def test_direct_writes_are_caught_by_the_trigger(conn):
    at = MIDNIGHT - timedelta(hours=1)
    conn.execute("INSERT INTO analytics.events (session_id, event_type, occurred_at) VALUES ('s', 'click', %s)", (at,))
    refresh_all(conn)
    with (
        conn.cursor() as cur,
        cur.copy("COPY analytics.events (session_id, event_type, occurred_at) FROM STDIN") as copy,
    ):
        copy.write_row(("t", "pageview", at - timedelta(hours=6)))
    assert conn.execute("SELECT count(*) AS n FROM analytics.dirty_buckets").fetchone()["n"] == 1
    refresh_all(conn)
    assert_exact(conn)
    conn.execute("UPDATE analytics.events SET occurred_at = occurred_at - interval '3 hours'")
    refresh_all(conn)
    assert_exact(conn)
    conn.execute("DELETE FROM analytics.events")
    refresh_all(conn)
    assert conn.execute("SELECT count(*) AS n FROM analytics.rollup_hourly").fetchone()["n"] == 0
    assert conn.execute("SELECT count(*) AS n FROM analytics.sessions").fetchone()["n"] == 0
    assert_exact(conn)


def test_days_follow_the_project_time_zone(conn):
    set_zones(conn)
    # 23:45 in New York on the day before MIDNIGHT (UTC) is 04:45 UTC of MIDNIGHT's day.
    at = MIDNIGHT + timedelta(hours=4, minutes=45)
    conn.execute("SET TimeZone = 'Pacific/Auckland'")  # the session zone must not matter
    track_events(conn, [{"project_id": "c", "session_id": "s", "event_type": "click", "occurred_at": at.isoformat()}])
    refresh_all(conn)
    day = conn.execute("SELECT day FROM analytics.rollup_daily_totals WHERE project_id = 'c'").fetchone()["day"]
    assert day == (at - timedelta(hours=5)).date()
    assert_exact(conn)


@pytest.mark.usefixtures("keep_old_events")
@pytest.mark.parametrize("day", [date(2026, 3, 8), date(2026, 11, 1)])  # New York moves its clocks on these days
def test_a_utc_day_is_24_hours_in_every_session_time_zone(conn, day):
    """The job recomputes marked hours one UTC day at a time. It once cut that day by adding
    '1 day' in the session's zone: 23 hours in New York on the spring day, so the day's last
    hour was never recomputed, and 25 in the autumn, so the next day's first hour was
    recomputed twice (a duplicate key, and a job failing every minute)."""
    conn.execute("SET TimeZone = 'America/New_York'")  # pg_cron runs in the server's zone, whatever it is
    midnight = datetime.combine(day, time(), UTC)
    track_events(
        conn,
        [
            {"session_id": "s", "event_type": "pageview", "occurred_at": (midnight + timedelta(hours=h)).isoformat()}
            for h in (3, 23.5, 24.5)
        ],
    )
    refresh_all(conn)
    assert_exact(conn)
    assert conn.execute("SELECT count(*) AS n FROM analytics.rollup_hourly").fetchone()["n"] == 3


def test_aggregate_analytics_daily_is_idempotent_and_includes_late_events(conn):
    day = (MIDNIGHT - timedelta(days=1)).date()
    at = MIDNIGHT - timedelta(hours=12)
    track_events(conn, [{"session_id": "s", "event_type": "click", "occurred_at": at.isoformat()}])
    first = conn.execute("SELECT analytics.aggregate_analytics_daily(%s) AS r", (day,)).fetchone()["r"]
    track_events(
        conn, [{"session_id": "t", "event_type": "click", "occurred_at": (at + timedelta(minutes=1)).isoformat()}]
    )
    second = conn.execute("SELECT analytics.aggregate_analytics_daily(%s) AS r", (day,)).fetchone()["r"]
    third = conn.execute("SELECT analytics.aggregate_analytics_daily(%s) AS r", (day,)).fetchone()["r"]
    assert first["pending_buckets_rolled_up"] == 1 and second["pending_buckets_rolled_up"] == 1
    assert second["rows"] == third["rows"]
    totals = conn.execute(
        "SELECT events, sessions FROM analytics.rollup_daily_totals WHERE day = %s", (day,)
    ).fetchone()
    assert totals == {"events": 2, "sessions": 2}


def test_backfill_rebuilds_everything_from_raw(conn):
    track_events(
        conn,
        [
            {
                "session_id": f"s{i}",
                "event_type": "pageview",
                "name": "/",
                "occurred_at": (MIDNIGHT - timedelta(hours=i)).isoformat(),
            }
            for i in range(30)
        ],
    )
    refresh_all(conn)
    conn.execute(
        "TRUNCATE analytics.rollup_hourly, analytics.rollup_daily, analytics.sessions, analytics.session_hours"
    )
    first_day = (MIDNIGHT - timedelta(days=2)).date()
    result = conn.execute("SELECT analytics.backfill_aggregates(%s, %s) AS r", (first_day, MIDNIGHT.date())).fetchone()[
        "r"
    ]
    assert result["buckets"] == 30
    assert_exact(conn)
    with pytest.raises(psycopg.Error) as error:
        conn.execute("SELECT analytics.backfill_aggregates(current_date, current_date - 1)")
    assert error.value.sqlstate == "22023"


def test_concurrent_ingest_while_the_rollup_job_runs(dsn, conn):
    """Two connections ingest while a third runs refresh_rollups() in a loop: exact at the end, no deadlock."""
    errors: list[BaseException] = []
    stop = threading.Event()

    def ingest(worker: int) -> None:
        try:
            with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as c:
                for batch in range(20):
                    events = [
                        {
                            "project_id": "ab"[worker],
                            "session_id": f"w{worker}-{i % 7}",
                            "event_type": "pageview" if i % 3 else "click",
                            "name": f"/{i % 4}",
                            "occurred_at": (MIDNIGHT - timedelta(minutes=batch * 13 + i)).isoformat(),
                        }
                        for i in range(50)
                    ]
                    track_events(c, events)
        except BaseException as error:
            errors.append(error)

    def roll() -> None:
        try:
            with psycopg.connect(dsn, autocommit=True) as c:
                while not stop.is_set():
                    c.execute("SELECT analytics.refresh_rollups(max_buckets => 3)")
        except BaseException as error:
            errors.append(error)

    roller = threading.Thread(target=roll)
    workers = [threading.Thread(target=ingest, args=(w,)) for w in range(2)]
    roller.start()
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    stop.set()
    roller.join()
    assert errors == []
    refresh_all(conn)
    assert conn.execute("SELECT sum(events) AS n FROM analytics.rollup_hourly").fetchone()["n"] == 2000
    assert_exact(conn)


def test_overlapping_runs_skip_instead_of_waiting(dsn, conn):
    track_events(conn, [{"session_id": "s", "event_type": "click"}])
    with psycopg.connect(dsn) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(hashtext('analytics.refresh_rollups'))")
        result = conn.execute("SELECT analytics.refresh_rollups() AS r").fetchone()["r"]
        assert result["skipped"] is True
    refresh_all(conn)
    assert_exact(conn)


def test_a_run_killed_halfway_leaves_consistent_rollups(dsn, conn):
    at = MIDNIGHT - timedelta(hours=2)
    track_events(conn, [{"session_id": "s", "event_type": "click", "occurred_at": at.isoformat()}])
    refresh_all(conn)
    track_events(conn, [{"session_id": "t", "event_type": "click", "occurred_at": at.isoformat()}])
    before = conn.execute("SELECT events FROM analytics.rollup_hourly_totals").fetchall()
    # Block the run mid-way: it deletes the bucket's rows, then waits on a row lock of sessions.
    with psycopg.connect(dsn) as blocker:
        blocker.execute("SELECT * FROM analytics.sessions FOR UPDATE")
        pid: list[int] = []

        def run() -> None:
            with psycopg.connect(dsn, autocommit=True) as c:
                pid.append(c.info.backend_pid)
                with contextlib.suppress(psycopg.OperationalError):
                    c.execute("SELECT analytics.refresh_rollups()")

        runner = threading.Thread(target=run)
        runner.start()
        for _ in range(100):
            waiting = conn.execute(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND query LIKE '%refresh_rollups%'"
            ).fetchone()["n"]
            if waiting:
                break
            threading.Event().wait(0.05)
        assert waiting, "the refresh did not reach the blocked step"
        conn.execute("SELECT pg_terminate_backend(%s)", (pid[0],))
        runner.join()
    assert conn.execute("SELECT events FROM analytics.rollup_hourly_totals").fetchall() == before
    assert conn.execute("SELECT count(*) AS n FROM analytics.dirty_buckets").fetchone()["n"] > 0
    refresh_all(conn)
    assert_exact(conn)


def test_materialized_view_over_rollups(conn):
    track_events(
        conn,
        [
            {"session_id": "s1", "event_type": "exposure", "experiment_id": "e", "variant_key": "A"},
            {"session_id": "s1", "event_type": "conversion", "experiment_id": "e"},
            {"session_id": "s2", "event_type": "exposure", "experiment_id": "e", "variant_key": "B"},
        ],
    )
    refresh_all(conn)
    result = conn.execute("SELECT analytics.refresh_views() AS r").fetchone()["r"]
    assert [v["view"] for v in result["views"]] == ["analytics.experiment_variant_stats"]
    rows = conn.execute(
        "SELECT variant_key, event_type, unique_sessions, events FROM analytics.experiment_variant_stats ORDER BY 1, 2"
    ).fetchall()
    assert [tuple(r.values()) for r in rows] == [
        ("A", "conversion", 1, 1),
        ("A", "exposure", 1, 1),
        ("B", "conversion", 0, 0),
        ("B", "exposure", 1, 1),
    ]


def test_hourly_rollups_read_out(conn):
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    track_events(
        conn,
        [
            {"session_id": "s1", "event_type": "tool_used", "name": "FAAB", "properties": {"risk_mode": "chase"}},
            {"session_id": "s1", "event_type": "tool_used", "name": "FAAB", "properties": {"risk_mode": "protect"}},
            {"session_id": "s2", "event_type": "pageview", "name": "/", "properties": {"risk_mode": "chase"}},
            {"project_id": "other", "session_id": "x", "event_type": "pageview"},
        ],
    )
    refresh_all(conn)
    conn.execute("SELECT set_config('request.jwt.claims', %s, false)", (json.dumps({"project_id": "default"}),))
    conn.execute("SET ROLE analytics_reader")
    try:
        result = conn.execute(
            "SELECT analytics.hourly_rollups(hours => 2, breakdown_by => 'risk_mode') AS r"
        ).fetchone()["r"]
        with pytest.raises(psycopg.Error) as error:
            conn.execute("SELECT analytics.hourly_rollups(project_id => 'other')")
        assert error.value.sqlstate == "42501"
    finally:
        conn.execute("RESET ROLE")
    assert result == [
        {
            "hour": hour.strftime("%Y-%m-%dT%H:00:00Z"),
            "event_counts": {"tool_used": 2, "pageview": 1},
            "tool_usage": {"FAAB": 2},
            "unique_sessions": 2,
            "total_events": 3,
            "breakdown": {"chase": 2, "protect": 1},
        }
    ]


def test_users_first_and_last_seen_follow_their_events(conn):
    conn.execute("SELECT analytics.identify('u1', '{\"plan\": \"pro\"}')")
    late = MIDNIGHT - timedelta(hours=20)
    track_events(
        conn,
        [
            {"session_id": "s", "event_type": "click", "user_id": "u1", "occurred_at": late.isoformat()},
            {"session_id": "s", "event_type": "click", "user_id": "u2"},
        ],
    )
    refresh_all(conn)
    users = {u["user_id"]: u for u in conn.execute("SELECT * FROM analytics.users").fetchall()}
    assert users["u1"]["first_seen"] == late and users["u1"]["traits"] == {"plan": "pro"}
    assert users["u2"]["first_seen"] == users["u2"]["last_seen"]


def test_a_late_visit_relinks_the_visit_after_it(conn):
    """Visits link to their user's previous visit: a late visit in between, a visit that starts earlier,
    and a deleted visit each relink the visit after them, in other hours, as the oracle says."""
    base = MIDNIGHT - timedelta(hours=12)

    def visit(session: str, hours: float) -> dict:
        at = (base + timedelta(hours=hours)).isoformat()
        return {"project_id": "a", "session_id": session, "user_id": "u", "event_type": "click", "occurred_at": at}

    def previous_of(session: str):
        row = conn.execute(
            "SELECT previous_first_seen AS p FROM analytics.sessions WHERE project_id = 'a' AND session_id = %s",
            (session,),
        ).fetchone()
        return row["p"]

    track_events(conn, [visit("first", 0), visit("last", 6)])
    refresh_all(conn)
    assert previous_of("last") == base
    track_events(conn, [visit("between", 3)])  # late, three hours before "last"
    refresh_all(conn)
    assert previous_of("last") == base + timedelta(hours=3) and previous_of("between") == base
    track_events(conn, [visit("between", 1)])  # "between" now starts earlier
    refresh_all(conn)
    assert previous_of("between") == base and previous_of("last") == base + timedelta(hours=1)
    conn.execute("DELETE FROM analytics.events WHERE project_id = 'a' AND session_id = 'between'")
    refresh_all(conn)
    assert previous_of("last") == base
    assert_exact(conn)
