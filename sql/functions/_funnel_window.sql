CREATE OR REPLACE FUNCTION analytics._funnel_window(within interval)
RETURNS interval
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: check a funnel's conversion window and return it as a plain
  number of seconds, so that entered_at + window is the same instant in
  every session time zone ('1 day' is 86,400 s, also across a DST change).
Parameters: within, more than 0 and at most 90 days.
Returns: the window as an interval of seconds only.
Errors: 22023 a missing, zero, negative or longer window.
Example: SELECT analytics._funnel_window('1 day');  -- 24:00:00
*/
BEGIN
  IF within IS NULL OR within <= interval '0' OR within > interval '90 days' THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = pg_catalog.format('within must be more than 0 and at most 90 days, not %s', within);
  END IF;
  RETURN pg_catalog.make_interval(secs => EXTRACT(epoch FROM within));
END
$function$;

COMMENT ON FUNCTION analytics._funnel_window(interval) IS
  'Internal: check a funnel window and return it in seconds; 22023 for a bad window.';
