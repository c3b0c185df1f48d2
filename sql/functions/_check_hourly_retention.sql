CREATE OR REPLACE FUNCTION analytics._check_hourly_retention(from_ts timestamptz, strict boolean DEFAULT true)
RETURNS boolean
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: whether a range starting at from_ts lies within the hourly
  rollups kept (cleanup() trims them after rollup_retention_days, 90 by
  default). A read over trimmed hours would silently count too little, so
  read functions refuse it instead.
Parameters: strict true: raise when it does not; false: return false.
Returns: true when from_ts is at most rollup_retention_days old.
Errors: 22023 (strict only) with the setting and how to raise it.
Example: SELECT analytics._check_hourly_retention(now() - interval '30 days');
*/
DECLARE
  v_days integer := analytics._setting('rollup_retention_days')::integer;
BEGIN
  IF from_ts >= pg_catalog.now() - pg_catalog.make_interval(hours => 24 * v_days) THEN
    RETURN true;
  END IF;
  IF strict THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = pg_catalog.format('from_ts %s is older than the hourly rollups kept (rollup_retention_days = %s)',
                                  from_ts, v_days),
      HINT = 'Keep them longer (UPDATE analytics.settings SET value = ''400'' WHERE key = ''rollup_retention_days''); '
             'daily_stats() and user_stats() read the daily tables, which are kept.';
  END IF;
  RETURN false;
END
$function$;

COMMENT ON FUNCTION analytics._check_hourly_retention(timestamptz, boolean) IS
  'Internal: whether a range starting at from_ts is within the hourly rollups kept; 22023 when strict.';
