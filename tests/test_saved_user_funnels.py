"""Funnels saved by user: save_funnel(count_by => 'user') makes funnel(count_by => 'user') answer from
each user's walks (analytics.funnel_users), kept by the rollup job.

The answers must be the raw-event answers, exactly: compared with the Python oracle of
test_metrics_and_funnel over generated streams (late, out of order, deleted, two tenants, any
session time zone), for ranges that start before, inside or after a user's hour of entry. The
walks themselves are compared with a Python walk of every user from every hour of entry.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import acting_as, track_events
from tests.test_metrics_and_funnel import BASE, SESSION_ZONES, expected_funnel, generated_event, stored_events
from tests.test_saved_funnels import RANGES, STEP_CHOICES, generated_ranges, grid_ranges
from tests.test_session_paths import write_then_delete
from tests.test_user_steps import ev, to_user_documents, user_funnel

pytestmark = pytest.mark.usefixtures("keep_old_events")


def save_by_user(conn, name, steps, within, project="default") -> dict[str, Any]:
    return conn.execute(
        "SELECT analytics.save_funnel(funnel_id => %s, steps => %s, within => %s, count_by => 'user',"
        " project_id => %s) AS r",
        (name, steps, within, project),
    ).fetchone()["r"]


def expected_walks(raw: list[dict], steps: list[str], within: timedelta) -> set[tuple]:
    """Per user and UTC hour with a step-1 event: (user, entered, last step-1 of the hour, the user's last
    step-1 event before the hour, the walk from the entry over all later events)."""
    parsed = [(s.split("=", 1)[0], s.split("=", 1)[1] if "=" in s else None) for s in steps]

    def matches(e: dict, k: int) -> bool:
        return e["event_type"] == parsed[k][0] and parsed[k][1] in (None, e["name"])

    by_user: dict[str, list[dict]] = defaultdict(list)
    for e in raw:
        if e["user_id"] is not None:
            by_user[e["user_id"]].append(e)
    rows = set()
    for user, evs in by_user.items():
        firsts = sorted(e["occurred_at"] for e in evs if matches(e, 0))
        hours: dict[datetime, list[datetime]] = defaultdict(list)
        for at in firsts:
            hours[at.replace(minute=0, second=0, microsecond=0)].append(at)
        for hour, ats in hours.items():
            entered = reached = ats[0]
            walk = [entered]
            for k in range(1, len(steps)):
                later = [
                    e["occurred_at"] for e in evs if matches(e, k) and reached < e["occurred_at"] <= entered + within
                ]
                if not later:
                    break
                reached = min(later)
                walk.append(reached)
            before = [at for at in firsts if at < hour]
            rows.add((user, entered, ats[-1], before[-1] if before else None, tuple(walk)))
    return rows


def stored_walks(conn, name: str, project: str = "default") -> set[tuple]:
    rows = conn.execute(
        "SELECT user_id, entered_at, last_entry_at, prev_entry_at, reached_at FROM analytics.funnel_users"
        " WHERE project_id = %s AND funnel_id = %s",
        (project, name),
    ).fetchall()

    def utc(at: datetime | None) -> datetime | None:
        return None if at is None else at.astimezone(UTC)

    return {
        (
            r["user_id"],
            utc(r["entered_at"]),
            utc(r["last_entry_at"]),
            utc(r["prev_entry_at"]),
            tuple(utc(a) for a in r["reached_at"]),
        )
        for r in rows
    }


def assert_saved_user_funnels_match_the_oracle(conn, steps, within, ranges, project="default") -> None:
    raw = stored_events(conn, project)
    for from_ts, to_ts in ranges:
        got = user_funnel(conn, steps, from_ts, to_ts, within, project)
        assert got["source"] == "saved_funnel" and got["saved_funnel"] == "f", (from_ts, to_ts)
        want = expected_funnel(raw, steps, from_ts, to_ts, within, "user")
        assert [s["count"] for s in got["steps"]] == want, (from_ts, to_ts)


# ---------------------------------------------------------------- fixed cases


def test_a_funnel_saved_by_user_gives_the_raw_answer_from_its_walks(conn):
    """Users entering before a range and again inside it, inside the hour the range starts (after their
    hour's first step-1 event), converting after the range's end or outside the window; each range on
    a 15-minute grid, on and off the hour, counts what the raw events say."""
    steps, within = ["pageview=/pricing", "click=cta", "conversion"], timedelta(hours=2)
    track_events(
        conn,
        [
            # again: enters at 0:10 and 0:50 (one hour), again at 2:05, clicks at 2:20, converts at 3:00
            ev("again", 10, "pageview", "/pricing", "a"),
            ev("again", 50, "pageview", "/pricing", "a"),
            ev("again", 125, "pageview", "/pricing", "b"),
            ev("again", 140, "click", "cta", "b"),
            ev("again", 180, "conversion", None, "b"),
            # slow: enters at 0:30, clicks at 1:00, converts at 2:45 (after the window from 0:30)
            ev("slow", 30, "pageview", "/pricing", "c"),
            ev("slow", 60, "click", "cta", "c"),
            ev("slow", 165, "conversion", None, "c"),
            # early: clicks before it enters at 1:15, then never again
            ev("early", 70, "click", "cta", "d"),
            ev("early", 75, "pageview", "/pricing", "d"),
            # anonymous events never count
            ev(None, 20, "pageview", "/pricing", "e"),
            ev(None, 25, "click", "cta", "e"),
        ],
    )
    conn.execute("SELECT analytics.refresh_rollups()")
    before = user_funnel(conn, steps, BASE, BASE + timedelta(hours=4), within)
    assert before["saved_funnel"] is None

    saved = save_by_user(conn, "f", steps, within)
    assert saved == {
        "project_id": "default",
        "funnel_id": "f",
        "steps": steps,
        "within_s": 7200.0,
        "count_by": "user",
        "users": 3,
        "entries": 4,  # again at 0:10 and at 2:05, slow, early
    }
    assert stored_walks(conn, "f") == expected_walks(stored_events(conn, "default"), steps, within)
    after = user_funnel(conn, steps, BASE, BASE + timedelta(hours=4), within)
    assert after["source"] == "saved_funnel" and after["steps"] == before["steps"]
    assert [s["count"] for s in after["steps"]] == [3, 1, 0]
    assert_saved_user_funnels_match_the_oracle(conn, steps, within, grid_ranges(BASE))

    # A session funnel of the same steps is another funnel; so is another window.
    assert (
        conn.execute(
            "SELECT analytics.funnel(%s, %s, %s, %s) ->> 'saved_funnel' AS s",
            (steps, BASE, BASE + timedelta(hours=4), within),
        ).fetchone()["s"]
        is None
    )
    assert user_funnel(conn, steps, BASE, BASE + timedelta(hours=4), timedelta(hours=3))["saved_funnel"] is None
    # A range that starts before the raw retention cannot follow the users who enter inside an hour.
    days_kept = max(1, (datetime.now(UTC) - BASE).days - 1)
    conn.execute("UPDATE analytics.settings SET value = %s WHERE key = 'raw_retention_days'", (str(days_kept),))
    assert user_funnel(conn, steps, BASE, BASE + timedelta(hours=4), within)["saved_funnel"] is None


def test_the_rollup_job_walks_again_the_users_whose_events_changed(conn):
    """A late step, a late entry before the user's first hour, and events deleted: after the next
    refresh the walks are those of a fresh save, and funnel() counts them."""
    steps, within = ["signup", "conversion"], timedelta(hours=3)
    track_events(
        conn,
        [
            ev("u1", 60, "signup"),
            ev("u2", 65, "signup"),
            ev("u2", 200, "conversion"),
            ev("u4", -600, "signup"),  # u4 enters ten hours before BASE, and again at 8:00
            ev("u4", 480, "signup"),
        ],
    )
    conn.execute("SELECT analytics.refresh_rollups()")
    save_by_user(conn, "f", steps, within)
    span = (BASE, BASE + timedelta(hours=6))
    assert [s["count"] for s in user_funnel(conn, steps, *span, within)["steps"]] == [2, 1]

    track_events(
        conn,
        [
            ev("u1", 90, "conversion"),  # a late step of u1
            ev("u2", 5, "signup"),  # u2 entered earlier: 3:55 after it is too late for the conversion
            ev("u3", 100, "signup"),  # a new user, entering in two hours five hours apart
            ev("u3", 400, "signup"),
        ],
    )
    result = conn.execute("SELECT analytics.refresh_rollups() AS r").fetchone()["r"]
    assert result["funnel_users"] >= 3
    raw = stored_events(conn, "default")
    assert stored_walks(conn, "f") == expected_walks(raw, steps, within)
    assert [s["count"] for s in user_funnel(conn, steps, *span, within)["steps"]] == [3, 1]

    conn.execute(
        "DELETE FROM analytics.events WHERE user_id = 'u2' AND occurred_at < %s", (BASE + timedelta(minutes=10),)
    )
    conn.execute("DELETE FROM analytics.events WHERE user_id = 'u1' AND event_type = 'conversion'")
    # u4 has no event left in the hour it entered first: its walk from there must go all the same.
    conn.execute("DELETE FROM analytics.events WHERE user_id = 'u4' AND occurred_at < %s", (BASE,))
    conn.execute("SELECT analytics.refresh_rollups()")
    assert stored_walks(conn, "f") == expected_walks(stored_events(conn, "default"), steps, within)
    assert [s["count"] for s in user_funnel(conn, steps, *span, within)["steps"]] == [3, 1]
    assert_saved_user_funnels_match_the_oracle(conn, steps, within, grid_ranges(BASE + timedelta(hours=1)))


def test_a_funnel_is_saved_once_per_count_by(conn):
    save_by_user(conn, "by-user", ["pageview", "signup"], "1 day", "acme")
    conn.execute("SELECT analytics.save_funnel('by-session', ARRAY['pageview', 'signup'], project_id => 'acme')")
    with pytest.raises(psycopg.errors.UniqueViolation), conn.transaction():
        save_by_user(conn, "again", ["pageview", "signup"], "24 hours", "acme")
    with pytest.raises(psycopg.Error, match="unknown count_by") as raised, conn.transaction():
        conn.execute("SELECT analytics.save_funnel('f', ARRAY['pageview'], count_by => 'visit', project_id => 'acme')")
    assert raised.value.sqlstate == "22023"
    assert conn.execute("SELECT analytics.drop_funnel('by-user', project_id => 'acme') AS r").fetchone()["r"] is True
    assert conn.execute("SELECT count(*) AS n FROM analytics.funnel_users").fetchone()["n"] == 0


def test_a_reader_counts_only_its_own_users_and_never_reads_the_walks(conn):
    steps, within = ["signup", "conversion"], timedelta(hours=1)
    for project, users in (("acme", ["a1", "a2"]), ("other", ["o1", "o2", "o3"])):
        track_events(
            conn,
            [{**ev(u, 10, "signup"), "project_id": project} for u in users]
            + [{**ev(users[0], 20, "conversion"), "project_id": project}],
        )
    conn.execute("SELECT analytics.refresh_rollups()")
    for project in ("acme", "other"):
        save_by_user(conn, "f", steps, within, project)
    with conn.transaction(), acting_as(conn, "analytics_reader", {"project_id": "acme"}):
        got = conn.execute(
            "SELECT analytics.funnel(steps => %s, from_ts => %s, to_ts => %s, within => '1 hour',"
            " count_by => 'user') AS r",
            (steps, BASE, BASE + timedelta(hours=1)),
        ).fetchone()["r"]
    assert got["source"] == "saved_funnel" and [s["count"] for s in got["steps"]] == [2, 1]
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        conn.transaction(),
        acting_as(conn, "analytics_reader", {"project_id": "acme"}),
    ):
        conn.execute("SELECT count(*) FROM analytics.funnel_users")


# ---------------------------------------------------------------- generated streams


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batches=st.lists(st.lists(generated_event, min_size=1, max_size=25), min_size=1, max_size=3),
    saved_after=st.integers(min_value=0, max_value=3),
    steps=st.lists(st.sampled_from(STEP_CHOICES), min_size=1, max_size=4),
    within_minutes=st.integers(min_value=1, max_value=3 * 24 * 60),
    deleted_user=st.sampled_from([None, "u1", "u2"]),
    deleted_before=st.integers(min_value=-26 * 60, max_value=26 * 60),
    time_zone=SESSION_ZONES,
    ranges=RANGES,
)
def test_generated_streams_give_exact_funnels_saved_by_user(
    conn, batches, saved_after, steps, within_minutes, deleted_user, deleted_before, time_zone, ranges
):
    """Saved before, between or after late and out-of-order batches, in two tenants, with a user's
    events deleted: the walks equal a Python walk of every user from every hour of entry, and funnel()
    over any range equals the raw-event oracle, in any session time zone."""
    within = timedelta(minutes=within_minutes)

    def save_in_both_projects() -> None:
        for project in ("default", "other"):
            save_by_user(conn, "f", steps, within, project)

    with conn.transaction(force_rollback=True):
        conn.execute("SELECT set_config('TimeZone', %s, true)", (time_zone,))
        for i, batch in enumerate(batches, start=1):
            if saved_after == i - 1:
                save_in_both_projects()
            track_events(conn, to_user_documents(batch))
            conn.execute("SELECT analytics.refresh_rollups()")
        if saved_after >= len(batches):
            save_in_both_projects()
        write_then_delete(conn, [], ("user_id", deleted_user, BASE + timedelta(minutes=deleted_before)), True)
        for project in ("default", "other"):
            raw = stored_events(conn, project)
            assert stored_walks(conn, "f", project) == expected_walks(raw, steps, within)
            assert_saved_user_funnels_match_the_oracle(conn, steps, within, generated_ranges(ranges), project)


def test_cleanup_keeps_the_walks_that_ranges_within_the_raw_retention_read(conn):
    """cleanup() drops the raw partitions past raw_retention_days and the walks that entered before the
    hour of that cut-off; a range within the retention still counts what the raw events kept say."""
    today = datetime.now(UTC).date()
    old_day, recent = today - timedelta(days=100), datetime.now(UTC) - timedelta(days=1)
    conn.execute("SELECT analytics.create_partitions(%s, %s)", (old_day, old_day))
    # Written around the ingest checks (too old for track_events).
    conn.execute(
        "INSERT INTO analytics.events (session_id, user_id, event_type, occurred_at) VALUES"
        " ('a', 'u1', 'signup', %(old)s), ('b', 'u2', 'signup', %(old)s),"
        " ('c', 'u1', 'signup', %(recent)s), ('c', 'u1', 'conversion', %(recent)s + interval '10 minutes')",
        {"old": datetime(old_day.year, old_day.month, old_day.day, 12, tzinfo=UTC), "recent": recent},
    )
    conn.execute("SELECT analytics.refresh_rollups()")
    steps, within = ["signup", "conversion"], timedelta(hours=1)
    assert save_by_user(conn, "f", steps, within)["entries"] == 3
    conn.execute("UPDATE analytics.settings SET value = '90' WHERE key = 'raw_retention_days'")

    report = conn.execute("SELECT analytics.cleanup() AS r").fetchone()["r"]
    assert report["raw"]["dropped"] == [f"events_p{old_day:%Y%m%d}"]
    assert report["funnel_users_deleted"] == 2
    assert stored_walks(conn, "f") == expected_walks(stored_events(conn, "default"), steps, within)
    got = user_funnel(conn, steps, datetime.now(UTC) - timedelta(days=30), datetime.now(UTC), within)
    assert got["source"] == "saved_funnel" and [s["count"] for s in got["steps"]] == [1, 1]
