"""Funnels counted by user, followed step by step through the per-user index.

_funnel_from_user_steps() probes each user's first event of each step; it must count what
the raw-event oracle counts for every user who may have an event in the range
(_funnel_user_candidates()): users rolled up or not yet, events deleted after a refresh,
users across sessions and sessions with several users, two tenants, any session time zone.
funnel() takes this way when it is the cheaper one, and says so in "source".
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import acting_as, track_events
from tests.oracle import mismatches
from tests.test_metrics_and_funnel import BASE, SESSION_ZONES, expected_funnel, generated_event, stored_events
from tests.test_saved_funnels import RANGES, STEP_CHOICES, generated_ranges
from tests.test_session_paths import write_then_delete

pytestmark = pytest.mark.usefixtures("keep_old_events")
USERS = [None, "u1", "u2", "u3"]


def to_user_documents(generated: list[dict]) -> list[dict]:
    """Users independent of sessions: a user spans sessions, a session holds several users,
    and a quarter of the events are anonymous."""
    return [
        {
            "project_id": g["project_id"],
            "session_id": g["session_id"],
            "user_id": USERS[g["second"] % 4],
            "event_type": g["event_type"],
            "name": g["name"],
            "occurred_at": (BASE + timedelta(minutes=g["minute"], seconds=g["second"])).isoformat(),
        }
        for g in generated
    ]


def parse(steps: list[str]) -> tuple[list[str], list[str | None]]:
    return [s.split("=", 1)[0] for s in steps], [s.split("=", 1)[1] if "=" in s else None for s in steps]


def user_steps(conn, steps, from_ts, to_ts, within, project="default") -> list[int]:
    """_funnel_from_user_steps() over the candidates funnel() would give it."""
    types, names = parse(steps)
    return conn.execute(
        "SELECT analytics._funnel_from_user_steps(%s, %s, %s, %s, %s, %s, %s,"
        " analytics._funnel_user_candidates(%s, %s, %s)) AS c",
        (len(steps), project, types, names, from_ts, to_ts, within, project, from_ts, to_ts),
    ).fetchone()["c"]


def user_funnel(conn, steps, from_ts, to_ts, within, project="default") -> dict[str, Any]:
    return conn.execute(
        "SELECT analytics.funnel(steps => %s, from_ts => %s, to_ts => %s, within => %s, count_by => 'user',"
        " project_id => %s) AS r",
        (steps, from_ts, to_ts, within, project),
    ).fetchone()["r"]


def candidates(conn, from_ts, to_ts, project="default") -> set[str]:
    row = conn.execute("SELECT analytics._funnel_user_candidates(%s, %s, %s) AS c", (project, from_ts, to_ts))
    return set(row.fetchone()["c"])


def assert_user_steps_match_the_oracle(conn, steps, within, ranges, project="default") -> None:
    raw = stored_events(conn, project)
    for from_ts, to_ts in ranges:
        users = {e["user_id"] for e in raw if e["user_id"] is not None and from_ts <= e["occurred_at"] < to_ts}
        assert users <= candidates(conn, from_ts, to_ts, project), (from_ts, to_ts)
        want = expected_funnel(raw, steps, from_ts, to_ts, within, "user")
        assert user_steps(conn, steps, from_ts, to_ts, within, project) == want, (from_ts, to_ts)


def ev(user: str | None, minutes: float, kind: str, name: str | None = None, session: str = "s") -> dict:
    return {
        "session_id": session,
        "user_id": user,
        "event_type": kind,
        "name": name,
        "occurred_at": (BASE + timedelta(minutes=minutes)).isoformat(),
    }


# ---------------------------------------------------------------- fixed cases


def test_users_are_followed_across_sessions_days_and_the_window(conn):
    track_events(
        conn,
        [
            # u1 enters on the first day, reaches step 2 in another session on the next day, in the window
            ev("u1", -30, "pageview", "/pricing", "a"),
            ev("u1", 20 * 60, "click", "cta", "b"),
            ev("u1", 20 * 60 + 1, "conversion", None, "b"),
            # u2: step 2 before step 1 does not count; a later step-1 event is not a second entry
            ev("u2", 0, "click", "cta", "c"),
            ev("u2", 5, "pageview", "/pricing", "c"),
            ev("u2", 26 * 60, "pageview", "/pricing", "d"),
            ev("u2", 26 * 60 + 5, "click", "cta", "d"),
            # u3 enters on the second day only, and its step-2 event shares the entry's timestamp
            ev("u3", 25 * 60, "pageview", "/pricing", "e"),
            ev("u3", 25 * 60, "click", "cta", "e"),
            ev("u3", 25 * 60 + 1, "click", "cta", "e"),
            # anonymous events of u1's session are nobody's
            ev(None, 10, "click", "cta", "a"),
        ],
    )
    steps = ["pageview=/pricing", "click=cta", "conversion"]
    start = BASE - timedelta(hours=1)
    assert user_steps(conn, steps, start, start + timedelta(days=2), timedelta(days=1)) == [3, 2, 1]
    assert user_steps(conn, steps, start, start + timedelta(days=2), timedelta(hours=1)) == [3, 1, 0]
    assert user_steps(conn, steps, BASE, start + timedelta(days=2), timedelta(days=1)) == [2, 1, 0]
    conn.execute("SELECT analytics.refresh_rollups()")  # the same from analytics.users as from the marks
    assert user_steps(conn, steps, start, start + timedelta(days=2), timedelta(days=1)) == [3, 2, 1]
    assert_user_steps_match_the_oracle(
        conn, steps, timedelta(days=1), generated_ranges([(s, n) for s in range(-90, 1600, 170) for n in (30, 1500)])
    )


def test_events_written_or_deleted_after_the_refresh_count_at_once(conn):
    steps = ["pageview=/pricing", "click=cta"]
    track_events(conn, [ev("u1", 0, "pageview", "/pricing"), ev("u1", 1, "click", "cta")])
    conn.execute("SELECT analytics.refresh_rollups()")
    track_events(conn, [ev("u9", 30, "pageview", "/pricing"), ev("u9", 31, "click", "cta")])  # a new user
    conn.execute("DELETE FROM analytics.events WHERE user_id = 'u1' AND event_type = 'click'")
    span = (BASE - timedelta(hours=1), BASE + timedelta(hours=1))
    assert "u9" in candidates(conn, *span)
    assert user_steps(conn, steps, *span, timedelta(hours=1)) == [2, 1]
    conn.execute("SELECT analytics.refresh_rollups()")
    assert user_steps(conn, steps, *span, timedelta(hours=1)) == [2, 1]


def test_users_are_looked_for_on_their_active_days_whatever_zone_labelled_them(conn):
    """Step 1 looks for a user only on the UTC days the daily per-user rollup shows them active. Its
    days are local: rolled up at UTC+14, then the project moves to UTC-11 without a backfill, and a
    user active late on a UTC day (the next local day at +14) is still looked for on that UTC day."""
    conn.execute("INSERT INTO analytics.project_settings VALUES ('default', 'time_zone', 'Pacific/Kiritimati')")
    steps = ["pageview=/pricing", "click=cta"]
    track_events(
        conn,
        [
            ev("u1", -210, "pageview", "/pricing", "a"),  # 23:30 UTC, the next day at UTC+14
            ev("u1", -200, "click", "cta", "a"),
            ev("u2", 2 * 24 * 60 + 600, "pageview", "/pricing", "b"),  # two days later only
            ev("u2", 2 * 24 * 60 + 601, "click", "cta", "b"),
            ev("u3", 24 * 60, "click", "cta", "c"),  # active, never enters
        ],
    )
    conn.execute("SELECT analytics.refresh_rollups()")
    conn.execute("UPDATE analytics.project_settings SET value = 'Pacific/Pago_Pago' WHERE key = 'time_zone'")
    start = BASE - timedelta(days=1)
    assert user_steps(conn, steps, start, start + timedelta(days=4), timedelta(hours=1)) == [2, 2]
    assert_user_steps_match_the_oracle(
        conn, steps, timedelta(hours=1), generated_ranges([(s, n) for s in range(-1500, 3000, 310) for n in (45, 2900)])
    )


def test_paths_walk_users_across_local_days_and_stop_at_the_range_end(conn):
    """Rolled up at UTC+5:45, each user's local day is one path (0018). A user whose next step lies on
    the next local day is followed there within the window (up to its last instant, inclusive); events
    at the range's end or past the window do not count; a step-2 event at the time of the entry does
    not reach step 2."""
    conn.execute("INSERT INTO analytics.project_settings VALUES ('default', 'time_zone', 'Asia/Kathmandu')")
    steps = ["pageview=/pricing", "click=cta", "conversion"]
    e = 24 * 60 - 3 * 60 - 5 * 60 - 45  # BASE is 03:00 UTC; the local day ends at 18:15 UTC
    track_events(
        conn,
        [
            # u1: enters 10 minutes before the local midnight, steps 2 and 3 after it
            ev("u1", e - 10, "pageview", "/pricing", "a"),
            ev("u1", e + 5, "click", "cta", "a"),
            ev("u1", e + 20, "conversion", None, "a"),
            # u2: step 2 on the next local day, 45 minutes after its entry
            ev("u2", e - 5, "pageview", "/pricing", "b"),
            ev("u2", e + 40, "click", "cta", "b"),
            # u3: step 2 at the very time of its entry, then a minute later
            ev("u3", 60, "pageview", "/pricing", "c"),
            ev("u3", 60, "click", "cta", "c"),
            ev("u3", 61, "click", "cta", "c"),
            # u4: active in the range, enters at its end only
            ev("u4", e + 30, "click", "other", "d"),
            ev("u4", e + 60, "pageview", "/pricing", "d"),
            # u5: step 2 at the first instant of the next local day, 30 minutes after its entry
            ev("u5", e - 30, "pageview", "/pricing", "f"),
            ev("u5", e, "click", "cta", "f"),
        ],
    )
    conn.execute("SELECT analytics.refresh_rollups()")
    spans = conn.execute("SELECT count(*) AS n FROM analytics.rollup_daily_totals WHERE paths_span IS NOT NULL")
    assert spans.fetchone()["n"] == 2
    start, end = BASE, BASE + timedelta(minutes=e + 60)
    assert user_steps(conn, steps, start, end, timedelta(minutes=30)) == [4, 3, 1]
    assert user_steps(conn, steps, start, end, timedelta(minutes=24)) == [4, 2, 0]
    assert user_steps(conn, steps, start, end, timedelta(minutes=1)) == [4, 1, 0]  # u3's second click, at the edge
    assert user_steps(conn, steps, start, end + timedelta(microseconds=1), timedelta(hours=1)) == [5, 4, 1]
    assert user_steps(conn, steps, start, BASE + timedelta(minutes=e + 5), timedelta(hours=1)) == [4, 2, 0]
    assert user_steps(conn, steps, start, BASE + timedelta(minutes=61), timedelta(hours=1)) == [1, 0, 0]
    assert_user_steps_match_the_oracle(
        conn, steps, timedelta(minutes=30), generated_ranges([(s, n) for s in range(-60, 1200, 97) for n in (9, 700)])
    )


def test_paths_cut_in_another_zone_are_not_read(conn):
    """Paths written at UTC-11, then the project moves to UTC+14 without a backfill: the days as now cut
    hold other instants than their paths, which are not read; the users are probed."""
    conn.execute("INSERT INTO analytics.project_settings VALUES ('default', 'time_zone', 'Pacific/Pago_Pago')")
    steps = ["pageview=/pricing", "click=cta"]
    track_events(
        conn,
        [
            ev("u1", 10, "pageview", "/pricing", "a"),  # 16:10 on the 31st at UTC-11, 17:10 on the 1st at UTC+14
            ev("u1", 20, "click", "cta", "a"),
            ev("u2", 12 * 60, "pageview", "/pricing", "b"),  # 04:00 on the 1st at UTC-11
            ev("u2", 12 * 60 + 1, "click", "cta", "b"),
        ],
    )
    conn.execute("SELECT analytics.refresh_rollups()")
    conn.execute("UPDATE analytics.project_settings SET value = 'Pacific/Kiritimati' WHERE key = 'time_zone'")
    span = (BASE, BASE + timedelta(days=1))
    assert user_steps(conn, steps, *span, timedelta(hours=1)) == [2, 2]
    assert_user_steps_match_the_oracle(
        conn, steps, timedelta(hours=1), generated_ranges([(s, n) for s in range(-60, 1000, 113) for n in (30, 900)])
    )


def test_a_path_is_not_read_where_the_raw_events_changed_since_the_refresh(conn):
    """A user's path of a day is the raw events as of the last refresh. Where an hour of theirs was written
    or deleted since (even when none of their events is left in it), the user is probed over the raw
    events instead; and a day whose paths were never written (before 0018) is probed throughout."""
    steps = ["pageview=/pricing", "click=cta"]
    track_events(
        conn,
        [
            ev("u1", 0, "pageview", "/pricing", "a"),
            ev("u1", 90, "click", "cta", "a"),  # alone in its hour
            ev("u2", 5, "pageview", "/pricing", "b"),
            ev("u2", 6, "click", "cta", "b"),
        ],
    )
    conn.execute("SELECT analytics.refresh_rollups()")
    span = (BASE - timedelta(minutes=1), BASE + timedelta(hours=3))
    assert user_steps(conn, steps, *span, timedelta(hours=2)) == [2, 2]
    conn.execute("DELETE FROM analytics.events WHERE user_id = 'u1' AND event_type = 'click'")
    assert user_steps(conn, steps, *span, timedelta(hours=2)) == [2, 1]
    # u3 clicked, rolled up; its entry is written later, in an hour its path does not reach
    track_events(conn, [ev("u3", 125, "click", "cta", "c")])
    conn.execute("SELECT analytics.refresh_rollups()")
    assert user_steps(conn, steps, *span, timedelta(hours=2)) == [2, 1]
    track_events(conn, [ev("u3", 30, "pageview", "/pricing", "c")])
    assert user_steps(conn, steps, *span, timedelta(hours=2)) == [3, 2]
    conn.execute("SELECT analytics.refresh_rollups()")
    assert user_steps(conn, steps, *span, timedelta(hours=2)) == [3, 2]
    track_events(conn, [ev("u2", 150, "click", "cta", "b")])  # u2's path walks it in; written since: probed
    assert user_steps(conn, steps, *span, timedelta(hours=2)) == [3, 2]
    # The paths of the day gone and its span cleared, as before 0018: probed, same counts.
    conn.execute("DELETE FROM analytics.rollup_daily_user_paths")
    conn.execute("UPDATE analytics.rollup_daily_totals SET paths_span = NULL")
    assert user_steps(conn, steps, *span, timedelta(hours=2)) == [3, 2]
    assert_user_steps_match_the_oracle(conn, steps, timedelta(hours=2), [span])


def test_the_job_rewrites_only_the_paths_of_the_users_of_the_hours_it_refreshes(conn):
    """Every minute the job recomputes the current day; of its per-user paths it rewrites only those of the
    users with an event in the hours refreshed, or whose path spans one of them (an event there may be gone).
    A day first written, cut in another zone, or recomputed whole by aggregate_analytics_daily() is
    rewritten for every user. The paths equal the oracle's throughout."""

    def versions() -> dict[str, str]:
        rows = conn.execute("SELECT user_id, xmin::text AS v FROM analytics.rollup_daily_user_paths").fetchall()
        return {r["user_id"]: r["v"] for r in rows}

    track_events(
        conn, [ev("u1", 0, "pageview", "/pricing"), ev("u2", 300, "click", "cta"), ev("u3", 120, "click", "cta")]
    )
    conn.execute("SELECT analytics.refresh_rollups()")
    first = versions()
    assert set(first) == {"u1", "u2", "u3"}
    track_events(conn, [ev("u2", 330, "pageview", "/pricing")])  # u2's hour
    conn.execute("DELETE FROM analytics.events WHERE user_id = 'u3'")  # u3's only event
    conn.execute("SELECT analytics.refresh_rollups()")
    second = versions()
    assert set(second) == {"u1", "u2"} and second["u1"] == first["u1"] and second["u2"] != first["u2"]
    assert mismatches(conn) == {}
    conn.execute(
        "SELECT analytics.aggregate_analytics_daily(%s)", ((BASE - timedelta(hours=3)).date(),)
    )  # the whole day again
    assert versions()["u1"] != second["u1"]
    assert mismatches(conn) == {}


def test_funnel_takes_user_steps_when_users_are_few_and_events_many(conn):
    """Two users with 400 step events each over five days: following them is the cheaper way.
    Four hundred users with two events each: joining the step events is."""
    steps = ["pageview=/pricing", "click=cta"]
    many = [
        ev(user, m * 17.5, kind, name, f"s-{user}-{m // 40}")
        for user in ("u1", "u2")
        for m in range(400)
        for kind, name in [("pageview", "/pricing") if m % 2 else ("click", "cta")]
    ]
    track_events(conn, many)
    track_events(
        conn,
        [{**ev(f"w{n}", 60 + n, "pageview", "/pricing", f"t{n}"), "project_id": "wide"} for n in range(400)]
        + [{**ev(f"w{n}", 61 + n, "click", "cta", f"t{n}"), "project_id": "wide"} for n in range(0, 400, 3)],
    )
    conn.execute("SELECT analytics.refresh_rollups()")
    span = (BASE - timedelta(minutes=1), BASE + timedelta(days=5))
    for project, source in [("default", "user_steps"), ("wide", "raw_events")]:
        got = user_funnel(conn, steps, *span, timedelta(hours=2), project)
        assert got["source"] == source
        want = expected_funnel(stored_events(conn, project), steps, *span, timedelta(hours=2), "user")
        assert [s["count"] for s in got["steps"]] == want
        assert want[0] > 0 and want[1] > 0
    # Without a project (an admin over every tenant) there is no users' index to follow.
    assert user_funnel(conn, steps, *span, timedelta(hours=2), None)["source"] == "raw_events"


def probe_plans(conn, statement: str) -> list[str]:
    """The plans of every statement that `statement` runs and that reads a user's events of one step,
    as auto_explain logs them, with sequential scans off: a probe that cannot use the per-user index
    then shows another way in, not a cheaper-looking one on a table this small."""
    plans: list[str] = []
    conn.add_notice_handler(lambda notice: plans.append(notice.message_primary or ""))
    with conn.transaction():
        conn.execute("LOAD 'auto_explain'")
        for setting, value in [
            ("auto_explain.log_min_duration", "0"),
            ("auto_explain.log_nested_statements", "on"),
            ("auto_explain.log_level", "notice"),
            ("enable_seqscan", "off"),
        ]:
            conn.execute("SELECT set_config(%s, %s, true)", (setting, value))
        conn.execute(statement)
    return [
        plan
        for plan in plans
        if "analytics.events" in plan and ("x.user_id = u.user_id" in plan or "e.user_id = p.user_id" in plan)
    ]


def test_each_probe_of_a_user_reads_the_per_user_index(conn):
    """The probes of funnel() by user and of the walks of a funnel saved by user name the index's four
    text keys in its collation ("C", 0017), so that they descend it to the user's step: an index
    condition on user_id and the step, never a filter over the project's events. Once the job has
    written the user's path of the day (0018), the read walks it and probes nothing."""
    steps = ["pageview=/pricing", "click=cta"]
    track_events(
        conn, [ev("u1", m, "pageview" if m % 2 else "click", "/pricing" if m % 2 else "cta") for m in range(40)]
    )
    span = (BASE - timedelta(minutes=1), BASE + timedelta(days=1))
    types, names = parse(steps)
    read_query = conn.execute(
        "SELECT format('SELECT analytics._funnel_from_user_steps(2, %%L, %%L, %%L, %%L, %%L, %%L, ARRAY[''u1''])',"
        " 'default', %s::text[], %s::text[], %s::timestamptz, %s::timestamptz, interval '1 hour') AS q",
        (types, names, *span),
    ).fetchone()["q"]
    read = probe_plans(conn, read_query)  # not refreshed yet: no path, u1 is probed
    conn.execute("SELECT analytics.refresh_rollups()")
    assert probe_plans(conn, read_query) == []
    assert conn.execute(read_query + " AS c").fetchone()["c"] == [1, 1]
    saved = probe_plans(
        conn,
        "SELECT analytics.save_funnel('pricing-to-cta', ARRAY['pageview=/pricing', 'click=cta'],"
        " count_by => 'user', project_id => 'default')",
    )
    assert len(read) >= 2 and len(saved) >= 2  # step 1, then step 2 (and the walks' entries)
    for plan in read + saved:
        lines = plan.splitlines()
        scans = [n for n, line in enumerate(lines) if " on events_" in line]  # a partition of analytics.events
        assert scans, plan
        for n in scans:
            assert "Index Only Scan using" in lines[n] or "Index Scan using" in lines[n], lines[n]
            assert "Index Cond:" in lines[n + 1] and "user_id = " in lines[n + 1], lines[n + 1]
            assert "event_type = " in lines[n + 1] and "name = " in lines[n + 1], lines[n + 1]


def test_a_reader_follows_only_its_own_users(conn):
    steps = ["pageview=/pricing", "click=cta"]
    mine = [ev("u1", m, "pageview" if m % 2 else "click", "/pricing" if m % 2 else "cta") for m in range(200)]
    theirs = [{**e, "project_id": "other"} for e in mine] + [
        {**ev(f"x{n}", n, "pageview", "/pricing"), "project_id": "other"} for n in range(50)
    ]
    track_events(conn, mine + theirs)
    conn.execute("SELECT analytics.refresh_rollups()")
    span = (BASE - timedelta(minutes=1), BASE + timedelta(days=3))
    with acting_as(conn, "analytics_reader", {"project_id": "default"}):
        got = user_funnel(conn, steps, *span, timedelta(hours=1), None)
    assert got["source"] == "user_steps" and [s["count"] for s in got["steps"]] == [1, 1]
    with pytest.raises(psycopg.errors.InsufficientPrivilege), acting_as(conn, "analytics_reader", {"project_id": "x"}):
        user_funnel(conn, steps, *span, timedelta(hours=1), "default")
    for helper in ("_funnel_from_user_steps", "_funnel_user_candidates"):
        allowed = conn.execute(
            "SELECT bool_or(has_function_privilege('analytics_reader', p.oid, 'EXECUTE')) AS a"
            " FROM pg_proc p WHERE p.proname = %s AND p.pronamespace = 'analytics'::regnamespace",
            (helper,),
        ).fetchone()["a"]
        assert allowed is False, helper


# ---------------------------------------------------------------- generated streams


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batches=st.lists(
        st.tuples(st.lists(generated_event, min_size=1, max_size=25), st.booleans()), min_size=1, max_size=3
    ),
    steps=st.lists(st.sampled_from(STEP_CHOICES), min_size=1, max_size=4),
    within_minutes=st.integers(min_value=1, max_value=3 * 24 * 60),
    deleted_user=st.sampled_from([None, "u1", "u2"]),
    deleted_before=st.integers(min_value=-26 * 60, max_value=26 * 60),
    refreshed_after_delete=st.booleans(),
    time_zone=SESSION_ZONES,
    ranges=RANGES,
)
def test_generated_streams_give_exact_user_funnels(
    conn, batches, steps, within_minutes, deleted_user, deleted_before, refreshed_after_delete, time_zone, ranges
):
    """Late and out-of-order batches, each refreshed or not, in two tenants, some events deleted
    before or after the last refresh, in any session time zone: following users step by step
    equals the raw-event oracle, and every user with an event in the range is a candidate."""
    within = timedelta(minutes=within_minutes)
    with conn.transaction(force_rollback=True):
        conn.execute("SELECT set_config('TimeZone', %s, true)", (time_zone,))
        write_then_delete(
            conn,
            [(to_user_documents(batch), refreshed) for batch, refreshed in batches],
            ("user_id", deleted_user, BASE + timedelta(minutes=deleted_before)),
            refreshed_after_delete,
        )
        for project in ("default", "other"):
            assert_user_steps_match_the_oracle(conn, steps, within, generated_ranges(ranges), project)
