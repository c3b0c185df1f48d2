"""`pgpkg bench` runs end to end at a small scale. It measures speed; these tests check only that
each figure is produced, in a scratch database that is dropped afterwards."""

from __future__ import annotations

from pgpkg import bench


def _databases(conn) -> set[str]:
    return {r["datname"] for r in conn.execute("SELECT datname FROM pg_database").fetchall()}


def test_read_latency_covers_every_read_function(conn, dsn):
    before = _databases(conn)
    report = bench.run_reads(dsn, events=6_000, days=2, repeats=1)
    assert [r["call"] for r in report["reads"]] == [label for label, _ in bench.READ_CALLS]
    assert all(r["median_ms"] > 0 for r in report["reads"])
    funnels = [r for r in report["reads"] if r["call"].startswith("funnel(")]
    assert funnels and all(
        r["source"] in ("saved_funnel", "session_paths", "user_steps", "raw_events") for r in funnels
    )
    # Sessions of 20 events, numbered from g / 20 for g = 1..n: n // 20 + 1 per day, and as many live.
    assert report["sessions"] == 2 * (3_000 // 20 + 1) + (125 // 20 + 1)
    saved = {r["call"]: r["source"] for r in report["reads"] if r["call"].endswith(", saved")}
    assert len(saved) == 4 and set(saved.values()) == {"saved_funnel"}
    assert report["save_user_funnel_entries"] > 0
    assert 0 < report["distinct_paths"] <= report["path_rollup_rows"] <= report["sessions"]
    called = {label.split("(")[0] for label, _ in bench.READ_CALLS}
    granted = {
        r["proname"]
        for r in conn.execute(
            "SELECT proname FROM pg_proc WHERE pronamespace = 'analytics'::regnamespace"
            " AND has_function_privilege('analytics_reader', oid, 'EXECUTE')"
        ).fetchall()
    }
    assert called == granted
    assert _databases(conn) == before


def test_rollup_figures(dsn):
    report = bench.run_rollups(dsn, events=6_000, days=2, day_events=2_000, new_events=1_000)
    assert report["initial_refresh_rollups_buckets"] > 0
    assert report["cleanup_dropped"]
    # The refresh after saving a funnel per project walked the new events' sessions through them.
    assert report["refresh_rollups_after_new_events_with_saved_funnels_funnel_sessions"] > 0
    # And the refresh after saving one by user walked the new events' users again.
    assert report["refresh_rollups_after_new_events_with_saved_user_funnels_funnel_users"] > 0
