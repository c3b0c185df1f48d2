CREATE OR REPLACE FUNCTION analytics._roll_up_new_traits(projects text[], traits text[])
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: weigh the trait keys that refresh_rollups() has just seen set
  (projects[i], traits[i]: a key of a user's traits in a project), once
  per project and key. A key not in analytics.trait_keys yet is recorded
  there with its distinct values among the project's users (one pass over
  them for all the new keys); with at most trait_rollup_max_values of them
  (a setting, per project; 0: never) it is rolled up as
  save_trait_rollup() does (trait_rollups.automatic), every day of the
  project recomputed once for all such keys. A key already weighed is
  left alone: a trait an admin dropped (drop_trait_rollup() records it)
  stays dropped, and a rolled-up trait that gains values stays rolled up.
  The caller holds the refresh_rollups advisory lock, and has set
  users.rolled_traits to the traits (_apply_group_changes).
Parameters: projects[i], traits[i]: the i-th (project, key); duplicates are fine.
Returns: the number of traits rolled up.
Example: SELECT analytics._roll_up_new_traits(ARRAY['default'], ARRAY['plan']);
*/
DECLARE
  v_projects text[];  -- a project per trait rolled up
BEGIN
  WITH new AS (
    SELECT DISTINCT k.project_id, k.trait
      FROM unnest(projects, traits) AS k(project_id, trait)
     WHERE k.trait <> 'group' AND pg_catalog.length(k.trait) BETWEEN 1 AND 64
       AND NOT EXISTS (SELECT FROM analytics.trait_keys t WHERE t.project_id = k.project_id AND t.trait = k.trait)
  ), weighed AS (
    -- One pass over the projects' users for all their new keys.
    INSERT INTO analytics.trait_keys (project_id, trait, values_seen)
    SELECT n.project_id, n.trait, pg_catalog.count(DISTINCT u.traits ->> n.trait)
      FROM new n
      LEFT JOIN analytics.users u ON u.project_id = n.project_id AND u.traits ? n.trait
     GROUP BY n.project_id, n.trait
    RETURNING project_id, trait, values_seen
  ), rolled AS (
    INSERT INTO analytics.trait_rollups (project_id, trait, automatic)
    SELECT w.project_id, w.trait, true FROM weighed w
     WHERE w.values_seen <= analytics._setting('trait_rollup_max_values', w.project_id)::bigint
    ON CONFLICT ON CONSTRAINT trait_rollups_pkey DO NOTHING
    RETURNING project_id
  )
  SELECT coalesce(pg_catalog.array_agg(r.project_id), '{}') INTO v_projects FROM rolled r;
  IF pg_catalog.cardinality(v_projects) > 0 THEN
    PERFORM analytics._recompute_group_days(pg_catalog.array_agg(d.project_id), pg_catalog.array_agg(d.day))
       FROM (SELECT DISTINCT x.project_id, x.day FROM analytics.rollup_daily_users x
              WHERE x.project_id = ANY (v_projects)) d;
  END IF;
  RETURN pg_catalog.cardinality(v_projects);
END
$function$;

COMMENT ON FUNCTION analytics._roll_up_new_traits(text[], text[]) IS
  'Internal: roll up, once, each newly seen user trait key with few values (trait_rollup_max_values).';
