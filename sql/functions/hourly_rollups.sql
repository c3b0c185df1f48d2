CREATE OR REPLACE FUNCTION analytics.hourly_rollups(
  hours integer DEFAULT 24,
  project_id text DEFAULT NULL,
  breakdown_by text DEFAULT NULL
)
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
Contract: the seed 000 read-out (GET /api/analytics/rollups?hours=24), served
  from the hourly rollups, never from raw events: one object per UTC hour
  that has events, oldest first, over the last `hours` hours (the current
  hour included).
Parameters:
  hours         1..2160 (90 days)
  project_id    the tenant; NULL: the caller's JWT project (admins: all projects)
  breakdown_by  a property key (the seed's risk mode: 'risk_mode'): adds
                "breakdown": {value: events} for events carrying that key
Returns: [{"hour": "2025-10-18T01:00:00Z", "event_counts": {"tool_used": 45, ...},
  "tool_usage": {"FAAB": 15, ...} (names of tool_used events),
  "unique_sessions": 42, "total_events": 263, "breakdown": {...}}]
  Figures are exact as of the last refresh_rollups() (every minute).
Errors: 22023 hours out of range; 42501 another tenant's project or no project claim.
Security: SECURITY DEFINER; EXECUTE for analytics_reader and analytics_admin.
Example: SELECT analytics.hourly_rollups(hours => 24, breakdown_by => 'risk_mode');
*/
DECLARE
  v_project text := analytics._resolve_project(hourly_rollups.project_id);
  v_from    timestamptz;
  v_result  jsonb;
BEGIN
  IF hours IS NULL OR hours NOT BETWEEN 1 AND 2160 THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = pg_catalog.format('hours must be between 1 and 2160, not %s', hours);
  END IF;
  v_from := pg_catalog.date_trunc('hour', pg_catalog.now(), 'UTC') - pg_catalog.make_interval(hours => hours - 1);
  WITH totals AS (
    SELECT t.bucket, pg_catalog.sum(t.events) AS events, pg_catalog.sum(t.sessions) AS sessions
      FROM analytics.rollup_hourly_totals t
     WHERE (v_project IS NULL OR t.project_id = v_project) AND t.bucket >= v_from
     GROUP BY t.bucket
  ), by_type AS (
    SELECT h.bucket, h.event_type, pg_catalog.sum(h.events) AS events
      FROM analytics.rollup_hourly h
     WHERE (v_project IS NULL OR h.project_id = v_project) AND h.bucket >= v_from
     GROUP BY h.bucket, h.event_type
  ), tools AS (
    SELECT h.bucket, h.name, pg_catalog.sum(h.events) AS events
      FROM analytics.rollup_hourly h
     WHERE (v_project IS NULL OR h.project_id = v_project) AND h.bucket >= v_from
       AND h.event_type = 'tool_used' AND h.name IS NOT NULL
     GROUP BY h.bucket, h.name
  ), breakdown AS (
    SELECT p.bucket, p.value, pg_catalog.sum(p.events) AS events
      FROM analytics.rollup_hourly_properties p
     WHERE (v_project IS NULL OR p.project_id = v_project) AND p.bucket >= v_from
       AND p.key = breakdown_by
     GROUP BY p.bucket, p.value
  )
  SELECT coalesce(pg_catalog.jsonb_agg(
           pg_catalog.jsonb_build_object(
             'hour', pg_catalog.to_char(t.bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
             'event_counts', coalesce((SELECT pg_catalog.jsonb_object_agg(b.event_type, b.events)
                                         FROM by_type b WHERE b.bucket = t.bucket), '{}'),
             'tool_usage', coalesce((SELECT pg_catalog.jsonb_object_agg(x.name, x.events)
                                       FROM tools x WHERE x.bucket = t.bucket), '{}'),
             'unique_sessions', t.sessions,
             'total_events', t.events)
           || CASE WHEN breakdown_by IS NULL THEN '{}'::jsonb
                   ELSE pg_catalog.jsonb_build_object('breakdown', coalesce(
                          (SELECT pg_catalog.jsonb_object_agg(k.value, k.events) FROM breakdown k WHERE k.bucket = t.bucket),
                          '{}')) END
           ORDER BY t.bucket), '[]')
    INTO v_result
    FROM totals t;
  RETURN v_result;
END
$function$;

COMMENT ON FUNCTION analytics.hourly_rollups(integer, text, text) IS
  'RPC: seed 000 hourly rollups of the last N hours from the hourly rollup tables: event counts, tool usage, unique sessions, breakdown.';
