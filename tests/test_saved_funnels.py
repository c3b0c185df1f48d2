"""Saved funnels: save_funnel() makes funnel() answer from rollups kept by the rollup job.

The answers must be the raw-event answers, exactly: compared with the Python oracle of
test_metrics_and_funnel over generated streams (late, out of order, deleted, two tenants),
for ranges that cut hours anywhere.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import acting_as, track_events
from tests.test_metrics_and_funnel import (
    BASE,
    SESSION_ZONES,
    expected_funnel,
    funnel_stream,
    generated_event,
    stored_events,
    to_documents,
)

pytestmark = pytest.mark.usefixtures("keep_old_events")


def funnel_of(conn, steps, from_ts, to_ts, within, project="default") -> dict[str, Any]:
    return conn.execute(
        "SELECT analytics.funnel(steps => %s, from_ts => %s, to_ts => %s, within => %s, project_id => %s) AS r",
        (steps, from_ts, to_ts, within, project),
    ).fetchone()["r"]


def save(conn, name, steps, within, project="default") -> dict[str, Any]:
    return conn.execute(
        "SELECT analytics.save_funnel(funnel_id => %s, steps => %s, within => %s, project_id => %s) AS r",
        (name, steps, within, project),
    ).fetchone()["r"]


def expected_rollup(raw: list[dict], steps: list[str], within: timedelta) -> Counter:
    """Per (hour of entry, step, hour reached): the sessions, each walked over all its events."""
    parsed = [(s.split("=", 1)[0], s.split("=", 1)[1] if "=" in s else None) for s in steps]
    by_session: dict[str, list[dict]] = defaultdict(list)
    for e in raw:
        if e["session_id"] is not None:
            by_session[e["session_id"]].append(e)

    def hour(at: datetime) -> datetime:
        return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)

    def matches(e: dict, k: int) -> bool:
        return e["event_type"] == parsed[k][0] and parsed[k][1] in (None, e["name"])

    rows: Counter = Counter()
    for evs in by_session.values():
        firsts = [e["occurred_at"] for e in evs if matches(e, 0)]
        if not firsts:
            continue
        entered = reached = min(firsts)
        rows[(hour(entered), 1, hour(entered))] += 1
        for k in range(1, len(steps)):
            later = [e["occurred_at"] for e in evs if matches(e, k) and reached < e["occurred_at"] <= entered + within]
            if not later:
                break
            reached = min(later)
            rows[(hour(entered), k + 1, hour(reached))] += 1
    return rows


def stored_rollup(conn, name: str, project: str = "default") -> Counter:
    rows = conn.execute(
        "SELECT bucket, step, reached_bucket, sessions FROM analytics.rollup_hourly_funnel_steps"
        " WHERE project_id = %s AND funnel_id = %s",
        (project, name),
    ).fetchall()
    # In UTC: an hour of the session's zone that its clocks repeat compares wrongly in Python.
    return Counter(
        {(r["bucket"].astimezone(UTC), r["step"], r["reached_bucket"].astimezone(UTC)): r["sessions"] for r in rows}
    )


def grid_ranges(at: datetime) -> list[tuple[datetime, datetime]]:
    """Every (from_ts, to_ts) on a 15-minute grid from 20 minutes before `at` to 3 hours after it."""
    grid = [at + timedelta(minutes=m) for m in range(-20, 200, 15)]
    return [(from_ts, to_ts) for from_ts in grid for to_ts in grid if to_ts > from_ts]


def generated_ranges(ranges: list[tuple[int, int]]) -> list[tuple[datetime, datetime]]:
    """(start, length) in minutes from BASE, moved off the minute by a few seconds."""
    out = []
    for start, length in ranges:
        from_ts = BASE + timedelta(minutes=start, seconds=start % 7 * 5)
        out.append((from_ts, from_ts + timedelta(minutes=length, seconds=length % 11 * 3)))
    return out


RANGES = st.lists(
    st.tuples(st.integers(min_value=-30 * 60, max_value=26 * 60), st.integers(min_value=1, max_value=54 * 60)),
    min_size=1,
    max_size=4,
)


def assert_funnels_match_the_oracle(conn, steps, within, ranges, project: str = "default", **result: Any) -> None:
    """funnel() over each range counts what the raw-event oracle counts, and its result holds `result`
    (e.g. source="session_paths")."""
    raw = stored_events(conn, project)
    for from_ts, to_ts in ranges:
        got = funnel_of(conn, steps, from_ts, to_ts, within, project)
        for key, value in result.items():
            assert got[key] == value, (key, from_ts, to_ts)
        want = expected_funnel(raw, steps, from_ts, to_ts, within, "session")
        assert [s["count"] for s in got["steps"]] == want, (from_ts, to_ts)


# ---------------------------------------------------------------- fixed cases


def test_a_saved_funnel_gives_the_raw_answer_from_the_rollup(conn):
    at = datetime(2026, 3, 2, 12, tzinfo=UTC)
    track_events(conn, funnel_stream())
    conn.execute("SELECT analytics.refresh_rollups()")
    steps = ["pageview=/pricing", "click=cta", "conversion"]
    raw = funnel_of(conn, steps, at - timedelta(hours=1), at + timedelta(hours=3), timedelta(hours=1))
    assert raw["saved_funnel"] is None

    saved = save(conn, "pricing-to-conversion", steps, timedelta(hours=1))
    assert saved == {
        "project_id": "default",
        "funnel_id": "pricing-to-conversion",
        "steps": steps,
        "within_s": 3600.0,
        "count_by": "session",
        "sessions": 4,  # a, b, c and e enter
    }
    from_rollup = funnel_of(conn, steps, at - timedelta(hours=1), at + timedelta(hours=3), timedelta(hours=1))
    assert from_rollup["saved_funnel"] == "pricing-to-conversion"
    assert from_rollup["steps"] == raw["steps"] and [s["count"] for s in raw["steps"]] == [4, 2, 1]
    # Another window, or counting users, is another funnel: raw events.
    assert funnel_of(conn, steps, at, at + timedelta(hours=3), timedelta(hours=3))["saved_funnel"] is None

    # New events reach the saved funnel through the rollup job.
    track_events(
        conn,
        [
            {
                "session_id": "b",
                "event_type": "click",
                "name": "cta",
                "occurred_at": (at + timedelta(minutes=2)).isoformat(),
            }
        ],
    )
    result = conn.execute("SELECT analytics.refresh_rollups() AS r").fetchone()["r"]
    assert result["funnel_sessions"] >= 1
    after = funnel_of(conn, steps, at - timedelta(hours=1), at + timedelta(hours=3), timedelta(hours=1))
    assert after["saved_funnel"] == "pricing-to-conversion" and [s["count"] for s in after["steps"]] == [4, 3, 1]

    assert (
        conn.execute("SELECT analytics.drop_funnel('pricing-to-conversion', project_id => 'default') AS r").fetchone()[
            "r"
        ]
        is True
    )
    assert conn.execute("SELECT count(*) AS n FROM analytics.rollup_hourly_funnel_steps").fetchone()["n"] == 0
    assert conn.execute("SELECT count(*) AS n FROM analytics.funnel_sessions").fetchone()["n"] == 0
    again = funnel_of(conn, steps, at - timedelta(hours=1), at + timedelta(hours=3), timedelta(hours=1))
    assert again["saved_funnel"] is None and again["steps"] == after["steps"]


def test_the_window_is_the_same_number_of_seconds_in_every_session_time_zone(conn):
    """'1 day' is 86,400 s, also when the session's zone leaves DST in between (Citus workers run in UTC)."""
    entered = datetime(2026, 10, 31, 12, tzinfo=UTC)  # New York leaves DST on 1 November, 06:00 UTC
    track_events(
        conn,
        [
            {"session_id": "s", "event_type": "signup", "occurred_at": entered.isoformat()},
            {
                "session_id": "s",
                "event_type": "conversion",
                "occurred_at": (entered + timedelta(hours=24, minutes=30)).isoformat(),
            },
        ],
    )
    conn.execute("SELECT analytics.refresh_rollups()")
    conn.execute("SET TIME ZONE 'America/New_York'")
    steps = ["signup", "conversion"]
    span = (entered - timedelta(hours=1), entered + timedelta(days=2))
    raw = funnel_of(conn, steps, *span, "1 day")
    assert raw["within_s"] == 86400 and [s["count"] for s in raw["steps"]] == [1, 0]
    save(conn, "signup", steps, "1 day")
    saved = funnel_of(conn, steps, *span, "24 hours")
    assert saved["saved_funnel"] == "signup" and saved["steps"] == raw["steps"]


READER = ("analytics_reader", {"project_id": "acme"})
ADMIN = ("analytics_admin", None)


@pytest.mark.parametrize(
    ("caller", "call", "error", "message"),
    [
        (READER, "save_funnel('f', ARRAY['pageview', 'signup'], project_id => 'acme')", "42501", "permission denied"),
        (READER, "drop_funnel('f', project_id => 'acme')", "42501", "permission denied"),
        (ADMIN, "save_funnel('f', ARRAY['pageview', 'signup'])", "22023", "needs a project"),
        (ADMIN, "drop_funnel('f')", "22023", "needs a project"),
        (ADMIN, "save_funnel('Not a name', ARRAY['pageview'], project_id => 'acme')", "22023", "invalid funnel name"),
        (ADMIN, "save_funnel('f', ARRAY['pageview'], within => '0', project_id => 'acme')", "22023", "within must be"),
        (ADMIN, "save_funnel('f', ARRAY['Bad'], project_id => 'acme')", "22023", "invalid funnel step"),
    ],
)
def test_saving_funnels_is_for_the_admin_and_checks_its_arguments(conn, caller, call, error, message):
    with pytest.raises(psycopg.Error, match=message) as raised, conn.transaction(), acting_as(conn, *caller):
        conn.execute(f"SELECT analytics.{call}")
    assert raised.value.sqlstate == error


def test_the_same_steps_and_window_are_saved_once(conn):
    save(conn, "f", ["pageview", "signup"], "1 day", "acme")
    assert save(conn, "f", ["pageview", "signup"], "2 days", "acme")["within_s"] == 2 * 86400  # replaced
    with pytest.raises(psycopg.errors.UniqueViolation):
        save(conn, "g", ["pageview", "signup"], "48 hours", "acme")


def test_a_reader_gets_its_own_saved_funnel_and_never_another_tenants(conn):
    at = datetime(2026, 3, 2, 12, tzinfo=UTC)
    track_events(conn, [{**e, "project_id": "acme"} for e in funnel_stream()])
    track_events(conn, [{**e, "project_id": "other", "session_id": e["session_id"] + "2"} for e in funnel_stream()] * 2)
    conn.execute("SELECT analytics.refresh_rollups()")
    steps = ["pageview=/pricing", "click=cta", "conversion"]
    for project in ("acme", "other"):
        save(conn, "pricing", steps, "1 hour", project)
    with conn.transaction(), acting_as(conn, "analytics_reader", {"project_id": "acme"}):
        got = conn.execute(
            "SELECT analytics.funnel(steps => %s, from_ts => %s, to_ts => %s, within => '1 hour') AS r",
            (steps, at - timedelta(hours=1), at + timedelta(hours=3)),
        ).fetchone()["r"]
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        conn.transaction(),
        acting_as(conn, "analytics_reader", {"project_id": "acme"}),
    ):
        conn.execute("SELECT count(*) FROM analytics.funnel_sessions")
    assert got["saved_funnel"] == "pricing" and [s["count"] for s in got["steps"]] == [4, 2, 1]


def test_every_range_on_a_grid_matches_the_oracle(conn):
    """Ranges starting and ending on and off the hour, around sessions that enter in a partial
    hour, reach a step in the range's last partial hour or just after it, and enter again after
    the range's start."""
    at = datetime(2026, 3, 2, 10, tzinfo=UTC)

    def ev(session, minutes, kind):
        return {"session_id": session, "event_type": kind, "occurred_at": (at + timedelta(minutes=minutes)).isoformat()}

    track_events(
        conn,
        [
            ev("whole-hour", 5, "signup"),  # enters at 10:05, converts at 12:25
            ev("whole-hour", 145, "conversion"),
            ev("again", 10, "signup"),  # enters at 10:10 and again at 11:35, converts at 11:50
            ev("again", 95, "signup"),
            ev("again", 110, "conversion"),
            ev("late-step", 50, "signup"),  # converts at 12:45
            ev("late-step", 165, "conversion"),
            ev("quick", 125, "signup"),  # 12:05 to 12:06
            ev("quick", 126, "conversion"),
            ev("too-late", 0, "conversion"),  # converts before it enters: never
            ev("too-late", 30, "signup"),
        ],
    )
    conn.execute("SELECT analytics.refresh_rollups()")
    steps, within = ["signup", "conversion"], timedelta(hours=3)
    save(conn, "signup", steps, within)
    assert_funnels_match_the_oracle(conn, steps, within, grid_ranges(at), saved_funnel="signup")


# ---------------------------------------------------------------- generated streams

STEP_CHOICES = ["pageview", "pageview=/", "pageview=/pricing", "click", "click=cta", "conversion"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batches=st.lists(st.lists(generated_event, min_size=1, max_size=20), min_size=1, max_size=3),
    saved_after=st.integers(min_value=0, max_value=3),
    steps=st.lists(st.sampled_from(STEP_CHOICES), min_size=1, max_size=4),
    within_minutes=st.integers(min_value=1, max_value=3 * 24 * 60),
    deleted_session=st.sampled_from([None, "s1", "s2", "s4"]),
    deleted_before=st.integers(min_value=-26 * 60, max_value=26 * 60),
    time_zone=SESSION_ZONES,
    ranges=RANGES,
)
def test_generated_streams_give_exact_saved_funnels(
    conn, batches, saved_after, steps, within_minutes, deleted_session, deleted_before, time_zone, ranges
):
    """Saved before, between or after late and out-of-order batches, in two tenants, with events deleted;
    the rollup equals the walk of every session over its events, and funnel() over any range equals
    the raw-event oracle, in any session time zone."""
    within = timedelta(minutes=within_minutes)
    with conn.transaction(force_rollback=True):
        conn.execute("SELECT set_config('TimeZone', %s, true)", (time_zone,))
        for project in ("default", "other"):
            if saved_after == 0:
                save(conn, "f", steps, within, project)
        for i, batch in enumerate(batches, start=1):
            track_events(conn, to_documents(batch))
            conn.execute("SELECT analytics.refresh_rollups()")
            if saved_after == i:
                for project in ("default", "other"):
                    save(conn, "f", steps, within, project)
        if saved_after > len(batches):
            for project in ("default", "other"):
                save(conn, "f", steps, within, project)
        if deleted_session is not None:
            conn.execute(
                "DELETE FROM analytics.events WHERE project_id = 'default' AND session_id = %s AND occurred_at < %s",
                (deleted_session, BASE + timedelta(minutes=deleted_before)),
            )
            conn.execute("SELECT analytics.refresh_rollups()")
        for project in ("default", "other"):
            raw = stored_events(conn, project)
            assert stored_rollup(conn, "f", project) == expected_rollup(raw, steps, within)
            assert_funnels_match_the_oracle(conn, steps, within, generated_ranges(ranges), project, saved_funnel="f")
