CREATE OR REPLACE FUNCTION analytics.status()
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: what is installed and how full it is, for `pgpkg status`.
Returns: {
  "pg_cron": bool (the extension is installed in this database),
  "partitions": [{"name", "bounds", "estimated_rows", "bytes"}] oldest first,
     the default partition last,
  "default_partition_rows": exact count of rows waiting in the default partition,
  "events_bytes": total size of all partitions with indexes,
  "rejected_events": n, "pending_buckets": n,
  "jobs": [{"jobname", "schedule", "active"}] from cron.job when pg_cron is present }
  Row counts of day partitions are the planner's estimates (pg_class.reltuples,
  fresh after ANALYZE/autovacuum): counting 90 days of events would take minutes.
Example: SELECT analytics.status();
*/
DECLARE
  v_cron boolean := EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron');
  v_jobs jsonb := '[]';
BEGIN
  IF v_cron THEN
    EXECUTE $sql$
      SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
               'jobname', j.jobname, 'schedule', j.schedule, 'active', j.active) ORDER BY j.jobname), '[]')
        FROM cron.job j
       WHERE j.database = pg_catalog.current_database()$sql$
      INTO v_jobs;
  END IF;
  RETURN pg_catalog.jsonb_build_object(
    'pg_cron', v_cron,
    'partitions', (
      SELECT coalesce(pg_catalog.jsonb_agg(p.part ORDER BY p.is_default, p.name), '[]')
        FROM (
          SELECT c.relname AS name, c.relispartition AND pg_catalog.pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT' AS is_default,
                 pg_catalog.jsonb_build_object(
                   'name', c.relname,
                   'bounds', pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                   'estimated_rows', CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::bigint END,
                   'bytes', pg_catalog.pg_total_relation_size(c.oid)) AS part
            FROM pg_catalog.pg_inherits i
            JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'analytics.events'::pg_catalog.regclass
        ) p),
    'default_partition_rows', (SELECT pg_catalog.count(*) FROM analytics.events_default),
    'events_bytes', (SELECT coalesce(pg_catalog.sum(pg_catalog.pg_total_relation_size(i.inhrelid)), 0)
                       FROM pg_catalog.pg_inherits i
                      WHERE i.inhparent = 'analytics.events'::pg_catalog.regclass),
    'rejected_events', (SELECT pg_catalog.count(*) FROM analytics.rejected_events),
    'pending_buckets', (SELECT pg_catalog.count(*) FROM (SELECT DISTINCT project_id, bucket FROM analytics.dirty_buckets) b),
    'jobs', v_jobs);
END
$function$;

COMMENT ON FUNCTION analytics.status() IS
  'Install status: pg_cron present, partitions with estimated rows and sizes, default partition rows, rejected events, jobs.';
