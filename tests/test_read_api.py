"""Read functions over RPC: experiment results, recent events, monitoring views; tenant by tenant."""

from __future__ import annotations

import json
import math
import random
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import track_events
from tests.oracle import expected_sessions, mismatches

NOW = datetime.now(UTC)


@contextmanager
def reader(conn, project: str | None):
    """As PostgREST calls: SET ROLE analytics_reader, the JWT claims of the request."""
    claims = {"role": "analytics_reader", **({"project_id": project} if project else {})}
    conn.execute("SELECT set_config('request.jwt.claims', %s, false)", (json.dumps(claims),))
    conn.execute("SET ROLE analytics_reader")
    try:
        yield
    finally:
        conn.execute("RESET ROLE")
        conn.execute("SELECT set_config('request.jwt.claims', '', false)")


def call(conn, query: str, *params):
    return conn.execute(query, params).fetchone()["r"]


def experiment_stream(seed: int, project: str = "default") -> list[dict]:
    """Sessions exposed to A or B (some twice, to both), converting before or after exposure."""
    rng = random.Random(seed)
    events = []
    for s in range(400):
        start = NOW - timedelta(hours=3) + timedelta(seconds=s)
        variant = "A" if rng.random() < 0.55 else "B"
        session = f"x{seed}-{s}"
        if rng.random() < 0.1:  # converts before its exposure: must not count
            events.append(
                {
                    "session_id": session,
                    "event_type": "conversion",
                    "experiment_id": "exp",
                    "occurred_at": (start - timedelta(seconds=5)).isoformat(),
                    "project_id": project,
                }
            )
        events.append(
            {
                "session_id": session,
                "event_type": "exposure",
                "experiment_id": "exp",
                "variant_key": variant,
                "occurred_at": start.isoformat(),
                "project_id": project,
            }
        )
        if rng.random() < 0.1:  # a second exposure to the other variant: the first one wins
            events.append(
                {
                    "session_id": session,
                    "event_type": "exposure",
                    "experiment_id": "exp",
                    "variant_key": "B" if variant == "A" else "A",
                    "project_id": project,
                    "occurred_at": (start + timedelta(seconds=1)).isoformat(),
                }
            )
        if rng.random() < (0.2 if variant == "A" else 0.3):
            events.append(
                {
                    "session_id": session,
                    "event_type": "conversion",
                    "experiment_id": "exp",
                    "occurred_at": (start + timedelta(seconds=30)).isoformat(),
                    "project_id": project,
                }
            )
    return events


def oracle(events: list[dict]) -> dict[str, tuple[int, int]]:
    """Exposed and converted sessions per variant, exposure-gated, in plain Python."""
    by_session: dict[str, list[dict]] = {}
    for e in sorted(events, key=lambda e: e["occurred_at"]):
        by_session.setdefault(e["session_id"], []).append(e)
    counts: dict[str, list[int]] = {}
    for session_events in by_session.values():
        exposures = [e for e in session_events if e["event_type"] == "exposure"]
        if not exposures:
            continue
        first = exposures[0]
        converted = any(
            e["event_type"] == "conversion" and e["occurred_at"] >= first["occurred_at"] for e in session_events
        )
        c = counts.setdefault(first["variant_key"], [0, 0])
        c[0] += 1
        c[1] += int(converted)
    return {k: (v[0], v[1]) for k, v in counts.items()}


def test_experiment_results_match_the_oracle(conn):
    events = experiment_stream(1)
    for i in range(0, len(events), 500):
        track_events(conn, events[i : i + 500])
    track_events(conn, experiment_stream(2, project="other"))
    conn.execute("SELECT analytics.refresh_rollups()")
    result = call(conn, "SELECT analytics.experiment_results(experiment_id => 'exp', project_id => 'default') AS r")
    expected = oracle(events)
    (n_a, x_a), (n_b, x_b) = expected["A"], expected["B"]
    assert result["control"] == "A"
    a, b = result["variants"]
    assert (a["variant_key"], a["exposed_sessions"], a["converted_sessions"]) == ("A", n_a, x_a)
    assert (b["variant_key"], b["exposed_sessions"], b["converted_sessions"]) == ("B", n_b, x_b)
    p_a, p_b = x_a / n_a, x_b / n_b
    assert b["conversion_rate"] == pytest.approx(p_b) and b["lift"] == pytest.approx(p_b / p_a - 1)
    pooled = (x_a + x_b) / (n_a + n_b)
    z = (p_b - p_a) / math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    assert b["p_value"] == pytest.approx(math.erfc(abs(z) / math.sqrt(2)), abs=1e-6)
    se = math.sqrt(p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b)
    assert b["ci_low"] == pytest.approx(p_b - p_a - 1.959964 * se, abs=1e-6)
    assert b["ci_high"] == pytest.approx(p_b - p_a + 1.959964 * se, abs=1e-6)
    assert a["lift"] is None and a["p_value"] is None
    chi = sum((n - (n_a + n_b) / 2) ** 2 / ((n_a + n_b) / 2) for n in (n_a, n_b))
    assert result["srm_p_value"] == pytest.approx(math.erfc(math.sqrt(chi / 2)), abs=1e-6)
    weighted = call(
        conn,
        "SELECT analytics.experiment_results('exp', 'default', control => 'B',"
        ' weights => \'{"A": 0.55, "B": 0.45}\') AS r',
    )
    chi_w = (n_a - 0.55 * (n_a + n_b)) ** 2 / (0.55 * (n_a + n_b)) + (n_b - 0.45 * (n_a + n_b)) ** 2 / (
        0.45 * (n_a + n_b)
    )
    assert weighted["control"] == "B"
    assert weighted["srm_p_value"] == pytest.approx(math.erfc(math.sqrt(chi_w / 2)), abs=1e-6)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("'exp', 'default', control => 'Z'", "not a variant"),
        ("'exp', 'default', weights => '{\"A\": 1}'", "every variant"),
        ("'exp', 'default', weights => '[1]'", "positive numbers"),
    ],
)
def test_experiment_results_refuses_bad_arguments(conn, args, message):
    track_events(conn, experiment_stream(3))
    conn.execute("SELECT analytics.refresh_rollups()")
    with pytest.raises(psycopg.Error) as error:
        conn.execute(f"SELECT analytics.experiment_results({args})")
    assert error.value.sqlstate == "22023" and message in error.value.diag.message_primary


def test_experiment_results_of_an_unknown_experiment_is_empty(conn):
    assert call(conn, "SELECT analytics.experiment_results('none', 'default') AS r")["variants"] == []


def test_readers_see_only_their_tenant(conn):
    track_events(conn, experiment_stream(4, project="shop"))
    track_events(conn, experiment_stream(5, project="rival"))
    conn.execute("SELECT analytics.refresh_rollups()")
    with reader(conn, "shop"):
        mine = call(conn, "SELECT analytics.experiment_results(experiment_id => 'exp') AS r")
        recent = call(conn, "SELECT analytics.recent_events(hours => 4, lim => 10000) AS r")
        for statement in [
            "SELECT analytics.experiment_results('exp', project_id => 'rival')",
            "SELECT analytics.recent_events(project_id => 'rival')",
            "SELECT analytics.hourly_rollups(project_id => 'rival')",
        ]:
            with pytest.raises(psycopg.Error) as error, conn.transaction():
                conn.execute(statement)
            assert error.value.sqlstate == "42501"
        for statement in [
            "SELECT * FROM analytics.events",
            "SELECT * FROM analytics.rollup_experiments",
            "SELECT * FROM analytics.experiment_variant_stats",
            "SELECT * FROM analytics.summary",
        ]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute(statement)
    assert sum(v["exposed_sessions"] for v in mine["variants"]) == 400
    assert len(recent) == len(experiment_stream(4))
    with reader(conn, None), pytest.raises(psycopg.Error) as error:
        conn.execute("SELECT analytics.experiment_results('exp')")
    assert error.value.sqlstate == "42501" and "not bound" in error.value.diag.message_primary


def test_recent_events_newest_first_filtered_and_bounded(conn):
    track_events(
        conn,
        [
            {
                "session_id": f"s{i % 3}",
                "event_type": "click" if i % 2 else "pageview",
                "user_id": f"u{i % 2}",
                "occurred_at": (NOW - timedelta(minutes=i)).isoformat(),
            }
            for i in range(50)
        ],
    )
    track_events(
        conn, [{"session_id": "old", "event_type": "click", "occurred_at": (NOW - timedelta(hours=3)).isoformat()}]
    )
    events = call(conn, "SELECT analytics.recent_events(hours => 1, lim => 10, project_id => 'default') AS r")
    assert len(events) == 10
    times = [e["occurred_at"] for e in events]
    assert times == sorted(times, reverse=True)
    clicks = call(
        conn,
        "SELECT analytics.recent_events(hours => 2, event_type => 'CLICK', user_id => 'u1',"
        " project_id => 'default') AS r",
    )
    assert len(clicks) == 25 and {e["event_type"] for e in clicks} == {"click"}
    assert call(conn, "SELECT analytics.recent_events(hours => 1, session_id => 'old') AS r") == []
    for args in ["hours => 0", "lim => 0", "lim => 10001", "hours => 5000"]:
        with pytest.raises(psycopg.Error) as error:
            conn.execute(f"SELECT analytics.recent_events({args})")
        assert error.value.sqlstate == "22023"


def test_monitoring_views_for_the_admin(conn):
    track_events(conn, [{"session_id": "s", "event_type": "click"}])
    conn.execute("SELECT analytics.refresh_rollups()")
    conn.execute("ANALYZE")
    conn.execute("SET ROLE analytics_admin")
    try:
        summary = {r["table_name"]: r for r in conn.execute("SELECT * FROM analytics.summary").fetchall()}
        sizes = {r["table_name"]: r for r in conn.execute("SELECT * FROM analytics.table_sizes").fetchall()}
        conn.execute("SELECT * FROM analytics.experiment_variant_stats")
    finally:
        conn.execute("RESET ROLE")
    assert summary["events"]["estimated_rows"] == 1
    assert summary["events"]["first_day"] == NOW.date()
    assert sizes["events"]["bytes"] > 0 and "rollup_hourly" in sizes


def stream_for_top(seed: int) -> list[dict]:
    rng = random.Random(seed)
    kinds = ["pageview", "click", "tool_used", "api_call"]
    return [
        {
            "session_id": f"s{rng.randrange(30)}",
            "event_type": rng.choice(kinds),
            "name": rng.choice(["/", "/pricing", "/docs", "FAAB", "cta", None]),
            "properties": {"risk_mode": rng.choice(["protect", "chase", "neutral"]), "big": "x" * 150},
            "occurred_at": (NOW - timedelta(minutes=rng.randrange(0, 3000))).isoformat(),
        }
        for _ in range(600)
    ]


def expected_top(events: list[dict], dimension: str, from_ts: datetime, to_ts: datetime, lim: int) -> list[dict]:
    """top() in Python: the project "default"'s most frequent values of `dimension` in [from_ts, to_ts)."""
    event_type = {"page": "pageview", "tool": "tool_used", "click_target": "click"}.get(dimension)
    counts: dict[str, int] = {}
    if dimension == "experiment":  # sessions by the time of their first exposure
        first_exposures: dict[tuple[str, str], datetime] = {}
        for e in events:
            if e.get("project_id", "default") == "default" and e["event_type"] == "exposure" and e.get("variant_key"):
                key, at = (e["experiment_id"], e["session_id"]), datetime.fromisoformat(e["occurred_at"])
                first_exposures[key] = min(first_exposures.get(key, at), at)
        for (experiment, _), at in first_exposures.items():
            if from_ts <= at < to_ts:
                counts[experiment] = counts.get(experiment, 0) + 1
        events = []
    for e in events:
        if dimension.startswith("property:"):
            value = e.get("properties", {}).get(dimension.removeprefix("property:"))
        else:
            value = e.get("event_type" if dimension == "event_type" else "name")
        if (
            e.get("project_id", "default") == "default"
            and from_ts <= datetime.fromisoformat(e["occurred_at"]) < to_ts
            and (event_type is None or e["event_type"] == event_type)
            and value is not None
        ):
            counts[value] = counts.get(value, 0) + 1
    ranked = sorted(({"value": k, "events": v} for k, v in counts.items()), key=lambda r: (-r["events"], r["value"]))
    return ranked[:lim]


def expected_top_pages(conn, dimension: str, from_ts: datetime, to_ts: datetime, lim: int) -> list[dict]:
    """top('entry_page' | 'exit_page') in Python: visits of "default" starting in [from_ts, to_ts), by the
    first or last pageview's name, over the sessions the oracle derives from the raw events."""
    counts: dict[str, int] = {}
    for project, _, _, first_seen, _, _, entry, exit_page in expected_sessions(conn):
        page = entry if dimension == "entry_page" else exit_page
        if project == "default" and from_ts <= first_seen < to_ts and page is not None:
            counts[page] = counts.get(page, 0) + 1
    ranked = sorted(({"value": k, "events": v} for k, v in counts.items()), key=lambda r: (-r["events"], r["value"]))
    return ranked[:lim]


def test_top_entry_and_exit_pages(conn):
    """Visits by their first and last pageview, whole hours from the rollup, cut ends from the visits."""
    events = []
    for s in range(60):
        start = NOW - timedelta(hours=5, minutes=7 * s)
        pages = [*["/", "/pricing", "/docs", "/blog"][s % 4 :], "/signup"]
        for n, page in enumerate(pages[: 1 + s % 3]):
            events.append(
                {
                    "session_id": f"v{s}",
                    "event_type": "pageview",
                    "name": page,
                    "occurred_at": (start + timedelta(minutes=n)).isoformat(),
                }
            )
        events.append(
            {
                "session_id": f"v{s}",
                "event_type": "click",
                "name": "cta",
                "occurred_at": (start + timedelta(minutes=4)).isoformat(),
            }
        )
    events.append({"session_id": "no-pageview", "event_type": "click", "occurred_at": NOW.isoformat()})
    track_events(conn, events)
    conn.execute("SELECT analytics.refresh_rollups()")
    for dimension in ("entry_page", "exit_page"):
        for start, end in [
            (NOW - timedelta(days=1), NOW),
            (NOW - timedelta(hours=7, minutes=13), NOW - timedelta(hours=5, minutes=31)),
        ]:
            with reader(conn, "default"):
                result = call(conn, "SELECT analytics.top(%s, %s, %s) AS r", dimension, start, end)
            assert result == expected_top_pages(conn, dimension, start, end, 10)
            assert result and all(r["value"] for r in result)


@pytest.mark.parametrize("dimension", ["page", "tool", "click_target", "event_type", "name", "property:risk_mode"])
def test_top_is_exact_over_ranges_that_cut_hours(conn, dimension):
    events = stream_for_top(7)
    track_events(conn, events)
    conn.execute("SELECT analytics.refresh_rollups()")
    start, end = NOW - timedelta(hours=30, minutes=17), NOW - timedelta(hours=2, minutes=41)
    result = call(
        conn, "SELECT analytics.top(%s, %s, %s, lim => 3, project_id => 'default') AS r", dimension, start, end
    )
    assert result == expected_top(events, dimension, start, end, 3)


def test_top_refuses_bad_arguments(conn):
    for args in [
        "'nope', now() - interval '1 day', now()",
        "'page', now(), now() - interval '1 day'",
        "'page', now() - interval '500 days', now()",
        "'page', now() - interval '1 day', now(), lim => 0",
    ]:
        with pytest.raises(psycopg.Error) as error:
            conn.execute(f"SELECT analytics.top({args})")
        assert error.value.sqlstate == "22023"
    assert "property:<key>" in _hint(conn, "SELECT analytics.top('nope', now() - interval '1 day', now())")


def _hint(conn, statement: str) -> str:
    try:
        conn.execute(statement)
    except psycopg.Error as error:
        return error.diag.message_hint or ""
    raise AssertionError("expected an error")


def test_top_experiments_counts_first_exposures(conn):
    track_events(conn, experiment_stream(8))
    conn.execute("SELECT analytics.refresh_rollups()")
    result = call(
        conn, "SELECT analytics.top('experiment', now() - interval '1 day', now(), project_id => 'default') AS r"
    )
    assert result == [{"value": "exp", "events": sum(n for n, _ in oracle(experiment_stream(8)).values())}]


def test_top_experiments_is_exact_over_ranges_that_cut_hours(conn):
    """Whole hours come from rollup_hourly_exposures, the cut ends from the sessions themselves."""
    events = experiment_stream(9)
    track_events(conn, events)
    conn.execute("SELECT analytics.refresh_rollups()")
    exposed_from = NOW - timedelta(hours=3)
    for start, end in [
        (exposed_from + timedelta(seconds=100), NOW),
        ((exposed_from + timedelta(seconds=200)).replace(minute=0, second=0, microsecond=0), NOW),
        (exposed_from - timedelta(hours=2), exposed_from + timedelta(seconds=250)),
        (exposed_from + timedelta(seconds=150), exposed_from + timedelta(seconds=350)),
    ]:
        result = call(conn, "SELECT analytics.top('experiment', %s, %s, project_id => 'default') AS r", start, end)
        assert result == expected_top(events, "experiment", start, end, 10)
        assert result[0]["events"] > 0


def test_realtime(conn):
    track_events(
        conn,
        [
            {"session_id": "a", "user_id": "u1", "event_type": "pageview", "name": "/"},
            {"session_id": "b", "user_id": "u1", "event_type": "pageview", "name": "/"},
            {"session_id": "c", "event_type": "pageview", "name": "/docs"},
            {"session_id": "d", "event_type": "click", "name": "cta"},
            {
                "session_id": "old",
                "event_type": "pageview",
                "name": "/old",
                "occurred_at": (NOW - timedelta(minutes=30)).isoformat(),
            },
        ],
    )
    result = call(conn, "SELECT analytics.realtime(minutes => 5, project_id => 'default') AS r")
    assert result == {
        "minutes": 5,
        "active_visitors": 3,
        "active_sessions": 4,
        "events": 4,
        "top_pages": [{"page": "/", "views": 2}, {"page": "/docs", "views": 1}],
    }
    with pytest.raises(psycopg.Error) as error:
        conn.execute("SELECT analytics.realtime(minutes => 0)")
    assert error.value.sqlstate == "22023"


def test_user_and_group_stats_match_the_raw_events(conn):
    conn.execute("INSERT INTO analytics.project_settings VALUES ('default', 'time_zone', 'Asia/Kolkata')")
    events = [
        {
            "session_id": f"s{i % 7}",
            "user_id": f"u{i % 3}",
            "event_type": "click",
            "occurred_at": (NOW - timedelta(hours=i)).isoformat(),
        }
        for i in range(60)
    ]
    track_events(conn, events)
    conn.execute("SELECT analytics.identify('u0', '{\"group\": \"acme\"}')")
    conn.execute("SELECT analytics.identify('u1', '{\"group\": \"acme\"}')")
    conn.execute("SELECT analytics.refresh_rollups()")
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Kolkata")
    expected: dict[tuple[str, str], list] = {}
    for e in events:
        day = datetime.fromisoformat(e["occurred_at"]).astimezone(zone).date().isoformat()
        row = expected.setdefault((day, e["user_id"]), [0, set()])
        row[0] += 1
        row[1].add(e["session_id"])
    first, last = min(d for d, _ in expected), max(d for d, _ in expected)
    stats = call(conn, "SELECT analytics.user_stats(%s, %s, project_id => 'default') AS r", first, last)
    assert {(s["day"], s["user_id"]): (s["events"], s["sessions"]) for s in stats} == {
        k: (v[0], len(v[1])) for k, v in expected.items()
    }
    only = call(
        conn,
        "SELECT analytics.user_stats(%s, %s, user_id => 'u2', lim => 2, project_id => 'default') AS r",
        first,
        last,
    )
    # Newest first: u2's own last day (the project's last local day may hold only u0's latest event).
    assert len(only) == 2 and {s["user_id"] for s in only} == {"u2"}
    assert only[0]["day"] == max(d for d, u in expected if u == "u2")
    groups = call(conn, "SELECT analytics.group_stats(%s, %s, project_id => 'default') AS r", first, last)
    by_group: dict[tuple[str, str | None], int] = {}
    for (day, user), (n, _) in expected.items():
        key = (day, "acme" if user in ("u0", "u1") else None)
        by_group[key] = by_group.get(key, 0) + n
    assert {(g["day"], g["group"]): g["events"] for g in groups} == by_group
    with pytest.raises(psycopg.Error) as error:
        conn.execute("SELECT analytics.user_stats(current_date, current_date - 1)")
    assert error.value.sqlstate == "22023"


def test_daily_stats_match_a_group_by_in_the_projects_zone(conn):
    """Seed 001 daily page and click-target stats, seed 002 daily active users per solution."""
    conn.execute("INSERT INTO analytics.project_settings VALUES ('default', 'time_zone', 'America/New_York')")
    kinds = [("pageview", "/"), ("pageview", "/pricing"), ("click", "cta"), ("message_sent", "manufacturing")]
    events = [
        {
            "session_id": f"s{i % 9}",
            "user_id": f"u{i % 4}" if i % 5 else None,
            "event_type": kinds[i % 4][0],
            "name": kinds[i % 4][1],
            "occurred_at": (NOW - timedelta(minutes=47 * i)).isoformat(),
        }
        for i in range(90)
    ]
    track_events(conn, events)
    track_events(conn, [{**e, "project_id": "other"} for e in events[:10]])
    conn.execute("SELECT analytics.refresh_rollups()")
    rows = conn.execute(
        "SELECT (e.occurred_at AT TIME ZONE 'America/New_York')::date::text AS day, e.event_type, e.name,"
        " count(*) AS events, count(DISTINCT e.session_id) AS sessions, count(DISTINCT e.user_id) AS users"
        " FROM analytics.events e WHERE e.project_id = 'default' GROUP BY 1, 2, 3"
    ).fetchall()
    expected = {(r["day"], r["event_type"], r["name"]): (r["events"], r["sessions"], r["users"]) for r in rows}
    first, last = min(k[0] for k in expected), max(k[0] for k in expected)
    with reader(conn, "default"):
        stats = call(conn, "SELECT analytics.daily_stats(from_day => %s, to_day => %s) AS r", first, last)
        solutions = call(
            conn,
            "SELECT analytics.daily_stats(%s, %s, event_type => 'message_sent', name => 'manufacturing') AS r",
            first,
            last,
        )
        newest = call(conn, "SELECT analytics.daily_stats(%s, %s, lim => 2) AS r", first, last)
        with pytest.raises(psycopg.Error) as error:
            conn.execute("SELECT analytics.daily_stats(%s, %s, project_id => 'other')", (first, last))
        assert error.value.sqlstate == "42501"
    got = {(s["day"], s["event_type"], s["name"]): (s["events"], s["sessions"], s["users"]) for s in stats}
    assert got == expected
    assert {(s["day"], s["users"]) for s in solutions} == {
        (k[0], v[2]) for k, v in expected.items() if k[1] == "message_sent"
    }
    # lim keeps the first rows in the function's order: newest day, most events, then type and name.
    # (The last local day may hold a single row: just after midnight in New York, only the newest event.)
    ranked = sorted(expected.items(), key=lambda kv: (kv[0][1], kv[0][2]))
    ranked.sort(key=lambda kv: (kv[0][0], kv[1][0]), reverse=True)
    assert [(s["day"], s["event_type"], s["name"]) for s in newest] == [key for key, _ in ranked[:2]]
    for args in [
        "current_date, current_date - 1",
        "current_date - 500, current_date",
        "current_date, current_date, lim => 0",
    ]:
        with pytest.raises(psycopg.Error) as error:
            conn.execute(f"SELECT analytics.daily_stats({args})")
        assert error.value.sqlstate == "22023"


def test_row_level_security_backs_up_the_functions(conn):
    """Should a DBA grant a reader a table, the policies still show it only its project."""
    track_events(conn, [{"project_id": p, "session_id": "s", "event_type": "click"} for p in ("shop", "rival")])
    conn.execute("SELECT analytics.refresh_rollups()")
    conn.execute("GRANT SELECT ON analytics.rollup_hourly, analytics.events TO analytics_reader")
    try:
        with reader(conn, "shop"):
            for table in ("analytics.rollup_hourly", "analytics.events"):
                rows = conn.execute(f"SELECT DISTINCT project_id FROM {table}").fetchall()
                assert [r["project_id"] for r in rows] == ["shop"]
        with reader(conn, None):
            assert conn.execute("SELECT count(*) AS n FROM analytics.events").fetchone()["n"] == 0
    finally:
        conn.execute("REVOKE SELECT ON analytics.rollup_hourly, analytics.events FROM analytics_reader")
    conn.execute("SET ROLE analytics_admin")
    try:
        assert conn.execute("SELECT count(DISTINCT project_id) AS n FROM analytics.events").fetchone()["n"] == 2
    finally:
        conn.execute("RESET ROLE")


# ---------------------------------------------------------------- generated streams

generated_read_event = st.fixed_dictionaries(
    {
        "project_id": st.sampled_from(["default", "other"]),
        "session_id": st.sampled_from(["s1", "s2", "s3", "s4", "s5"]),
        "user_id": st.sampled_from([None, "u1", "u2"]),
        "event_type": st.sampled_from(["pageview", "click", "exposure", "conversion"]),
        "name": st.sampled_from([None, "/", "/pricing", "cta"]),
        "variant_key": st.sampled_from(["A", "B", "C"]),
        "mode": st.sampled_from(["protect", "chase"]),
        "minutes_ago": st.integers(min_value=5, max_value=50 * 60),
        "second": st.integers(min_value=0, max_value=59),
    }
)


def read_documents(generated: list[dict]) -> list[dict]:
    documents = []
    for g in generated:
        at = NOW - timedelta(minutes=g["minutes_ago"], seconds=g["second"])
        document = {
            "project_id": g["project_id"],
            "session_id": g["session_id"],
            "user_id": g["user_id"],
            "event_type": g["event_type"],
            "name": g["name"],
            "properties": {"risk_mode": g["mode"]},
            "occurred_at": at.isoformat(),
        }
        if g["event_type"] in ("exposure", "conversion"):
            document["experiment_id"] = "exp"
            document["variant_key"] = g["variant_key"] if g["event_type"] == "exposure" else None
        documents.append(document)
    return documents


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batches=st.lists(st.lists(generated_read_event, min_size=1, max_size=25), min_size=1, max_size=3),
    dimension=st.sampled_from(
        ["page", "click_target", "event_type", "name", "property:risk_mode", "experiment", "entry_page", "exit_page"]
    ),
    start=st.integers(min_value=0, max_value=50 * 60),
    length=st.integers(min_value=1, max_value=50 * 60),
)
def test_generated_streams_give_exact_top_values(conn, batches, dimension, start, length):
    """Late batches after a refresh, two tenants, ranges that cut hours anywhere."""
    with conn.transaction(force_rollback=True):
        sent = []
        for batch in batches:
            documents = read_documents(batch)
            sent += documents
            track_events(conn, documents)
            conn.execute("SELECT analytics.refresh_rollups()")
        from_ts = NOW - timedelta(minutes=start, seconds=13)
        to_ts = from_ts + timedelta(minutes=length)
        result = call(
            conn, "SELECT analytics.top(%s, %s, %s, lim => 3, project_id => 'default') AS r", dimension, from_ts, to_ts
        )
        if dimension in ("entry_page", "exit_page"):
            assert result == expected_top_pages(conn, dimension, from_ts, to_ts, 3)
        else:
            assert result == expected_top(sent, dimension, from_ts, to_ts, 3)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(generated_read_event, min_size=1, max_size=25), min_size=1, max_size=3))
def test_generated_streams_give_exact_experiment_results(conn, batches):
    """Exposures to several variants per session, conversions before and after, out of order."""
    with conn.transaction(force_rollback=True):
        sent = []
        for batch in batches:
            documents = read_documents(batch)
            sent += documents
            track_events(conn, documents)
            conn.execute("SELECT analytics.refresh_rollups()")
        mine = [
            {**e, "occurred_at": datetime.fromisoformat(e["occurred_at"])}
            for e in sent
            if e["project_id"] == "default" and e["event_type"] in ("exposure", "conversion")
        ]
        expected = oracle(mine)
        result = call(conn, "SELECT analytics.experiment_results('exp', project_id => 'default') AS r")
        got = {v["variant_key"]: (v["exposed_sessions"], v["converted_sessions"]) for v in result["variants"]}
        assert got == expected


def expected_group_stats(events: list[dict], traits: dict[str, dict], trait: str, zone: str) -> dict:
    """group_stats() in Python: per local day and the users' trait value now, users, events, sessions."""
    from zoneinfo import ZoneInfo

    per_user_day: dict[tuple[str, str], list] = {}
    for e in events:
        if e.get("user_id") and e.get("project_id", "default") == "default":
            day = datetime.fromisoformat(e["occurred_at"]).astimezone(ZoneInfo(zone)).date().isoformat()
            row = per_user_day.setdefault((day, e["user_id"]), [0, set()])
            row[0] += 1
            row[1].add(e["session_id"])
    out: dict[tuple[str, str | None], list[int]] = {}
    for (day, user), (n, sessions) in per_user_day.items():
        value = traits.get(user, {}).get(trait)
        totals = out.setdefault((day, None if value is None else str(value)), [0, 0, 0])
        totals[0] += 1
        totals[1] += n
        totals[2] += len(sessions)
    return {k: tuple(v) for k, v in out.items()}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.one_of(
            st.lists(generated_read_event, min_size=1, max_size=20).map(lambda batch: ("events", batch)),
            st.tuples(
                st.just("identify"),
                st.sampled_from(["u1", "u2"]),
                st.fixed_dictionaries(
                    {},
                    optional={
                        "group": st.sampled_from(["acme", "globex", 7]),
                        "plan": st.sampled_from(["pro", "free"]),
                    },
                ),
            ),
            st.just(("roll up", "plan")),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_generated_group_changes_give_exact_group_stats(conn, steps):
    """Users change group and plan between and after their events, and "plan" is rolled up at some
    point or never; each refresh carries the changes over, and the rollup equals the oracle's GROUP BY."""
    with conn.transaction(force_rollback=True):
        conn.execute("INSERT INTO analytics.project_settings VALUES ('default', 'time_zone', 'America/New_York')")
        sent: list[dict] = []
        traits: dict[str, dict] = {}
        for step in steps:
            if step[0] == "roll up":
                conn.execute("SELECT analytics.save_trait_rollup(%s, project_id => 'default')", (step[1],))
            elif step[0] == "events":
                documents = read_documents(step[1])
                sent += documents
                track_events(conn, documents)
            else:
                _, user, new_traits = step
                conn.execute("SELECT analytics.identify(%s, %s::jsonb, 'default')", (user, json.dumps(new_traits)))
                traits[user] = {**traits.get(user, {}), **new_traits}
            conn.execute("SELECT analytics.refresh_rollups()")
        for trait in ("group", "plan"):
            with reader(conn, "default"):
                stats = call(
                    conn,
                    "SELECT analytics.group_stats(current_date - 5, current_date + 1, trait => %s) AS r",
                    trait,
                )
            got = {(g["day"], g["group"]): (g["users"], g["events"], g["sessions"]) for g in stats}
            assert got == expected_group_stats(sent, traits, trait, "America/New_York")
        assert mismatches(conn) == {}


def test_group_stats_over_every_project_keeps_each_projects_user_apart(conn):
    """An admin over every project: user u1 of two projects counts once, under each project's own trait
    value, for a trait that is rolled up ("group") and one that is not ("country")."""
    for project, value in (("default", "fr"), ("other", "de")):
        track_events(
            conn,
            [
                {
                    "project_id": project,
                    "session_id": "s1",
                    "user_id": "u1",
                    "event_type": "click",
                    "occurred_at": NOW.isoformat(),
                }
            ],
        )
        conn.execute(
            "SELECT analytics.identify('u1', %s::jsonb, %s)",
            (json.dumps({"country": value, "group": value}), project),
        )
    conn.execute("SELECT analytics.refresh_rollups()")
    for trait in ("country", "group"):
        stats = call(conn, "SELECT analytics.group_stats(current_date - 2, current_date + 1, %s) AS r", trait)
        assert sorted((g["group"], g["users"], g["events"]) for g in stats) == [("de", 1, 1), ("fr", 1, 1)], trait


def track_a_click_a_day(conn, days: int) -> None:
    """User u1 clicks once a day, in a session a day, for the last `days` days."""
    track_events(
        conn,
        [
            {
                "session_id": f"s{d}",
                "user_id": "u1",
                "event_type": "click",
                "occurred_at": (NOW - timedelta(days=d)).isoformat(),
            }
            for d in range(days)
        ],
    )


def test_a_change_of_a_rolled_up_trait_alone_moves_the_users_days(conn):
    """save_trait_rollup('plan') fills every day at once; a change of plan with no new event moves the
    user's days at the next refresh, and drop_trait_rollup() returns the trait to the join."""
    track_a_click_a_day(conn, days=3)
    conn.execute("""SELECT analytics.identify('u1', '{"plan": "free", "group": "acme"}')""")
    conn.execute("SELECT analytics.refresh_rollups()")
    saved = call(conn, "SELECT analytics.save_trait_rollup('plan', project_id => 'default') AS r")
    assert saved == {"project_id": "default", "trait": "plan", "days": 3, "rows": 3}
    conn.execute("""SELECT analytics.identify('u1', '{"plan": "pro"}')""")
    assert conn.execute("SELECT analytics.refresh_rollups() AS r").fetchone()["r"]["group_changes"] == 1
    rows = conn.execute(
        "SELECT trait, group_value, sum(events) AS events FROM analytics.rollup_daily_groups GROUP BY 1, 2 ORDER BY 1"
    ).fetchall()
    assert [(r["trait"], r["group_value"], r["events"]) for r in rows] == [("group", "acme", 3), ("plan", "pro", 3)]
    stats = call(conn, "SELECT analytics.group_stats(current_date - 5, current_date, 'plan', 'default') AS r")
    assert {g["group"] for g in stats} == {"pro"} and sum(g["events"] for g in stats) == 3
    assert call(conn, "SELECT analytics.drop_trait_rollup('plan', project_id => 'default') AS r") is True
    assert call(conn, "SELECT analytics.drop_trait_rollup('plan', project_id => 'default') AS r") is False
    assert call(conn, "SELECT count(*) AS r FROM analytics.rollup_daily_groups WHERE trait = 'plan'") == 0
    assert call(conn, "SELECT analytics.group_stats(current_date - 5, current_date, 'plan', 'default') AS r") == stats


def test_the_job_rolls_up_traits_with_few_values_by_itself(conn):
    """The first refresh after a trait key is set weighs it once: with at most trait_rollup_max_values
    values it is rolled up (group_stats() then reads rollup_daily_groups), with more it is joined at read
    time; a trait an admin drops stays dropped, and 0 turns the job's own rollups off."""
    conn.execute("INSERT INTO analytics.project_settings VALUES ('default', 'trait_rollup_max_values', '3')")
    track_a_click_a_day(conn, days=3)
    track_events(conn, [{"session_id": "t", "user_id": f"v{n}", "event_type": "click"} for n in range(4)])
    for n, user in enumerate(["u1", "v0", "v1", "v2", "v3"]):
        traits = {"country": ("fr", "de")[n % 2], "email": f"{user}@example.com"}
        conn.execute("SELECT analytics.identify(%s, %s::jsonb)", (user, json.dumps(traits)))
    conn.execute("SELECT analytics.refresh_rollups()")
    rolled = conn.execute("SELECT trait, automatic FROM analytics.trait_rollups ORDER BY 1").fetchall()
    assert [(r["trait"], r["automatic"]) for r in rolled] == [("country", True)]
    weighed = conn.execute("SELECT trait, values_seen FROM analytics.trait_keys ORDER BY 1").fetchall()
    assert [(r["trait"], r["values_seen"]) for r in weighed] == [("country", 2), ("email", 5)]
    assert mismatches(conn) == {}

    def stats(trait: str) -> list[dict]:
        return call(conn, "SELECT analytics.group_stats(current_date - 5, current_date + 1, %s, 'default') AS r", trait)

    joined = stats("email")
    assert sum(g["users"] for g in joined) == 3 + 4 and {g["group"] for g in joined} == {
        f"{u}@example.com" for u in ["u1", "v0", "v1", "v2", "v3"]
    }
    # The rolled-up trait is read from the rollup: a row changed behind the job's back shows.
    country = stats("country")
    conn.execute("UPDATE analytics.rollup_daily_groups SET users = users + 100 WHERE trait = 'country'")
    assert sum(g["users"] for g in stats("country")) == sum(g["users"] for g in country) + 100 * len(country)
    conn.execute("UPDATE analytics.rollup_daily_groups SET users = users - 100 WHERE trait = 'country'")
    # Saved by an admin, it is the admin's; dropped by an admin, new values do not bring it back.
    conn.execute("SELECT analytics.save_trait_rollup('country', project_id => 'default')")
    assert call(conn, "SELECT automatic AS r FROM analytics.trait_rollups WHERE trait = 'country'") is False
    assert call(conn, "SELECT analytics.drop_trait_rollup('country', project_id => 'default') AS r") is True
    conn.execute("""SELECT analytics.identify('v0', '{"country": "it", "plan": "pro"}')""")
    conn.execute("UPDATE analytics.project_settings SET value = '0' WHERE key = 'trait_rollup_max_values'")
    conn.execute("SELECT analytics.refresh_rollups()")
    assert conn.execute("SELECT count(*) AS n FROM analytics.trait_rollups").fetchone()["n"] == 0
    assert call(conn, "SELECT values_seen AS r FROM analytics.trait_keys WHERE trait = 'plan'") == 1
    assert stats("country") != country and mismatches(conn) == {}


@pytest.mark.parametrize(
    ("call_sql", "message"),
    [
        ("save_trait_rollup('group', project_id => 'default')", "cannot roll up the trait"),
        ("save_trait_rollup('', project_id => 'default')", "cannot roll up the trait"),
        ("save_trait_rollup('plan')", "needs a project"),
        ("drop_trait_rollup('plan')", "needs a project"),
    ],
)
def test_trait_rollups_refuse_bad_arguments(conn, call_sql, message):
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=message):
        conn.execute(f"SELECT analytics.{call_sql}")


def test_a_change_of_group_alone_moves_the_users_days(conn):
    """No new event: the next refresh_rollups() moves every day of the user to the new group."""
    track_a_click_a_day(conn, days=3)
    conn.execute("SELECT analytics.identify('u1', '{\"group\": \"acme\"}')")
    conn.execute("SELECT analytics.refresh_rollups()")
    conn.execute("SELECT analytics.identify('u1', '{\"group\": \"globex\"}')")
    before = call(conn, "SELECT analytics.group_stats(current_date - 5, current_date, project_id => 'default') AS r")
    assert {g["group"] for g in before} == {"acme"}  # as of the last refresh
    report = conn.execute("SELECT analytics.refresh_rollups() AS r").fetchone()["r"]
    assert report["group_changes"] == 1
    after = call(conn, "SELECT analytics.group_stats(current_date - 5, current_date, project_id => 'default') AS r")
    assert {g["group"] for g in after} == {"globex"} and sum(g["events"] for g in after) == 3
    assert conn.execute("SELECT analytics.refresh_rollups() AS r").fetchone()["r"]["group_changes"] == 0
