CREATE OR REPLACE FUNCTION analytics.aggregate_analytics_daily(day date DEFAULT ((now() AT TIME ZONE 'UTC')::date - 1))
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: finalise one day's daily tables (rollup_daily, rollup_daily_totals,
  rollup_daily_users) for every project, the day cut in each project's time
  zone: first roll up every pending bucket of that day (late events
  included), then recompute the day from the raw events. Idempotent: running
  it again gives the same rows. The seed's function, by its name.
Parameters: day: the local day; default yesterday (UTC).
Returns: {"day", "projects", "rows", "pending_buckets_rolled_up"}
Security: SECURITY DEFINER; EXECUTE for analytics_admin.
Example: SELECT analytics.aggregate_analytics_daily('2025-01-15');  -- pg_cron: 0 2 * * * (aggregate-analytics-daily)
*/
DECLARE
  v_from     timestamptz := (day - 1)::timestamp AT TIME ZONE 'UTC';  -- widest zone offsets: -12h..+14h
  v_to       timestamptz := (day + 2)::timestamp AT TIME ZONE 'UTC';
  v_projects text[];
  v_pending  jsonb;
  v_result   jsonb;
BEGIN
  IF day IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'day must not be null';
  END IF;
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('analytics.refresh_rollups'));
  v_pending := analytics._refresh_marked_between(v_from, v_to);

  SELECT pg_catalog.array_agg(p.project_id) INTO v_projects
    FROM (SELECT DISTINCT e.project_id FROM analytics.events e WHERE e.occurred_at >= v_from AND e.occurred_at < v_to
          UNION
          SELECT t.project_id FROM analytics.rollup_daily_totals t WHERE t.day = aggregate_analytics_daily.day) p;
  v_result := analytics._recompute_days(v_projects, array_fill(day, ARRAY[coalesce(pg_catalog.cardinality(v_projects), 0)]));
  RETURN pg_catalog.jsonb_build_object(
    'day', day,
    'projects', coalesce(pg_catalog.cardinality(v_projects), 0),
    'rows', v_result -> 'rows',
    'pending_buckets_rolled_up', v_pending -> 'buckets');
END
$function$;

COMMENT ON FUNCTION analytics.aggregate_analytics_daily(date) IS
  'Finalise one day''s daily rollups for every project (late events included); idempotent. Default: yesterday.';
