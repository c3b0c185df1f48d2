CREATE OR REPLACE FUNCTION analytics._check_count_by(count_by text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: refuse what funnels cannot count by: anything but 'session' and
  'user' (funnel(), save_funnel()).
Errors: 22023 with a hint.
Example: SELECT analytics._check_count_by('user');
*/
BEGIN
  IF count_by IS NULL OR count_by NOT IN ('session', 'user') THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('unknown count_by %L', count_by),
      HINT = 'count_by is ''session'' or ''user''.';
  END IF;
END
$function$;

COMMENT ON FUNCTION analytics._check_count_by(text) IS
  'Internal: 22023 for a funnel count_by other than session or user.';
