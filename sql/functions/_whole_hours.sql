CREATE OR REPLACE FUNCTION analytics._whole_hours(
  from_ts timestamptz,
  to_ts timestamptz,
  OUT first_hour timestamptz,
  OUT end_hour timestamptz
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: the whole UTC hours inside [from_ts, to_ts), which read functions
  take from hourly rollups; the partial hours at both ends,
  [from_ts, first_hour) and [end_hour, to_ts), they read otherwise.
Returns: first_hour, the first whole hour; end_hour, the end of the last
  one. With no whole hour inside, end_hour = first_hour (an empty span).
Example: SELECT * FROM analytics._whole_hours('2026-03-02 10:20+00', '2026-03-02 13:05+00');
  -- 11:00, 13:00
*/
BEGIN
  first_hour := pg_catalog.date_trunc('hour', from_ts, 'UTC');
  IF first_hour < from_ts THEN
    first_hour := first_hour + interval '1 hour';
  END IF;
  end_hour := greatest(first_hour, pg_catalog.date_trunc('hour', to_ts, 'UTC'));
END
$function$;

COMMENT ON FUNCTION analytics._whole_hours(timestamptz, timestamptz) IS
  'Internal: the first whole UTC hour of a range and the end of its last one.';
