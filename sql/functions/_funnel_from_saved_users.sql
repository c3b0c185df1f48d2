CREATE OR REPLACE FUNCTION analytics._funnel_from_saved_users(
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
Contract: funnel()'s counts per step for a funnel saved by user
  (save_funnel(count_by => 'user')), from its walks in
  analytics.funnel_users, as of the last refresh_rollups(). A user enters
  the range at their first step-1 event at or after from_ts. That event
  begins the one row of the user whose span (prev_entry_at, entered_at]
  holds from_ts, unless from_ts falls inside the row's hour, after its
  first step-1 event and at or before its last: then the user is followed
  over raw events instead (_funnel_from_user_steps()), a few users at
  most. A row counts when it entered before to_ts, and each step when it
  was reached before to_ts (the walk takes the earliest event of each
  step, so a step reached at to_ts or later was not reached before).
  Cost: one stab of a GiST index (about one row per user of the funnel,
  in every tenant: filtered after) and one B-tree range, whatever the
  length of the range.
Parameters:
  steps                 the number of steps
  project_id            the tenant (resolved by funnel())
  funnel_id             the saved funnel (its steps and window)
  event_types, names    the steps, as _funnel_steps() parses them
  from_ts, to_ts        the range; from_ts within the raw retention
  within                the window, in seconds (_funnel_window())
Returns: the users reaching each step.
Example: SELECT analytics._funnel_from_saved_users(2, 'default', 'signup', ARRAY['signup', 'conversion'], ARRAY[NULL, NULL],
                                                  now() - interval '30 days', now(), '1 day');
*/
DECLARE
  v_inside text[];  -- users who enter inside their row's hour
  v_counts bigint[];
  v_raw    bigint[];
BEGIN
  -- The rows that hold from_ts: the GiST index alone, in every tenant,
  -- then filtered (with the tenant's B-tree index, the planner would read
  -- every row of the funnel).
  WITH holding AS MATERIALIZED (
    SELECT fu.project_id, fu.funnel_id, fu.entered_at, fu.reached_at FROM analytics.funnel_users fu
     WHERE pg_catalog.tstzrange(fu.prev_entry_at, fu.entered_at, '(]') @> from_ts
  )
  SELECT pg_catalog.array_agg(coalesce(c.users, 0) ORDER BY k) INTO v_counts
    FROM pg_catalog.generate_series(1, _funnel_from_saved_users.steps) AS k
    LEFT JOIN (
      SELECT r.step, pg_catalog.count(*) AS users
        FROM holding h CROSS JOIN LATERAL unnest(h.reached_at) WITH ORDINALITY AS r(at, step)
       WHERE h.project_id = _funnel_from_saved_users.project_id AND h.funnel_id = _funnel_from_saved_users.funnel_id
         AND h.entered_at < to_ts AND r.at < to_ts
       GROUP BY r.step
    ) c ON c.step = k;

  SELECT pg_catalog.array_agg(fu.user_id) INTO v_inside
    FROM analytics.funnel_users fu
   WHERE fu.project_id = _funnel_from_saved_users.project_id AND fu.funnel_id = _funnel_from_saved_users.funnel_id
     AND fu.entered_at >= pg_catalog.date_trunc('hour', from_ts, 'UTC') AND fu.entered_at < from_ts
     AND fu.last_entry_at >= from_ts;
  IF v_inside IS NOT NULL THEN
    v_raw := analytics._funnel_from_user_steps(steps, project_id, event_types, names, from_ts, to_ts, within, v_inside);
    SELECT pg_catalog.array_agg(v_counts[k] + v_raw[k] ORDER BY k) INTO v_counts
      FROM pg_catalog.generate_series(1, _funnel_from_saved_users.steps) AS k;
  END IF;
  RETURN v_counts;
END
$function$;

COMMENT ON FUNCTION analytics._funnel_from_saved_users(integer, text, text, text[], text[], timestamptz, timestamptz, interval) IS
  'Internal: funnel() counts per step for a funnel saved by user, from analytics.funnel_users.';
