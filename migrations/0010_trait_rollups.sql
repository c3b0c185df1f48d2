-- 0010: daily group stats rolled up for any user trait an admin names
-- (save_trait_rollup()), not only the trait "group", so that group_stats()
-- reads a few rows per day for those traits too.
-- depends: 0009_saved_funnels
-- sql-checksum: cf3aaf24a9f02265bbce2bae63ce76dcf6de1e8c18fb28280d61b208a1efe62d
--
-- The rollup job used to compare each user's trait "group" with the one it
-- last rolled up (users.rolled_group). It now keeps the user's whole traits
-- as it last rolled them up (users.rolled_traits): a user whose traits
-- changed is found by a partial index, and is moved, day by day, in every
-- rolled-up trait whose value changed.

CREATE TABLE analytics.trait_rollups (
  project_id text        NOT NULL,
  trait      text        NOT NULL CHECK (pg_catalog.length(trait) BETWEEN 1 AND 64 AND trait <> 'group'),
  saved_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
  PRIMARY KEY (project_id, trait)
);
COMMENT ON TABLE analytics.trait_rollups IS
  'User traits rolled up per day in rollup_daily_groups besides "group" (always rolled up): save_trait_rollup().';

ALTER TABLE analytics.rollup_daily_groups ADD COLUMN trait text NOT NULL DEFAULT 'group';
ALTER TABLE analytics.rollup_daily_groups ALTER COLUMN trait DROP DEFAULT;
ALTER TABLE analytics.rollup_daily_groups DROP CONSTRAINT rollup_daily_groups_key;
ALTER TABLE analytics.rollup_daily_groups
  ADD CONSTRAINT rollup_daily_groups_key UNIQUE NULLS NOT DISTINCT (project_id, trait, day, group_value);
COMMENT ON TABLE analytics.rollup_daily_groups IS
  'Per project, rolled-up trait ("group", and those of analytics.trait_rollups), local day and the trait''s value '
  '(users.rolled_traits; NULL: none): active users, their events and sessions (sums over rollup_daily_users).';

ALTER TABLE analytics.users ADD COLUMN rolled_traits jsonb NOT NULL DEFAULT '{}';
COMMENT ON COLUMN analytics.users.rolled_traits IS
  'traits as of the last refresh_rollups(): the values rollup_daily_groups counts the user under.';
-- The traits rolled up so far: today's, with the group the job last saw.
UPDATE analytics.users
   SET rolled_traits = CASE WHEN rolled_group IS NULL THEN traits - 'group'
                            ELSE traits || pg_catalog.jsonb_build_object('group', rolled_group) END
 WHERE traits <> '{}' OR rolled_group IS NOT NULL;
DROP INDEX analytics.users_group_changed_idx;
ALTER TABLE analytics.users DROP COLUMN rolled_group;
-- Users whose traits changed since the last refresh_rollups().
CREATE INDEX users_traits_changed_idx ON analytics.users (project_id) WHERE traits IS DISTINCT FROM rolled_traits;

-- Row-level security on the new table, with the policies of 0006.
DO $policies$
DECLARE
  v_claimed text := $$coalesce(nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'project_id',
                                 nullif(pg_catalog.current_setting('analytics.project_id', true), ''))$$;
BEGIN
  ALTER TABLE analytics.trait_rollups ENABLE ROW LEVEL SECURITY;
  EXECUTE pg_catalog.format(
    'CREATE POLICY tenant_isolation ON analytics.trait_rollups TO analytics_reader, analytics_ingest '
    'USING (project_id = %s) WITH CHECK (project_id = %s)', v_claimed, v_claimed);
  CREATE POLICY admin_all ON analytics.trait_rollups TO analytics_admin USING (true) WITH CHECK (true);
END
$policies$;
