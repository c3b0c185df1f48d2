CREATE OR REPLACE FUNCTION analytics.run_job(job_name text)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: the one wrapper every pgpkg job runs through, from pg_cron
  (`SELECT analytics.run_job('analytics-rollup')`), an external scheduler or
  `pgpkg jobs run`. Records the run in analytics.job_runs: start, end,
  status, rows, result or error. When the previous run of the same job
  still holds the job's lock, this run is skipped (status 'skipped') rather
  than queued behind it. A failing job is recorded as 'failed' with its
  error, and its partial work is rolled back; the call itself succeeds, so
  the record survives.
Parameters: job_name: analytics-rollup, aggregate-analytics-daily,
  analytics-refresh-views, analytics-maintain-partitions or analytics-cleanup.
Returns: {"job", "run_id", "status", "seconds", "result" | "error"}
Errors: 22023 for an unknown job name.
Locks: advisory transaction lock hashtext('analytics.job:' || job_name), tried.
Security: SECURITY DEFINER; EXECUTE for analytics_admin.
Example: SELECT analytics.run_job('analytics-rollup');
*/
DECLARE
  v_command text := analytics._job_command(job_name);
  v_started timestamptz := pg_catalog.clock_timestamp();
  v_status  text;
  v_result  jsonb;
  v_error   text;
  v_run_id  bigint;
BEGIN
  IF v_command IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = pg_catalog.format('unknown job %L', job_name),
      HINT = 'Jobs: analytics-rollup, aggregate-analytics-daily, analytics-refresh-views, '
             'analytics-maintain-partitions, analytics-cleanup.';
  END IF;
  IF NOT pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtext('analytics.job:' || job_name)) THEN
    v_status := 'skipped';
    v_result := '{"reason": "the previous run still holds the job''s lock"}';
  ELSE
    BEGIN
      EXECUTE v_command INTO v_result;
      v_status := CASE WHEN (v_result ->> 'skipped')::boolean THEN 'skipped' ELSE 'succeeded' END;
    EXCEPTION WHEN OTHERS THEN
      v_status := 'failed';
      v_error := SQLSTATE || ': ' || SQLERRM;
    END;
  END IF;
  INSERT INTO analytics.job_runs (job_name, started_at, finished_at, status, rows, result, error)
  VALUES (job_name, v_started, pg_catalog.clock_timestamp(), v_status,
          coalesce((v_result ->> 'rows')::bigint, (v_result ->> 'hourly_rows')::bigint,
                   pg_catalog.jsonb_array_length(CASE WHEN pg_catalog.jsonb_typeof(v_result -> 'created') = 'array'
                                                      THEN v_result -> 'created' END)),
          v_result, v_error)
  RETURNING run_id INTO v_run_id;
  RETURN pg_catalog.jsonb_build_object(
      'job', job_name, 'run_id', v_run_id, 'status', v_status,
      'seconds', pg_catalog.round(extract(epoch FROM pg_catalog.clock_timestamp() - v_started)::numeric, 3))
    || CASE WHEN v_error IS NULL THEN pg_catalog.jsonb_build_object('result', v_result)
            ELSE pg_catalog.jsonb_build_object('error', v_error) END;
END
$function$;

COMMENT ON FUNCTION analytics.run_job(text) IS
  'Run one pgpkg job through the wrapper that records analytics.job_runs and skips a run while the previous one holds the lock.';
