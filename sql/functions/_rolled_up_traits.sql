CREATE OR REPLACE FUNCTION analytics._rolled_up_traits(project_id text)
RETURNS SETOF text
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: the user traits of a project that analytics.rollup_daily_groups
  keeps: "group", always, and those saved with save_trait_rollup().
Example: SELECT * FROM analytics._rolled_up_traits('acme');
*/
  SELECT 'group'::text
  UNION ALL
  SELECT r.trait FROM analytics.trait_rollups r WHERE r.project_id = _rolled_up_traits.project_id;
$function$;

COMMENT ON FUNCTION analytics._rolled_up_traits(text) IS
  'Internal: the traits rolled up per day for a project ("group" and the saved ones).';
