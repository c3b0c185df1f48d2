CREATE OR REPLACE FUNCTION analytics._users_written_since_refresh(
  project_id text,
  from_ts timestamptz,
  to_ts timestamptz
)
RETURNS text[]
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: the users of a project's raw events, now, in [from_ts, to_ts)
  and in an hour written since the last refresh_rollups()
  (_hours_written_since_refresh): the users the rollups may not know yet there
  (a new user, or a user's new event). One index probe per hour written,
  usually the current one. funnel() by user adds them to the users its
  rollups name (_funnel_user_candidates, _funnel_from_user_steps).
Parameters: project_id (resolved by the caller); from_ts, to_ts the range.
Returns: the user ids, each once (an empty array for none).
Example: SELECT analytics._users_written_since_refresh('default', now() - interval '1 day', now());
*/
DECLARE
  v_hours timestamptz[] := analytics._hours_written_since_refresh(project_id, from_ts, to_ts);
  v_users text[];
BEGIN
  -- Usually none: then the query over the partitions is not even planned
  -- (about 2 ms at 31 partitions).
  IF pg_catalog.cardinality(v_hours) = 0 THEN
    RETURN '{}';
  END IF;
  SELECT coalesce(pg_catalog.array_agg(DISTINCT e.user_id), '{}') INTO v_users
    FROM unnest(v_hours) AS d(bucket)
   CROSS JOIN LATERAL (
     SELECT x.user_id FROM analytics.events x
      WHERE x.project_id = _users_written_since_refresh.project_id AND x.user_id IS NOT NULL
        AND x.occurred_at >= greatest(d.bucket, from_ts) AND x.occurred_at < least(d.bucket + interval '1 hour', to_ts)
     OFFSET 0) e;  -- one probe per hour written
  RETURN v_users;
END
$function$;

COMMENT ON FUNCTION analytics._users_written_since_refresh(text, timestamptz, timestamptz) IS
  'Internal: the users of raw events in a range''s hours written since the last refresh (funnels by user).';
