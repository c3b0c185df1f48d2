CREATE OR REPLACE FUNCTION analytics.drop_trait_rollup(trait text, project_id text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: stop rolling up a user trait of one project, saved or rolled up
  automatically, and delete its rows of analytics.rollup_daily_groups;
  group_stats() joins the users' traits for it again. The key is recorded
  as weighed (analytics.trait_keys): the rollup job does not roll it up
  again by itself.
Parameters: trait; project_id: the project (required for an admin bound to none).
Returns: true if it was rolled up, false if it was not.
Errors: 22023 no project.
Locks: the refresh_rollups advisory lock (waits for a running refresh).
Security: SECURITY DEFINER; EXECUTE for analytics_admin.
Example: SELECT analytics.drop_trait_rollup('plan', project_id => 'acme');
*/
DECLARE
  v_project text := analytics._admin_project(drop_trait_rollup.project_id, 'drop_trait_rollup');
BEGIN
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('analytics.refresh_rollups'));
  -- Weighed, so that the rollup job never rolls it up again by itself.
  INSERT INTO analytics.trait_keys (project_id, trait)
  SELECT v_project, drop_trait_rollup.trait WHERE drop_trait_rollup.trait IS NOT NULL
  ON CONFLICT ON CONSTRAINT trait_keys_pkey DO NOTHING;
  DELETE FROM analytics.trait_rollups r WHERE r.project_id = v_project AND r.trait = drop_trait_rollup.trait;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  DELETE FROM analytics.rollup_daily_groups g WHERE g.project_id = v_project AND g.trait = drop_trait_rollup.trait;
  RETURN true;
END
$function$;

COMMENT ON FUNCTION analytics.drop_trait_rollup(text, text) IS
  'Admin: stop rolling up a user trait and delete its daily rows.';
