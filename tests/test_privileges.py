"""Least privilege: what each role may call and read, checked as PostgREST would call."""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import acting_as, track_events

INGEST_FUNCTIONS = {"track_event", "track_events", "ingest_documents", "identify"}


def executable_by(conn, role: str) -> set[str]:
    rows = conn.execute(
        "SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'analytics'::regnamespace "
        "AND has_function_privilege(%s, p.oid, 'EXECUTE')",
        (role,),
    ).fetchall()
    return {r["proname"] for r in rows}


def test_public_may_execute_nothing(conn):
    conn.execute("CREATE ROLE nobody_in_particular")
    try:
        assert executable_by(conn, "nobody_in_particular") == set()
        tables = conn.execute(
            "SELECT count(*) AS n FROM pg_class WHERE relnamespace = 'analytics'::regnamespace "
            "AND has_table_privilege('nobody_in_particular', oid, 'SELECT')"
        ).fetchone()["n"]
        assert tables == 0
    finally:
        conn.execute("DROP ROLE nobody_in_particular")


def test_ingest_role_may_call_only_the_ingest_functions(conn):
    assert executable_by(conn, "analytics_ingest") == INGEST_FUNCTIONS


def test_ingest_role_can_track_but_not_touch_tables(conn):
    with acting_as(conn, "analytics_ingest"):
        assert track_events(conn, [{"session_id": "s", "event_type": "click"}])["accepted"] == 1
        conn.execute("SELECT analytics.track_event('s', 'pageview', name => '/')")
        conn.execute("SELECT analytics.identify('u1', '{\"plan\": \"pro\"}')")
    for statement in [
        "SELECT * FROM analytics.events",
        "INSERT INTO analytics.events (session_id, event_type, occurred_at) VALUES ('s', 'x', now())",
        "UPDATE analytics.settings SET value = '1'",
        "DELETE FROM analytics.rejected_events",
        "SELECT * FROM analytics.users",
        "TRUNCATE analytics.events",
        "SELECT analytics.maintain_partitions()",
        "SELECT analytics._store_documents(ARRAY['{}'], ARRAY[0], 'x', NULL)",
    ]:
        with pytest.raises(psycopg.errors.InsufficientPrivilege), acting_as(conn, "analytics_ingest"):
            conn.execute(statement)
    assert conn.execute("SELECT count(*) AS n FROM analytics.events").fetchone()["n"] == 2


def test_reader_role_cannot_read_raw_tables(conn):
    with pytest.raises(psycopg.errors.InsufficientPrivilege), acting_as(conn, "analytics_reader"):
        conn.execute("SELECT * FROM analytics.events")
    assert not executable_by(conn, "analytics_reader") & INGEST_FUNCTIONS


def test_admin_role_runs_maintenance_and_changes_settings(conn):
    with acting_as(conn, "analytics_admin"):
        conn.execute("SELECT analytics.maintain_partitions()")
        conn.execute("SELECT analytics.status()")
        conn.execute("UPDATE analytics.settings SET value = '14' WHERE key = 'raw_retention_days'")
        conn.execute("INSERT INTO analytics.project_settings VALUES ('shop', 'time_zone', 'Europe/Berlin')")
        conn.execute("SELECT count(*) FROM analytics.events")
    with pytest.raises(psycopg.errors.InsufficientPrivilege), acting_as(conn, "analytics_admin"):
        conn.execute("DELETE FROM analytics.events")


def test_security_definer_functions_pin_a_safe_search_path(conn):
    rows = conn.execute(
        "SELECT proname, proconfig FROM pg_proc WHERE pronamespace = 'analytics'::regnamespace AND prosecdef"
    ).fetchall()
    assert {r["proname"] for r in rows} >= INGEST_FUNCTIONS
    for row in rows:
        assert "search_path=pg_catalog, pg_temp" in row["proconfig"], row["proname"]


def test_functions_are_owned_by_the_installing_login_role(conn):
    owners = conn.execute(
        "SELECT DISTINCT r.rolname, r.rolcanlogin FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner "
        "WHERE p.pronamespace = 'analytics'::regnamespace"
    ).fetchall()
    assert owners == [{"rolname": "postgres", "rolcanlogin": True}]


def test_functions_work_with_an_empty_search_path(conn):
    conn.execute("SET search_path = ''")
    assert track_events(conn, [{"session_id": "s", "event_type": "click"}])["accepted"] == 1
    conn.execute("SELECT analytics.maintain_partitions()")
    conn.execute("SELECT analytics.status()")


# A value for each required parameter of a read function, by name.
SAMPLE_ARGUMENTS = {
    "from_ts": "now() - interval '1 day'",
    "to_ts": "now()",
    "from_day": "current_date - 1",
    "to_day": "current_date",
    "experiment_id": "'exp'",
    "dimension": "'page'",
    "steps": "ARRAY['pageview']",
}


def reader_calls(conn) -> list[tuple[str, list[str]]]:
    """(function, its required arguments by name) for every function readers may call."""
    rows = conn.execute(
        "SELECT p.proname, p.pronargs - p.pronargdefaults AS required, p.proargnames AS names"
        " FROM pg_proc p WHERE p.pronamespace = 'analytics'::regnamespace"
        " AND has_function_privilege('analytics_reader', p.oid, 'EXECUTE') ORDER BY 1"
    ).fetchall()
    return [(r["proname"], [f"{n} => {SAMPLE_ARGUMENTS[n]}" for n in r["names"][: r["required"]]]) for r in rows]


def test_every_read_function_keeps_readers_to_their_tenant(conn):
    """Each function a reader may call answers for the claimed project, and refuses another project and
    a caller without a claim with SQLSTATE 42501: a new one cannot forget the tenant."""
    track_events(conn, [{"project_id": p, "session_id": "s", "event_type": "pageview", "name": "/"} for p in "ab"])
    conn.execute("SELECT analytics.refresh_rollups()")
    calls = reader_calls(conn)
    assert {name for name, _ in calls} >= {"metrics", "funnel", "top", "daily_stats", "group_stats", "realtime"}
    for name, arguments in calls:
        with acting_as(conn, "analytics_reader", {"project_id": "a"}):
            conn.execute(f"SELECT analytics.{name}({', '.join(arguments)})")
        for claims, extra in (({"project_id": "a"}, ["project_id => 'b'"]), ({}, [])):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), acting_as(conn, "analytics_reader", claims):
                conn.execute(f"SELECT analytics.{name}({', '.join(arguments + extra)})")
