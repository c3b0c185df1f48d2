CREATE OR REPLACE FUNCTION analytics.maintain_partitions(premake_days integer DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: keep the daily partitions of analytics.events ahead of the clock
  (not of the data): today and `premake_days` days after it (UTC) exist
  afterwards. Rows that landed in the default partition (late or backfilled
  events of a day without a partition) are moved into their own partition,
  created first. Safe to run concurrently with ingest and with itself: runs
  are serialised by an advisory lock, and ingest into existing partitions
  goes on while a partition is created (see _create_day_partition). Runs in
  the caller's transaction, like every maintenance function.
Parameters:
  premake_days  days ahead of today; NULL means the setting partition_premake_days (7)
Returns: {"created": [names], "moved_rows": n, "default_partition_rows": n, "premade_until": date}
Security: SECURITY DEFINER (it creates tables); EXECUTE for analytics_admin.
Errors: 22023 when premake_days is negative or above 366.
Locks: advisory transaction lock (key: hashtext('analytics.maintain_partitions')).
Example: SELECT analytics.maintain_partitions();
*/
DECLARE
  v_premake integer := coalesce(premake_days, analytics._setting('partition_premake_days')::integer);
  v_today   date := (pg_catalog.now() AT TIME ZONE 'UTC')::date;
  v_created text[] := '{}';
  v_moved   bigint := 0;
  v_step    jsonb;
  v_day     date;
BEGIN
  IF v_premake NOT BETWEEN 0 AND 366 THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = pg_catalog.format('premake_days must be between 0 and 366, not %s', v_premake);
  END IF;
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('analytics.maintain_partitions'));

  FOR v_day IN
    SELECT DISTINCT (d.occurred_at AT TIME ZONE 'UTC')::date FROM analytics.events_default d
    UNION
    SELECT pg_catalog.generate_series(v_today, v_today + v_premake, interval '1 day')::date
    ORDER BY 1
  LOOP
    v_step := analytics._create_day_partition(v_day);
    IF (v_step ->> 'created')::boolean THEN
      v_created := v_created || (v_step ->> 'partition');
    END IF;
    v_moved := v_moved + (v_step ->> 'moved_rows')::bigint;
  END LOOP;

  RETURN pg_catalog.jsonb_build_object(
    'created', pg_catalog.to_jsonb(v_created),
    'moved_rows', v_moved,
    'default_partition_rows', (SELECT pg_catalog.count(*) FROM analytics.events_default),
    'premade_until', v_today + v_premake);
END
$function$;

COMMENT ON FUNCTION analytics.maintain_partitions(integer) IS
  'Create daily partitions ahead of the clock and move rows out of the default partition; returns a jsonb report.';
