"""Generated batches against a Python oracle: every event is stored once or rejected, never lost."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

NOW = datetime.now(UTC).replace(microsecond=0)
POOL_IDS = [str(uuid.UUID(int=i + 1)) for i in range(6)]  # a small pool, so duplicates happen

valid_event = st.fixed_dictionaries(
    {
        "session_id": st.sampled_from(["s1", "s2", "s3"]),
        "event_type": st.sampled_from(["pageview", "click", "Conversion", "tool_used"]),
        "project_id": st.sampled_from(["a", "b"]),
        "event_id": st.sampled_from(POOL_IDS),
        "occurred_at": st.integers(min_value=0, max_value=3 * 24 * 3600).map(
            lambda s: (NOW - timedelta(seconds=s)).isoformat()
        ),
    },
    optional={
        "name": st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=5),
        "value": st.floats(allow_nan=False, allow_infinity=False, width=32),
        "properties": st.dictionaries(
            st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=3),
            st.integers(min_value=-(2**53), max_value=2**53),
            max_size=2,
        ),
        "user_id": st.sampled_from(["u1", "u2"]),
    },
)
invalid_event = st.one_of(
    st.just({"session_id": "", "event_type": "click"}),
    st.just({"session_id": "s", "event_type": "no spaces allowed"}),
    st.just({"session_id": "s", "event_type": "click", "occurred_at": "2026-02-30T00:00:00Z"}),
    st.just({"session_id": "s", "event_type": "click", "properties": [1]}),
    st.just({"session_id": "s", "event_type": "click", "extra": True}),
    st.just([1, 2, 3]),
)
batches = st.lists(st.tuples(st.booleans(), valid_event, invalid_event), max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch_specs=st.lists(batches, min_size=1, max_size=3))
def test_generated_batches_match_the_oracle(conn, batch_specs):
    with conn.transaction(force_rollback=True):
        expected: dict[tuple[str, str, str], dict] = {}
        seen: set[tuple[str, str, str]] = set()
        for spec in batch_specs:
            batch = [good if ok else bad for ok, good, bad in spec]
            bad_indexes = [i for i, (ok, _, _) in enumerate(spec) if not ok]
            result = conn.execute("SELECT analytics.track_events(%s::json) AS r", (json.dumps(batch),)).fetchone()["r"]
            new = 0
            for ok, good, _ in spec:
                # An event is identified by (project_id, event_id, occurred_at), within and across batches.
                if ok:
                    key = (
                        good["project_id"],
                        good["event_id"],
                        datetime.fromisoformat(good["occurred_at"]).isoformat(),
                    )
                    if key not in seen:
                        seen.add(key)
                        expected[key] = good
                        new += 1
            assert [r["index"] for r in result["rejected"]] == bad_indexes
            assert result["accepted"] == new
            assert result["accepted"] + result["duplicates"] + len(result["rejected"]) == len(batch)
        rows = conn.execute(
            "SELECT project_id, event_id::text AS event_id, occurred_at, event_type, session_id, name, value, "
            "properties, user_id FROM analytics.events"
        ).fetchall()
        stored = {(r["project_id"], r["event_id"], r["occurred_at"].isoformat()): r for r in rows}
        assert stored.keys() == expected.keys()
        for key, event in expected.items():
            row = stored[key]
            assert row["event_type"] == event["event_type"].lower()
            assert row["session_id"] == event["session_id"]
            assert row["name"] == event.get("name")
            assert row["user_id"] == event.get("user_id")
            assert row["properties"] == event.get("properties", {})
            if "value" in event:
                assert row["value"] == event["value"]


def test_rejections_are_all_recorded(conn):
    body = json.dumps([{"session_id": "", "event_type": "x"}, {"session_id": "s", "event_type": "x"}] * 50)
    result = conn.execute("SELECT analytics.track_events(%s::json) AS r", (body,)).fetchone()["r"]
    assert (result["accepted"], len(result["rejected"])) == (50, 50)
    assert conn.execute("SELECT count(*) AS n FROM analytics.rejected_events").fetchone()["n"] == 50
    try:
        conn.execute("SELECT analytics.track_events(%s::json)", ("[" + ",".join(['{"a":1}'] * 10001) + "]",))
    except psycopg.Error as error:
        assert error.sqlstate == "54000"
    else:
        raise AssertionError("a batch above max_batch_size must be refused")
