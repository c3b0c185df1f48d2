CREATE OR REPLACE FUNCTION analytics._job_command(job_name text)
RETURNS text
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: the SQL a pgpkg job runs, by the job's name; NULL for an unknown job.
  The jobs: analytics-rollup, aggregate-analytics-daily,
  analytics-refresh-views, analytics-maintain-partitions, analytics-cleanup.
Example: SELECT analytics._job_command('analytics-rollup');
*/
  SELECT CASE job_name
           WHEN 'analytics-rollup' THEN 'SELECT analytics.refresh_rollups()'
           WHEN 'aggregate-analytics-daily' THEN 'SELECT analytics.aggregate_analytics_daily()'
           WHEN 'analytics-refresh-views' THEN 'SELECT analytics.refresh_views()'
           WHEN 'analytics-maintain-partitions' THEN 'SELECT analytics.maintain_partitions()'
           WHEN 'analytics-cleanup' THEN 'SELECT analytics.cleanup()'
         END
$function$;

COMMENT ON FUNCTION analytics._job_command(text) IS
  'Internal: the SQL statement of a pgpkg job, by name.';
