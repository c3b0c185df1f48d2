"""Session paths: funnel() answers funnels nobody saved from analytics.sessions.path.

A session's path is its events' key characters in time order. The answers must equal
the raw-event oracle at every moment: with batches refreshed or not yet, events deleted,
two tenants, ties, sessions longer than the window and ranges that cut sessions.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from tests.conftest import acting_as, track_events
from tests.test_metrics_and_funnel import (
    BASE,
    SESSION_ZONES,
    generated_event,
    to_documents,
)
from tests.test_saved_funnels import (
    RANGES,
    STEP_CHOICES,
    assert_funnels_match_the_oracle,
    funnel_of,
    generated_ranges,
    grid_ranges,
)

pytestmark = pytest.mark.usefixtures("keep_old_events")


def key_char(conn, event_type: str, name: str | None) -> str:
    return conn.execute("SELECT analytics._event_key_char(%s, %s) AS c", (event_type, name)).fetchone()["c"]


def ev(session: str, at: datetime, kind: str, name: str | None = None, project: str = "default") -> dict:
    return {
        "project_id": project,
        "session_id": session,
        "event_type": kind,
        "name": name,
        "occurred_at": at.isoformat(),
    }


AT = BASE + timedelta(hours=2)


# ---------------------------------------------------------------- fixed cases


def test_the_rollup_job_keeps_each_sessions_path(conn):
    """One character per event in time order, across hours; none for a session with a tie."""
    track_events(
        conn,
        [
            ev("a", AT + timedelta(minutes=50), "click", "cta"),  # out of order on purpose
            ev("a", AT, "pageview", "/"),
            ev("a", AT + timedelta(minutes=70), "conversion"),  # the next hour
            ev("tie", AT, "pageview", "/"),
            ev("tie", AT, "click", "cta"),
        ],
    )
    conn.execute("SELECT analytics.refresh_rollups()")
    paths = {
        r["session_id"]: r["path"] for r in conn.execute("SELECT session_id, path FROM analytics.sessions").fetchall()
    }
    chars = [key_char(conn, "pageview", "/"), key_char(conn, "click", "cta"), key_char(conn, "conversion", None)]
    assert paths == {"a": "".join(chars), "tie": None}
    keys = conn.execute("SELECT event_type, name, code FROM analytics.event_keys ORDER BY 1, 2").fetchall()
    assert [(k["event_type"], k["name"], k["code"]) for k in keys] == [
        ("click", "cta", chars[1]),
        ("conversion", None, chars[2]),
        ("pageview", "/", chars[0]),
    ]

    # A funnel over them: the path answers "a", the tie is walked over its events.
    steps = ["pageview=/", "click", "conversion"]
    got = funnel_of(conn, steps, AT - timedelta(hours=1), AT + timedelta(hours=3), timedelta(hours=2))
    assert got["source"] == "session_paths" and got["saved_funnel"] is None
    assert [s["count"] for s in got["steps"]] == [2, 1, 1]  # the tie's click is not after its pageview


def test_events_not_yet_rolled_up_count_at_once(conn):
    """Sessions with events in an hour written (or deleted) since the last refresh are walked
    over raw events: the answer is the raw one now, not as of the last refresh."""
    steps, within = ["pageview=/", "click=cta"], timedelta(hours=1)
    track_events(conn, [ev("a", AT, "pageview", "/"), ev("b", AT, "pageview", "/")])
    conn.execute("SELECT analytics.refresh_rollups()")
    window = (AT - timedelta(hours=1), AT + timedelta(hours=2))

    def counts() -> list[int]:
        got = funnel_of(conn, steps, *window, within)
        assert got["source"] == "session_paths"
        return [s["count"] for s in got["steps"]]

    assert counts() == [2, 0]
    track_events(conn, [ev("a", AT + timedelta(minutes=5), "click", "cta"), ev("c", AT, "pageview", "/")])
    assert counts() == [3, 1]  # before any refresh
    conn.execute("DELETE FROM analytics.events WHERE session_id = 'b'")
    assert counts() == [2, 1]  # b's path is still stored, its events are gone
    conn.execute("SELECT analytics.refresh_rollups()")
    assert counts() == [2, 1]


def test_a_walked_session_is_read_before_the_oldest_per_hour_facts_too(conn):
    """A walked session is read only where its events can lie: between its first and last event as of
    the last refresh, in the hours written since, and before the project's oldest per-hour facts. The
    last is for cleanup(), which trims session_hours up to the raw cut-off while the raw events of that
    day stay: a session merged again after the trim has a first_seen that no longer covers them."""
    steps, within = ["pageview=/", "click=cta", "conversion"], timedelta(hours=6)
    track_events(conn, [ev("a", AT, "pageview", "/")])
    conn.execute("SELECT analytics.refresh_rollups()")
    conn.execute("DELETE FROM analytics.session_hours WHERE bucket = date_trunc('hour', %s::timestamptz, 'UTC')", (AT,))
    track_events(conn, [ev("a", AT + timedelta(hours=1), "click", "cta")])
    conn.execute("SELECT analytics.refresh_rollups()")
    first_seen = conn.execute("SELECT first_seen FROM analytics.sessions WHERE session_id = 'a'").fetchone()
    assert first_seen["first_seen"] == AT + timedelta(hours=1)  # the merge no longer sees the pageview
    track_events(conn, [ev("a", AT + timedelta(hours=2), "conversion")])  # written since: a is walked
    got = funnel_of(conn, steps, AT - timedelta(hours=1), AT + timedelta(hours=3), within)
    assert got["source"] == "session_paths" and [s["count"] for s in got["steps"]] == [1, 1, 1]


def test_a_step_character_shared_with_another_key_reads_raw_events(conn):
    """The characters are a hash: a key that shares a step's character sends funnel() to raw events."""
    steps, within = ["pageview=/", "click=cta"], timedelta(hours=1)
    track_events(conn, [ev("a", AT, "pageview", "/"), ev("a", AT + timedelta(minutes=1), "click", "cta")])
    conn.execute("SELECT analytics.refresh_rollups()")
    window = (AT - timedelta(hours=1), AT + timedelta(hours=1))
    assert funnel_of(conn, steps, *window, within)["source"] == "session_paths"
    # Stand in for keys whose hash meets the step's: the same character, another name, another type.
    share = "INSERT INTO analytics.event_keys (project_id, event_type, name, code) VALUES ('default', %s, %s, %s)"
    conn.execute(share, ("click", "other", key_char(conn, "click", "cta")))
    got = funnel_of(conn, steps, *window, within)
    assert got["source"] == "raw_events" and [s["count"] for s in got["steps"]] == [1, 1]
    # A step 'click' takes in both clicks: their sharing a character does not matter there.
    got = funnel_of(conn, ["pageview", "click"], *window, within)
    assert got["source"] == "session_paths" and [s["count"] for s in got["steps"]] == [1, 1]
    # A key of another type does.
    conn.execute(share, ("conversion", None, key_char(conn, "click", "cta")))
    got = funnel_of(conn, ["pageview", "click"], *window, within)
    assert got["source"] == "raw_events" and [s["count"] for s in got["steps"]] == [1, 1]
    # Another tenant's keys are its own.
    assert funnel_of(conn, steps, *window, within, project="other")["source"] == "session_paths"


def test_a_reader_reads_paths_of_its_own_tenant_only(conn):
    steps, within = ["pageview=/", "click=cta"], timedelta(hours=1)
    for project, sessions in (("acme", ["a"]), ("other", ["x", "y"])):
        track_events(
            conn,
            [
                e
                for s in sessions
                for e in (
                    ev(s, AT, "pageview", "/", project),
                    ev(s, AT + timedelta(minutes=1), "click", "cta", project),
                )
            ],
        )
    conn.execute("SELECT analytics.refresh_rollups()")
    with acting_as(conn, "analytics_reader", {"project_id": "acme"}):
        got = conn.execute(
            "SELECT analytics.funnel(steps => %s, from_ts => %s, to_ts => %s, within => %s) AS r",
            (steps, AT - timedelta(hours=1), AT + timedelta(hours=1), within),
        ).fetchone()["r"]
        assert got["source"] == "session_paths" and [s["count"] for s in got["steps"]] == [1, 1]
    for table in ("analytics.event_keys", "analytics.sessions"):
        with (
            pytest.raises(psycopg.errors.InsufficientPrivilege),
            acting_as(conn, "analytics_reader", {"project_id": "acme"}),
        ):
            conn.execute(f"SELECT path FROM {table}" if table.endswith("sessions") else f"SELECT code FROM {table}")


# ---------------------------------------------------------------- generated streams


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batches=st.lists(
        st.tuples(st.lists(generated_event, min_size=1, max_size=20), st.booleans()), min_size=1, max_size=3
    ),
    steps=st.lists(st.sampled_from(STEP_CHOICES), min_size=1, max_size=4),
    within_minutes=st.integers(min_value=1, max_value=3 * 24 * 60),
    deleted_session=st.sampled_from([None, "s1", "s2", "s4"]),
    deleted_before=st.integers(min_value=-26 * 60, max_value=26 * 60),
    refreshed_after_delete=st.booleans(),
    time_zone=SESSION_ZONES,
    ranges=RANGES,
)
def test_generated_streams_give_exact_funnels_from_session_paths(
    conn, batches, steps, within_minutes, deleted_session, deleted_before, refreshed_after_delete, time_zone, ranges
):
    """Late and out-of-order batches, each refreshed or not, in two tenants, some events deleted
    before or after the last refresh, in any session time zone: funnel() from session paths equals
    the raw-event oracle."""
    within = timedelta(minutes=within_minutes)
    with conn.transaction(force_rollback=True):
        conn.execute("SELECT set_config('TimeZone', %s, true)", (time_zone,))
        write_then_delete(
            conn,
            [(to_documents(batch), refreshed) for batch, refreshed in batches],
            ("session_id", deleted_session, BASE + timedelta(minutes=deleted_before)),
            refreshed_after_delete,
        )
        for project in ("default", "other"):
            assert_funnels_match_the_oracle(
                conn, steps, within, generated_ranges(ranges), project, source="session_paths"
            )


def write_then_delete(
    conn,
    batches: list[tuple[list[dict], bool]],
    delete: tuple[str, str | None, datetime],
    refreshed_after_delete: bool,
) -> None:
    """Write each batch of documents, refreshing the rollups after it or not; then delete the project
    default's events of one session or user (`delete`: column, value or None for none, before when),
    and refresh after that or not."""
    for documents, refreshed in batches:
        track_events(conn, documents)
        if refreshed:
            conn.execute("SELECT analytics.refresh_rollups()")
    column, value, before = delete
    if value is not None:
        conn.execute(
            sql.SQL(
                "DELETE FROM analytics.events WHERE project_id = 'default' AND {} = %s AND occurred_at < %s"
            ).format(sql.Identifier(column)),
            (value, before),
        )
        if refreshed_after_delete:
            conn.execute("SELECT analytics.refresh_rollups()")


def test_sessions_inside_the_range_are_counted_from_their_paths_not_walked(conn):
    """The point of paths: settled sessions inside the range are counted by LIKE, not walked over raw
    events. Shown by changing raw events behind the rollup job's back (the marks of the change
    deleted): the answer is still the paths' one, while the walk of the same sessions sees the change."""
    sessions = [f"v{n}" for n in range(50)]
    track_events(
        conn,
        [
            e
            for n, s in enumerate(sessions)
            for e in (
                ev(s, AT + timedelta(minutes=n), "pageview", "/"),
                ev(s, AT + timedelta(minutes=n, seconds=30), "click", "cta"),
            )
        ],
    )
    conn.execute("SELECT analytics.refresh_rollups()")
    stats = conn.execute(
        "SELECT count(*) FILTER (WHERE path IS NOT NULL) AS with_path, count(*) AS n FROM analytics.sessions"
    ).fetchone()
    assert stats == {"with_path": 50, "n": 50}
    with conn.transaction(force_rollback=True):
        conn.execute("UPDATE analytics.events SET name = 'elsewhere' WHERE event_type = 'click'")
        conn.execute("DELETE FROM analytics.dirty_buckets")
        window = (AT - timedelta(hours=1), AT + timedelta(hours=2))
        got = funnel_of(conn, ["pageview=/", "click=cta"], *window, timedelta(hours=1))
        assert got["source"] == "session_paths" and [s["count"] for s in got["steps"]] == [50, 50]
        walked = conn.execute(
            "SELECT analytics._funnel_walk_sessions(2, 'default', ARRAY['pageview', 'click'], ARRAY['/', 'cta'],"
            " %s, %s, '1 hour', %s) AS c",
            (*window, sessions),
        ).fetchone()["c"]
        assert walked == [50, 0]


def test_whole_hours_are_counted_from_the_path_rollup_and_doubtful_hours_session_by_session(conn):
    """Sessions of a whole hour add up by path in rollup_hourly_paths. Shown by adding 100 sessions to
    one of its rows behind the job's back: a range over that whole hour counts them, a range that
    cuts the hour reads its sessions instead. An hour with a session longer than the window is read
    session by session, so the same change there is not seen."""
    hour = AT.replace(minute=0, second=0) + timedelta(hours=1)
    track_events(
        conn,
        [
            e
            for n in range(6)
            for e in (
                ev(f"a{n}", hour + timedelta(minutes=5 * n), "pageview", "/"),
                ev(f"a{n}", hour + timedelta(minutes=5 * n, seconds=30), "click", "cta"),
                ev(f"b{n}", hour + timedelta(hours=1, minutes=5 * n), "pageview", "/"),
                ev(f"b{n}", hour + timedelta(hours=1, minutes=5 * n, seconds=30), "click", "cta"),
            )
        ]
        + [
            ev("long", hour + timedelta(hours=1, minutes=1), "pageview", "/"),
            ev("long", hour + timedelta(hours=1, minutes=50), "click", "cta"),
        ],
    )
    conn.execute("SELECT analytics.refresh_rollups()")
    steps, within = ["pageview=/", "click=cta"], timedelta(minutes=30)
    whole = (hour, hour + timedelta(hours=2))
    cut = (hour + timedelta(minutes=1), hour + timedelta(hours=2))
    assert [s["count"] for s in funnel_of(conn, steps, *whole, within)["steps"]] == [13, 12]
    with conn.transaction(force_rollback=True):
        conn.execute("UPDATE analytics.rollup_hourly_paths SET sessions = sessions + 100 WHERE sessions > 1")
        rows = conn.execute("SELECT bucket, sessions FROM analytics.rollup_hourly_paths ORDER BY 1, 2").fetchall()
        assert [(r["bucket"], r["sessions"]) for r in rows] == [
            (hour, 106),
            (hour + timedelta(hours=1), 1),
            (hour + timedelta(hours=1), 106),
        ]
        assert [s["count"] for s in funnel_of(conn, steps, *whole, within)["steps"]] == [113, 112]
        assert [s["count"] for s in funnel_of(conn, steps, *cut, within)["steps"]] == [12, 11]
    assert_funnels_match_the_oracle(conn, steps, within, [whole, cut], source="session_paths")


def test_a_session_longer_than_the_window_is_walked(conn):
    """A path ignores time: a session lasting longer than the window is walked, so the window still cuts."""
    start = datetime(2026, 11, 1, 5, tzinfo=UTC)
    track_events(
        conn,
        [
            ev("long", start, "pageview", "/"),
            ev("long", start + timedelta(hours=2), "click", "cta"),
            ev("short", start, "pageview", "/"),
            ev("short", start + timedelta(minutes=20), "click", "cta"),
        ],
    )
    conn.execute("SELECT analytics.refresh_rollups()")
    got = funnel_of(conn, ["pageview=/", "click=cta"], start, start + timedelta(hours=3), timedelta(hours=1))
    assert got["source"] == "session_paths" and [s["count"] for s in got["steps"]] == [2, 1]


def test_every_range_on_a_grid_matches_the_oracle(conn):
    """Ranges starting and ending on and off the hour, cutting sessions at either end, around ties,
    a session longer than the window and one with events written after the last refresh."""
    at = datetime(2026, 11, 1, 10, tzinfo=UTC)

    def e(session, minutes, kind, name=None):
        return ev(session, at + timedelta(minutes=minutes), kind, name)

    track_events(
        conn,
        [
            e("in", 5, "pageview", "/"),
            e("in", 20, "click", "cta"),
            e("in", 25, "conversion"),
            e("across", 50, "pageview", "/"),  # across 11:00, converts at 11:40
            e("across", 70, "click", "cta"),
            e("across", 100, "conversion"),
            e("twice", 10, "pageview", "/"),  # enters again at 11:35
            e("twice", 95, "pageview", "/"),
            e("twice", 96, "click", "cta"),
            e("backwards", 30, "click", "cta"),  # clicks before it enters
            e("backwards", 40, "pageview", "/"),
            e("long", 0, "pageview", "/"),  # 2.5 hours: longer than the window
            e("long", 150, "click", "cta"),
            e("tie", 60, "pageview", "/"),
            e("tie", 60, "click", "cta"),
            e("tie", 61, "click", "cta"),
        ],
    )
    conn.execute("SELECT analytics.refresh_rollups()")
    # Written after the refresh, in an hour of its own with "long": both are walked over raw events.
    track_events(conn, [e("fresh", 125, "pageview", "/"), e("fresh", 126, "click", "cta")])
    steps, within = ["pageview=/", "click=cta", "conversion"], timedelta(hours=2)
    assert_funnels_match_the_oracle(conn, steps, within, grid_ranges(at), source="session_paths")
