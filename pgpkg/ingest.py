"""`pgpkg ingest FILE`: stream events from NDJSON, a JSON array or CSV into analytics.events.

Constant memory: the file is read in batches; each batch is copied with COPY
into a temporary staging table and handed to analytics.ingest_documents(),
the same SQL validation as track_events(), in one transaction per batch.
Rejected events land in analytics.rejected_events with their reason; the
summary reports them by line (NDJSON, CSV) or element number (JSON array).
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import psycopg

from pgpkg import db, errors

FORMATS = ("ndjson", "json", "csv")
# The keys of an event document, in the column order of analytics.events.
EVENT_KEYS = (
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
)
KNOWN_KEYS = frozenset(EVENT_KEYS)
_READ_SIZE = 1 << 20


@dataclass
class IngestSummary:
    file: str
    format: str
    events: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    seconds: float = 0.0
    rejected_samples: list[dict[str, Any]] = field(default_factory=list)
    default_partition: dict[str, Any] | None = None

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "events_per_second": round(self.events_per_second)}


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".ndjson", ".jsonl"):
        return "ndjson"
    if suffix == ".csv":
        return "csv"
    if suffix == ".json":
        with path.open("rb") as f:
            head = f.read(4096).lstrip()
        return "json" if head.startswith(b"[") else "ndjson"
    raise errors.InvalidArgument(f"cannot tell the format of {path.name}", hint="Use --format ndjson|json|csv.")


def _clean(text: str) -> str:
    # COPY cannot carry a NUL character; escape it so that the SQL rejects the
    # event with its reason (nul_character) instead of failing the batch.
    return text.replace("\x00", "\\u0000") if "\x00" in text else text


def iter_ndjson(stream: TextIO) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(stream, start=1):
        line = line.strip()
        if line:
            yield number, _clean(line)


def iter_json_array(stream: TextIO) -> Iterator[tuple[int, str]]:
    """Elements of a top-level JSON array, one at a time, without loading the file."""
    decoder = json.JSONDecoder()
    buffer, position, eof = "", 0, False

    def fill() -> bool:
        nonlocal buffer, position, eof
        chunk = stream.read(_READ_SIZE)
        eof = chunk == ""
        buffer, position = buffer[position:] + chunk, 0
        return not eof

    def skip_blanks() -> None:
        nonlocal position
        while True:
            while position < len(buffer) and buffer[position] in " \t\r\n":
                position += 1
            if position < len(buffer) or not fill():
                return

    skip_blanks()
    if position >= len(buffer) or buffer[position] != "[":
        raise errors.InvalidArgument(
            "JSON array expected: the file does not start with '['", hint="Use --format ndjson for one event per line."
        )
    position += 1
    number = 0
    while True:
        skip_blanks()
        if position >= len(buffer):
            raise errors.InvalidArgument("the JSON array is not closed with ']'")
        if buffer[position] == "]":
            return
        if number > 0:
            if buffer[position] != ",":
                raise errors.InvalidArgument(f"malformed JSON array: ',' expected after element {number}")
            position += 1
            skip_blanks()
        while True:
            try:
                element, end = decoder.raw_decode(buffer, position)
                # A number at the end of the buffer may continue in the next chunk.
                if end < len(buffer) or not fill():
                    break
            except json.JSONDecodeError as error:
                if not fill():
                    raise errors.InvalidArgument(
                        f"malformed JSON array at element {number + 1}: {error.msg}"
                    ) from error
        number += 1
        position = end
        yield number, _clean(json.dumps(element, ensure_ascii=False))


def iter_csv(stream: TextIO) -> Iterator[tuple[int, str]]:
    """Rows of a CSV file with a header: columns named like event keys map to them,
    a `properties` column holds JSON, and any other column becomes a property."""
    reader = csv.DictReader(stream)
    for row in reader:
        event: dict[str, Any] = {}
        properties: dict[str, Any] = {}
        for key, raw in row.items():
            if key is None or raw is None or raw == "":
                continue
            if key == "properties":
                try:
                    event["properties"] = json.loads(raw)
                except json.JSONDecodeError:
                    event["properties"] = raw  # rejected by the SQL as invalid_properties
            elif key == "value":
                try:
                    event["value"] = float(raw)
                except ValueError:
                    event["value"] = raw  # rejected by the SQL as invalid_value
            elif key in KNOWN_KEYS:
                event[key] = raw
            else:
                properties[key] = raw
        if properties:
            base = event.get("properties")
            event["properties"] = {**base, **properties} if isinstance(base, dict) else properties
        yield reader.line_num, _clean(json.dumps(event, ensure_ascii=False))


_READERS: dict[str, Callable[[TextIO], Iterator[tuple[int, str]]]] = {
    "ndjson": iter_ndjson,
    "json": iter_json_array,
    "csv": iter_csv,
}


def _batches(items: Iterator[tuple[int, str]], size: int) -> Iterator[list[tuple[int, str]]]:
    batch: list[tuple[int, str]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def ingest(
    path: str | Path,
    dsn: str | None = None,
    *,
    fmt: str | None = None,
    batch_size: int = 5000,
    source: str | None = None,
    drain_default: bool = True,
    progress: Callable[[int, int, IngestSummary], None] | None = None,
) -> IngestSummary:
    """Stream a file of events into analytics.events; return what happened to them.

    progress(bytes_read, bytes_total, summary) is called after every batch.
    """
    path = Path(path)
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise errors.InvalidArgument(f"unknown format {fmt!r}", hint="Use ndjson, json or csv.")
    dsn = db.resolve_dsn(dsn)
    summary = IngestSummary(file=str(path), format=fmt)
    source = source or f"ingest:{path.name}"
    total = path.stat().st_size
    started = time.perf_counter()
    with db.connect(dsn) as conn, path.open("r", encoding="utf-8", newline="" if fmt == "csv" else None) as f:
        conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS pgpkg_ingest_staging "
            "(line_no bigint NOT NULL, document text NOT NULL) ON COMMIT DELETE ROWS"
        )
        conn.commit()
        for batch in _batches(_READERS[fmt](f), batch_size):
            result = _ingest_batch(conn, batch, source)
            summary.events += len(batch)
            summary.accepted += result["accepted"]
            summary.duplicates += result["duplicates"]
            summary.rejected += len(result["rejected"])
            for rejection in result["rejected"]:
                if len(summary.rejected_samples) < 20:
                    summary.rejected_samples.append(
                        {"line": batch[rejection["index"]][0], "code": rejection["code"], "reason": rejection["reason"]}
                    )
            if progress:
                summary.seconds = time.perf_counter() - started
                progress(f.buffer.tell() if hasattr(f, "buffer") else 0, total, summary)
        if drain_default:
            summary.default_partition = _drain_default_partition(conn)
    summary.seconds = time.perf_counter() - started
    return summary


def _ingest_batch(conn: psycopg.Connection[Any], batch: list[tuple[int, str]], source: str) -> dict[str, Any]:
    try:
        with conn.cursor() as cur, cur.copy("COPY pg_temp.pgpkg_ingest_staging (line_no, document) FROM STDIN") as copy:
            for number, document in batch:
                copy.write_row((number, document))
        result = db.call(
            conn,
            "SELECT analytics.ingest_documents(array_agg(document ORDER BY line_no), %s) AS result "
            "FROM pg_temp.pgpkg_ingest_staging",
            (source,),
        )
        conn.commit()
        return result
    except BaseException:
        conn.rollback()
        raise


def _drain_default_partition(conn: psycopg.Connection[Any]) -> dict[str, Any] | None:
    """Move rows of days without a partition (old events) into their own partitions,
    when the caller may (analytics_admin); otherwise the hourly job will."""
    try:
        result = db.call(conn, "SELECT analytics.maintain_partitions() AS result")
        conn.commit()
        return result
    except errors.Forbidden:
        conn.rollback()
        return None


def print_progress(done: int, total: int, summary: IngestSummary) -> None:
    """A one-line progress bar on stderr (only on a terminal)."""
    if not sys.stderr.isatty():
        return
    width = 30
    fraction = min(done / total, 1.0) if total else 1.0
    bar = "#" * int(fraction * width)
    sys.stderr.write(
        f"\r[{bar:<{width}}] {fraction:6.1%}  {summary.events:,} events  "
        f"{summary.events_per_second:,.0f}/s  {summary.rejected:,} rejected"
    )
    sys.stderr.flush()
