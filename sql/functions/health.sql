CREATE OR REPLACE FUNCTION analytics.health()
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: is pgpkg keeping up? One call, for dashboards and `pgpkg status`.
Returns: {
  "pending_buckets": buckets marked and not yet rolled up (all rollups together),
  "oldest_pending_bucket": timestamptz or null,
  "default_partition_rows": rows waiting for their partition,
  "partitions_ahead": days premade past today (UTC),
  "jobs": {"<job>": {"last_success_at", "last_error_at", "last_error", "failures_24h"}},
  "rejected_events_24h": n }
Security: SECURITY DEFINER; EXECUTE for analytics_admin.
Example: SELECT analytics.health();
*/
DECLARE
  v_today date := (pg_catalog.now() AT TIME ZONE 'UTC')::date;
BEGIN
  RETURN pg_catalog.jsonb_build_object(
    'pending_buckets', (SELECT pg_catalog.count(*) FROM (SELECT DISTINCT d.project_id, d.bucket
                                                          FROM analytics.dirty_buckets d) b),
    'oldest_pending_bucket', (SELECT pg_catalog.min(d.bucket) FROM analytics.dirty_buckets d),
    'default_partition_rows', (SELECT pg_catalog.count(*) FROM analytics.events_default),
    'partitions_ahead', (
      SELECT coalesce(pg_catalog.max(pg_catalog.to_date(pg_catalog.substr(c.relname, 9), 'YYYYMMDD')) - v_today, -1)
        FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'analytics.events'::pg_catalog.regclass AND c.relname ~ '^events_p[0-9]{8}$'),
    'jobs', (SELECT coalesce(pg_catalog.jsonb_object_agg(s.job_name, pg_catalog.jsonb_build_object(
                       'last_success_at', s.last_success_at, 'last_error_at', s.last_error_at,
                       'last_error', s.last_error, 'failures_24h', s.failures_24h)), '{}')
               FROM analytics.job_status s),
    'rejected_events_24h', (SELECT pg_catalog.count(*) FROM analytics.rejected_events r
                             WHERE r.rejected_at > pg_catalog.now() - interval '24 hours'));
END
$function$;

COMMENT ON FUNCTION analytics.health() IS
  'Pending buckets, oldest pending bucket, default partition rows, partitions ahead, last success and error per job.';
