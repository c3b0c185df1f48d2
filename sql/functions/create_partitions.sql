CREATE OR REPLACE FUNCTION analytics.create_partitions(from_day date, to_day date)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: make sure the daily partitions of analytics.events exist for every
  UTC day from `from_day` to `to_day`, inclusive: before a backfill or an
  import of history, so that old events go straight to their partition
  instead of through the default partition. Idempotent.
Parameters: from_day, to_day: UTC days, from_day <= to_day, at most 3660 days apart.
Returns: {"created": [names], "moved_rows": n}
Errors: 22023 when the range is reversed or longer than 3660 days.
Security: SECURITY DEFINER (it creates tables); EXECUTE for analytics_admin.
Example: SELECT analytics.create_partitions(current_date - 30, current_date);
*/
DECLARE
  v_created text[] := '{}';
  v_moved   bigint := 0;
  v_step    jsonb;
  v_day     date;
BEGIN
  IF from_day IS NULL OR to_day IS NULL OR from_day > to_day OR to_day - from_day > 3660 THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = pg_catalog.format('invalid day range %s to %s', from_day, to_day),
      HINT = 'Give from_day <= to_day, at most 3660 days apart.';
  END IF;
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('analytics.maintain_partitions'));
  FOR v_day IN SELECT pg_catalog.generate_series(from_day, to_day, interval '1 day')::date LOOP
    v_step := analytics._create_day_partition(v_day);
    IF (v_step ->> 'created')::boolean THEN
      v_created := v_created || (v_step ->> 'partition');
    END IF;
    v_moved := v_moved + (v_step ->> 'moved_rows')::bigint;
  END LOOP;
  RETURN pg_catalog.jsonb_build_object('created', pg_catalog.to_jsonb(v_created), 'moved_rows', v_moved);
END
$function$;

COMMENT ON FUNCTION analytics.create_partitions(date, date) IS
  'Create the daily events partitions of a range of UTC days (before a backfill); idempotent.';
