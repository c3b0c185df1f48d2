CREATE OR REPLACE FUNCTION analytics._apply_group_changes()
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: carry the users whose trait "group" changed since the last run
  (identify()) into analytics.rollup_daily_groups: set users.rolled_group to
  the trait and recompute every day on which such a user was active. Runs in
  refresh_rollups(), under its advisory lock, so the group rollup changes
  only there and in _recompute_days(). identify() itself never waits for
  this: a trait written while it runs is taken by the next run.
Returns: the number of users whose group changed.
Example: SELECT analytics._apply_group_changes();
*/
DECLARE
  v_projects      text[];
  v_users         text[];
  v_day_projects  text[];
  v_days          date[];
BEGIN
  WITH changed AS (
    UPDATE analytics.users u SET rolled_group = u.traits ->> 'group'
     WHERE (u.traits ->> 'group') IS DISTINCT FROM u.rolled_group
    RETURNING u.project_id, u.user_id
  )
  SELECT pg_catalog.array_agg(c.project_id), pg_catalog.array_agg(c.user_id) INTO v_projects, v_users FROM changed c;
  IF v_projects IS NULL THEN
    RETURN 0;
  END IF;
  SELECT pg_catalog.array_agg(a.project_id), pg_catalog.array_agg(a.day) INTO v_day_projects, v_days
    FROM (SELECT DISTINCT d.project_id, d.day
            FROM unnest(v_projects, v_users) AS c(project_id, user_id)
            JOIN analytics.rollup_daily_users d ON d.project_id = c.project_id AND d.user_id = c.user_id) a;
  PERFORM analytics._recompute_group_days(v_day_projects, v_days);
  RETURN pg_catalog.cardinality(v_users);
END
$function$;

COMMENT ON FUNCTION analytics._apply_group_changes() IS
  'Internal: move users whose trait "group" changed to their new group in the daily group rollup.';
