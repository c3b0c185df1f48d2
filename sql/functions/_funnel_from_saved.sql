CREATE OR REPLACE FUNCTION analytics._funnel_from_saved(
  steps integer,
  project_id text,
  funnel_id text,
  event_types text[],
  names text[],
  from_ts timestamptz,
  to_ts timestamptz,
  within interval
)
RETURNS bigint[]
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $function$
/*
Contract: funnel()'s counts per step for a funnel saved with save_funnel(),
  from its rollups, as of the last refresh_rollups(): the hourly rollup adds
  up the sessions that entered in the range's whole hours and reached a
  step before its last partial hour; sessions are read one by one
  (analytics.funnel_sessions) only where they enter in the partial hours at
  its ends or reach a step in its last partial hour; sessions that entered
  before from_ts and enter again inside the range are walked again over
  their raw events in the range.
Parameters:
  steps                 the number of steps
  project_id            the tenant (resolved by funnel())
  funnel_id             the saved funnel (its steps and window)
  event_types, names    the steps, as _funnel_steps() parses them
  from_ts, to_ts        the range, within the hourly retention
  within                the window, in seconds (_funnel_window())
Returns: the sessions reaching each step.
Example: SELECT analytics._funnel_from_saved(2, 'default', 'signup', ARRAY['signup', 'conversion'], ARRAY[NULL, NULL],
                                            now() - interval '1 day', now(), '1 day');
*/
DECLARE
  v_first  timestamptz;  -- the first whole hour of the range
  v_last   timestamptz;  -- the end of its last whole hour
  v_again  text[];       -- sessions that entered before from_ts and may enter again
  v_counts bigint[];
BEGIN
  SELECT w.first_hour, w.end_hour INTO v_first, v_last FROM analytics._whole_hours(from_ts, to_ts) w;
  -- Sessions that entered before from_ts (their saved walk starts there)
  -- and have a step-1 event at or after it: walked again below.
  -- (Open sessions are found by the GiST index alone, in every tenant, then
  -- filtered: combined with the tenant's B-tree index, the planner would
  -- read all of the funnel's sessions.)
  WITH open AS MATERIALIZED (
    SELECT fs.project_id, fs.funnel_id, fs.session_id, fs.last_entry_at FROM analytics.funnel_sessions fs
     WHERE pg_catalog.tstzrange(fs.entered_at, fs.last_at, '(]') @> from_ts AND fs.last_at > fs.entered_at
  )
  SELECT pg_catalog.array_agg(o.session_id) INTO v_again
    FROM open o
   WHERE o.project_id = _funnel_from_saved.project_id AND o.funnel_id = _funnel_from_saved.funnel_id
     AND o.last_entry_at >= from_ts;
  v_counts := analytics._funnel_walk_sessions(steps, project_id, event_types, names,
                                              from_ts, to_ts, within, v_again);
  -- The rest entered inside the range, and their saved walk is theirs
  -- there, cut at to_ts.
  SELECT pg_catalog.array_agg(v_counts[k] + coalesce(c.sessions, 0) ORDER BY k) INTO v_counts
    FROM pg_catalog.generate_series(1, _funnel_from_saved.steps) AS k
    LEFT JOIN (
      SELECT x.step, pg_catalog.sum(x.sessions) AS sessions
        FROM (
          -- Whole hours of entry, steps reached before the last partial hour.
          SELECT r.step, r.sessions
            FROM analytics.rollup_hourly_funnel_steps r
           WHERE r.project_id = _funnel_from_saved.project_id AND r.funnel_id = _funnel_from_saved.funnel_id
             AND r.bucket >= v_first AND r.bucket < v_last AND r.reached_bucket < v_last
          UNION ALL
          -- Whole hours of entry, steps reached in the last partial hour.
          SELECT w.step, 1
            FROM (SELECT fs.project_id, fs.funnel_id, fs.entered_at, fs.reached_at
                    FROM analytics.funnel_sessions fs
                   WHERE pg_catalog.tstzrange(fs.entered_at, fs.last_at, '(]') @> v_last AND fs.last_at > fs.entered_at
                  OFFSET 0) o  -- the GiST index alone, as above
           CROSS JOIN LATERAL unnest(o.reached_at) WITH ORDINALITY AS w(at, step)
           WHERE o.project_id = _funnel_from_saved.project_id AND o.funnel_id = _funnel_from_saved.funnel_id
             AND o.entered_at >= v_first AND w.at >= v_last AND w.at < to_ts
          UNION ALL
          -- Partial hours of entry at either end.
          SELECT w.step, 1
            FROM analytics.funnel_sessions fs
           CROSS JOIN LATERAL unnest(fs.reached_at) WITH ORDINALITY AS w(at, step)
           WHERE fs.project_id = _funnel_from_saved.project_id AND fs.funnel_id = _funnel_from_saved.funnel_id
             AND ((fs.entered_at >= from_ts AND fs.entered_at < least(v_first, to_ts))
                  OR (fs.entered_at >= v_last AND fs.entered_at < to_ts))
             AND w.at < to_ts
        ) x
       GROUP BY x.step
    ) c ON c.step = k;
  RETURN v_counts;
END
$function$;

COMMENT ON FUNCTION analytics._funnel_from_saved(integer, text, text, text[], text[], timestamptz, timestamptz, interval) IS
  'Internal: funnel() counts per step for a saved funnel, from rollup_hourly_funnel_steps and funnel_sessions.';
