"""`pgpkg ingest FILE`: NDJSON, JSON arrays and CSV, through COPY and the SQL validation."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pgpkg import errors, sample
from pgpkg.ingest import ingest, iter_json_array

NOW = datetime.now(UTC)


def write_ndjson(path: Path, events: list) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


def count(conn, table: str = "analytics.events") -> int:
    return conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]


def test_ndjson_with_good_and_bad_lines(dsn, conn, tmp_path):
    events = list(sample.events(250, seed=3))
    lines = [json.dumps(e) for e in events]
    lines.insert(10, "{not json")
    lines.insert(20, json.dumps({"session_id": "", "event_type": "click"}))
    lines.insert(30, "")  # blank lines are skipped, not events
    lines.insert(40, '{"session_id": "nul\x00byte", "event_type": "click"}')
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    summary = ingest(path, dsn, batch_size=64)

    assert (summary.events, summary.accepted, summary.rejected) == (253, 250, 3)
    assert count(conn) == 250
    by_line = {s["line"]: s["code"] for s in summary.rejected_samples}
    assert by_line == {11: "invalid_json", 21: "missing_session_id", 41: "nul_character"}
    assert count(conn, "analytics.rejected_events") == 3
    source = conn.execute("SELECT DISTINCT source FROM analytics.rejected_events").fetchone()["source"]
    assert source == "ingest:events.ndjson"


def test_reingesting_the_same_file_stores_nothing_twice(dsn, conn, tmp_path):
    path = write_ndjson(tmp_path / "e.ndjson", list(sample.events(100, seed=4)))
    assert ingest(path, dsn).accepted == 100
    again = ingest(path, dsn)
    assert (again.accepted, again.duplicates) == (0, 100)
    assert count(conn) == 100


def test_json_array_file(dsn, conn, tmp_path):
    events = list(sample.events(120, seed=5))
    path = tmp_path / "events.json"
    path.write_text(json.dumps(events, indent=1), encoding="utf-8")
    summary = ingest(path, dsn, batch_size=50)
    assert (summary.format, summary.accepted) == ("json", 120)
    stored = conn.execute("SELECT event_id::text AS id FROM analytics.events").fetchall()
    assert {r["id"] for r in stored} == {e["event_id"] for e in events}


def test_json_array_elements_spanning_read_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr("pgpkg.ingest._READ_SIZE", 7)
    path = tmp_path / "a.json"
    path.write_text(' [ {"a": "x,]y"} , 12345 ,\n{"b": [1, 2]} ] ', encoding="utf-8")
    with path.open(encoding="utf-8") as f:
        assert [doc for _, doc in iter_json_array(f)] == ['{"a": "x,]y"}', "12345", '{"b": [1, 2]}']


@pytest.mark.parametrize("text", ['{"a": 1}', "[1, 2", "[1 2]"])
def test_malformed_json_array_file_is_a_clear_error(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(errors.InvalidArgument), path.open(encoding="utf-8") as f:
        list(iter_json_array(f))


def test_csv_file(dsn, conn, tmp_path):
    path = tmp_path / "events.csv"
    at = (NOW - timedelta(hours=1)).isoformat()
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["session_id", "event_type", "name", "occurred_at", "value", "properties", "campaign"])
        writer.writerow(["s1", "pageview", "/", at, "", '{"plan": "pro"}', "spring"])
        writer.writerow(["s1", "tool_used", "FAAB", at, "12.5", "", ""])
        writer.writerow(["", "click", "x", at, "", "", ""])
        writer.writerow(["s2", "click", "x", at, "abc", "", ""])
    summary = ingest(path, dsn)
    assert (summary.accepted, summary.rejected) == (2, 2)
    assert sorted(s["code"] for s in summary.rejected_samples) == ["invalid_value", "missing_session_id"]
    rows = conn.execute("SELECT name, value, properties FROM analytics.events ORDER BY name").fetchall()
    assert rows == [
        {"name": "/", "value": None, "properties": {"plan": "pro", "campaign": "spring"}},
        {"name": "FAAB", "value": 12.5, "properties": {}},
    ]


def test_old_events_are_moved_to_their_own_partition(dsn, conn, tmp_path):
    day = (NOW - timedelta(days=60)).date()
    events = [{"session_id": "old", "event_type": "click", "occurred_at": f"{day}T12:00:00Z"}]
    summary = ingest(write_ndjson(tmp_path / "old.ndjson", events), dsn)
    assert summary.default_partition["moved_rows"] == 1
    assert count(conn, "analytics.events_default") == 0
    assert count(conn, f"analytics.events_p{day:%Y%m%d}") == 1


def _peak_python_memory(dsn: str, path: Path) -> int:
    tracemalloc.start()
    try:
        ingest(path, dsn, batch_size=2000)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_file(dsn, tmp_path):
    small = write_ndjson(tmp_path / "small.ndjson", list(sample.events(4_000, seed=8)))
    large = write_ndjson(tmp_path / "large.ndjson", list(sample.events(40_000, seed=9)))
    assert large.stat().st_size > 9 * small.stat().st_size
    peak_small = _peak_python_memory(dsn, small)
    peak_large = _peak_python_memory(dsn, large)
    assert peak_large < 1.5 * peak_small + 1_000_000, (peak_small, peak_large)
    assert peak_large < 30_000_000


def test_cli_ingest_prints_a_summary(dsn, conn, tmp_path):
    path = write_ndjson(tmp_path / "cli.ndjson", list(sample.events(30, seed=10)))
    result = subprocess.run(
        [sys.executable, "-m", "pgpkg.cli", "--dsn", dsn, "ingest", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["accepted"] == 30 and summary["rejected"] == 0 and summary["events_per_second"] > 0
    assert count(conn) == 30


def test_unknown_extension_needs_a_format(dsn, tmp_path):
    path = tmp_path / "events.txt"
    path.write_text("{}\n", encoding="utf-8")
    with pytest.raises(errors.InvalidArgument):
        ingest(path, dsn)
    assert ingest(path, dsn, fmt="ndjson").rejected == 1
