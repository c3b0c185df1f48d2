"""Concurrent batches from two connections lose nothing and duplicate nothing."""

from __future__ import annotations

import random
import threading
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.conftest import track_events


def test_two_connections_sending_overlapping_batches(dsn, conn):
    """Both connections send the same 600 events, in different orders and batch cuts (the
    retry storm of a client that timed out): each event is stored once, no deadlock."""
    now = datetime.now(UTC)
    events = [
        {
            "session_id": f"s{i % 37}",
            "event_type": "click",
            "event_id": str(uuid.uuid4()),
            "occurred_at": (now - timedelta(seconds=i)).isoformat(),
        }
        for i in range(600)
    ]
    results: list[dict] = []
    errors: list[BaseException] = []

    def send(seed: int) -> None:
        rng = random.Random(seed)
        mine = events[:]
        rng.shuffle(mine)
        try:
            with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as c:
                position = 0
                while position < len(mine):
                    size = rng.randint(20, 120)
                    results.append(track_events(c, mine[position : position + size]))
                    position += size
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=send, args=(seed,)) for seed in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(r["accepted"] for r in results) == 600
    assert sum(r["duplicates"] for r in results) == 600
    assert all(r["rejected"] == [] for r in results)
    row = conn.execute("SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM analytics.events").fetchone()
    assert row == {"n": 600, "d": 600}


def test_saving_a_funnel_or_a_trait_rollup_waits_for_a_running_refresh(dsn, conn):
    """save_funnel(), drop_funnel(), save_trait_rollup() and drop_trait_rollup() take the rollup job's lock:
    they never fill a rollup while a refresh is rewriting it, nor delete a funnel under it."""
    now = datetime.now(UTC)
    track_events(conn, [{"session_id": "s1", "event_type": "signup", "occurred_at": now.isoformat()}])
    calls = [
        "SELECT analytics.save_funnel('signup', ARRAY['signup'], project_id => 'default')",
        "SELECT analytics.drop_funnel('signup', project_id => 'default')",
        "SELECT analytics.save_trait_rollup('plan', project_id => 'default')",
        "SELECT analytics.drop_trait_rollup('plan', project_id => 'default')",
    ]
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as refreshing:
        with refreshing.transaction():
            refreshing.execute("SELECT analytics.refresh_rollups()")
            for statement in calls:
                with pytest.raises(psycopg.errors.LockNotAvailable), conn.transaction():
                    conn.execute("SET LOCAL lock_timeout = '100ms'")
                    conn.execute(statement)
        for statement in calls:  # the refresh committed: each goes through
            conn.execute(statement)
