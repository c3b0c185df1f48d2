"""Daily partitions: ahead of the clock, the default partition drained, safe under concurrency."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.conftest import track_events

TODAY = datetime.now(UTC).date()


def partitions(conn) -> set[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'analytics.events'::regclass"
    ).fetchall()
    return {r["relname"] for r in rows}


def name_of(day: date) -> str:
    return f"events_p{day:%Y%m%d}"


def test_install_premakes_today_and_seven_days(conn):
    expected = {name_of(TODAY + timedelta(days=d)) for d in range(8)} | {"events_default"}
    assert expected <= partitions(conn)


def test_partition_bounds_are_utc_days_whatever_the_session_zone(conn):
    day = TODAY - timedelta(days=3)
    conn.execute("SET TimeZone = 'America/Los_Angeles'")
    conn.execute("SELECT analytics.create_partitions(%s, %s)", (day, day))
    conn.execute("SET TimeZone = 'UTC'")
    bound = conn.execute(
        "SELECT pg_get_expr(relpartbound, oid) AS b FROM pg_class WHERE relname = %s", (name_of(day),)
    ).fetchone()["b"]
    assert bound == f"FOR VALUES FROM ('{day} 00:00:00+00') TO ('{day + timedelta(days=1)} 00:00:00+00')"


def test_event_of_a_day_without_partition_is_kept_then_moved(conn):
    old_day = TODAY - timedelta(days=20)
    at = datetime.combine(old_day, datetime.min.time(), UTC) + timedelta(hours=23, minutes=59)
    result = track_events(conn, [{"session_id": "late", "event_type": "click", "occurred_at": at.isoformat()}])
    assert result["accepted"] == 1
    assert conn.execute("SELECT count(*) AS n FROM analytics.events_default").fetchone()["n"] == 1
    conn.execute("DELETE FROM analytics.dirty_buckets")

    report = conn.execute("SELECT analytics.maintain_partitions() AS r").fetchone()["r"]

    assert report["moved_rows"] == 1 and name_of(old_day) in report["created"]
    assert report["default_partition_rows"] == 0
    row = conn.execute(f"SELECT * FROM analytics.{name_of(old_day)}").fetchone()
    assert row["session_id"] == "late" and row["occurred_at"] == at
    marks = conn.execute("SELECT project_id, bucket FROM analytics.dirty_buckets").fetchall()
    assert [(m["project_id"], m["bucket"]) for m in marks] == [("default", at.replace(minute=0))]
    # A second run has nothing to do.
    again = conn.execute("SELECT analytics.maintain_partitions() AS r").fetchone()["r"]
    assert again["created"] == [] and again["moved_rows"] == 0


def test_moved_partition_has_the_parent_indexes(conn):
    old_day = TODAY - timedelta(days=30)
    at = datetime.combine(old_day, datetime.min.time(), UTC)
    track_events(conn, [{"session_id": "s", "event_type": "click", "occurred_at": at.isoformat()}])
    conn.execute("SELECT analytics.maintain_partitions()")
    count = conn.execute(
        "SELECT count(*) AS n FROM pg_indexes WHERE schemaname = 'analytics' AND tablename = %s", (name_of(old_day),)
    ).fetchone()["n"]
    parent = conn.execute(
        "SELECT count(*) AS n FROM pg_indexes WHERE schemaname = 'analytics' AND tablename = 'events'"
    ).fetchone()["n"]
    assert count == parent


def test_create_partitions_rejects_a_reversed_range(conn):
    with pytest.raises(psycopg.Error) as error:
        conn.execute("SELECT analytics.create_partitions(current_date, current_date - 1)")
    assert error.value.sqlstate == "22023"


def test_premake_days_out_of_range(conn):
    with pytest.raises(psycopg.Error) as error:
        conn.execute("SELECT analytics.maintain_partitions(premake_days => -1)")
    assert error.value.sqlstate == "22023"


def test_maintenance_runs_concurrently_with_ingest_and_with_itself(dsn, conn):
    """Two ingest connections send late events (default partition) and current ones while two
    connections run maintain_partitions() over and over: nothing lost, nothing duplicated, no error."""
    errors: list[BaseException] = []
    sent: list[int] = [0, 0]
    stop = threading.Event()
    old_days = [TODAY - timedelta(days=d) for d in range(40, 46)]

    def ingest(worker: int) -> None:
        try:
            with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as c:
                for batch in range(15):
                    events = []
                    for i in range(40):
                        day = old_days[(batch + i) % len(old_days)] if i % 2 else TODAY
                        at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(seconds=i)
                        if day == TODAY:
                            at = min(at, datetime.now(UTC))
                        events.append(
                            {
                                "session_id": f"w{worker}",
                                "event_type": "click",
                                "event_id": str(uuid.uuid4()),
                                "occurred_at": at.isoformat(),
                            }
                        )
                    result = track_events(c, events)
                    assert result["accepted"] == 40, result
                    sent[worker] += 40
        except BaseException as error:
            errors.append(error)

    def maintain() -> None:
        try:
            with psycopg.connect(dsn, autocommit=True) as c:
                while not stop.is_set():
                    c.execute("SELECT analytics.maintain_partitions()")
        except BaseException as error:
            errors.append(error)

    maintainers = [threading.Thread(target=maintain) for _ in range(2)]
    ingesters = [threading.Thread(target=ingest, args=(w,)) for w in range(2)]
    for t in maintainers + ingesters:
        t.start()
    for t in ingesters:
        t.join()
    stop.set()
    for t in maintainers:
        t.join()
    assert errors == []
    conn.execute("SELECT analytics.maintain_partitions()")
    totals = conn.execute("SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM analytics.events").fetchone()
    assert totals == {"n": sum(sent), "d": sum(sent)}
    assert conn.execute("SELECT count(*) AS n FROM analytics.events_default").fetchone()["n"] == 0
    assert {name_of(d) for d in old_days} <= partitions(conn)


def test_status_reports_partitions_and_default_rows(conn):
    track_events(
        conn,
        [
            {
                "session_id": "s",
                "event_type": "click",
                "occurred_at": (datetime.now(UTC) - timedelta(days=50)).isoformat(),
            }
        ],
    )
    status = conn.execute("SELECT analytics.status() AS s").fetchone()["s"]
    assert status["default_partition_rows"] == 1
    assert status["pg_cron"] is False  # pg_cron lives in the cron_tests database only
    names = [p["name"] for p in status["partitions"]]
    assert names[-1] == "events_default" and name_of(TODAY) in names
