CREATE OR REPLACE FUNCTION analytics._hours_written_since_refresh(
  project_id text,
  from_ts timestamptz,
  to_ts timestamptz
)
RETURNS timestamptz[]
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: the UTC hours (their starts) that overlap [from_ts, to_ts) and
  hold events written, changed or deleted since the last refresh_rollups()
  (analytics.dirty_buckets): where a project's rollups may not know its
  raw events yet, so that readers that must be exact read those hours raw
  (funnel(): _funnel_from_session_paths, _funnel_walk_sessions,
  _users_written_since_refresh).
Parameters: project_id (resolved by the caller); from_ts, to_ts the range.
Returns: the hours, each once, in order (an empty array for none).
Example: SELECT analytics._hours_written_since_refresh('default', now() - interval '1 day', now());
*/
  SELECT coalesce(pg_catalog.array_agg(DISTINCT d.bucket ORDER BY d.bucket), '{}')
    FROM analytics.dirty_buckets d
   WHERE d.project_id = _hours_written_since_refresh.project_id
     AND d.bucket > from_ts - interval '1 hour' AND d.bucket < to_ts
$function$;

COMMENT ON FUNCTION analytics._hours_written_since_refresh(text, timestamptz, timestamptz) IS
  'Internal: the hours of a range written since the last refresh_rollups() (the ones funnel() reads raw).';
