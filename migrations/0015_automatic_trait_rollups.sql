-- 0015: the rollup job rolls up by itself every user trait with few values,
-- so that group_stats() answers from a few rows per day for a plan or a
-- country that nobody saved with save_trait_rollup().
-- depends: 0014_bounded_session_walks
-- sql-checksum: 286a5c1cfaffb482e40472d8ea4d5f36732b6273087ae62984f141056dc4afb7
--
-- group_stats() for a trait that is not rolled up joins every user-day of
-- its range to the users' traits: 59 ms for a month of 5,000 users, and it
-- grows with the user-days. The first time refresh_rollups() sees a trait
-- key set in a project (by identify()), it counts the key's values among
-- the project's users; with at most trait_rollup_max_values (1,000) it rolls
-- the trait up as save_trait_rollup() does (trait_rollups.automatic). Either
-- way the key is recorded in trait_keys and never counted again:
-- drop_trait_rollup() records it too, so that the job does not take back a
-- trait an admin dropped.
-- Traits set before this migration are found at the next refresh: every
-- user's rolled-up traits are cleared here, so that the job carries them
-- all over once (it recomputes each user's days in rollup_daily_groups,
-- with the same numbers for the trait "group").

INSERT INTO analytics.settings (key, value, description) VALUES
  ('trait_rollup_max_values', '1000',
   'A user trait key with at most this many values in a project when refresh_rollups() first sees it is rolled up '
   'per day automatically (group_stats() then reads it from rollup_daily_groups); 0: only save_trait_rollup().');

ALTER TABLE analytics.trait_rollups ADD COLUMN automatic boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN analytics.trait_rollups.automatic IS
  'true: rolled up by refresh_rollups() (few values, trait_rollup_max_values); false: save_trait_rollup().';

CREATE TABLE analytics.trait_keys (
  project_id  text        NOT NULL,
  trait       text        NOT NULL,
  values_seen bigint,
  seen_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
  PRIMARY KEY (project_id, trait)
);
COMMENT ON TABLE analytics.trait_keys IS
  'Every user trait key refresh_rollups() has weighed per project, with its distinct values then (NULL: dropped '
  'by drop_trait_rollup() first); a key here is never rolled up automatically again.';

UPDATE analytics.users SET rolled_traits = '{}' WHERE rolled_traits <> '{}' OR traits <> '{}';

-- Row-level security on the new table, with the policies of 0006.
DO $policies$
DECLARE
  v_claimed text := $$coalesce(nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'project_id',
                                 nullif(pg_catalog.current_setting('analytics.project_id', true), ''))$$;
BEGIN
  ALTER TABLE analytics.trait_keys ENABLE ROW LEVEL SECURITY;
  EXECUTE pg_catalog.format(
    'CREATE POLICY tenant_isolation ON analytics.trait_keys TO analytics_reader, analytics_ingest '
    'USING (project_id = %s) WITH CHECK (project_id = %s)', v_claimed, v_claimed);
  CREATE POLICY admin_all ON analytics.trait_keys TO analytics_admin USING (true) WITH CHECK (true);
END
$policies$;
