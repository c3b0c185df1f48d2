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
  every day of the daily per-user rollup now (all its rolled-up traits are
  recomputed with it, as the job does); from then on the rollup job
  keeps it, and moves a user whose value of the trait changes. Saving a
  trait already rolled up (by an admin, or by the job itself for a trait
  with few values: _roll_up_new_traits) fills it again. Each rolled-up trait adds rows per
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
  ON CONFLICT ON CONSTRAINT trait_rollups_pkey DO UPDATE SET saved_at = excluded.saved_at, automatic = false;
  -- Every day of the project again, through the job's own recompute.
  PERFORM analytics._recompute_group_days(pg_catalog.array_agg(d.project_id), pg_catalog.array_agg(d.day))
     FROM (SELECT DISTINCT x.project_id, x.day FROM analytics.rollup_daily_users x WHERE x.project_id = v_project) d;
  SELECT pg_catalog.count(DISTINCT g.day), pg_catalog.count(*) INTO v_days, v_rows
    FROM analytics.rollup_daily_groups g WHERE g.project_id = v_project AND g.trait = save_trait_rollup.trait;
  RETURN pg_catalog.jsonb_build_object('project_id', v_project, 'trait', trait, 'days', v_days, 'rows', v_rows);
END
$function$;

COMMENT ON FUNCTION analytics.save_trait_rollup(text, text) IS
  'Admin: roll up a user trait per day, so that group_stats() reads it from analytics.rollup_daily_groups.';
