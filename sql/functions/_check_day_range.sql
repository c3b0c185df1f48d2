CREATE OR REPLACE FUNCTION analytics._check_day_range(from_day date, to_day date)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: refuse a day range that read functions will not serve: missing,
  reversed, or longer than 400 days.
Errors: 22023 with the reason.
Example: SELECT analytics._check_day_range(current_date - 30, current_date);
*/
BEGIN
  IF from_day IS NULL OR to_day IS NULL OR from_day > to_day THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = pg_catalog.format('invalid day range: from_day %s must not be after to_day %s', from_day, to_day);
  END IF;
  IF to_day - from_day > 400 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'day range too long: at most 400 days';
  END IF;
END
$function$;

COMMENT ON FUNCTION analytics._check_day_range(date, date) IS
  'Internal: 22023 for a missing, reversed or too long day range.';
