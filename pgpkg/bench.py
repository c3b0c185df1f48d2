"""`pgpkg bench`: ingest rates measured against baselines taken in the same run.

Runs in a scratch database created next to the target one (and dropped at
the end), so a production database is never written to. The same generated
events go through each path into the same empty table; each rate is reported
with its ratio to a plain COPY of those rows into analytics.events, the
ceiling of any ingest path. Machines are noisy: compare ratios within one
run, not absolute figures across runs.
"""

from __future__ import annotations

import csv
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgpkg import db, sample
from pgpkg.install import install

COLUMNS = [
    "project_id",
    "event_id",
    "occurred_at",
    "session_id",
    "user_id",
    "event_type",
    "name",
    "experiment_id",
    "variant_key",
    "value",
    "properties",
]


def _scratch_database(dsn: str) -> tuple[str, Callable[[], None]]:
    params = conninfo_to_dict(dsn)
    name = f"pgpkg_bench_{os.getpid()}"
    admin = make_conninfo(dsn, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    params["dbname"] = name
    return make_conninfo("", **{k: v for k, v in params.items() if v is not None}), drop


def _write_files(directory: Path, events: int) -> tuple[Path, Path]:
    """The same events as NDJSON (for the RPC and file paths) and as CSV (for COPY)."""
    ndjson, copy_csv = directory / "events.ndjson", directory / "events.csv"
    with ndjson.open("w", encoding="utf-8") as nd, copy_csv.open("w", newline="", encoding="utf-8") as cf:
        writer = csv.writer(cf)
        for event in sample.events(events, days=1, projects=10, seed=1):
            nd.write(json.dumps(event) + "\n")
            writer.writerow(
                [
                    "" if event.get(c) is None else (json.dumps(event[c]) if c == "properties" else event[c])
                    for c in COLUMNS
                ]
            )
    return ndjson, copy_csv


def _reset(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE analytics.events, analytics.dirty_buckets, analytics.rejected_events")
        conn.execute("CHECKPOINT")


def _count(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM analytics.events").fetchone()
        return int(row[0]) if row else 0


def _timed(label: str, dsn: str, events: int, run: Callable[[], None]) -> dict[str, Any]:
    _reset(dsn)
    started = time.perf_counter()
    run()
    seconds = time.perf_counter() - started
    stored = _count(dsn)
    return {
        "path": label,
        "events": events,
        "stored": stored,
        "seconds": round(seconds, 2),
        "events_per_second": round(stored / seconds),
    }


def _copy(dsn: str, copy_csv: Path) -> None:
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        statement = f"COPY analytics.events ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT csv)"
        with cur.copy(statement) as copy, copy_csv.open("rb") as f:
            while block := f.read(1 << 20):
                copy.write(block)


def _batches(ndjson: Path, size: int, part: int = 0, parts: int = 1) -> Iterator[str]:
    batch: list[str] = []
    with ndjson.open(encoding="utf-8") as f:
        for number, line in enumerate(f):
            if number % parts != part:
                continue
            batch.append(line.strip())
            if len(batch) == size:
                yield "[" + ",".join(batch) + "]"
                batch = []
    if batch:
        yield "[" + ",".join(batch) + "]"


def _track_events(dsn: str, ndjson: Path, size: int, connections: int) -> None:
    def worker(part: int) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            for body in _batches(ndjson, size, part, connections):
                conn.execute("SELECT analytics.track_events(%s::json)", (body,))

    threads = [threading.Thread(target=worker, args=(part,)) for part in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _ingest_cli(dsn: str, ndjson: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pgpkg.cli", "--dsn", dsn, "ingest", str(ndjson)], check=True, capture_output=True
    )


def _single_inserts(dsn: str, ndjson: Path, limit: int) -> None:
    """The seeds' way: one INSERT per event, autocommit (seed 000 prisma create, seed 003 createEvent)."""
    with psycopg.connect(dsn, autocommit=True) as conn, ndjson.open(encoding="utf-8") as f:
        statement = (
            f"INSERT INTO analytics.events ({', '.join(COLUMNS)}) "
            "SELECT "
            + ", ".join(f"e.{c}" for c in COLUMNS)
            + " FROM jsonb_populate_record(null::analytics.events, %s::jsonb) e"
        )
        for number, line in enumerate(f):
            if number >= limit:
                break
            conn.execute(statement, (line,), prepare=True)


def run(dsn: str | None = None, events: int = 200_000, batch_size: int = 1000) -> dict[str, Any]:
    target = db.resolve_dsn(dsn)
    scratch, drop = _scratch_database(target)
    try:
        install(scratch)
        today = datetime.now(UTC).date()
        with psycopg.connect(scratch, autocommit=True) as conn:
            conn.execute("SELECT analytics.create_partitions(%s, %s)", (today - timedelta(days=2), today))
            server = conn.execute("SHOW server_version").fetchone()
        with tempfile.TemporaryDirectory(prefix="pgpkg-bench-") as tmp:
            ndjson, copy_csv = _write_files(Path(tmp), events)
            naive = min(events, 20_000)
            results = [
                _timed("COPY into analytics.events (baseline)", scratch, events, lambda: _copy(scratch, copy_csv)),
                _timed(
                    f"track_events, batches of {batch_size}, 1 connection",
                    scratch,
                    events,
                    lambda: _track_events(scratch, ndjson, batch_size, 1),
                ),
                _timed(
                    f"track_events, batches of {batch_size}, 2 connections",
                    scratch,
                    events,
                    lambda: _track_events(scratch, ndjson, batch_size, 2),
                ),
                _timed("pgpkg ingest FILE (NDJSON)", scratch, events, lambda: _ingest_cli(scratch, ndjson)),
                _timed(
                    "one INSERT per event, autocommit (the seeds' way)",
                    scratch,
                    naive,
                    lambda: _single_inserts(scratch, ndjson, naive),
                ),
            ]
            ingest_peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            file_mb = ndjson.stat().st_size / 1e6
        baseline = results[0]["events_per_second"]
        for result in results:
            result["ratio_to_copy"] = round(result["events_per_second"] / baseline, 2)
        return {
            "server_version": server[0] if server else None,
            "events": events,
            "ndjson_mb": round(file_mb, 1),
            "pgpkg_ingest_peak_rss_mb": round(ingest_peak_mb, 1),
            "results": results,
            "note": "Same rows, same empty table for each path; compare ratios within a run.",
        }
    finally:
        drop()


def format_table(report: dict[str, Any]) -> str:
    out = io.StringIO()
    out.write(f"{'path':58} {'events/s':>10} {'x COPY':>7}\n")
    for r in report["results"]:
        out.write(f"{r['path']:58} {r['events_per_second']:>10,} {r['ratio_to_copy']:>7}\n")
    return out.getvalue()
