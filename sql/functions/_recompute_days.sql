CREATE OR REPLACE FUNCTION analytics._recompute_days(
  projects text[],
  days date[],
  hour_projects text[] DEFAULT NULL,
  hours timestamptz[] DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: make the daily rollups (rollup_daily, rollup_daily_totals,
  rollup_daily_users, rollup_daily_user_paths, and from rollup_daily_users
  rollup_daily_groups) of the given (project, local day) pairs equal to a
  GROUP BY over the raw events of those days, cut in each project's time
  zone (setting time_zone), whatever the session's zone. Reads only the
  partitions of those days, and only the rows of those projects.
  rollup_daily_totals.paths_span records the instants of the day so cut,
  whose events rollup_daily_user_paths now holds (funnel() by user reads
  the paths of a day only while its zone still cuts it there): every
  user's path is rewritten, or, for a day whose paths were cut as now and
  with its hours given, only those of the users of those hours
  (_recompute_user_paths()).
Parameters: projects[i], days[i]: the i-th project day. Duplicates are fine.
  hour_projects[j], hours[j]: the UTC hours written, changed or deleted
  since the last recompute (the rollup job's buckets); NULL: not known,
  every path is rewritten (aggregate_analytics_daily()).
Returns: {"days": [{"project_id", "day"}], "rows": n}
Example: SELECT analytics._recompute_days(ARRAY['default'], ARRAY[current_date]);
*/
DECLARE
  v_rows         bigint;
  v_days         jsonb;
  v_pair         record;
  v_day          date;
  v_day_projects text[];
  v_starts       timestamptz[];
  v_ends         timestamptz[];
  v_lo           timestamptz;
  v_hi           timestamptz;
  v_path_projects text[] := '{}';
  v_path_days     date[] := '{}';
  v_path_starts   timestamptz[] := '{}';
  v_path_ends     timestamptz[] := '{}';
  v_path_whole    boolean[] := '{}';  -- rewrite every user's path of the day
  v_whole         boolean;
BEGIN
  -- One project day at a time, so that each delete is an index range: a
  -- join of the days with a daily table is estimated at thousands of rows
  -- per day and planned as a scan of the whole table (310 ms for the 900k
  -- rows of rollup_daily_users, every minute, at 10M events).
  FOR v_pair IN SELECT b.project_id, b.day, b.day_start, b.day_end FROM analytics._day_bounds(projects, days) b LOOP
    -- The paths of a day already cut as now are rewritten for the users of
    -- the hours given only (_recompute_user_paths), after the loop.
    v_path_projects := v_path_projects || v_pair.project_id;
    v_path_days := v_path_days || v_pair.day;
    v_path_starts := v_path_starts || v_pair.day_start;
    v_path_ends := v_path_ends || v_pair.day_end;
    v_path_whole := v_path_whole || (hours IS NULL OR NOT EXISTS (
      SELECT FROM analytics.rollup_daily_totals t
       WHERE t.project_id = v_pair.project_id AND t.day = v_pair.day
         AND t.paths_span = pg_catalog.tstzrange(v_pair.day_start, v_pair.day_end)));
    DELETE FROM analytics.rollup_daily r WHERE r.project_id = v_pair.project_id AND r.day = v_pair.day;
    DELETE FROM analytics.rollup_daily_totals r WHERE r.project_id = v_pair.project_id AND r.day = v_pair.day;
    DELETE FROM analytics.rollup_daily_users r WHERE r.project_id = v_pair.project_id AND r.day = v_pair.day;
  END LOOP;

  v_rows := 0;
  -- One local day at a time: each statement reads only the span of that
  -- day across the projects' zones (one or two partitions).
  FOR v_day IN SELECT DISTINCT b.day FROM analytics._day_bounds(projects, days) b ORDER BY 1 LOOP
  SELECT pg_catalog.array_agg(b.project_id), pg_catalog.array_agg(b.day_start), pg_catalog.array_agg(b.day_end),
         pg_catalog.min(b.day_start), pg_catalog.max(b.day_end)
    INTO v_day_projects, v_starts, v_ends, v_lo, v_hi
    FROM analytics._day_bounds(projects, days) b WHERE b.day = v_day;
  WITH ev AS MATERIALIZED (
    SELECT e.project_id, v_day AS day, e.session_id, e.user_id, e.event_type, e.name, e.value, e.occurred_at,
           d.day_start, d.day_end
      FROM analytics.events e
      JOIN unnest(v_day_projects, v_starts, v_ends) AS d(p, day_start, day_end) ON e.project_id = d.p
     WHERE e.occurred_at >= v_lo AND e.occurred_at < v_hi
       AND e.occurred_at >= d.day_start AND e.occurred_at < d.day_end
  ),
  daily AS (
    INSERT INTO analytics.rollup_daily
           (project_id, day, event_type, name, events, sessions, users, value_sum, value_count)
    SELECT ev.project_id, ev.day, ev.event_type, ev.name, pg_catalog.count(*), pg_catalog.count(DISTINCT ev.session_id),
           pg_catalog.count(DISTINCT ev.user_id), pg_catalog.sum(ev.value), pg_catalog.count(ev.value)
      FROM ev GROUP BY ev.project_id, ev.day, ev.event_type, ev.name
    RETURNING 1
  ),
  totals AS (
    INSERT INTO analytics.rollup_daily_totals (project_id, day, events, sessions, users, paths_span)
    SELECT ev.project_id, ev.day, pg_catalog.count(*), pg_catalog.count(DISTINCT ev.session_id),
           pg_catalog.count(DISTINCT ev.user_id), pg_catalog.tstzrange(pg_catalog.min(ev.day_start), pg_catalog.min(ev.day_end))
      FROM ev GROUP BY ev.project_id, ev.day
    RETURNING 1
  ),
  users AS (
    INSERT INTO analytics.rollup_daily_users (project_id, day, user_id, events, sessions, first_seen, last_seen)
    SELECT ev.project_id, ev.day, ev.user_id, pg_catalog.count(*), pg_catalog.count(DISTINCT ev.session_id),
           pg_catalog.min(ev.occurred_at), pg_catalog.max(ev.occurred_at)
      FROM ev WHERE ev.user_id IS NOT NULL GROUP BY ev.project_id, ev.day, ev.user_id
    RETURNING 1
  )
  SELECT v_rows + (SELECT pg_catalog.count(*) FROM daily) + (SELECT pg_catalog.count(*) FROM totals)
         + (SELECT pg_catalog.count(*) FROM users)
    INTO v_rows;
  END LOOP;
  v_rows := v_rows + analytics._recompute_group_days(projects, days);
  -- Per-user paths: rewritten whole, or for the users of the hours given.
  FOR v_whole IN SELECT DISTINCT w FROM unnest(v_path_whole) AS w LOOP
    v_rows := v_rows + analytics._recompute_user_paths(
      (SELECT pg_catalog.array_agg(p) FROM unnest(v_path_projects, v_path_whole) AS u(p, w) WHERE u.w = v_whole),
      (SELECT pg_catalog.array_agg(d) FROM unnest(v_path_days, v_path_whole) AS u(d, w) WHERE u.w = v_whole),
      (SELECT pg_catalog.array_agg(t) FROM unnest(v_path_starts, v_path_whole) AS u(t, w) WHERE u.w = v_whole),
      (SELECT pg_catalog.array_agg(t) FROM unnest(v_path_ends, v_path_whole) AS u(t, w) WHERE u.w = v_whole),
      CASE WHEN NOT v_whole THEN hour_projects END, CASE WHEN NOT v_whole THEN hours END);
  END LOOP;

  SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('project_id', d.project_id, 'day', d.day)
                                       ORDER BY d.project_id, d.day), '[]')
    INTO v_days FROM analytics._day_bounds(projects, days) d;
  RETURN pg_catalog.jsonb_build_object('days', v_days, 'rows', v_rows);
END
$function$;

COMMENT ON FUNCTION analytics._recompute_days(text[], date[], text[], timestamptz[]) IS
  'Internal: recompute the daily rollups of (project, local day) pairs from the raw events, in each project''s time zone.';
