"""metrics() and funnel() against a Python oracle over the raw events: fixed cases
(half-hour and 45-minute zones, a DST change, every granularity) and generated streams."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import acting_as, track_events

# New York leaves DST at 06:00 UTC on this day: a 25-hour local day.
DST_END = datetime(2026, 11, 1, 6, tzinfo=UTC)
ZONES = ["UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/New_York", "Europe/Berlin"]
METRIC_KEYS = ["events", "pageviews", "visitors", "visits", "views_per_visit", "bounce_rate", "avg_visit_duration_s"]


pytestmark = pytest.mark.usefixtures("keep_old_events")


# ---------------------------------------------------------------- the oracle


def bucket_label(at: datetime, granularity: str, tz: str) -> str:
    """The start of the bucket holding `at`, as local ISO time with the zone's offset."""
    zone = ZoneInfo(tz)
    local = at.astimezone(zone)
    if granularity == "hour":
        return local.replace(minute=0, second=0, microsecond=0).isoformat()
    day = local.date()
    if granularity == "week":
        day -= timedelta(days=day.weekday())
    elif granularity == "month":
        day = day.replace(day=1)
    return datetime(day.year, day.month, day.day, tzinfo=zone).isoformat()


def stored_events(conn: psycopg.Connection[Any], project: str) -> list[dict[str, Any]]:
    """The project's raw events, times in UTC: Python adds a timedelta to an aware time on the wall
    clock of its zone, so a day would be 23 or 25 hours in the session's zone."""
    rows = conn.execute(
        "SELECT session_id, user_id, event_type, name, occurred_at FROM analytics.events WHERE project_id = %s",
        (project,),
    ).fetchall()
    return [{**r, "occurred_at": r["occurred_at"].astimezone(UTC)} for r in rows]


def _numbers(events: list[dict], visits: list[dict]) -> dict[str, Any]:
    pageviews = sum(e["event_type"] == "pageview" for e in events)
    n = len(visits)
    return {
        "events": len(events),
        "pageviews": pageviews,
        "visitors": len({v["visitor"] for v in visits}),
        "visits": n,
        "views_per_visit": pageviews / n if n else None,
        "bounce_rate": sum(v["events"] == 1 for v in visits) / n if n else None,
        "avg_visit_duration_s": sum(v["duration"] for v in visits) / n if n else None,
    }


def expected_metrics(raw: list[dict], from_ts: datetime, to_ts: datetime, granularity: str, tz: str) -> dict[str, Any]:
    visits: dict[str, dict[str, Any]] = {}
    for e in sorted(raw, key=lambda e: e["occurred_at"]):
        v = visits.setdefault(e["session_id"], {"first": e["occurred_at"], "events": 0, "user": None})
        v["last"], v["events"] = e["occurred_at"], v["events"] + 1
        v["user"] = e["user_id"] or v["user"]
    for session, v in visits.items():
        v["visitor"] = f"u:{v['user']}" if v["user"] else f"s:{session}"
        v["duration"] = (v["last"] - v["first"]).total_seconds()  # stored_events() gives UTC

    def in_range(lo: datetime, hi: datetime) -> tuple[list[dict], list[dict]]:
        return (
            [e for e in raw if lo <= e["occurred_at"] < hi],
            [v for v in visits.values() if lo <= v["first"] < hi],
        )

    # Every bucket overlapping the range: a sample every 15 minutes, and the range's last instant,
    # meet each one.
    samples = [from_ts + timedelta(minutes=15 * n) for n in range(int((to_ts - from_ts) / timedelta(minutes=15)) + 1)]
    labels: list[str] = []
    for at in [*samples, to_ts - timedelta(microseconds=1)]:
        if at < to_ts and bucket_label(at, granularity, tz) not in labels:
            labels.append(bucket_label(at, granularity, tz))
    events, range_visits = in_range(from_ts, to_ts)
    series = []
    for label in labels:
        series.append(
            {
                "bucket": label,
                **_numbers(
                    [e for e in events if bucket_label(e["occurred_at"], granularity, tz) == label],
                    [v for v in range_visits if bucket_label(v["first"], granularity, tz) == label],
                ),
            }
        )
    return {
        "series": series,
        "totals": _numbers(events, range_visits),
        "previous": _numbers(*in_range(from_ts - (to_ts - from_ts), from_ts)),
    }


def assert_same_numbers(got: dict[str, Any], want: dict[str, Any]) -> None:
    for key in want:
        if isinstance(want[key], float):
            assert got[key] is not None and math.isclose(got[key], want[key], rel_tol=1e-9), (key, got, want)
        else:
            assert got[key] == want[key], (key, got, want)


def assert_metrics_exact(conn, project: str, from_ts: datetime, to_ts: datetime, granularity: str, tz: str) -> None:
    got = conn.execute(
        "SELECT analytics.metrics(from_ts => %s, to_ts => %s, granularity => %s, tz => %s, project_id => %s) AS r",
        (from_ts, to_ts, granularity, tz, project),
    ).fetchone()["r"]
    want = expected_metrics(stored_events(conn, project), from_ts, to_ts, granularity, tz)
    assert [b["bucket"] for b in got["series"]] == [b["bucket"] for b in want["series"]]
    for g, w in zip(got["series"], want["series"], strict=True):
        assert_same_numbers(g, w)
    assert_same_numbers(got["totals"], want["totals"])
    assert_same_numbers(got["previous"], want["previous"])


def expected_funnel(
    raw: list[dict], steps: list[str], from_ts: datetime, to_ts: datetime, within: timedelta, count_by: str
) -> list[int]:
    parsed = [(s.split("=", 1)[0], s.split("=", 1)[1] if "=" in s else None) for s in steps]
    by_entity: dict[str, list[dict]] = defaultdict(list)
    for e in raw:
        entity = e["session_id"] if count_by == "session" else e["user_id"]
        if entity is not None and from_ts <= e["occurred_at"] < to_ts:
            by_entity[entity].append(e)
    counts = [0] * len(steps)

    def matches(e: dict, k: int) -> bool:
        return e["event_type"] == parsed[k][0] and (parsed[k][1] is None or e["name"] == parsed[k][1])

    for evs in by_entity.values():
        firsts = [e["occurred_at"] for e in evs if matches(e, 0)]
        if not firsts:
            continue
        entered = reached = min(firsts)
        counts[0] += 1
        for k in range(1, len(steps)):
            later = [e["occurred_at"] for e in evs if matches(e, k) and reached < e["occurred_at"] <= entered + within]
            if not later:
                break
            reached = min(later)
            counts[k] += 1
    return counts


def funnel_counts(conn, steps, from_ts, to_ts, within, count_by, project="default") -> list[int]:
    result = conn.execute(
        "SELECT analytics.funnel(steps => %s, from_ts => %s, to_ts => %s, within => %s, count_by => %s,"
        " project_id => %s) AS r",
        (steps, from_ts, to_ts, within, count_by, project),
    ).fetchone()["r"]
    return [s["count"] for s in result["steps"]]


# ---------------------------------------------------------------- fixed cases


def visits_around(center: datetime, project: str = "default") -> list[dict]:
    """Visits every 20 minutes for 30 hours around `center`: one-event bounces, known and anonymous
    visitors, visits that cross an hour, and a user with several visits."""
    events = []
    for n in range(90):
        start = center - timedelta(hours=15) + timedelta(minutes=20 * n, seconds=n)
        session, user = f"v{n}", (f"u{n % 7}" if n % 3 else None)
        for step in range(n % 4 + 1):
            events.append(
                {
                    "project_id": project,
                    "session_id": session,
                    "user_id": user,
                    "event_type": "pageview" if step % 2 == 0 else "click",
                    "name": "/" if step % 2 == 0 else "cta",
                    "occurred_at": (start + timedelta(minutes=13 * step)).isoformat(),
                }
            )
    return events


@pytest.mark.parametrize(
    ("tz", "granularity"),
    [
        ("UTC", "day"),
        ("Asia/Kolkata", "day"),  # +05:30: each local midnight cuts a UTC hour
        ("Asia/Kathmandu", "hour"),  # +05:45: every local hour cuts a UTC hour
        ("America/New_York", "hour"),  # 01:00 comes twice on DST_END
        ("America/New_York", "day"),  # a 25-hour day
        ("Europe/Berlin", "week"),
        ("Asia/Kolkata", "month"),
    ],
)
def test_metrics_are_exact_in_every_zone(conn, tz, granularity):
    track_events(conn, visits_around(DST_END))
    track_events(conn, visits_around(DST_END, project="other"))  # never counted for "default"
    conn.execute("SELECT analytics.refresh_rollups()")
    # Ranges that start and end mid-hour and mid-bucket.
    for from_ts, to_ts in [
        (DST_END - timedelta(hours=14, minutes=7), DST_END + timedelta(hours=13, minutes=41)),
        (DST_END - timedelta(hours=2), DST_END + timedelta(hours=2)),
        (DST_END - timedelta(minutes=50), DST_END - timedelta(minutes=10)),
    ]:
        assert_metrics_exact(conn, "default", from_ts, to_ts, granularity, tz)


def test_metrics_read_raw_events_for_hours_rolled_up_without_quarters(conn):
    """Hours rolled up before migration 0007 have no quarter hour counts: cut ones are read raw."""
    track_events(conn, visits_around(DST_END))
    conn.execute("SELECT analytics.refresh_rollups()")
    conn.execute(
        "UPDATE analytics.rollup_hourly_totals SET quarter_events = NULL, quarter_pageviews = NULL"
        " WHERE extract(hour FROM bucket AT TIME ZONE 'UTC')::integer % 2 = 0"
    )
    from_ts, to_ts = DST_END - timedelta(hours=14, minutes=7), DST_END + timedelta(hours=13, minutes=41)
    assert_metrics_exact(conn, "default", from_ts, to_ts, "hour", "Asia/Kathmandu")
    assert_metrics_exact(conn, "default", from_ts, to_ts, "day", "Asia/Kolkata")


def test_metrics_shape_and_definitions(conn):
    at = datetime(2026, 3, 2, 12, tzinfo=UTC)
    track_events(
        conn,
        [
            # a bounce: one event
            {"session_id": "a", "event_type": "pageview", "name": "/", "occurred_at": at.isoformat()},
            # two visits of one user, 60 s and 120 s long
            {"session_id": "b", "user_id": "u", "event_type": "pageview", "occurred_at": at.isoformat()},
            {
                "session_id": "b",
                "user_id": "u",
                "event_type": "click",
                "occurred_at": (at + timedelta(seconds=60)).isoformat(),
            },
            {"session_id": "c", "event_type": "pageview", "occurred_at": (at + timedelta(hours=1)).isoformat()},
            {
                "session_id": "c",
                "user_id": "u",
                "event_type": "pageview",
                "occurred_at": (at + timedelta(hours=1, minutes=2)).isoformat(),
            },
        ],
    )
    conn.execute("SELECT analytics.refresh_rollups()")
    result = conn.execute(
        "SELECT analytics.metrics(%s, %s, 'day', 'Asia/Kolkata') AS r", (at - timedelta(days=1), at + timedelta(days=1))
    ).fetchone()["r"]
    assert [b["bucket"] for b in result["series"]] == [
        "2026-03-01T00:00:00+05:30",
        "2026-03-02T00:00:00+05:30",
        "2026-03-03T00:00:00+05:30",
    ]
    assert result["totals"] == {
        "events": 5,
        "pageviews": 4,
        "visitors": 2,  # "u" and the anonymous session "a"
        "visits": 3,
        "views_per_visit": 4 / 3,
        "bounce_rate": 1 / 3,
        "avg_visit_duration_s": 60.0,
    }
    assert result["previous"]["visits"] == 0 and result["previous"]["bounce_rate"] is None
    empty = result["series"][0]
    assert empty["events"] == 0 and empty["views_per_visit"] is None
    assert result["from_ts"] == "2026-03-01T17:30:00+05:30"


def test_metrics_counts_late_events_after_the_refresh(conn):
    at = datetime(2026, 3, 2, 12, tzinfo=UTC)
    track_events(conn, [{"session_id": "a", "event_type": "pageview", "occurred_at": at.isoformat()}])
    conn.execute("SELECT analytics.refresh_rollups()")
    late = (at - timedelta(hours=30)).isoformat()
    track_events(conn, [{"session_id": "late", "event_type": "pageview", "occurred_at": late}])
    conn.execute("SELECT analytics.refresh_rollups()")
    assert_metrics_exact(conn, "default", at - timedelta(days=2), at + timedelta(hours=1), "day", "UTC")


def test_metrics_for_a_reader_over_rpc(conn):
    track_events(conn, visits_around(DST_END, project="acme"))
    track_events(conn, visits_around(DST_END, project="other"))
    conn.execute("SELECT analytics.refresh_rollups()")
    body = {"from_ts": (DST_END - timedelta(days=1)).isoformat(), "to_ts": DST_END.isoformat(), "tz": "Asia/Kolkata"}
    with acting_as(conn, "analytics_reader", {"project_id": "acme"}):
        mine = conn.execute(
            "SELECT analytics.metrics(from_ts => %(from_ts)s, to_ts => %(to_ts)s, tz => %(tz)s) AS r", body
        ).fetchone()["r"]
    want = expected_metrics(stored_events(conn, "acme"), DST_END - timedelta(days=1), DST_END, "day", "Asia/Kolkata")
    assert_same_numbers(mine["totals"], want["totals"])
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        acting_as(conn, "analytics_reader", {"project_id": "acme"}),
    ):
        conn.execute("SELECT analytics.metrics(%s, %s, project_id => 'other')", (DST_END - timedelta(days=1), DST_END))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"from_ts": "2026-03-02", "to_ts": "2026-03-01"}, "invalid time range"),
        ({"from_ts": "2026-03-02", "to_ts": "2026-03-02"}, "invalid time range"),
        ({"from_ts": "2024-01-01", "to_ts": "2026-03-01"}, "time range too long"),
        ({"from_ts": "2026-03-01", "to_ts": "2026-03-02", "tz": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"from_ts": "2026-03-01", "to_ts": "2026-03-02", "tz": None}, "unknown time zone"),
        ({"from_ts": "2026-03-01", "to_ts": "2026-03-02", "granularity": "fortnight"}, "unknown granularity"),
        ({"from_ts": "2025-06-01", "to_ts": "2026-03-02", "granularity": "hour"}, "too many buckets"),
    ],
)
def test_metrics_refuses_bad_arguments(conn, args, message):
    names = ", ".join(f"{k} => %({k})s" for k in args)
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=message):
        conn.execute(f"SELECT analytics.metrics({names})", args)


def test_ranges_older_than_the_hourly_rollups_kept_are_refused(conn):
    """cleanup() trims hourly rollups after rollup_retention_days: reading such hours would count too little."""
    conn.execute("UPDATE analytics.settings SET value = '90' WHERE key = 'rollup_retention_days'")
    for statement in (
        "SELECT analytics.metrics(now() - interval '100 days', now() - interval '95 days')",
        "SELECT analytics.top('page', now() - interval '100 days', now())",
    ):
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="rollup_retention_days = 90") as error:
            conn.execute(statement)
        assert "rollup_retention_days" in (error.value.diag.message_hint or "")
    track_events(conn, [{"session_id": "s", "event_type": "pageview", "name": "/"}])
    conn.execute("SELECT analytics.refresh_rollups()")
    # A 60-day range is served; the 60 days before it are not kept, so "previous" is null, not zero.
    recent = conn.execute("SELECT analytics.metrics(now() - interval '60 days', now()) AS r").fetchone()["r"]
    assert recent["previous"] is None and recent["totals"]["events"] == 1
    shorter = conn.execute("SELECT analytics.metrics(now() - interval '30 days', now()) AS r").fetchone()["r"]
    assert shorter["previous"] == dict.fromkeys(METRIC_KEYS[:4], 0) | dict.fromkeys(METRIC_KEYS[4:], None)


def funnel_stream() -> list[dict]:
    at = datetime(2026, 3, 2, 12, tzinfo=UTC)

    def ev(session, minutes, kind, name=None, user=None):
        return {
            "session_id": session,
            "user_id": user,
            "event_type": kind,
            "name": name,
            "occurred_at": (at + timedelta(minutes=minutes)).isoformat(),
        }

    return [
        # converts in order
        ev("a", 0, "pageview", "/pricing", "u1"),
        ev("a", 1, "click", "cta", "u1"),
        ev("a", 2, "conversion", None, "u1"),
        # clicks before the pricing page: step 2 must come after step 1
        ev("b", 0, "click", "cta"),
        ev("b", 1, "pageview", "/pricing"),
        # reaches step 2, converts too late for a 1-hour window
        ev("c", 0, "pageview", "/pricing"),
        ev("c", 5, "click", "cta"),
        ev("c", 120, "conversion"),
        # another page is not step 1
        ev("d", 0, "pageview", "/"),
        ev("d", 1, "click", "cta"),
        # u1 again in another session: the user funnel spans sessions
        ev("e", 30, "pageview", "/pricing", "u1"),
    ]


def test_funnel_counts_ordered_steps_within_the_window(conn):
    at = datetime(2026, 3, 2, 12, tzinfo=UTC)
    track_events(conn, funnel_stream())
    steps = ["pageview=/pricing", "click=cta", "conversion"]
    result = conn.execute(
        "SELECT analytics.funnel(%s, %s, %s, within => '1 hour') AS r",
        (steps, at - timedelta(hours=1), at + timedelta(hours=3)),
    ).fetchone()["r"]
    assert [s["count"] for s in result["steps"]] == [4, 2, 1]  # a, b, c, e enter; a, c click; a converts
    assert result["steps"][1]["conversion_from_previous"] == pytest.approx(2 / 4)
    assert result["steps"][2]["conversion_from_previous"] == pytest.approx(1 / 2)
    assert result["steps"][2]["conversion_from_first"] == pytest.approx(1 / 4)
    assert result["conversion_rate"] == pytest.approx(1 / 4)
    assert result["steps"][0]["name"] == "/pricing" and result["steps"][2]["name"] is None
    window = funnel_counts(conn, steps, at - timedelta(hours=1), at + timedelta(hours=3), timedelta(hours=3), "session")
    assert window == [4, 2, 2]
    assert funnel_counts(conn, steps, at - timedelta(hours=1), at + timedelta(hours=3), timedelta(hours=1), "user") == [
        1,
        1,
        1,
    ]


def test_funnel_for_a_reader_over_rpc(conn):
    at = datetime(2026, 3, 2, 12, tzinfo=UTC)
    track_events(conn, [{**e, "project_id": "acme"} for e in funnel_stream()])
    track_events(conn, [{**e, "project_id": "other"} for e in funnel_stream()] * 2)
    body = {
        "steps": ["pageview=/pricing", "click=cta"],
        "from_ts": at - timedelta(hours=1),
        "to_ts": at + timedelta(hours=3),
    }
    with acting_as(conn, "analytics_reader", {"project_id": "acme"}):
        mine = conn.execute(
            "SELECT analytics.funnel(steps => %(steps)s, from_ts => %(from_ts)s, to_ts => %(to_ts)s) AS r", body
        ).fetchone()["r"]
    assert [s["count"] for s in mine["steps"]] == [4, 2]
    with pytest.raises(psycopg.errors.InsufficientPrivilege), acting_as(conn, "analytics_reader", {}):
        conn.execute("SELECT analytics.funnel(steps => %(steps)s, from_ts => %(from_ts)s, to_ts => %(to_ts)s)", body)
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        acting_as(conn, "analytics_reader", {"project_id": "acme"}),
    ):
        conn.execute("SELECT analytics.funnel(%(steps)s, %(from_ts)s, %(to_ts)s, project_id => 'other')", body)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"steps": []}, "1 to 10 steps"),
        ({"steps": ["pageview"] * 11}, "1 to 10 steps"),
        ({"steps": ["pageview", "Not A Type"]}, "invalid funnel step"),
        ({"steps": ["pageview", "=/x"]}, "invalid funnel step"),
        ({"steps": ["pageview"], "within": "0 seconds"}, "within must be"),
        ({"steps": ["pageview"], "within": "100 days"}, "within must be"),
        ({"steps": ["pageview"], "count_by": "device"}, "unknown count_by"),
        ({"steps": ["pageview"], "from_ts": "2026-03-03"}, "invalid time range"),
    ],
)
def test_funnel_refuses_bad_arguments(conn, args, message):
    args = {"from_ts": "2026-03-01", "to_ts": "2026-03-02", **args}
    names = ", ".join(f"{k} => %({k})s" + ("::text[]" if k == "steps" else "") for k in args)
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=message):
        conn.execute(f"SELECT analytics.funnel({names})", args)


# ---------------------------------------------------------------- generated streams

BASE = datetime(2026, 11, 1, 3, tzinfo=UTC)  # a few hours before DST_END
# The session's time zone must never matter (pg_cron runs in the server's); New York's clocks go back
# inside the generated days.
SESSION_ZONES = st.sampled_from(["UTC", "America/New_York", "Asia/Kathmandu", "Pacific/Chatham"])
generated_event = st.fixed_dictionaries(
    {
        "project_id": st.sampled_from(["default", "other"]),
        "session_id": st.sampled_from(["s1", "s2", "s3", "s4", "s5", "s6"]),
        "minute": st.integers(min_value=-26 * 60, max_value=26 * 60),
        "second": st.integers(min_value=0, max_value=59),
        "event_type": st.sampled_from(["pageview", "click", "conversion"]),
        "name": st.sampled_from([None, "/", "/pricing", "cta"]),
    }
)


def to_documents(generated: list[dict]) -> list[dict]:
    """Each session belongs to one user or none (s1, s2: u1; s3: u2; the rest anonymous),
    and some of its events carry no user_id, as before an identify()."""
    users = {"s1": "u1", "s2": "u1", "s3": "u2"}
    return [
        {
            "project_id": g["project_id"],
            "session_id": g["session_id"],
            "user_id": users.get(g["session_id"]) if g["second"] % 3 else None,
            "event_type": g["event_type"],
            "name": g["name"],
            "occurred_at": (BASE + timedelta(minutes=g["minute"], seconds=g["second"])).isoformat(),
        }
        for g in generated
    ]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batches=st.lists(st.lists(generated_event, min_size=1, max_size=20), min_size=1, max_size=3),
    tz=st.sampled_from(ZONES),
    granularity=st.sampled_from(["hour", "day", "week"]),
    start=st.integers(min_value=-30 * 60, max_value=20 * 60),
    length=st.integers(min_value=1, max_value=40 * 60),
    session_zone=SESSION_ZONES,
)
def test_generated_streams_give_exact_metrics(conn, batches, tz, granularity, start, length, session_zone):
    """Late and out-of-order batches, refreshed between them, in two tenants, in any session zone."""
    with conn.transaction(force_rollback=True):
        conn.execute("SELECT set_config('TimeZone', %s, true)", (session_zone,))
        for batch in batches:
            track_events(conn, to_documents(batch))
            conn.execute("SELECT analytics.refresh_rollups()")
        from_ts = BASE + timedelta(minutes=start, seconds=17)
        assert_metrics_exact(conn, "default", from_ts, from_ts + timedelta(minutes=length), granularity, tz)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    generated=st.lists(generated_event, min_size=1, max_size=40),
    steps=st.lists(
        st.sampled_from(["pageview", "pageview=/", "pageview=/pricing", "click", "click=cta", "conversion"]),
        min_size=1,
        max_size=4,
    ),
    within_minutes=st.integers(min_value=1, max_value=3 * 24 * 60),
    count_by=st.sampled_from(["session", "user"]),
    start=st.integers(min_value=-30 * 60, max_value=20 * 60),
    length=st.integers(min_value=1, max_value=40 * 60),
    session_zone=SESSION_ZONES,
)
def test_generated_streams_give_exact_funnels(
    conn, generated, steps, within_minutes, count_by, start, length, session_zone
):
    with conn.transaction(force_rollback=True):
        conn.execute("SELECT set_config('TimeZone', %s, true)", (session_zone,))
        track_events(conn, to_documents(generated))
        from_ts = BASE + timedelta(minutes=start)
        to_ts = from_ts + timedelta(minutes=length)
        within = timedelta(minutes=within_minutes)
        want = expected_funnel(stored_events(conn, "default"), steps, from_ts, to_ts, within, count_by)
        assert funnel_counts(conn, steps, from_ts, to_ts, within, count_by) == want


def test_every_read_function_is_one_stable_rpc(conn):
    """PostgREST exposes one function per name and serves STABLE ones over GET."""
    rows = conn.execute("""
        SELECT p.proname, p.provolatile, count(*) OVER (PARTITION BY p.proname) AS overloads
          FROM pg_proc p
         WHERE p.pronamespace = 'analytics'::regnamespace
           AND has_function_privilege('analytics_reader', p.oid, 'EXECUTE')""").fetchall()
    assert {r["proname"] for r in rows} >= {"metrics", "funnel", "top", "realtime", "experiment_results"}
    assert [r["proname"] for r in rows if r["provolatile"] != "s" or r["overloads"] > 1] == []
    names = conn.execute(
        "SELECT proname FROM pg_proc WHERE pronamespace = 'analytics'::regnamespace GROUP BY 1 HAVING count(*) > 1"
    ).fetchall()
    assert names == []
