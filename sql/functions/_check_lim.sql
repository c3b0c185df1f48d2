CREATE OR REPLACE FUNCTION analytics._check_lim(lim integer, most integer)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: refuse a row limit that read functions will not serve: missing,
  below 1 or above `most`.
Errors: 22023 with the bounds.
Example: SELECT analytics._check_lim(100, 10000);
*/
BEGIN
  IF lim IS NULL OR lim NOT BETWEEN 1 AND most THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('lim must be between 1 and %s, not %s', most, lim);
  END IF;
END
$function$;

COMMENT ON FUNCTION analytics._check_lim(integer, integer) IS
  'Internal: 22023 for a missing or out-of-range row limit.';
