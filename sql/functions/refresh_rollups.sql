CREATE OR REPLACE FUNCTION analytics.refresh_rollups(max_buckets integer DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: recompute exactly the (project, UTC hour) buckets marked in
  analytics.dirty_buckets since the last run (late, duplicate and deleted
  events included), oldest marks first, at most `max_buckets` of them, and
  clear the marks it has read. Afterwards every rollup row of those buckets,
  the sessions and experiment sessions seen in them and the project days
  they overlap equal a GROUP BY over the raw events, and users whose trait
  "group" changed are moved in the daily group rollup. Marks added while it
  runs stay for the next run. One tenant's late events never cause another
  tenant's buckets to be recomputed.
Parameters:
  max_buckets  at most this many buckets per call (NULL: setting
               rollup_max_buckets, 500); "remaining_buckets" says what is left
Returns: {"buckets", "hourly_rows", "sessions", "experiment_sessions", "days",
  "group_changes" (users whose trait "group" changed), "remaining_buckets",
  "seconds"} or {"skipped": true, "reason"} when another run holds the lock.
Errors: 22023 when max_buckets < 1.
Locks: advisory transaction lock hashtext('analytics.refresh_rollups'),
  tried, not waited for: overlapping runs skip instead of queueing. Runs in
  the caller's transaction: a run that is killed leaves the rollups and the
  marks as they were, and the next run converges.
Security: SECURITY DEFINER; EXECUTE for analytics_admin.
Example: SELECT analytics.refresh_rollups();  -- pg_cron: every minute (job analytics-rollup)
*/
DECLARE
  v_started  timestamptz := pg_catalog.clock_timestamp();
  v_limit    integer := coalesce(max_buckets, analytics._setting('rollup_max_buckets')::integer);
  v_projects text[];
  v_buckets  timestamptz[];
  v_result   jsonb;
  v_remaining bigint;
BEGIN
  IF v_limit < 1 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('max_buckets must be at least 1, not %s', v_limit);
  END IF;
  IF NOT pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtext('analytics.refresh_rollups')) THEN
    RETURN '{"skipped": true, "reason": "another refresh_rollups() is running"}'::jsonb;
  END IF;

  SELECT pg_catalog.array_agg(s.project_id), pg_catalog.array_agg(s.bucket)
    INTO v_projects, v_buckets
    FROM (SELECT d.project_id, d.bucket FROM analytics.dirty_buckets d
           GROUP BY d.project_id, d.bucket ORDER BY pg_catalog.min(d.mark_id) LIMIT v_limit) s;
  v_result := analytics._recompute_buckets(v_projects, v_buckets);  -- clears the marks it read
  -- Last, so that the users it updates stay locked (against identify()) as briefly as possible.
  v_result := v_result || pg_catalog.jsonb_build_object('group_changes', analytics._apply_group_changes());

  SELECT pg_catalog.count(*) INTO v_remaining
    FROM (SELECT DISTINCT d.project_id, d.bucket FROM analytics.dirty_buckets d) r;
  RETURN v_result || pg_catalog.jsonb_build_object(
    'remaining_buckets', v_remaining,
    'seconds', pg_catalog.round(extract(epoch FROM pg_catalog.clock_timestamp() - v_started)::numeric, 3));
END
$function$;

COMMENT ON FUNCTION analytics.refresh_rollups(integer) IS
  'Recompute the rollups of the buckets marked dirty since the last run (bounded by max_buckets); returns what was done and what remains.';
