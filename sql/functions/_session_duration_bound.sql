CREATE OR REPLACE FUNCTION analytics._session_duration_bound(duration interval)
RETURNS interval
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: the class of a session's duration in analytics.rollup_hourly_paths:
  the smallest of 0 s, 1, 5, 10, 15 and 30 minutes, 1, 2, 6 and 12 hours,
  1, 2, 7, 30 and 90 days that is at least `duration` (days of 24 hours).
  funnel() counts a path rollup row as within its window when this bound
  is, so the common windows are bounds themselves and cut no class.
Parameters: duration, the session's last event's time minus its first.
Returns: the bound, or NULL beyond 90 days (and for a NULL duration).
Example: SELECT analytics._session_duration_bound(interval '42 minutes');  -- 01:00:00
*/
  SELECT pg_catalog.min(b)
    FROM unnest('{0, 1 min, 5 min, 10 min, 15 min, 30 min, 1 hour, 2 hours, 6 hours, 12 hours,
                  24 hours, 48 hours, 168 hours, 720 hours, 2160 hours}'::interval[]) AS b
   WHERE b >= duration
$function$;

COMMENT ON FUNCTION analytics._session_duration_bound(interval) IS
  'Internal: the duration class of a session in the path rollup (the smallest fixed bound at least its duration).';
