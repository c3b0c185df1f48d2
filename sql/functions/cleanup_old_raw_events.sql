CREATE OR REPLACE FUNCTION analytics.cleanup_old_raw_events(days integer DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '10s'
AS $function$
/*
Contract: drop whole daily partitions of analytics.events that lie entirely
  before the retention window (now - days, cut at a UTC midnight): no row
  by row DELETE, no bloat, the space is returned at once. Buckets of those
  days that are still marked are rolled up first, so no raw event goes
  before it is counted; rollups and daily tables stay. Rows of expired days
  in the default partition (written around the ingest checks) are deleted,
  also after their buckets are rolled up. The seed's function, by its name.
Parameters: days: raw retention in days; NULL: the setting raw_retention_days (90).
Returns: {"cutoff", "dropped": [partition names], "default_rows_deleted", "rolled_up_first": buckets}
Errors: 22023 when days < 1.
Locks: the refresh_rollups advisory lock; ACCESS EXCLUSIVE on each dropped
  partition and briefly on analytics.events (lock_timeout 10 s, SQLSTATE
  55P03: the next run retries).
Security: SECURITY DEFINER; EXECUTE for analytics_admin.
Example: SELECT analytics.cleanup_old_raw_events(90);
*/
DECLARE
  v_days    integer := coalesce(days, analytics._setting('raw_retention_days')::integer);
  v_cutoff  timestamptz;
  v_dropped text[] := '{}';
  v_rolled  bigint := 0;
  v_deleted bigint;
  v_part    record;
BEGIN
  IF v_days < 1 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('days must be at least 1, not %s', v_days);
  END IF;
  v_cutoff := pg_catalog.date_trunc('day', pg_catalog.now() - pg_catalog.make_interval(hours => 24 * v_days), 'UTC');
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('analytics.refresh_rollups'));

  -- Count what is about to go, then let it go.
  v_rolled := coalesce((analytics._refresh_marked_between('-infinity', v_cutoff) ->> 'buckets')::bigint, 0);

  FOR v_part IN
    SELECT c.relname
      FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'analytics.events'::pg_catalog.regclass
       AND c.relname ~ '^events_p[0-9]{8}$'
       AND (pg_catalog.to_date(pg_catalog.substr(c.relname, 9), 'YYYYMMDD') + 1)::timestamp AT TIME ZONE 'UTC' <= v_cutoff
     ORDER BY c.relname
  LOOP
    EXECUTE pg_catalog.format('DROP TABLE analytics.%I', v_part.relname);
    v_dropped := v_dropped || v_part.relname::text;
  END LOOP;

  DELETE FROM analytics.events_default d WHERE d.occurred_at < v_cutoff;
  GET DIAGNOSTICS v_deleted = ROW_COUNT;
  -- The trigger marked the deleted rows' buckets; their rollups stay as they were.
  DELETE FROM analytics.dirty_buckets d WHERE d.bucket < v_cutoff;

  RETURN pg_catalog.jsonb_build_object('cutoff', v_cutoff, 'dropped', pg_catalog.to_jsonb(v_dropped),
                                       'default_rows_deleted', v_deleted, 'rolled_up_first', v_rolled);
END
$function$;

COMMENT ON FUNCTION analytics.cleanup_old_raw_events(integer) IS
  'Drop raw event partitions older than the retention (rolling their pending buckets up first); rollups stay.';
