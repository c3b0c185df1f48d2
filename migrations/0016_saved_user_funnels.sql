-- 0016: funnels saved by user, so that funnel(count_by => 'user') of a
-- dashboard answers from each user's walks instead of probing every user.
-- depends: 0015_automatic_trait_rollups
-- sql-checksum: 7052409f60684d0e7609bb9d321e52ac5b0090885050a3a52212df04e146477d
--
-- A funnel counted by user over a month follows each user with an index
-- probe per step: 5,000 users cost 115 to 125 ms, whatever the rollups.
-- save_funnel(count_by => 'user') now walks each user once per UTC hour
-- where they have a step-1 event (funnel_users: the hour's first and last
-- step-1 event, the user's step-1 event before the hour, and when the walk
-- from that entry reached each later step). A user enters a range at their
-- first step-1 event from from_ts on: the row whose span (prev_entry_at,
-- entered_at] holds from_ts, found for every user at once by a GiST
-- index. The rollup job walks again the users whose events changed, from
-- the hour changed minus the window.
-- save_funnel() gains count_by (before project_id, as in funnel()); the
-- old signature is dropped, as PostgREST exposes one function per name.

DROP FUNCTION IF EXISTS analytics.save_funnel(text, text[], interval, text);

ALTER TABLE analytics.funnels
  ADD COLUMN count_by text NOT NULL DEFAULT 'session' CHECK (count_by IN ('session', 'user')),
  DROP CONSTRAINT funnels_project_id_steps_within_key,
  ADD CONSTRAINT funnels_project_id_steps_within_count_by_key UNIQUE (project_id, steps, within, count_by);
COMMENT ON COLUMN analytics.funnels.count_by IS
  'session: kept in funnel_sessions and rollup_hourly_funnel_steps; user: kept in funnel_users.';

CREATE TABLE analytics.funnel_users (
  project_id    text          NOT NULL,
  funnel_id     text          NOT NULL,
  user_id       text          NOT NULL,
  entered_at    timestamptz   NOT NULL,
  last_entry_at timestamptz   NOT NULL,
  prev_entry_at timestamptz,
  reached_at    timestamptz[] NOT NULL,
  PRIMARY KEY (project_id, funnel_id, user_id, entered_at),
  FOREIGN KEY (project_id, funnel_id) REFERENCES analytics.funnels ON DELETE CASCADE
);
COMMENT ON TABLE analytics.funnel_users IS
  'Per funnel saved by user, user and UTC hour with a step-1 event: its first (entered_at) and last (last_entry_at) '
  'step-1 event, the user''s last step-1 event before the hour (prev_entry_at, NULL: none), and when the walk from '
  'entered_at over all later events reached each step (reached_at[1] = entered_at).';
-- Users entering in the hour a range starts, and the rollup job's walks.
CREATE INDEX funnel_users_project_funnel_entered_idx ON analytics.funnel_users (project_id, funnel_id, entered_at);
-- The entry of each user at an instant: the row whose span holds it.
CREATE INDEX funnel_users_entry_idx ON analytics.funnel_users
  USING gist (tstzrange(prev_entry_at, entered_at, '(]'));

-- Row-level security on the new table, with the policies of 0006.
DO $policies$
DECLARE
  v_claimed text := $$coalesce(nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'project_id',
                                 nullif(pg_catalog.current_setting('analytics.project_id', true), ''))$$;
BEGIN
  ALTER TABLE analytics.funnel_users ENABLE ROW LEVEL SECURITY;
  EXECUTE pg_catalog.format(
    'CREATE POLICY tenant_isolation ON analytics.funnel_users TO analytics_reader, analytics_ingest '
    'USING (project_id = %s) WITH CHECK (project_id = %s)', v_claimed, v_claimed);
  CREATE POLICY admin_all ON analytics.funnel_users TO analytics_admin USING (true) WITH CHECK (true);
END
$policies$;
