"""Independent computations over the raw events, to compare every rollup with.

Written apart from the package's SQL on purpose: plain GROUP BY queries with
their own time-zone arithmetic, and Python for the session and experiment
facts. A rollup is right when it equals these, row for row, with no extra rows.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg.rows import dict_row, tuple_row

ROLLUP_QUERIES = {
    "rollup_hourly": (
        "SELECT project_id, bucket, event_type, name, events, sessions, users, round(value_sum::numeric, 6) AS v,"
        " value_count FROM analytics.rollup_hourly",
        "SELECT project_id, date_trunc('hour', occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket,"
        " event_type, name, count(*) AS events, count(DISTINCT session_id) AS sessions,"
        " count(DISTINCT user_id) AS users, round(sum(value)::numeric, 6) AS v, count(value) AS value_count"
        " FROM analytics.events GROUP BY 1, 2, 3, 4",
    ),
    "rollup_hourly_totals": (
        "SELECT project_id, bucket, events, sessions, users, quarter_events, quarter_pageviews"
        " FROM analytics.rollup_hourly_totals",
        "SELECT project_id, date_trunc('hour', occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',"
        " count(*), count(DISTINCT session_id), count(DISTINCT user_id),"
        " ARRAY[count(*) FILTER (WHERE q = 0), count(*) FILTER (WHERE q = 1), count(*) FILTER (WHERE q = 2),"
        " count(*) FILTER (WHERE q = 3)],"
        " ARRAY[count(*) FILTER (WHERE q = 0 AND pv), count(*) FILTER (WHERE q = 1 AND pv),"
        " count(*) FILTER (WHERE q = 2 AND pv), count(*) FILTER (WHERE q = 3 AND pv)]"
        " FROM (SELECT *, floor(extract(minute FROM occurred_at AT TIME ZONE 'UTC') / 15) AS q,"
        " event_type = 'pageview' AS pv"
        " FROM analytics.events) e GROUP BY 1, 2",
    ),
    "rollup_hourly_properties": (
        "SELECT project_id, bucket, event_type, key, value, events FROM analytics.rollup_hourly_properties",
        "SELECT e.project_id, date_trunc('hour', e.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', e.event_type,"
        " p.key, p.value #>> '{}', count(*) FROM analytics.events e, jsonb_each(e.properties) p"
        " WHERE jsonb_typeof(p.value) IN ('string', 'number', 'boolean') AND length(p.value #>> '{}') <= 100"
        " GROUP BY 1, 2, 3, 4, 5",
    ),
}

# Daily queries take the project -> zone mapping as a VALUES list.
DAILY_QUERIES = {
    "rollup_daily": (
        "SELECT project_id, day, event_type, name, events, sessions, users, round(value_sum::numeric, 6),"
        " value_count FROM analytics.rollup_daily",
        "SELECT e.project_id, (e.occurred_at AT TIME ZONE coalesce(z.tz, 'UTC'))::date, e.event_type, e.name, count(*),"
        " count(DISTINCT e.session_id), count(DISTINCT e.user_id), round(sum(e.value)::numeric, 6), count(e.value)"
        " FROM analytics.events e LEFT JOIN zones z ON z.project_id = e.project_id GROUP BY 1, 2, 3, 4",
    ),
    "rollup_daily_totals": (
        "SELECT project_id, day, events, sessions, users FROM analytics.rollup_daily_totals",
        "SELECT e.project_id, (e.occurred_at AT TIME ZONE coalesce(z.tz, 'UTC'))::date, count(*), count(DISTINCT e.session_id),"
        " count(DISTINCT e.user_id) FROM analytics.events e LEFT JOIN zones z ON z.project_id = e.project_id"
        " GROUP BY 1, 2",
    ),
    "rollup_daily_users": (
        "SELECT project_id, day, user_id, events, sessions, first_seen, last_seen FROM analytics.rollup_daily_users",
        "SELECT e.project_id, (e.occurred_at AT TIME ZONE coalesce(z.tz, 'UTC'))::date, e.user_id, count(*),"
        " count(DISTINCT e.session_id), min(e.occurred_at), max(e.occurred_at)"
        " FROM analytics.events e LEFT JOIN zones z ON z.project_id = e.project_id WHERE e.user_id IS NOT NULL"
        " GROUP BY 1, 2, 3",
    ),
    # Paths are written as days are recomputed (an install upgraded to 0018 has none for its older days):
    # where a day has them, its span is the local day in the project's zone, and its paths each user's
    # events of the day in time order (ties by key number), as funnel() by user walks them.
    "rollup_daily_totals.paths_span": (
        "SELECT project_id, day, paths_span FROM analytics.rollup_daily_totals WHERE paths_span IS NOT NULL",
        "SELECT project_id, day, tstzrange(day::timestamp AT TIME ZONE coalesce(z.tz, 'UTC'),"
        " (day + 1)::timestamp AT TIME ZONE coalesce(z.tz, 'UTC'))"
        " FROM analytics.rollup_daily_totals t LEFT JOIN zones z USING (project_id) WHERE t.paths_span IS NOT NULL",
    ),
    "rollup_daily_user_paths": (
        "SELECT project_id, day, user_id, first_seen, last_seen, keys::text, times::text"
        " FROM analytics.rollup_daily_user_paths",
        "SELECT x.project_id, x.day, x.user_id, min(x.occurred_at), max(x.occurred_at),"
        " array_agg(x.code ORDER BY x.occurred_at, x.code)::text, array_agg(x.occurred_at ORDER BY x.occurred_at, x.code)::text"
        " FROM (SELECT e.project_id, (e.occurred_at AT TIME ZONE coalesce(z.tz, 'UTC'))::date AS day, e.user_id,"
        " e.occurred_at, analytics._event_key_code(e.event_type, e.name) AS code"
        " FROM analytics.events e LEFT JOIN zones z ON z.project_id = e.project_id WHERE e.user_id IS NOT NULL) x"
        " WHERE EXISTS (SELECT FROM analytics.rollup_daily_totals t WHERE t.project_id = x.project_id AND t.day = x.day"
        " AND t.paths_span IS NOT NULL)"
        " GROUP BY 1, 2, 3",
    ),
    # Grouped by each rolled-up trait ("group", and those saved) as it is now: what refresh_rollups() has
    # carried over.
    "rollup_daily_groups": (
        "SELECT project_id, trait, day, group_value, users, events, sessions FROM analytics.rollup_daily_groups",
        "SELECT x.project_id, t.trait, x.day, u.traits ->> t.trait, count(*), sum(x.events)::bigint,"
        " sum(x.sessions)::bigint"
        " FROM (SELECT e.project_id, (e.occurred_at AT TIME ZONE coalesce(z.tz, 'UTC'))::date AS day, e.user_id,"
        " count(*) AS events, count(DISTINCT e.session_id) AS sessions"
        " FROM analytics.events e LEFT JOIN zones z ON z.project_id = e.project_id WHERE e.user_id IS NOT NULL"
        " GROUP BY 1, 2, 3) x"
        " CROSS JOIN LATERAL (SELECT 'group' UNION SELECT r.trait FROM analytics.trait_rollups r"
        " WHERE r.project_id = x.project_id) t(trait)"
        " LEFT JOIN analytics.users u ON u.project_id = x.project_id AND u.user_id = x.user_id GROUP BY 1, 2, 3, 4",
    ),
}


def _utc(value: Any) -> Any:
    """Times in UTC, whatever the session's zone: Python adds and subtracts aware times on the wall clock
    of their zone, and never finds a time of a repeated hour equal to one in another zone."""
    return value.astimezone(UTC) if isinstance(value, datetime) and value.tzinfo is not None else value


def _rows(conn, query: str, params: Any = None) -> list[tuple]:
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute(query, params)
        return sorted((tuple(_utc(v) for v in row) for row in cur.fetchall()), key=repr)


def mismatches(conn) -> dict[str, tuple[list, list]]:
    """Every rollup table whose rows differ from the oracle: {table: (rollup rows, oracle rows)}.

    Days are cut in each project's configured time zone (project_settings), UTC by default.
    """
    zones = dict(_rows(conn, "SELECT project_id, value FROM analytics.project_settings WHERE key = 'time_zone'"))
    zones.setdefault("", "UTC")
    values = ", ".join(["(%s, %s)"] * len(zones))
    zone_cte = f"WITH zones(project_id, tz) AS (VALUES {values}) "
    zone_params = [x for item in zones.items() for x in item]
    found = {}
    for table, (rollup, oracle) in ROLLUP_QUERIES.items():
        got, want = _rows(conn, rollup), _rows(conn, oracle)
        if got != want:
            found[table] = (got, want)
    for table, (rollup, oracle) in DAILY_QUERIES.items():
        got, want = _rows(conn, rollup), _rows(conn, zone_cte + oracle, zone_params)
        if got != want:
            found[table] = (got, want)
    for table, (got, want) in {
        "sessions": (
            _rows(
                conn,
                "SELECT project_id, session_id, user_id, first_seen, last_seen, event_count,"
                " entry_page, exit_page FROM analytics.sessions",
            ),
            expected_sessions(conn),
        ),
        "sessions.path": (
            _rows(conn, "SELECT project_id, session_id, path FROM analytics.sessions"),
            expected_paths(conn),
        ),
        "rollup_hourly_paths": (
            _rows(conn, "SELECT project_id, bucket, path, duration_bound, sessions FROM analytics.rollup_hourly_paths"),
            expected_rollup_hourly_paths(conn),
        ),
        "event_keys": (
            # Every key of the raw events, with its character (keys of deleted events may stay).
            _rows(
                conn,
                "SELECT k.project_id, k.event_type, k.name, k.code = analytics._event_key_char(k.event_type, k.name)"
                " FROM analytics.event_keys k WHERE EXISTS (SELECT 1 FROM analytics.events e"
                " WHERE e.project_id = k.project_id AND e.event_type = k.event_type"
                " AND e.name IS NOT DISTINCT FROM k.name)",
            ),
            _rows(conn, "SELECT DISTINCT project_id, event_type, name, true FROM analytics.events"),
        ),
        "sessions.previous_first_seen": (
            _rows(conn, "SELECT project_id, session_id, previous_first_seen FROM analytics.sessions"),
            [(p, s, prev) for p, s, prev, *_ in _linked_visits(conn)],
        ),
        "rollup_hourly_visits": (
            _rows(
                conn,
                "SELECT project_id, bucket, quarter, nullif(previous_bucket, '-infinity'), visits, bounces,"
                " round(duration_s * 1000000)::bigint"
                " FROM analytics.rollup_hourly_visits",
            ),
            expected_rollup_hourly_visits(conn),
        ),
        "experiment_sessions": (
            _rows(
                conn,
                "SELECT project_id, experiment_id, session_id, variant_key, exposed_at,"
                " exposures, conversions, first_conversion_at"
                " FROM analytics.experiment_sessions",
            ),
            expected_experiment_sessions(conn),
        ),
        "rollup_experiments": (
            _rows(
                conn,
                "SELECT project_id, experiment_id, variant_key, exposed_sessions, exposures,"
                " converted_sessions, conversions FROM analytics.rollup_experiments",
            ),
            expected_rollup_experiments(conn),
        ),
        "rollup_hourly_entry_exit_pages": (
            _rows(
                conn, "SELECT project_id, bucket, page_role, page, visits FROM analytics.rollup_hourly_entry_exit_pages"
            ),
            expected_rollup_hourly_entry_exit_pages(conn),
        ),
        "rollup_hourly_exposures": (
            _rows(conn, "SELECT project_id, bucket, experiment_id, sessions FROM analytics.rollup_hourly_exposures"),
            expected_rollup_hourly_exposures(conn),
        ),
    }.items():
        if got != want:
            found[table] = (got, want)
    return found


def _events(conn) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT project_id, event_id, occurred_at, session_id, user_id, event_type, name, experiment_id,"
            " variant_key FROM analytics.events"
        )
        rows = [{**e, "occurred_at": _utc(e["occurred_at"])} for e in cur.fetchall()]
    # Ties on time are broken by event_id, as the package documents.
    return sorted(rows, key=lambda e: (e["occurred_at"], str(e["event_id"])))


def expected_sessions(conn) -> list[tuple]:
    by_session: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for e in _events(conn):
        by_session[(e["project_id"], e["session_id"])].append(e)
    out = []
    for (project, session), events in by_session.items():
        pages = [e for e in events if e["event_type"] == "pageview"]
        users = [e["user_id"] for e in events if e["user_id"] is not None]
        out.append(
            (
                project,
                session,
                users[-1] if users else None,
                events[0]["occurred_at"],
                events[-1]["occurred_at"],
                len(events),
                pages[0]["name"] if pages else None,
                pages[-1]["name"] if pages else None,
            )
        )
    return sorted(out, key=repr)


def expected_paths(conn) -> list[tuple]:
    """(project, session, path): the characters of the session's event keys in time order; none when
    two of its events share a timestamp."""
    chars = {
        (t, n): c
        for t, n, c in _rows(
            conn,
            "SELECT event_type, name, analytics._event_key_char(event_type, name)"
            " FROM (SELECT DISTINCT event_type, name FROM analytics.events) k",
        )
    }
    by_session: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for e in _events(conn):
        by_session[(e["project_id"], e["session_id"])].append(e)
    out = []
    for (project, session), events in by_session.items():
        times = [e["occurred_at"] for e in events]
        tied = len(set(times)) < len(times)
        out.append((project, session, None if tied else "".join(chars[(e["event_type"], e["name"])] for e in events)))
    return sorted(out, key=repr)


# The duration classes of rollup_hourly_paths (analytics._session_duration_bound).
DURATION_BOUNDS = [
    timedelta(0),
    *(timedelta(minutes=m) for m in (1, 5, 10, 15, 30)),
    *(timedelta(hours=h) for h in (1, 2, 6, 12, 24, 48, 168, 720, 2160)),
]


def expected_rollup_hourly_paths(conn) -> list[tuple]:
    """(project, UTC hour of the first event, path, duration class, sessions); the class is the smallest
    bound at least the session's duration, none beyond the last."""
    paths = {(project, session): path for project, session, path in expected_paths(conn)}
    counts: dict[tuple, int] = defaultdict(int)
    for project, session, _, first, last, *_ in expected_sessions(conn):
        duration = last - first
        bound = next((b for b in DURATION_BOUNDS if b >= duration), None)
        counts[(project, _utc_hour(first), paths[(project, session)], bound)] += 1
    return sorted(((*k, n) for k, n in counts.items()), key=repr)


def _linked_visits(conn) -> list[tuple]:
    """(project, session, previous visit's start, start, end, events) per visit: the previous visit
    is the same user's, in order of start and then session id (code point order); none if anonymous."""
    by_user: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    out = []
    for project, session, user, first, last, count, *_ in expected_sessions(conn):
        if user is None:
            out.append((project, session, None, first, last, count))
        else:
            by_user[(project, user)].append((first, session, last, count))
    for (project, _), visits in by_user.items():
        previous = None
        for first, session, last, count in sorted(visits):
            out.append((project, session, previous, first, last, count))
            previous = first
    return sorted(out, key=repr)


def expected_rollup_hourly_entry_exit_pages(conn) -> list[tuple]:
    counts: dict[tuple, int] = defaultdict(int)
    for project, _, _, first, _, _, entry, exit_page in expected_sessions(conn):
        for role, page in (("entry", entry), ("exit", exit_page)):
            if page is not None:
                counts[(project, _utc_hour(first), role, page)] += 1
    return sorted(((*k, n) for k, n in counts.items()), key=repr)


def _utc_hour(at: datetime) -> datetime:
    """The start of `at`'s UTC hour."""
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def expected_rollup_hourly_visits(conn) -> list[tuple]:
    """Durations in microseconds; a visit with no previous one has previous_bucket NULL here."""
    rows: dict[tuple, list] = defaultdict(lambda: [0, 0, 0])
    for project, _, previous, first, last, count in _linked_visits(conn):
        hour = _utc_hour(first)
        previous_hour = _utc_hour(previous) if previous else None
        row = rows[(project, hour, first.minute // 15, previous_hour)]
        row[0] += 1
        row[1] += count == 1
        row[2] += (last - first) // timedelta(microseconds=1)
    return sorted(((*k, *v) for k, v in rows.items()), key=repr)


def _experiment_facts(conn) -> dict[tuple[str, str, str], dict[str, Any]]:
    facts: dict[tuple[str, str, str], dict[str, Any]] = {}
    events = [e for e in _events(conn) if e["experiment_id"] is not None]
    for e in events:
        if e["event_type"] == "exposure" and e["variant_key"] is not None:
            key = (e["project_id"], e["experiment_id"], e["session_id"])
            fact = facts.setdefault(key, {"variant": e["variant_key"], "exposed_at": e["occurred_at"], "exposures": 0})
            fact["exposures"] += 1
    for fact_key, fact in facts.items():
        conversions = [
            e["occurred_at"]
            for e in events
            if (e["project_id"], e["experiment_id"], e["session_id"]) == fact_key
            and e["event_type"] == "conversion"
            and e["occurred_at"] >= fact["exposed_at"]
        ]
        fact["conversions"] = len(conversions)
        fact["first_conversion_at"] = min(conversions) if conversions else None
    return facts


def expected_experiment_sessions(conn) -> list[tuple]:
    return sorted(
        (
            (*k, f["variant"], f["exposed_at"], f["exposures"], f["conversions"], f["first_conversion_at"])
            for k, f in _experiment_facts(conn).items()
        ),
        key=repr,
    )


def expected_rollup_experiments(conn) -> list[tuple]:
    totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for (project, experiment, _), f in _experiment_facts(conn).items():
        t = totals[(project, experiment, f["variant"])]
        t[0] += 1
        t[1] += f["exposures"]
        t[2] += 1 if f["conversions"] else 0
        t[3] += f["conversions"]
    return sorted(((*k, *v) for k, v in totals.items()), key=repr)


def expected_rollup_hourly_exposures(conn) -> list[tuple]:
    counts: dict[tuple, int] = defaultdict(int)
    for (project, experiment, _), f in _experiment_facts(conn).items():
        counts[(project, _utc_hour(f["exposed_at"]), experiment)] += 1
    return sorted(((*k, n) for k, n in counts.items()), key=repr)
