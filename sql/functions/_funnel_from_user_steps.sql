CREATE OR REPLACE FUNCTION analytics._funnel_from_user_steps(
  steps integer,
  project_id text,
  event_types text[],
  names text[],
  from_ts timestamptz,
  to_ts timestamptz,
  within interval,
  user_ids text[]
)
RETURNS bigint[]
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET enable_nestloop = off
AS $function$
/*
Contract: funnel()'s counts per step by user, over the raw events in
  [from_ts, to_ts) of the given users (events without a user_id are left
  out), as _funnel_sql() walks them, but one step at a time through the
  index (project_id, user_id, event_type, name, occurred_at):
  - step 1: each user's first step-1 event, one UTC day at a time, from the
    range's first day, looked for only on the days the user was active
    (the daily per-user rollup, and the hours written since the last
    refresh); a user found on a day is not looked for again, and the
    search stops when every user is found;
  - step k: each user who reached step k-1, their first step-k event after
    it and at most `within` after their entry (_funnel_follow_users()).
  Each is one index probe per user (_funnel_probe_users(): a nested loop
  by necessity; the rest runs with enable_nestloop = off, as funnel()),
  so the cost grows with the users and the days they are active before
  they enter, never with
  the events of the range: a month of a user's 2,000 events costs a few
  probes, about 5 us each. funnel() takes this way when it is the
  cheaper one (see there).
Parameters:
  steps                 the number of steps
  project_id            the tenant (resolved by the caller)
  event_types, names    the steps, as _funnel_steps() parses them
  from_ts, to_ts        the range
  within                the window, in seconds (_funnel_window())
  user_ids              the users to follow, each once: every user with an
                        event in the range must be among them
                        (_funnel_user_candidates())
Returns: the users reaching each step.
Example: SELECT analytics._funnel_from_user_steps(2, 'default', ARRAY['signup', 'conversion'], ARRAY[NULL, NULL],
           now() - interval '1 day', now(), '1 day',
           analytics._funnel_user_candidates('default', now() - interval '1 day', now()));
*/
DECLARE
  v_counts    bigint[];
  v_day       timestamptz := pg_catalog.date_trunc('day', from_ts, 'UTC');
  v_left      text[] := coalesce(user_ids, '{}');  -- users not yet found at step 1
  v_active    text[];                              -- those of them active on the day
  v_lo        timestamptz;                         -- the day, cut to the range
  v_hi        timestamptz;
  v_found_at  timestamptz[];
  v_day_users text[];                              -- the users found on the day
  v_users     text[] := '{}';                      -- users who entered
  v_entered   timestamptz[] := '{}';               -- their entry
BEGIN
  -- Step 1, day by day, for the users not yet found who were active that
  -- day: a row of the daily per-user rollup (as of the last refresh) whose
  -- first and last event span part of it, or an event in one of its hours
  -- written since. The rollup's days are local; any zone's local date of
  -- an instant lies within a day of its UTC date.
  WHILE v_day < to_ts AND pg_catalog.cardinality(v_left) > 0 LOOP
    v_lo := greatest(v_day, from_ts);
    v_hi := least(v_day + interval '24 hours', to_ts);
    SELECT coalesce(pg_catalog.array_agg(l.user_id), '{}') INTO v_active
      FROM unnest(v_left) AS l(user_id)
     WHERE l.user_id IN (SELECT r.user_id FROM analytics.rollup_daily_users r
                          WHERE r.project_id = _funnel_from_user_steps.project_id
                            AND r.day BETWEEN (v_lo AT TIME ZONE 'UTC')::date - 1 AND (v_hi AT TIME ZONE 'UTC')::date + 1
                            AND r.first_seen < v_hi AND r.last_seen >= v_lo
                         UNION ALL
                         SELECT unnest(analytics._users_written_since_refresh(_funnel_from_user_steps.project_id,
                                                                                v_lo, v_hi)));
    IF pg_catalog.cardinality(v_active) > 0 THEN
      SELECT p.found_users, p.found_at INTO v_day_users, v_found_at
        FROM analytics._funnel_probe_users(project_id, event_types[1], names[1], v_lo, v_hi,
               (SELECT pg_catalog.array_agg(i) FROM pg_catalog.generate_series(1, pg_catalog.cardinality(v_active)) AS i),
               v_active,
               pg_catalog.array_fill('-infinity'::timestamptz, ARRAY[pg_catalog.cardinality(v_active)]),
               pg_catalog.array_fill('infinity'::timestamptz, ARRAY[pg_catalog.cardinality(v_active)])) p;
      IF v_day_users IS NOT NULL THEN
        v_users := v_users || v_day_users;
        v_entered := v_entered || v_found_at;
        SELECT coalesce(pg_catalog.array_agg(l.user_id), '{}') INTO v_left
          FROM unnest(v_left) AS l(user_id)
         WHERE NOT EXISTS (SELECT FROM unnest(v_day_users) AS f(user_id) WHERE f.user_id = l.user_id);
      END IF;
    END IF;
    v_day := v_day + interval '24 hours';  -- a UTC day: the next midnight in UTC, in every session time zone
  END LOOP;

  -- Steps 2 and on (_funnel_follow_users), counted per step.
  SELECT pg_catalog.array_agg(coalesce(pg_catalog.cardinality(w.entries), 0) ORDER BY k) INTO v_counts
    FROM pg_catalog.generate_series(1, steps) AS k
    LEFT JOIN analytics._funnel_follow_users(steps, project_id, event_types, names, to_ts, within, v_users, v_entered) w
      ON w.step = k;
  RETURN v_counts;
END
$function$;

COMMENT ON FUNCTION analytics._funnel_from_user_steps(integer, text, text[], text[], timestamptz, timestamptz, interval, text[]) IS
  'Internal: funnel() counts per step by user, one index probe per user and step (and per day before the entry).';
