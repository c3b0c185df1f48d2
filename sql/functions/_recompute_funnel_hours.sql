CREATE OR REPLACE FUNCTION analytics._recompute_funnel_hours(project_id text, funnel_id text, hours timestamptz[])
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: recompute the rows of analytics.rollup_hourly_funnel_steps of one
  saved funnel for the given UTC hours of entry, from
  analytics.funnel_sessions: per hour of entry, step, and hour that step
  was reached, the sessions. An hour with no session left loses its rows.
Parameters: project_id, funnel_id: the saved funnel; hours: UTC hours
  (duplicates are fine).
Returns: the number of rollup rows written.
Example: SELECT analytics._recompute_funnel_hours('default', 'signup', ARRAY['2026-11-01 10:00+00']::timestamptz[]);
*/
DECLARE
  v_rows bigint;
BEGIN
  DELETE FROM analytics.rollup_hourly_funnel_steps r
   WHERE r.project_id = _recompute_funnel_hours.project_id AND r.funnel_id = _recompute_funnel_hours.funnel_id
     AND r.bucket = ANY (hours);
  INSERT INTO analytics.rollup_hourly_funnel_steps (project_id, funnel_id, bucket, step, reached_bucket, sessions)
    SELECT _recompute_funnel_hours.project_id, _recompute_funnel_hours.funnel_id, h.bucket, r.step,
           pg_catalog.date_trunc('hour', r.at, 'UTC'), pg_catalog.count(*)
      FROM (SELECT DISTINCT b AS bucket FROM unnest(hours) AS b) h
     CROSS JOIN LATERAL (  -- one index range per hour (OFFSET 0: never a scan of the whole funnel)
       SELECT fs.reached_at FROM analytics.funnel_sessions fs
        WHERE fs.project_id = _recompute_funnel_hours.project_id AND fs.funnel_id = _recompute_funnel_hours.funnel_id
          AND fs.entered_at >= h.bucket AND fs.entered_at < h.bucket + interval '1 hour'
       OFFSET 0
     ) fs
     CROSS JOIN LATERAL unnest(fs.reached_at) WITH ORDINALITY AS r(at, step)
     GROUP BY h.bucket, r.step, pg_catalog.date_trunc('hour', r.at, 'UTC');
  GET DIAGNOSTICS v_rows = ROW_COUNT;
  RETURN v_rows;
END
$function$;

COMMENT ON FUNCTION analytics._recompute_funnel_hours(text, text, timestamptz[]) IS
  'Internal: recompute the hourly rollup of one saved funnel for the given hours of entry.';
