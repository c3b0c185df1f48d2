"""track_events(), track_event(), identify(): what is stored, what is rejected and why."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pytest

from tests.conftest import acting_as, track_events

NOW = datetime.now(UTC)


def ev(**fields):
    return {"session_id": "s1", "event_type": "pageview", **fields}


def stored(conn, **where):
    clause = " AND ".join(f"{k} = %({k})s" for k in where) or "true"
    return conn.execute(f"SELECT * FROM analytics.events WHERE {clause} ORDER BY occurred_at", where).fetchall()


def test_valid_events_are_stored_with_their_fields(conn):
    event_id = str(uuid.uuid4())
    result = track_events(
        conn,
        [
            ev(
                event_id=event_id,
                name="/pricing",
                user_id="u1",
                properties={"plan": "pro"},
                value=12.5,
                occurred_at=(NOW - timedelta(days=2)).astimezone(timezone(timedelta(hours=1))).isoformat(),
                project_id="shop",
            )
        ],
    )
    assert result == {"accepted": 1, "duplicates": 0, "rejected": []}
    (row,) = stored(conn, project_id="shop")
    assert str(row["event_id"]) == event_id
    assert row["session_id"] == "s1" and row["user_id"] == "u1" and row["name"] == "/pricing"
    assert row["properties"] == {"plan": "pro"} and row["value"] == 12.5


def test_occurred_at_forms_are_tz_independent(conn):
    conn.execute("SET TimeZone = 'Asia/Kolkata'")  # must not matter
    conn.execute("SET DateStyle = 'ISO, DMY'")  # nor must this (day first)
    # A recent hour on a day that reads as another date day-first (day <= 12, day != month).
    base = next(
        at
        for at in ((NOW - timedelta(days=d, hours=3)).replace(microsecond=0, minute=0, second=0) for d in range(40))
        if at.day <= 12 and at.day != at.month
    )
    iso_z = base.strftime("%Y-%m-%dT%H:%M:%SZ")
    iso_offset = base.astimezone(datetime.now().astimezone().tzinfo).isoformat()
    no_offset = base.strftime("%Y-%m-%dT%H:%M:%S")  # means UTC
    epoch = base.timestamp()
    month_first = base.strftime("%m/%d/%Y %H:%M:%S")  # not ISO 8601: read month first, as PostgreSQL's default
    forms = [iso_z, iso_offset, no_offset, epoch, month_first]
    result = track_events(conn, [ev(session_id=f"s{i}", occurred_at=v) for i, v in enumerate(forms)])
    assert result["accepted"] == 5, result
    rows = conn.execute("SELECT DISTINCT occurred_at FROM analytics.events").fetchall()
    assert [r["occurred_at"] for r in rows] == [base]


def test_event_type_is_lower_cased(conn):
    track_events(conn, [ev(event_type="EXPOSURE", experiment_id="e", variant_key="a")])
    assert stored(conn)[0]["event_type"] == "exposure"


def test_experiment_keys_in_properties_are_promoted(conn):
    track_events(conn, [ev(event_type="exposure", properties={"experimentId": "exp1", "variantKey": "B"})])
    row = stored(conn)[0]
    assert (row["experiment_id"], row["variant_key"]) == ("exp1", "B")


def test_missing_occurred_at_means_now(conn):
    track_events(conn, [ev()])
    (row,) = stored(conn)
    assert abs((row["occurred_at"] - row["received_at"]).total_seconds()) < 1


@pytest.mark.parametrize(
    ("event", "code"),
    [
        (ev(session_id=""), "missing_session_id"),
        (ev(session_id="   "), "missing_session_id"),
        ({"event_type": "click"}, "missing_session_id"),
        (ev(session_id={"a": 1}), "invalid_session_id"),
        ({"session_id": "s"}, "missing_event_type"),
        (ev(event_type=""), "missing_event_type"),
        (ev(event_type="has space"), "invalid_event_type"),
        (ev(event_type="9starts_with_digit"), "invalid_event_type"),
        (ev(event_type="x" * 65), "invalid_event_type"),
        (ev(event_type=5), "invalid_event_type"),
        (ev(properties=[1, 2]), "invalid_properties"),
        (ev(properties="text"), "invalid_properties"),
        (ev(properties={"blob": "x" * 70_000}), "properties_too_large"),
        (ev(occurred_at=(NOW + timedelta(minutes=10)).isoformat()), "occurred_at_in_future"),
        (ev(occurred_at=(NOW - timedelta(days=91)).isoformat()), "occurred_at_too_old"),
        (ev(occurred_at="yesterday"), "invalid_occurred_at"),
        (ev(occurred_at=True), "invalid_occurred_at"),
        (ev(occurred_at=NOW.timestamp() * 1000), "invalid_occurred_at"),  # milliseconds: out of range
        (ev(event_id="not-a-uuid"), "invalid_event_id"),
        (ev(event_id=12), "invalid_event_id"),
        (ev(occurred_at="2026-13-45T00:00:00Z"), "invalid_occurred_at"),
        (ev(occurred_at="infinity"), "invalid_occurred_at"),
        (ev(value="12"), "invalid_value"),
        (ev(user_id=["u"]), "invalid_user_id"),
        (ev(name=5), "invalid_name"),
        (ev(experiment_id=1), "invalid_experiment_id"),
        (ev(variant_key=False), "invalid_variant_key"),
        (ev(name="x" * 1025), "field_too_long"),
        (ev(project_id="has space"), "invalid_project_id"),
        (ev(sessionId="camel"), "unknown_key"),
        ([1, 2], "not_an_object"),
        ("text", "not_an_object"),
        (None, "not_an_object"),
    ],
)
def test_each_validation_rule_rejects_only_the_bad_event(conn, event, code):
    result = track_events(conn, [ev(session_id="good-before"), event, ev(session_id="good-after")])
    assert result["accepted"] == 2
    assert [(r["index"], r["code"]) for r in result["rejected"]] == [(1, code)]
    assert result["rejected"][0]["reason"]
    row = conn.execute("SELECT * FROM analytics.rejected_events").fetchone()
    assert (row["code"], row["batch_index"], row["source"]) == (code, 1, "track_events")
    assert json.loads(row["document"]) == event


def test_nul_escape_rejects_one_event_not_the_batch(conn):
    # Built by hand: the JSON text carries the \u0000 escape that jsonb refuses.
    body = '[{"session_id": "s1", "event_type": "click"}, {"session_id": "a\\u0000b", "event_type": "click"}]'
    result = conn.execute("SELECT analytics.track_events(%s::json) AS r", (body,)).fetchone()["r"]
    assert result["accepted"] == 1
    assert [r["code"] for r in result["rejected"]] == ["nul_character"]
    assert "\\u0000" in conn.execute("SELECT document FROM analytics.rejected_events").fetchone()["document"]


def test_escaped_backslash_before_u0000_is_not_a_nul(conn):
    body = '[{"session_id": "s1", "event_type": "click", "name": "C:\\\\u0000dir"}]'
    result = conn.execute("SELECT analytics.track_events(%s::json) AS r", (body,)).fetchone()["r"]
    assert result["accepted"] == 1
    assert stored(conn)[0]["name"] == "C:\\u0000dir"


def test_value_failing_a_cast_is_isolated_by_bisection(conn):
    events = [ev(session_id=f"s{i}") for i in range(100)]
    events[37] = ev(occurred_at="2026-02-30T00:00:00Z")  # passes the pattern, fails the cast
    events[80] = ev(value=1e400)  # a JSON number beyond double precision
    body = json.dumps(events).replace("Infinity", "1e400")
    result = conn.execute("SELECT analytics.track_events(%s::json) AS r", (body,)).fetchone()["r"]
    assert result["accepted"] == 98
    assert [(r["index"], r["code"]) for r in result["rejected"]] == [(37, "invalid_occurred_at"), (80, "invalid_value")]
    assert "out of range" in result["rejected"][0]["reason"]
    assert conn.execute("SELECT count(*) AS n FROM analytics.rejected_events").fetchone()["n"] == 2


def test_duplicates_are_counted_not_stored_within_and_across_batches(conn):
    e1 = ev(event_id=str(uuid.uuid4()), occurred_at=NOW.isoformat())
    e2 = ev(event_id=str(uuid.uuid4()), occurred_at=NOW.isoformat())
    assert track_events(conn, [e1, e1, e2]) == {"accepted": 2, "duplicates": 1, "rejected": []}
    assert track_events(conn, [e1, e2]) == {"accepted": 0, "duplicates": 2, "rejected": []}
    assert len(stored(conn)) == 2


def test_retry_without_occurred_at_is_a_duplicate(conn):
    e = ev(event_id=str(uuid.uuid4()))
    track_events(conn, [e])
    assert track_events(conn, [e]) == {"accepted": 0, "duplicates": 1, "rejected": []}
    assert len(stored(conn)) == 1


def test_same_event_id_in_two_projects_is_two_events(conn):
    event_id = str(uuid.uuid4())
    result = track_events(conn, [ev(event_id=event_id, project_id="a"), ev(event_id=event_id, project_id="b")])
    assert result["accepted"] == 2


def test_events_must_be_an_array(conn):
    with pytest.raises(psycopg.Error) as error:
        conn.execute('SELECT analytics.track_events(\'{"session_id": "s"}\'::json)')
    assert error.value.sqlstate == "22023"
    assert "JSON array" in error.value.diag.message_primary
    assert error.value.diag.message_hint


def test_batch_larger_than_the_limit_is_refused_whole(conn):
    conn.execute("UPDATE analytics.settings SET value = '3' WHERE key = 'max_batch_size'")
    with pytest.raises(psycopg.Error) as error:
        track_events(conn, [ev()] * 4)
    assert error.value.sqlstate == "54000"
    assert "max_batch_size" in error.value.diag.message_hint
    assert track_events(conn, [ev()] * 3)["accepted"] == 3


def test_empty_batch(conn):
    assert track_events(conn, []) == {"accepted": 0, "duplicates": 0, "rejected": []}


def test_stored_events_mark_their_buckets(conn):
    hour = (NOW - timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    track_events(
        conn,
        [
            ev(occurred_at=(hour + timedelta(minutes=m)).isoformat(), project_id=p)
            for m in (1, 2, 3)
            for p in ("a", "b")
        ],
    )
    buckets = conn.execute("SELECT DISTINCT project_id, bucket FROM analytics.dirty_buckets ORDER BY 1").fetchall()
    assert [(b["project_id"], b["bucket"]) for b in buckets] == [("a", hour), ("b", hour)]


def test_track_event_returns_its_id_and_is_idempotent(conn):
    event_id = uuid.uuid4()
    at = NOW - timedelta(minutes=1)
    call = (
        "SELECT analytics.track_event(session_id => 's1', event_type => 'click', name => 'cta',"
        " event_id => %s, occurred_at => %s, value => 2, properties => '{\"a\": null}') AS id"
    )
    assert conn.execute(call, (event_id, at)).fetchone()["id"] == event_id
    assert conn.execute(call, (event_id, at)).fetchone()["id"] == event_id
    (row,) = stored(conn)
    assert row["properties"] == {"a": None} and row["value"] == 2 and row["project_id"] == "default"


def test_track_event_generates_an_id(conn):
    new_id = conn.execute("SELECT analytics.track_event('s1', 'pageview') AS id").fetchone()["id"]
    assert stored(conn)[0]["event_id"] == new_id


def test_track_event_raises_a_clear_error(conn):
    with pytest.raises(psycopg.Error) as error:
        conn.execute("SELECT analytics.track_event(session_id => 's1', event_type => 'bad type')")
    assert error.value.sqlstate == "22023"
    assert "does not match" in error.value.diag.message_primary
    assert error.value.diag.message_detail == "rejection code: invalid_event_type"
    assert error.value.diag.message_hint


def test_identify_merges_traits(conn):
    conn.execute('SELECT analytics.identify(user_id => \'u1\', traits => \'{"plan": "free", "group": "acme"}\')')
    conn.execute("SELECT analytics.identify(user_id => 'u1', traits => '{\"plan\": \"pro\"}')")
    row = conn.execute("SELECT * FROM analytics.users").fetchone()
    assert row["traits"] == {"plan": "pro", "group": "acme"}
    assert row["project_id"] == "default" and row["last_seen"] >= row["first_seen"]


@pytest.mark.parametrize(
    ("args", "sqlstate"),
    [
        ("user_id => '', traits => '{}'", "22023"),
        ("user_id => 'u', traits => '[1]'", "22023"),
        ("user_id => 'u', traits => '{}', project_id => 'bad project'", "22023"),
    ],
)
def test_identify_rejects_bad_arguments(conn, args, sqlstate):
    with pytest.raises(psycopg.Error) as error:
        conn.execute(f"SELECT analytics.identify({args})")
    assert error.value.sqlstate == sqlstate


def test_bound_project_defaults_and_guards_the_tenant(conn):
    with acting_as(conn, "analytics_ingest", {"role": "app", "project_id": "shop"}):
        result = track_events(conn, [ev(), ev(project_id="shop"), ev(project_id="other")])
    assert result["accepted"] == 2
    assert [r["code"] for r in result["rejected"]] == ["project_forbidden"]
    assert {r["project_id"] for r in stored(conn)} == {"shop"}
    with pytest.raises(psycopg.Error) as error, acting_as(conn, "analytics_ingest", {"project_id": "shop"}):
        conn.execute("SELECT analytics.track_event('s', 'click', project_id => 'other')")
    assert error.value.sqlstate == "42501"
    with pytest.raises(psycopg.Error) as error, acting_as(conn, "analytics_ingest", {"project_id": "shop"}):
        conn.execute("SELECT analytics.identify('u1', '{}', project_id => 'other')")
    assert error.value.sqlstate == "42501"
