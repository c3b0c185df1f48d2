CREATE OR REPLACE FUNCTION analytics.realtime(minutes integer DEFAULT 5, project_id text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET plan_cache_mode = force_custom_plan
SET max_parallel_workers_per_gather = 0
AS $function$
/*
Contract: what is happening now: over the last `minutes` minutes, active
  visitors (a user_id where known, else the anonymous session), active
  sessions, events, and the top 10 pages by views. Read from raw events:
  the window is minutes long, so only the newest pages of one partition are
  read (BRIN on occurred_at), and it is fresher than any rollup.
Parameters: minutes 1..60; project_id NULL: the caller's JWT project.
Returns: {"minutes", "active_visitors", "active_sessions", "events", "top_pages": [{"page", "views"}]}
Errors: 22023 minutes out of range; 42501 another tenant or no project claim.
Security: SECURITY DEFINER; EXECUTE for analytics_reader and analytics_admin.
Example: SELECT analytics.realtime(minutes => 5);
*/
DECLARE
  v_project text := analytics._resolve_project(realtime.project_id);
  v_since   timestamptz;
  v_result  jsonb;
BEGIN
  IF minutes IS NULL OR minutes NOT BETWEEN 1 AND 60 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('minutes must be between 1 and 60, not %s', minutes);
  END IF;
  v_since := pg_catalog.now() - pg_catalog.make_interval(mins => minutes);
  WITH recent AS MATERIALIZED (
    SELECT e.session_id, e.user_id, e.event_type, e.name
      FROM analytics.events e
     WHERE e.occurred_at >= v_since AND (v_project IS NULL OR e.project_id = v_project)
  ), pages AS (
    SELECT r.name AS page, pg_catalog.count(*) AS views
      FROM recent r WHERE r.event_type = 'pageview' AND r.name IS NOT NULL
     GROUP BY r.name ORDER BY 2 DESC, 1 LIMIT 10
  )
  SELECT pg_catalog.jsonb_build_object(
           'minutes', minutes,
           'active_visitors', (SELECT pg_catalog.count(DISTINCT coalesce('u:' || r.user_id, 's:' || r.session_id)) FROM recent r),
           'active_sessions', (SELECT pg_catalog.count(DISTINCT r.session_id) FROM recent r),
           'events', (SELECT pg_catalog.count(*) FROM recent r),
           'top_pages', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('page', p.page, 'views', p.views)
                                                           ORDER BY p.views DESC, p.page) FROM pages p), '[]'))
    INTO v_result;
  RETURN v_result;
END
$function$;

COMMENT ON FUNCTION analytics.realtime(integer, text) IS
  'RPC: active visitors, sessions, events and top pages of the last N minutes.';
