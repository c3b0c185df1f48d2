-- 0009: saved funnels, kept current by the rollup job, so that funnel()
-- answers a saved funnel from an hourly rollup instead of raw events.
-- depends: 0008_visit_rollups
-- sql-checksum: cfbde4e748867d0843d3c4e1adde30fba39ec42b776c47af3eb5231a5ccc9ba5
--
-- A funnel over raw events must read every step event of its range (3.75M
-- for a month of 10M events). An admin saves the funnels a dashboard shows
-- (save_funnel(), as Plausible asks for its funnels); from then on the
-- rollup job walks each touched session through them (funnel_sessions: when
-- the session entered, when it reached each step), and keeps, per hour of
-- entry, step and hour that step was reached, the sessions
-- (rollup_hourly_funnel_steps). funnel() with the same steps and window
-- adds up whole hours from the rollup and reads sessions one by one only
-- where the range's ends fall inside an hour, so its answer stays exact.

CREATE TABLE analytics.funnels (
  project_id text        NOT NULL,
  funnel_id  text        NOT NULL CHECK (funnel_id ~ '^[a-z0-9][a-z0-9_.:-]{0,63}$'),
  steps      text[]      NOT NULL,
  within     interval    NOT NULL,
  saved_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
  PRIMARY KEY (project_id, funnel_id),
  UNIQUE (project_id, steps, within)
);
COMMENT ON TABLE analytics.funnels IS
  'Saved funnels (save_funnel()): funnel() answers these steps and window from analytics.rollup_hourly_funnel_steps.';

CREATE TABLE analytics.funnel_sessions (
  project_id    text          NOT NULL,
  funnel_id     text          NOT NULL,
  session_id    text          NOT NULL,
  entered_at    timestamptz   NOT NULL,
  last_entry_at timestamptz   NOT NULL,
  reached_at    timestamptz[] NOT NULL,
  last_at       timestamptz   GENERATED ALWAYS AS (greatest(last_entry_at, reached_at[pg_catalog.cardinality(reached_at)])) STORED,
  PRIMARY KEY (project_id, funnel_id, session_id),
  FOREIGN KEY (project_id, funnel_id) REFERENCES analytics.funnels ON DELETE CASCADE
);
COMMENT ON TABLE analytics.funnel_sessions IS
  'Each session''s walk through a saved funnel over all its events: entered_at (first step-1 event), last_entry_at (last step-1 event), reached_at[k] (when step k was reached).';
-- Sessions entering in a partial hour at a range's ends.
CREATE INDEX funnel_sessions_project_funnel_entered_idx ON analytics.funnel_sessions (project_id, funnel_id, entered_at);
-- Sessions open at an instant: entered before it, and a later step-1 event
-- or step at or after it. funnel() reads these at a range's start (they
-- may enter again inside the range) and at the start of its last, partial
-- hour (they may reach a step inside it).
CREATE INDEX funnel_sessions_open_idx ON analytics.funnel_sessions
  USING gist (tstzrange(entered_at, last_at, '(]')) WHERE last_at > entered_at;

CREATE TABLE analytics.rollup_hourly_funnel_steps (
  project_id     text        NOT NULL,
  funnel_id      text        NOT NULL,
  bucket         timestamptz NOT NULL,
  step           integer     NOT NULL,
  reached_bucket timestamptz NOT NULL,
  sessions       bigint      NOT NULL,
  PRIMARY KEY (project_id, funnel_id, bucket, step, reached_bucket),
  FOREIGN KEY (project_id, funnel_id) REFERENCES analytics.funnels ON DELETE CASCADE
);
COMMENT ON TABLE analytics.rollup_hourly_funnel_steps IS
  'Per saved funnel, UTC hour of entry (bucket), step and UTC hour the step was reached: the sessions.';

-- Row-level security on the new tables, with the policies of 0006.
DO $policies$
DECLARE
  v_table   text;
  v_claimed text := $$coalesce(nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'project_id',
                                 nullif(pg_catalog.current_setting('analytics.project_id', true), ''))$$;
BEGIN
  FOREACH v_table IN ARRAY ARRAY['funnels', 'funnel_sessions', 'rollup_hourly_funnel_steps']
  LOOP
    EXECUTE pg_catalog.format('ALTER TABLE analytics.%I ENABLE ROW LEVEL SECURITY', v_table);
    EXECUTE pg_catalog.format(
      'CREATE POLICY tenant_isolation ON analytics.%I TO analytics_reader, analytics_ingest '
      'USING (project_id = %s) WITH CHECK (project_id = %s)', v_table, v_claimed, v_claimed);
    EXECUTE pg_catalog.format('CREATE POLICY admin_all ON analytics.%I TO analytics_admin USING (true) WITH CHECK (true)',
                              v_table);
  END LOOP;
END
$policies$;
