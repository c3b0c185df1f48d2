CREATE OR REPLACE FUNCTION analytics.unschedule_jobs()
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: remove the pgpkg jobs of this database from pg_cron (those named
  in the settings schedule.<job>). Idempotent; without pg_cron, a no-op.
Returns: {"pg_cron": bool, "unscheduled": [job names]}
Security: SECURITY DEFINER; EXECUTE for analytics_admin.
Example: SELECT analytics.unschedule_jobs();
*/
DECLARE
  v_names text[];
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
    RETURN '{"pg_cron": false, "unscheduled": []}'::jsonb;
  END IF;
  EXECUTE $sql$
    SELECT coalesce(pg_catalog.array_agg(j.jobname ORDER BY j.jobname), '{}')
      FROM cron.job j
     WHERE j.database = pg_catalog.current_database()
       AND j.jobname IN (SELECT pg_catalog.substr(s.key, 10) FROM analytics.settings s WHERE s.key LIKE 'schedule.%')
       AND cron.unschedule(j.jobid)$sql$
    INTO v_names;
  RETURN pg_catalog.jsonb_build_object('pg_cron', true, 'unscheduled', pg_catalog.to_jsonb(v_names));
END
$function$;

COMMENT ON FUNCTION analytics.unschedule_jobs() IS
  'Remove this database''s pgpkg jobs from pg_cron; idempotent.';
