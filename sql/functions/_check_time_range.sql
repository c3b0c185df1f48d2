CREATE OR REPLACE FUNCTION analytics._check_time_range(from_ts timestamptz, to_ts timestamptz)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: refuse a time range that read functions will not serve: missing,
  reversed or empty, or longer than 400 days.
Errors: 22023 with the reason.
Example: SELECT analytics._check_time_range(now() - interval '7 days', now());
*/
BEGIN
  IF from_ts IS NULL OR to_ts IS NULL OR from_ts >= to_ts THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = pg_catalog.format('invalid time range: from_ts %s must be before to_ts %s', from_ts, to_ts);
  END IF;
  IF to_ts - from_ts > interval '400 days' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'time range too long: at most 400 days',
      HINT = 'Daily totals over longer spans are in analytics.rollup_daily.';
  END IF;
END
$function$;

COMMENT ON FUNCTION analytics._check_time_range(timestamptz, timestamptz) IS
  'Internal: 22023 for a missing, reversed or too long time range.';
