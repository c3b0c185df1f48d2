CREATE OR REPLACE FUNCTION analytics.save_trait_rollup(trait text, project_id text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: roll up a user trait of one project per day, as the trait "group"
  always is, so that group_stats(trait => ...) reads analytics.rollup_daily_groups
  instead of joining every user-day of its range to the users' traits. Fills
  every day of the daily per-user rollup now; from then on the rollup job
  keeps it, and moves a user whose value of the trait changes. Saving a
  trait already rolled up fills it again. Each rolled-up trait adds rows per
  day and distinct value: roll up traits with few values (a plan, a
  country), not an e-mail address.
Parameters: trait: the trait key, 1 to 64 characters, not 'group';
  project_id: the project (required for an admin bound to none).
Returns: {"project_id", "trait", "days", "rows"}, the days and rows written.
Errors: 22023 no project, a missing or too long trait, or 'group'.
Locks: the refresh_rollups advisory lock (waits for a running refresh).
Security: SECURITY DEFINER; EXECUTE for analytics_admin.
Example: SELECT analytics.save_trait_rollup('plan', project_id => 'acme');
*/
DECLARE
  v_project text := analytics._admin_project(save_trait_rollup.project_id, 'save_trait_rollup');
  v_days    bigint;
  v_rows    bigint;
BEGIN
  IF trait IS NULL OR pg_catalog.length(trait) NOT BETWEEN 1 AND 64 OR trait = 'group' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('cannot roll up the trait %L', trait),
      HINT = 'A trait key of 1 to 64 characters; "group" is always rolled up.';
  END IF;
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('analytics.refresh_rollups'));
  INSERT INTO analytics.trait_rollups (project_id, trait) VALUES (v_project, save_trait_rollup.trait)
  ON CONFLICT ON CONSTRAINT trait_rollups_pkey DO UPDATE SET saved_at = excluded.saved_at;
  DELETE FROM analytics.rollup_daily_groups g WHERE g.project_id = v_project AND g.trait = save_trait_rollup.trait;
  INSERT INTO analytics.rollup_daily_groups (project_id, trait, day, group_value, users, events, sessions)
  SELECT v_project, save_trait_rollup.trait, d.day, u.rolled_traits ->> save_trait_rollup.trait,
         pg_catalog.count(*), pg_catalog.sum(d.events), pg_catalog.sum(d.sessions)
    FROM analytics.rollup_daily_users d
    LEFT JOIN analytics.users u ON u.project_id = d.project_id AND u.user_id = d.user_id
   WHERE d.project_id = v_project
   GROUP BY d.day, u.rolled_traits ->> save_trait_rollup.trait;
  GET DIAGNOSTICS v_rows = ROW_COUNT;
  SELECT pg_catalog.count(DISTINCT g.day) INTO v_days
    FROM analytics.rollup_daily_groups g WHERE g.project_id = v_project AND g.trait = save_trait_rollup.trait;
  RETURN pg_catalog.jsonb_build_object('project_id', v_project, 'trait', trait, 'days', v_days, 'rows', v_rows);
END
$function$;

COMMENT ON FUNCTION analytics.save_trait_rollup(text, text) IS
  'Admin: roll up a user trait per day, so that group_stats() reads it from analytics.rollup_daily_groups.';
