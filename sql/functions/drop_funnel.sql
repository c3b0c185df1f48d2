CREATE OR REPLACE FUNCTION analytics.drop_funnel(funnel_id text, project_id text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: forget a saved funnel and its rollups; funnel() then reads raw
  events for those steps again.
Parameters: funnel_id; project_id: the project (required for an admin
  bound to none).
Returns: true if it was saved, false if there was no such funnel.
Errors: 22023 no project.
Locks: the refresh_rollups advisory lock (waits for a running refresh).
Security: SECURITY DEFINER; EXECUTE for analytics_admin.
Example: SELECT analytics.drop_funnel('signup', project_id => 'acme');
*/
DECLARE
  v_project text := analytics._admin_project(drop_funnel.project_id, 'drop_funnel');
BEGIN
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('analytics.refresh_rollups'));
  DELETE FROM analytics.funnels f WHERE f.project_id = v_project AND f.funnel_id = drop_funnel.funnel_id;
  RETURN FOUND;
END
$function$;

COMMENT ON FUNCTION analytics.drop_funnel(text, text) IS
  'Admin: forget a saved funnel and its rollups.';
