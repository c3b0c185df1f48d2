CREATE OR REPLACE FUNCTION analytics._refresh_marked_between(from_ts timestamptz, to_ts timestamptz)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: recompute every marked bucket in [from_ts, to_ts), whatever their
  number (their marks are cleared by _recompute_buckets): what must be true before a day
  is finalised or its raw partition dropped. The caller holds the
  refresh_rollups advisory lock.
Returns: analytics._recompute_buckets()'s report.
Example: SELECT analytics._refresh_marked_between(now() - interval '1 day', now());
*/
DECLARE
  v_projects text[];
  v_buckets  timestamptz[];
BEGIN
  SELECT pg_catalog.array_agg(d.project_id), pg_catalog.array_agg(d.bucket)
    INTO v_projects, v_buckets
    FROM analytics.dirty_buckets d
   WHERE d.bucket >= pg_catalog.date_trunc('hour', from_ts, 'UTC') AND d.bucket < to_ts;
  RETURN analytics._recompute_buckets(v_projects, v_buckets);
END
$function$;

COMMENT ON FUNCTION analytics._refresh_marked_between(timestamptz, timestamptz) IS
  'Internal: recompute all marked buckets of a time range and clear their marks.';
