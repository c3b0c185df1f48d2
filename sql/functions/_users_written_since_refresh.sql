CREATE OR REPLACE FUNCTION analytics._users_written_since_refresh(
  project_id text,
  from_ts timestamptz,
  to_ts timestamptz
)
RETURNS text[]
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $function$
/*
Contract: the users of a project's raw events, now, in [from_ts, to_ts)
  and in an hour written since the last refresh_rollups()
  (_hours_written_since_refresh): the users the rollups may not know yet there
  (a new user, or a user's new event). One index range per hour written,
  usually the current one. funnel() by user adds them to the users its
  rollups name (_funnel_user_candidates, _funnel_from_user_steps).
Parameters: project_id (resolved by the caller); from_ts, to_ts the range.
Returns: the user ids, each once (an empty array for none).
Example: SELECT analytics._users_written_since_refresh('default', now() - interval '1 day', now());
*/
DECLARE
  v_hours timestamptz[] := analytics._hours_written_since_refresh(project_id, from_ts, to_ts);
  v_users text[] := '{}';
  v_lo    timestamptz;
  v_hi    timestamptz;
BEGIN
  -- Usually none: then no query over the partitions is even planned
  -- (about 2 ms at 31 partitions).
  IF pg_catalog.cardinality(v_hours) = 0 THEN
    RETURN '{}';
  END IF;
  -- One read per hour, its bounds given as values: planned for its
  -- partition alone, through the index on occurred_at (an hour's bounds
  -- taken from a join were read as a scan of the day).
  FOREACH v_lo IN ARRAY v_hours LOOP
    v_hi := least(v_lo + interval '1 hour', to_ts);
    v_lo := greatest(v_lo, from_ts);
    v_users := v_users || ARRAY(
      SELECT DISTINCT x.user_id FROM analytics.events x
       WHERE x.project_id = _users_written_since_refresh.project_id AND x.user_id IS NOT NULL
         AND x.occurred_at >= v_lo AND x.occurred_at < v_hi);
  END LOOP;
  IF pg_catalog.cardinality(v_hours) > 1 THEN
    SELECT pg_catalog.array_agg(DISTINCT u) INTO v_users FROM unnest(v_users) AS u;
  END IF;
  RETURN coalesce(v_users, '{}');
END
$function$;

COMMENT ON FUNCTION analytics._users_written_since_refresh(text, timestamptz, timestamptz) IS
  'Internal: the users of raw events in a range''s hours written since the last refresh (funnels by user).';
