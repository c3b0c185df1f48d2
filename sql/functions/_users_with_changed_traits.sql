CREATE OR REPLACE FUNCTION analytics._users_with_changed_traits()
RETURNS TABLE (project_id text, user_id text, rolled_traits jsonb)
LANGUAGE sql
STABLE
ROWS 100
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off
AS $function$
/*
Contract: the users whose traits changed since the rollup job last
  carried them into the group rollups (traits IS DISTINCT FROM
  rolled_traits), with their rolled_traits as they are: the partial index
  users_traits_changed_idx holds exactly them, so the cost grows with the
  users changed, never with the users. The planner estimates the
  condition true for almost every user and would read the whole table
  (124 ms every minute at 31k users, whatever changed); enable_seqscan =
  off, set for this query alone, makes it take the index.
Returns: one row per such user.
Example: SELECT * FROM analytics._users_with_changed_traits();
*/
  SELECT u.project_id, u.user_id, u.rolled_traits FROM analytics.users u
   WHERE u.traits IS DISTINCT FROM u.rolled_traits
$function$;

COMMENT ON FUNCTION analytics._users_with_changed_traits() IS
  'Internal: the users whose traits changed since the last refresh_rollups(), through their partial index.';
