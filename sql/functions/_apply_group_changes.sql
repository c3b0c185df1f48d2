CREATE OR REPLACE FUNCTION analytics._apply_group_changes()
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: carry the users whose traits changed since the last run
  (identify()) into analytics.rollup_daily_groups: set users.rolled_traits
  to their traits, and recompute every day on which a user was active whose
  value changed in a rolled-up trait of the project ("group", and those of
  analytics.trait_rollups); and weigh the trait keys set on them that no
  run has seen before (_roll_up_new_traits: those with few values are
  rolled up). Runs in refresh_rollups(), under its advisory
  lock, so the group rollup changes only there, in _recompute_days() and in
  save_trait_rollup(). identify() itself never waits for this: traits
  written while it runs are taken by the next run.
Returns: the number of users moved in a rolled-up trait.
Example: SELECT analytics._apply_group_changes();
*/
DECLARE
  v_projects      text[];
  v_users         text[];
  v_key_projects  text[];
  v_keys          text[];
  v_day_projects  text[];
  v_days          date[];
BEGIN
  WITH changed AS (
    -- The changed users, through their partial index; o is each as it was.
    UPDATE analytics.users u SET rolled_traits = u.traits
      FROM analytics._users_with_changed_traits() o
     WHERE o.project_id = u.project_id AND o.user_id = u.user_id
       AND u.traits IS DISTINCT FROM u.rolled_traits
    RETURNING u.project_id, u.user_id, o.rolled_traits AS before, u.traits AS after
  ), moved AS (
    SELECT c.project_id, c.user_id FROM changed c
     WHERE EXISTS (SELECT 1
                     FROM analytics._rolled_up_traits(c.project_id) AS t(trait)
                    WHERE (c.before ->> t.trait) IS DISTINCT FROM (c.after ->> t.trait))
  ), seen AS (  -- the trait keys set on the changed users, for _roll_up_new_traits()
    SELECT DISTINCT c.project_id, k.trait
      FROM changed c CROSS JOIN LATERAL pg_catalog.jsonb_object_keys(c.after) AS k(trait)
     WHERE pg_catalog.jsonb_typeof(c.after) = 'object'
  )
  SELECT (SELECT pg_catalog.array_agg(m.project_id) FROM moved m), (SELECT pg_catalog.array_agg(m.user_id) FROM moved m),
         (SELECT pg_catalog.array_agg(s.project_id) FROM seen s), (SELECT pg_catalog.array_agg(s.trait) FROM seen s)
    INTO v_projects, v_users, v_key_projects, v_keys;
  IF v_keys IS NOT NULL THEN
    PERFORM analytics._roll_up_new_traits(v_key_projects, v_keys);
  END IF;
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
  'Internal: move users whose rolled-up traits changed to their new values in the daily trait rollup.';
