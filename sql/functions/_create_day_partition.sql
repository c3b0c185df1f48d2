CREATE OR REPLACE FUNCTION analytics._create_day_partition(day date)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '10s'
AS $function$
/*
Contract: make sure the partition of analytics.events for one UTC day exists
  (analytics.events_pYYYYMMDD, [day 00:00 UTC, day+1 00:00 UTC)). If rows of
  that day sit in the default partition, they are moved into the new
  partition in the same transaction, and their buckets marked for the rollup
  job. This is the step where pg_partman users hit "updated partition
  constraint for default partition would be violated": the partition is
  built as a plain table, filled, and only then attached.
Parameters: day, a UTC calendar day.
Returns: {"partition": name, "created": bool, "moved_rows": n}
Locks: ACCESS EXCLUSIVE on analytics.events_default while creating (inserts
  into other partitions go on); SHARE UPDATE EXCLUSIVE on analytics.events
  for the ATTACH. Gives up after lock_timeout (10 s) with SQLSTATE 55P03;
  the next run tries again.
Example: SELECT analytics._create_day_partition(date '2026-11-23');
*/
DECLARE
  v_name  text := 'events_p' || pg_catalog.to_char(day, 'YYYYMMDD');
  v_from  timestamptz := day::timestamp AT TIME ZONE 'UTC';
  v_to    timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
  v_moved bigint;
BEGIN
  IF pg_catalog.to_regclass(pg_catalog.format('analytics.%I', v_name)) IS NOT NULL THEN
    RETURN pg_catalog.jsonb_build_object('partition', v_name, 'created', false, 'moved_rows', 0);
  END IF;

  -- No insert may land in the default partition for this day while we move.
  LOCK TABLE analytics.events_default IN ACCESS EXCLUSIVE MODE;

  EXECUTE pg_catalog.format(
    'CREATE TABLE analytics.%I (LIKE analytics.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_name);
  EXECUTE pg_catalog.format($sql$
    WITH moved AS (
      DELETE FROM analytics.events_default
       WHERE occurred_at >= $1 AND occurred_at < $2
      RETURNING *
    ), copied AS (
      INSERT INTO analytics.%I SELECT * FROM moved
      RETURNING project_id, occurred_at
    ), marked AS (
      INSERT INTO analytics.dirty_buckets (project_id, bucket)
      SELECT DISTINCT c.project_id, pg_catalog.date_trunc('hour', c.occurred_at, 'UTC') FROM copied c
    )
    SELECT pg_catalog.count(*) FROM copied$sql$, v_name)
    INTO v_moved
    USING v_from, v_to;
  EXECUTE pg_catalog.format(
    'ALTER TABLE analytics.events ATTACH PARTITION analytics.%I FOR VALUES FROM (%L) TO (%L)',
    v_name, v_from, v_to);
  RETURN pg_catalog.jsonb_build_object('partition', v_name, 'created', true, 'moved_rows', v_moved);
END
$function$;

COMMENT ON FUNCTION analytics._create_day_partition(date) IS
  'Internal: create the events partition of one UTC day, moving its rows out of the default partition first.';
