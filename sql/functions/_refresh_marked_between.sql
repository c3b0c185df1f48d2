CREATE OR REPLACE FUNCTION analytics._refresh_marked_between(from_ts timestamptz, to_ts timestamptz)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: recompute every marked bucket in [from_ts, to_ts), whatever their
  number, and clear exactly the marks read: what must be true before a day
  is finalised or its raw partition dropped. The caller holds the
  refresh_rollups advisory lock.
Returns: analytics._recompute_buckets()'s report.
Example: SELECT analytics._refresh_marked_between(now() - interval '1 day', now());
*/
DECLARE
  v_projects      text[];
  v_buckets       timestamptz[];
  v_mark_projects text[];
  v_mark_ids      bigint[];
  v_result        jsonb;
BEGIN
  SELECT pg_catalog.array_agg(d.project_id), pg_catalog.array_agg(d.mark_id),
         pg_catalog.array_agg(d.project_id), pg_catalog.array_agg(d.bucket)
    INTO v_mark_projects, v_mark_ids, v_projects, v_buckets
    FROM analytics.dirty_buckets d
   WHERE d.bucket >= pg_catalog.date_trunc('hour', from_ts, 'UTC') AND d.bucket < to_ts;
  v_result := analytics._recompute_buckets(v_projects, v_buckets);
  DELETE FROM analytics.dirty_buckets d USING unnest(v_mark_projects, v_mark_ids) AS c(project_id, mark_id)
   WHERE d.project_id = c.project_id AND d.mark_id = c.mark_id;
  RETURN v_result;
END
$function$;

COMMENT ON FUNCTION analytics._refresh_marked_between(timestamptz, timestamptz) IS
  'Internal: recompute all marked buckets of a time range and clear their marks.';
