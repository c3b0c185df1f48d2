"""`pgpkg demo`: install, send a day of sample events through track_events(), show what landed:
the raw events by type, the rejections with their reasons, the hourly rollups, and health."""

from __future__ import annotations

import json
from typing import Any

from pgpkg import db, sample
from pgpkg.install import install
from pgpkg.maintenance import refresh


def run(dsn: str | None = None, events: int = 2000) -> dict[str, Any]:
    dsn = db.resolve_dsn(dsn)
    install(dsn)
    batch = list(sample.events(events, days=1, seed=7))
    # Two bad events, to show that they are rejected one by one, with reasons.
    batch.append({"session_id": "", "event_type": "pageview"})
    batch.append({"session_id": "s-bad", "event_type": "not a valid type!"})
    with db.connect(dsn) as conn:
        result = db.call(conn, "SELECT analytics.track_events(%s::json) AS result", (json.dumps(batch),))
        landed = conn.execute("""
            SELECT event_type, count(*) AS events, count(DISTINCT session_id) AS sessions
              FROM analytics.events GROUP BY event_type ORDER BY events DESC""").fetchall()
        rejected = conn.execute("""
            SELECT code, count(*) AS events FROM analytics.rejected_events GROUP BY code ORDER BY code""").fetchall()
    # What pg_cron does every hour: yesterday's sample events waited in the default partition.
    db.call(dsn, "SELECT analytics.maintain_partitions() AS result")
    refresh(dsn)  # what pg_cron does every minute
    last_hours = db.call(dsn, "SELECT analytics.hourly_rollups(hours => 3, breakdown_by => 'risk_mode') AS result")
    return {
        "dsn": dsn,
        "track_events": {
            "accepted": result["accepted"],
            "duplicates": result["duplicates"],
            "rejected": result["rejected"],
        },
        "events_by_type": landed,
        "rejected_by_code": rejected,
        "hourly_rollups_last_3_hours": last_hours,
        "health": db.call(dsn, "SELECT analytics.health() AS result"),
    }
