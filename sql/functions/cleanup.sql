CREATE OR REPLACE FUNCTION analytics.cleanup()
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: apply every retention setting, in one call (pg_cron: daily, job
  analytics-cleanup):
  - raw events: cleanup_old_raw_events() drops partitions older than
    raw_retention_days (90), after rolling up what is still pending;
  - hourly rollups and per-hour facts older than rollup_retention_days (90),
    and the event keys (analytics.event_keys) that no kept hourly rollup
    row has (nor one of the hour the cut-off falls in): no session that
    funnel() matches by its path holds them, so they no longer keep a step
    whose character they share from the paths;
  - rejected events older than rejected_retention_days (30);
  - job runs, and pg_cron's cron.job_run_details (which otherwise grows
    forever), older than job_runs_retention_days (30).
  - the walks of funnels saved by user (analytics.funnel_users) that
    entered before the hour of the raw cut-off (and the step-1 events
    before it that the rows kept name);
  - the per-user paths (rollup_daily_user_paths) of the days that may start
    before the raw cut-off, whose raw events are gone or going.
  Daily tables, sessions, saved funnels' sessions and experiment results are kept.
Returns: {"raw": {...}, "hourly_rows_deleted", "event_keys_deleted", "funnel_users_deleted",
          "user_paths_deleted", "rejected_deleted",
          "job_runs_deleted", "cron_details_deleted"}
  cron_details_deleted is null when pg_cron is absent or not ours to trim.
Locks: waits for a running refresh_rollups() (its advisory lock) before
  trimming event keys, so that a key the job is adding is not taken away.
Security: SECURITY DEFINER; EXECUTE for analytics_admin.
Example: SELECT analytics.cleanup();
*/
DECLARE
  v_raw      jsonb := analytics.cleanup_old_raw_events(NULL);
  v_rollup   timestamptz := pg_catalog.now() - pg_catalog.make_interval(hours => 24 * analytics._setting('rollup_retention_days')::integer);
  v_rejected timestamptz := pg_catalog.now() - pg_catalog.make_interval(hours => 24 * analytics._setting('rejected_retention_days')::integer);
  v_jobs     timestamptz := pg_catalog.now() - pg_catalog.make_interval(hours => 24 * analytics._setting('job_runs_retention_days')::integer);
  v_hourly   bigint := 0;
  v_keys     bigint;
  v_table    text;
  v_n        bigint;
  v_rej      bigint;
  v_walks    bigint;
  v_paths    bigint;
  v_raw_hour timestamptz := pg_catalog.date_trunc('hour', (v_raw ->> 'cutoff')::timestamptz, 'UTC');
  v_runs     bigint;
  v_cron     bigint;
BEGIN
  -- Event keys no hourly row kept has. funnel() matches paths only of
  -- sessions that start within the hourly retention, whose events those
  -- rows count; the hour that the cut-off falls in is kept for this, as a
  -- session may start in its kept part. Under the rollup job's lock.
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('analytics.refresh_rollups'));
  DELETE FROM analytics.event_keys k
   WHERE NOT EXISTS (SELECT FROM analytics.rollup_hourly r
                      WHERE r.project_id = k.project_id AND r.event_type = k.event_type
                        AND r.name IS NOT DISTINCT FROM k.name AND r.bucket >= v_rollup - interval '1 hour');
  GET DIAGNOSTICS v_keys = ROW_COUNT;
  FOREACH v_table IN ARRAY ARRAY['rollup_hourly', 'rollup_hourly_totals', 'rollup_hourly_properties',
                                 'rollup_hourly_visits', 'rollup_hourly_entry_exit_pages', 'rollup_hourly_exposures',
                                 'rollup_hourly_funnel_steps', 'rollup_hourly_paths']
  LOOP
    EXECUTE pg_catalog.format('DELETE FROM analytics.%I WHERE bucket < $1', v_table) USING v_rollup;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_hourly := v_hourly + v_n;
  END LOOP;
  -- Per-hour facts are only needed while raw events of those hours may
  -- still change; sessions and experiment sessions keep the merged facts.
  DELETE FROM analytics.session_hours WHERE bucket < (v_raw ->> 'cutoff')::timestamptz;
  DELETE FROM analytics.experiment_session_hours WHERE bucket < (v_raw ->> 'cutoff')::timestamptz;
  -- Per-user paths mirror the raw events: a day that may start before the
  -- raw cut-off (a local day starts at most 14 hours before its UTC date)
  -- loses them and its span, so that funnel() follows its users over what
  -- the raw events still hold.
  DELETE FROM analytics.rollup_daily_user_paths
   WHERE day <= ((v_raw ->> 'cutoff')::timestamptz AT TIME ZONE 'UTC')::date + 1;
  GET DIAGNOSTICS v_paths = ROW_COUNT;
  UPDATE analytics.rollup_daily_totals SET paths_span = NULL
   WHERE paths_span IS NOT NULL AND day <= ((v_raw ->> 'cutoff')::timestamptz AT TIME ZONE 'UTC')::date + 1;
  -- Walks of funnels saved by user that entered before the hour of the raw
  -- cut-off: funnel() reads them only for ranges that start within the raw
  -- retention, where each user's entry is a row of that hour or later. The
  -- rows kept forget a step-1 event before it, as a save would now.
  DELETE FROM analytics.funnel_users WHERE entered_at < v_raw_hour;
  GET DIAGNOSTICS v_walks = ROW_COUNT;
  UPDATE analytics.funnel_users SET prev_entry_at = NULL WHERE prev_entry_at < v_raw_hour;

  DELETE FROM analytics.rejected_events WHERE rejected_at < v_rejected;
  GET DIAGNOSTICS v_rej = ROW_COUNT;
  DELETE FROM analytics.job_runs WHERE started_at < v_jobs;
  GET DIAGNOSTICS v_runs = ROW_COUNT;
  IF pg_catalog.to_regclass('cron.job_run_details') IS NOT NULL THEN
    BEGIN
      EXECUTE 'DELETE FROM cron.job_run_details WHERE end_time < $1' USING v_jobs;
      GET DIAGNOSTICS v_cron = ROW_COUNT;
    EXCEPTION WHEN insufficient_privilege THEN
      v_cron := NULL;
    END;
  END IF;
  RETURN pg_catalog.jsonb_build_object('raw', v_raw, 'hourly_rows_deleted', v_hourly, 'event_keys_deleted', v_keys,
                                       'funnel_users_deleted', v_walks, 'user_paths_deleted', v_paths,
                                       'rejected_deleted', v_rej,
                                       'job_runs_deleted', v_runs, 'cron_details_deleted', v_cron,
                                       'rows', v_hourly + v_walks + v_paths + v_rej + v_runs);
END
$function$;

COMMENT ON FUNCTION analytics.cleanup() IS
  'Apply every retention setting: drop expired raw partitions, trim hourly rollups, rejected events, job runs and cron.job_run_details.';
