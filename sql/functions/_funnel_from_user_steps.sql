CREATE OR REPLACE FUNCTION analytics._funnel_from_user_steps(
  steps integer,
  project_id text,
  event_types text[],
  names text[],
  from_ts timestamptz,
  to_ts timestamptz,
  within interval,
  user_ids text[],
  every_user boolean DEFAULT false
)
RETURNS bigint[]
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET enable_nestloop = off
SET enable_mergejoin = off
SET plan_cache_mode = force_custom_plan
AS $function$
/*
Contract: funnel()'s counts per step by user, over the raw events in
  [from_ts, to_ts) of the given users (events without a user_id are left
  out), as _funnel_sql() walks them, one local day of the project at a
  time from the range's first, until every user has entered:
  - a day whose per-user paths (rollup_daily_user_paths) the rollup job
    wrote as the project's zone cuts it now (rollup_daily_totals.paths_span):
    each user's row of the day is walked (_funnel_user_path_sql(): the
    entry, then each later step while the row holds it). A user whose events the
    job has not seen yet (an hour of theirs written or deleted since the
    last refresh: their row is stale) is probed instead, as below;
  - any other day: the users active on it (the daily per-user rollup, and
    the hours written since the last refresh) are probed for their first
    step-1 event of the day (_funnel_probe_users: one index probe each).
  A user who entered by a probe, or whose next step lies past the end of
  their row's day and within the window, is followed over the raw events,
  one index probe per step (_funnel_probe_users), as _funnel_follow_users()
  does. So a month of 5,000 users who all enter costs a read of their rows
  of the days up to their entry, and few probes; the cost never grows with
  the events of the range beyond the rows read.
  Paths are read only when each step is one key number that no other key of
  the project shares (the patterns of _funnel_step_patterns(), '~~'), and
  when the range starts within the hourly retention (cleanup() trims the
  keys of older hours); otherwise every day is probed. cleanup() also drops
  the paths (and spans) of the days the raw cut-off may reach.
Parameters:
  steps                 the number of steps
  project_id            the tenant (resolved by the caller)
  event_types, names    the steps, as _funnel_steps() parses them
  from_ts, to_ts        the range
  within                the window, in seconds (_funnel_window())
  user_ids              the users to follow, each once
  every_user            true: user_ids holds every user with an event in
                        the range (_funnel_user_candidates()), so any path
                        that enters the range is one of theirs and none is
                        looked up in the list (thousands of users, every
                        day); false: only these users are counted
                        (_funnel_from_saved_users() follows a few)
Returns: the users reaching each step.
Example: SELECT analytics._funnel_from_user_steps(2, 'default', ARRAY['signup', 'conversion'], ARRAY[NULL, NULL],
           now() - interval '1 day', now(), '1 day',
           analytics._funnel_user_candidates('default', now() - interval '1 day', now()));
*/
DECLARE
  v_counts     bigint[] := pg_catalog.array_fill(0::bigint, ARRAY[steps]);
  v_codes      integer[];       -- per step, its key's number in the paths; NULL: probes only
  v_patterns   record;
  v_walk_sql   text;            -- _funnel_user_path_sql()
  v_dirty      timestamptz[];   -- hours written since the last refresh (rows overlapping them are stale)
  v_zone       text := analytics._setting('time_zone', project_id);
  v_day        date;
  v_lo         timestamptz;     -- the local day
  v_hi         timestamptz;
  v_span       tstzrange;       -- the day as the job cut its paths
  v_users      text[] := coalesce(user_ids, '{}');
  v_entered    text[] := '{}';  -- users who entered, on an earlier day
  v_written    text[];          -- users of raw events written since the refresh, in the day
  v_probe      text[];          -- users to probe on the day
  v_walked     text[];          -- users walked in by their path of the day
  v_walk_counts bigint[];       -- per step, how many of them reached it
  -- Users followed by probes: the step each is due at, after when, until when.
  v_q_users    text[] := '{}';
  v_q_step     integer[] := '{}';
  v_q_after    timestamptz[] := '{}';
  v_q_until    timestamptz[] := '{}';
  v_s_users    text[];
  v_s_step     integer[];
  v_s_after    timestamptz[];
  v_s_until    timestamptz[];
  v_found      text[];
  v_after      timestamptz[];
  v_until      timestamptz[];
BEGIN
  IF pg_catalog.cardinality(v_users) = 0 THEN
    RETURN v_counts;
  END IF;
  -- Within the hourly retention, every key of the events in the range is
  -- in analytics.event_keys (cleanup() trims the keys of older hours), so
  -- a step's number shared with another key shows there.
  IF from_ts >= pg_catalog.now() - pg_catalog.make_interval(hours => 24 * analytics._setting('rollup_retention_days')::integer) THEN
    SELECT p.operator, p.patterns INTO v_patterns
      FROM analytics._funnel_step_patterns(project_id, event_types, names) p;
    IF v_patterns.operator = '~~' THEN
      -- patterns[steps] is '%a%b%...%': step k's character is the (2k)-th
      SELECT pg_catalog.array_agg(pg_catalog.ascii(pg_catalog.substr(v_patterns.patterns[steps], 2 * k, 1)) ORDER BY k)
        INTO v_codes FROM pg_catalog.generate_series(1, steps) AS k;
      v_dirty := analytics._hours_written_since_refresh(project_id, from_ts, to_ts);
      v_walk_sql := analytics._funnel_user_path_sql(steps);
    END IF;
  END IF;

  -- Step 1, one local day at a time (from the day before from_ts's, in
  -- case a zone's day starts late), until every user has entered.
  v_day := (from_ts AT TIME ZONE v_zone)::date - 1;
  LOOP
    SELECT b.day_start, b.day_end INTO v_lo, v_hi
      FROM analytics._day_bounds(ARRAY[project_id], ARRAY[v_day]) b;
    EXIT WHEN v_lo >= to_ts OR pg_catalog.cardinality(v_entered) >= pg_catalog.cardinality(v_users);
    IF v_hi > from_ts THEN
      v_written := analytics._users_written_since_refresh(project_id, greatest(v_lo, from_ts), least(v_hi, to_ts));
      v_span := NULL;
      IF v_codes IS NOT NULL THEN
        SELECT t.paths_span INTO v_span FROM analytics.rollup_daily_totals t
         WHERE t.project_id = _funnel_from_user_steps.project_id AND t.day = v_day;
      END IF;
      IF v_span = pg_catalog.tstzrange(v_lo, v_hi) THEN
        -- The rows of the day, walked. A stale row is probed, and so is a
        -- user written since the refresh without a row.
        EXECUTE v_walk_sql INTO v_probe, v_walked, v_walk_counts, v_s_users, v_s_step, v_s_after, v_s_until
          USING project_id, v_day, v_written,
                -- only the day's hours: the others cannot make its rows stale
                ARRAY(SELECT h FROM unnest(v_dirty) AS h WHERE h < v_hi AND h + interval '1 hour' > v_lo),
                v_codes, from_ts, to_ts, within, v_hi, v_entered,
                CASE WHEN NOT every_user THEN v_users END;
        SELECT pg_catalog.array_agg(v_counts[k] + v_walk_counts[k] ORDER BY k) INTO v_counts
          FROM pg_catalog.generate_series(1, steps) AS k;
        v_entered := v_entered || v_walked;
        -- Those whose next step may come on a later day: followed by probes.
        v_q_users := v_q_users || v_s_users;
        v_q_step := v_q_step || v_s_step;
        v_q_after := v_q_after || v_s_after;
        v_q_until := v_q_until || v_s_until;
        IF pg_catalog.cardinality(v_written) > 0 THEN
          SELECT coalesce(pg_catalog.array_agg(DISTINCT w.user_id), '{}') INTO v_probe
            FROM (SELECT unnest(v_probe)
                  UNION ALL
                  SELECT l.user_id FROM unnest(v_written) AS l(user_id)
                   WHERE l.user_id IN (SELECT unnest(v_users))
                     AND NOT EXISTS (SELECT FROM unnest(v_entered) AS x(user_id) WHERE x.user_id = l.user_id)) AS w(user_id);
        END IF;
      ELSE
        -- The users active on the day: a row of the daily per-user rollup
        -- (as of the last refresh; its days are local, in whatever zone cut
        -- them, so a day on either side too) whose first and last event
        -- span part of it, or an event written since.
        SELECT coalesce(pg_catalog.array_agg(DISTINCT a.user_id), '{}') INTO v_probe
          FROM (SELECT r.user_id FROM analytics.rollup_daily_users r
                 WHERE r.project_id = _funnel_from_user_steps.project_id
                   AND r.day BETWEEN (greatest(v_lo, from_ts) AT TIME ZONE 'UTC')::date - 1
                                 AND (least(v_hi, to_ts) AT TIME ZONE 'UTC')::date + 1
                   AND r.first_seen < least(v_hi, to_ts) AND r.last_seen >= greatest(v_lo, from_ts)
                UNION ALL
                SELECT unnest(v_written)) AS a(user_id)
         -- joined, not "= ANY": the planner would estimate the selectivity
         -- of each of thousands of constants, every day
         WHERE a.user_id IN (SELECT unnest(v_users))
           AND NOT EXISTS (SELECT FROM unnest(v_entered) AS x(user_id) WHERE x.user_id = a.user_id);
      END IF;

      -- The users probed: their first step-1 event of the day in the range.
      IF pg_catalog.cardinality(v_probe) > 0 THEN
        SELECT p.found_users, p.found_at INTO v_found, v_after
          FROM analytics._funnel_probe_users(project_id, event_types[1], names[1], greatest(v_lo, from_ts),
                 least(v_hi, to_ts),
                 (SELECT pg_catalog.array_agg(i) FROM pg_catalog.generate_series(1, pg_catalog.cardinality(v_probe)) AS i),
                 v_probe,
                 pg_catalog.array_fill('-infinity'::timestamptz, ARRAY[pg_catalog.cardinality(v_probe)]),
                 pg_catalog.array_fill('infinity'::timestamptz, ARRAY[pg_catalog.cardinality(v_probe)])) p;
        IF v_found IS NOT NULL THEN
          v_counts[1] := v_counts[1] + pg_catalog.cardinality(v_found);
          v_entered := v_entered || v_found;
          SELECT v_q_users || v_found, v_q_step || pg_catalog.array_fill(2, ARRAY[pg_catalog.cardinality(v_found)]),
                 v_q_after || v_after,
                 v_q_until || (SELECT pg_catalog.array_agg(a + within ORDER BY o) FROM unnest(v_after) WITH ORDINALITY AS u(a, o))
            INTO v_q_users, v_q_step, v_q_after, v_q_until;
        END IF;
      END IF;
    END IF;
    v_day := v_day + 1;
  END LOOP;

  -- Steps 2 and on over the raw events, for the users due at each: one
  -- probe per user (as _funnel_follow_users()).
  FOR k IN 2 .. steps LOOP
    SELECT coalesce(pg_catalog.array_agg(q.user_id), '{}'), pg_catalog.array_agg(q.after), pg_catalog.array_agg(q.until)
      INTO v_found, v_after, v_until
      FROM unnest(v_q_users, v_q_step, v_q_after, v_q_until) AS q(user_id, step, after, until)
     WHERE q.step = k;
    CONTINUE WHEN pg_catalog.cardinality(v_found) = 0;
    SELECT p.found_users, p.found_at, p.found_until INTO v_found, v_after, v_until
      FROM analytics._funnel_probe_users(project_id, event_types[k], names[k],
             (SELECT pg_catalog.min(a) FROM unnest(v_after) AS a),
             least(to_ts, (SELECT pg_catalog.max(a) FROM unnest(v_until) AS a) + interval '1 microsecond'),
             (SELECT pg_catalog.array_agg(i) FROM pg_catalog.generate_series(1, pg_catalog.cardinality(v_found)) AS i),
             v_found, v_after, v_until) p;
    IF v_found IS NOT NULL THEN
      v_counts[k] := v_counts[k] + pg_catalog.cardinality(v_found);
      IF k < steps THEN
        v_q_users := v_q_users || v_found;
        v_q_step := v_q_step || pg_catalog.array_fill(k + 1, ARRAY[pg_catalog.cardinality(v_found)]);
        v_q_after := v_q_after || v_after;
        v_q_until := v_q_until || v_until;
      END IF;
    END IF;
  END LOOP;
  RETURN v_counts;
END
$function$;

COMMENT ON FUNCTION analytics._funnel_from_user_steps(integer, text, text[], text[], timestamptz, timestamptz, interval, text[], boolean) IS
  'Internal: funnel() counts per step by user: each user''s day walked through its per-user path, or probed step by step.';
