-- 0013: sessions rolled up by UTC hour of their start, path and duration
-- class, so that funnel() counts a month of sessions nobody saved from a few
-- thousand rows instead of one row per session.
-- depends: 0012_user_funnel_index
-- sql-checksum: 9b16203d450eb44fed37db51b61618fd63f18f060754fcbff8cee65df7639ecf
--
-- funnel() from session paths (0011) scans every session of its range: one
-- row each, 490k for a month of 10M events, about 270 ms. Sessions of one
-- hour with the same path add up: rollup_hourly_paths keeps, per project,
-- UTC hour of the first event, path and duration class
-- (_session_duration_bound: the smallest of a few fixed bounds at least the
-- duration), the sessions. A row counts for a funnel when its path matches
-- and its class is within the window; an hour with a row that is not (a
-- NULL path, a class beyond the window) is read session by session as
-- before, and so are the partial hours at the range's ends. The rollup job
-- keeps it with the other visit rollups, from analytics.sessions, for every
-- hour where a touched session starts or started.
-- It has a row per distinct (hour, path, class): few where sessions repeat
-- their paths (landing-page bounces), up to one per session where none do.
-- The functions it re-applies also trim event keys in cleanup(), and read
-- timestamps at ingest with DateStyle 'ISO, MDY', whatever the caller's.

CREATE TABLE analytics.rollup_hourly_paths (
  project_id     text        NOT NULL,
  bucket         timestamptz NOT NULL,
  path           text,
  duration_bound interval,
  sessions       bigint      NOT NULL,
  CONSTRAINT rollup_hourly_paths_key UNIQUE NULLS NOT DISTINCT (project_id, bucket, path, duration_bound)
);
COMMENT ON TABLE analytics.rollup_hourly_paths IS
  'Sessions by UTC hour of their first event (bucket), path (sessions.path; NULL: none) and duration class '
  '(duration_bound, _session_duration_bound(); NULL: over 90 days).';

-- Backfill from the sessions kept. (The expression is
-- analytics._session_duration_bound's, which sql/functions creates after
-- this step.)
INSERT INTO analytics.rollup_hourly_paths (project_id, bucket, path, duration_bound, sessions)
SELECT s.project_id, pg_catalog.date_trunc('hour', s.first_seen, 'UTC'), s.path,
       (SELECT pg_catalog.min(b)
          FROM unnest('{0, 1 min, 5 min, 10 min, 15 min, 30 min, 1 hour, 2 hours, 6 hours, 12 hours,
                        24 hours, 48 hours, 168 hours, 720 hours, 2160 hours}'::interval[]) AS b
         WHERE b >= s.last_seen - s.first_seen),
       pg_catalog.count(*)
  FROM analytics.sessions s
 GROUP BY 1, 2, 3, 4;

-- Row-level security on the new table, with the policies of 0006.
DO $policies$
DECLARE
  v_claimed text := $$coalesce(nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'project_id',
                                 nullif(pg_catalog.current_setting('analytics.project_id', true), ''))$$;
BEGIN
  ALTER TABLE analytics.rollup_hourly_paths ENABLE ROW LEVEL SECURITY;
  EXECUTE pg_catalog.format(
    'CREATE POLICY tenant_isolation ON analytics.rollup_hourly_paths TO analytics_reader, analytics_ingest '
    'USING (project_id = %s) WITH CHECK (project_id = %s)', v_claimed, v_claimed);
  CREATE POLICY admin_all ON analytics.rollup_hourly_paths TO analytics_admin USING (true) WITH CHECK (true);
END
$policies$;
