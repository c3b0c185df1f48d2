-- 0011: session paths, so that funnel() answers funnels nobody saved from
-- analytics.sessions instead of walking raw events.
-- depends: 0010_trait_rollups
-- sql-checksum: 3b11b455f577973c5c1119c212908fd8459af027f1f783fb107730d2e6f0ed0d
--
-- A session's path is its events in time order, one character per event key
-- (analytics._event_key_char(event_type, name)), kept by the rollup job per
-- UTC hour (session_hours.path) and merged per session (sessions.path). A
-- session reaches step k of a funnel exactly when its path holds the steps'
-- characters in order: a LIKE '%a%b%c%' per session instead of a walk over
-- its events. The characters are a hash, so analytics.event_keys lists the
-- character of every key seen, and a step whose character another key
-- shares is walked over raw events as before. A path is NULL where two
-- events of the session share a timestamp (a later step must come strictly
-- after the one before it), or where the database is not UTF-8.
-- The functions it re-applies also run the rollup job's experiment merge
-- with jit = off.

CREATE TABLE analytics.event_keys (
  project_id text NOT NULL,
  event_type text NOT NULL,
  name       text,
  code       text NOT NULL,
  CONSTRAINT event_keys_key UNIQUE NULLS NOT DISTINCT (project_id, event_type, name)
);
CREATE INDEX event_keys_code_idx ON analytics.event_keys (project_id, code);
COMMENT ON TABLE analytics.event_keys IS
  'Every event key (type, name) the rollup job has seen per project, with its character in session paths.';

ALTER TABLE analytics.session_hours ADD COLUMN path text;
COMMENT ON COLUMN analytics.session_hours.path IS
  'The hour''s events of the session in time order, one character per key (_event_key_char); NULL on a tie.';
ALTER TABLE analytics.sessions ADD COLUMN path text;
COMMENT ON COLUMN analytics.sessions.path IS
  'session_hours.path of every hour of the session, in order; NULL when one of them is NULL.';
-- Sessions open at an instant: funnel() walks those that straddle its range.
CREATE INDEX sessions_open_idx ON analytics.sessions
  USING gist (pg_catalog.tstzrange(first_seen, last_seen, '[]')) WHERE last_seen > first_seen;

-- Backfill from the raw events kept. (The expression is
-- analytics._event_key_char's, which sql/functions creates after this step.)
UPDATE analytics.session_hours h SET path = x.path
  FROM (SELECT e.project_id, e.session_id, pg_catalog.date_trunc('hour', e.occurred_at, 'UTC') AS bucket,
               CASE WHEN pg_catalog.count(*) = pg_catalog.count(DISTINCT e.occurred_at) THEN
                 pg_catalog.string_agg(pg_catalog.chr((2048 + ((pg_catalog.hashtextextended(
                   e.event_type || coalesce('=' || e.name, ''), 0)
                   % 53248) + 53248) % 53248)::integer), '' ORDER BY e.occurred_at) END AS path
          FROM analytics.events e
         WHERE e.session_id IS NOT NULL AND pg_catalog.getdatabaseencoding() = 'UTF8'
         GROUP BY 1, 2, 3) x
 WHERE h.project_id = x.project_id AND h.session_id = x.session_id AND h.bucket = x.bucket;
UPDATE analytics.sessions s SET path = x.path
  FROM (SELECT h.project_id, h.session_id,
               CASE WHEN pg_catalog.bool_and(h.path IS NOT NULL)
                    THEN pg_catalog.string_agg(h.path, '' ORDER BY h.bucket) END AS path
          FROM analytics.session_hours h GROUP BY 1, 2) x
 WHERE s.project_id = x.project_id AND s.session_id = x.session_id AND x.path IS NOT NULL;
INSERT INTO analytics.event_keys (project_id, event_type, name, code)
SELECT DISTINCT r.project_id, r.event_type, r.name,
       pg_catalog.chr((2048 + ((pg_catalog.hashtextextended(
         r.event_type || coalesce('=' || r.name, ''), 0)
         % 53248) + 53248) % 53248)::integer)
  FROM analytics.rollup_hourly r
 WHERE pg_catalog.getdatabaseencoding() = 'UTF8';

-- Row-level security on the new table, with the policies of 0006.
DO $policies$
DECLARE
  v_claimed text := $$coalesce(nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'project_id',
                                 nullif(pg_catalog.current_setting('analytics.project_id', true), ''))$$;
BEGIN
  ALTER TABLE analytics.event_keys ENABLE ROW LEVEL SECURITY;
  EXECUTE pg_catalog.format(
    'CREATE POLICY tenant_isolation ON analytics.event_keys TO analytics_reader, analytics_ingest '
    'USING (project_id = %s) WITH CHECK (project_id = %s)', v_claimed, v_claimed);
  CREATE POLICY admin_all ON analytics.event_keys TO analytics_admin USING (true) WITH CHECK (true);
END
$policies$;
