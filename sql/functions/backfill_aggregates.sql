CREATE OR REPLACE FUNCTION analytics.backfill_aggregates(from_day date, to_day date)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: rebuild every rollup of the UTC days from_day..to_day (inclusive)
  from the raw events, for every project: each hour that has events or
  rollup rows is recomputed, with the sessions, experiments and project days
  it touches. For history imported around the package, or after a repair.
  Idempotent. One call is one transaction: `pgpkg backfill FROM TO` calls it
  one day at a time, with a progress bar.
Parameters: from_day <= to_day, at most 366 days apart.
Returns: {"from_day", "to_day", "buckets", "hourly_rows", "sessions", "experiment_sessions", "days"}
Errors: 22023 for a reversed or too long range.
Security: SECURITY DEFINER; EXECUTE for analytics_admin.
Example: SELECT analytics.backfill_aggregates(current_date - 90, current_date - 1);
*/
DECLARE
  v_from     timestamptz := from_day::timestamp AT TIME ZONE 'UTC';
  v_to       timestamptz := (to_day + 1)::timestamp AT TIME ZONE 'UTC';
  v_projects text[];
  v_buckets  timestamptz[];
  v_result   jsonb;
BEGIN
  IF from_day IS NULL OR to_day IS NULL OR from_day > to_day OR to_day - from_day > 366 THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = pg_catalog.format('invalid day range %s to %s', from_day, to_day),
      HINT = 'Give from_day <= to_day, at most 366 days apart; pgpkg backfill splits longer ranges.';
  END IF;
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('analytics.refresh_rollups'));
  SELECT pg_catalog.array_agg(b.project_id), pg_catalog.array_agg(b.bucket)
    INTO v_projects, v_buckets
    FROM (SELECT DISTINCT e.project_id, pg_catalog.date_trunc('hour', e.occurred_at, 'UTC') AS bucket
            FROM analytics.events e WHERE e.occurred_at >= v_from AND e.occurred_at < v_to
          UNION
          SELECT t.project_id, t.bucket FROM analytics.rollup_hourly_totals t
           WHERE t.bucket >= v_from AND t.bucket < v_to
          UNION
          SELECT d.project_id, d.bucket FROM analytics.dirty_buckets d
           WHERE d.bucket >= v_from AND d.bucket < v_to) b;
  v_result := analytics._recompute_buckets(v_projects, v_buckets);
  RETURN pg_catalog.jsonb_build_object('from_day', from_day, 'to_day', to_day) || v_result;
END
$function$;

COMMENT ON FUNCTION analytics.backfill_aggregates(date, date) IS
  'Rebuild every rollup of a range of UTC days from the raw events; idempotent.';
