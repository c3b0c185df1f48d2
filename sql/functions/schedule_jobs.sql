CREATE OR REPLACE FUNCTION analytics.schedule_jobs()
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: register the pgpkg jobs with pg_cron, by name, idempotently
  (calling it again updates the schedules from the settings
  schedule.<job>): analytics-rollup (every minute), aggregate-analytics-daily
  (0 2 * * *), analytics-refresh-views (every 5 minutes),
  analytics-maintain-partitions (hourly), analytics-cleanup (daily). Each
  job runs `SELECT analytics.run_job('<name>')` in this database.
  Without pg_cron in this database it changes nothing and returns the
  crontab lines that do the same from an external scheduler. It never
  creates the extension: that is the DBA's call (on Citus, create it with
  SET citus.enable_ddl_propagation TO off).
Returns: {"pg_cron": true, "jobs": [{"jobname", "schedule", "command", "jobid"}]}
  or {"pg_cron": false, "crontab": ["* * * * * psql ... -c \"SELECT analytics.run_job('analytics-rollup')\"", ...], "hint"}
Security: SECURITY DEFINER; EXECUTE for analytics_admin.
Example: SELECT analytics.schedule_jobs();
*/
DECLARE
  v_job    record;
  v_jobid  bigint;
  v_jobs   jsonb := '[]';
  v_cron   boolean := EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron');
BEGIN
  FOR v_job IN
    SELECT pg_catalog.substr(s.key, 10) AS jobname, s.value AS schedule,
           pg_catalog.format('SELECT analytics.run_job(%L)', pg_catalog.substr(s.key, 10)) AS command
      FROM analytics.settings s WHERE s.key LIKE 'schedule.%' ORDER BY s.key
  LOOP
    IF v_cron THEN
      EXECUTE 'SELECT cron.schedule_in_database($1, $2, $3, $4)'
        INTO v_jobid USING v_job.jobname, v_job.schedule, v_job.command, pg_catalog.current_database();
      v_jobs := v_jobs || pg_catalog.jsonb_build_object('jobname', v_job.jobname, 'schedule', v_job.schedule,
                                                        'command', v_job.command, 'jobid', v_jobid);
    ELSE
      v_jobs := v_jobs || pg_catalog.to_jsonb(pg_catalog.format('%s psql "$DATABASE_URL" -c "%s"',
                                                                v_job.schedule, v_job.command));
    END IF;
  END LOOP;
  IF v_cron THEN
    RETURN pg_catalog.jsonb_build_object('pg_cron', true, 'jobs', v_jobs);
  END IF;
  RETURN pg_catalog.jsonb_build_object(
    'pg_cron', false,
    'crontab', v_jobs,
    'hint', 'pg_cron is not installed in this database. Run these lines from cron or any scheduler, '
            '`pgpkg jobs run NAME`, or install pg_cron (shared_preload_libraries = pg_cron, cron.database_name '
            '= this database, CREATE EXTENSION pg_cron) and call schedule_jobs() again.');
END
$function$;

COMMENT ON FUNCTION analytics.schedule_jobs() IS
  'Register the pgpkg jobs with pg_cron by name (idempotent); without pg_cron, return equivalent crontab lines.';
