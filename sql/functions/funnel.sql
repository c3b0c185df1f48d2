CREATE OR REPLACE FUNCTION analytics.funnel(
  steps text[],
  from_ts timestamptz,
  to_ts timestamptz,
  within interval DEFAULT '1 day',
  count_by text DEFAULT 'session',
  project_id text DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET plan_cache_mode = force_custom_plan
SET max_parallel_workers_per_gather = 0
SET enable_nestloop = off
AS $function$
/*
Contract: how many sessions (or users) reach each step of an ordered
  funnel in [from_ts, to_ts), and the conversion between steps.
  A step is an event type ('signup') or an event type and name
  ('pageview=/pricing'; the type ends at the first '=').
  An entity enters the funnel at its first step-1 event in the range; it
  reaches step k when it has a step-k event strictly after the event that
  reached step k-1 (the earliest such event is taken), at most `within`
  after its entry. Every event counted lies in the range. The window is
  taken in seconds ('1 day' is 86,400 s in every time zone).
  Four ways to the same counts, the first that applies ("source"):
  - 'saved_funnel': a funnel saved with save_funnel() (the same steps,
    window and count_by), as of the last refresh_rollups(), as every
    rollup. By session (_funnel_from_saved), from a range that starts
    within the hourly retention: from its hourly rollup. By user
    (_funnel_from_saved_users), from a range that starts within the raw
    retention: from each user's walk that holds from_ts.
  - 'session_paths' (_funnel_from_session_paths): any other funnel counted
    by session, in a project, from a range that starts within the raw and
    the hourly retention: a LIKE per path (analytics.sessions.path, one
    character per event key) over the sessions rolled up by hour and path
    (rollup_hourly_paths), and over single sessions where that cannot
    answer, and a walk over raw events of the sessions a path cannot
    answer; so the counts are those of the raw events now. Not when
    another key of the project shares a step's character
    (_funnel_step_patterns).
  - 'user_steps' (_funnel_from_user_steps): a funnel counted by user, in a
    project, when it is the cheaper way, over the raw events now. When
    every day of the range has its per-user paths (0018) and each step is
    one key of its own: each user's path of a day is walked, at most a row
    per user and day, costed at 4 step events each, and the users of the
    hours written since the last refresh are probed, at 10 per step: 5,000
    users over 30 days of 3.7M step events or over a day of 122k, 20,000
    users active 3 days each over a month of 450k. Otherwise one index
    probe per user and step, and per day of the range before the user's
    entry: taken when the users who may have an event in the range
    (_funnel_user_candidates), times the days of the range and the steps,
    times 10 (a probe costs about ten times a step event joined below), is
    less than the step events of the range in the hourly rollup.
  - 'raw_events', otherwise: the cost grows with the number of step
    events in the range. This runs with enable_nestloop = off: the planner
    estimates the step CTEs at a few rows, and a nested loop over 48k x 15k
    rows took minutes where hash joins take milliseconds.
Parameters:
  steps       1 to 10 steps
  from_ts, to_ts  the range, from_ts < to_ts, at most 400 days
  within      the conversion window, more than 0 and at most 90 days
  count_by    'session' (session_id) or 'user' (user_id; events without a
              user_id are left out)
  project_id  NULL: the caller's JWT project
Returns: {"count_by", "within_s", "saved_funnel" (its name, or null),
          "source" ('saved_funnel', 'session_paths', 'user_steps' or 'raw_events'),
          "steps": [{"step", "event_type", "name", "count", "conversion_from_previous",
          "conversion_from_first"}], "conversion_rate"}
  Conversions are fractions between 0 and 1, null after a step nobody reached.
Errors: 22023 no steps, more than 10, a step without a valid event type, a
  bad window, count_by or range; 42501 another tenant or no project claim.
Security: SECURITY DEFINER; EXECUTE for analytics_reader and analytics_admin.
Example: SELECT analytics.funnel(ARRAY['pageview=/pricing', 'click=cta-signup', 'conversion'],
                                 now() - interval '7 days', now(), within => '1 hour');
*/
DECLARE
  v_project text := analytics._resolve_project(funnel.project_id);
  v_steps   record := analytics._funnel_steps(steps);
  v_within  interval := analytics._funnel_window(within);
  v_n       integer := pg_catalog.cardinality(steps);
  v_saved   text;
  v_entity  text;
  v_counts  bigint[];
  v_operator text;        -- session paths: LIKE (~~) or a regular expression (~)
  v_patterns text[];      -- per step, the paths that reach it (_funnel_step_patterns)
  v_users   text[];       -- by user: who may have events in the range (_funnel_user_candidates)
  v_step_events float8;   -- by user: the step events of the range, in the hourly rollup
  v_probes  float8;       -- by user: the cost of following one user by probes, in step events
  v_path_rows float8;     -- by user: the per-user paths of the range's days
  v_unpathed_days bigint; -- by user: the range's days without them
  v_zone    text;
  v_written text[];       -- by user: the users of the hours written since the last refresh
  v_source  text;
BEGIN
  PERFORM analytics._check_time_range(from_ts, to_ts);
  PERFORM analytics._check_count_by(count_by);
  v_entity := CASE count_by WHEN 'session' THEN 'e.session_id' ELSE 'e.user_id' END;
  -- A saved funnel: by session, from a range within the hourly retention
  -- (its rollup's); by user, within the raw retention (the users who enter
  -- inside an hour of their walks are followed over raw events).
  IF v_project IS NOT NULL
     AND from_ts >= pg_catalog.now() - pg_catalog.make_interval(hours => 24 * analytics._setting(
                      CASE count_by WHEN 'session' THEN 'rollup_retention_days' ELSE 'raw_retention_days' END)::integer) THEN
    SELECT f.funnel_id INTO v_saved FROM analytics.funnels f
     WHERE f.project_id = v_project AND f.steps = funnel.steps AND f.within = v_within AND f.count_by = funnel.count_by;
  END IF;
  IF count_by = 'session' AND v_project IS NOT NULL AND v_saved IS NULL
     AND from_ts >= pg_catalog.now() - pg_catalog.make_interval(hours => 24 * least(
                      analytics._setting('raw_retention_days')::integer,
                      analytics._setting('rollup_retention_days')::integer)) THEN
    SELECT p.operator, p.patterns INTO v_operator, v_patterns
      FROM analytics._funnel_step_patterns(v_project, v_steps.event_types, v_steps.names) p;
  END IF;

  IF count_by = 'user' AND v_project IS NOT NULL AND v_saved IS NULL THEN
    -- The step events the join would read, from the hourly rollup; and
    -- what following users would cost, in step events.
    SELECT coalesce(pg_catalog.sum(h.events), 0) INTO v_step_events
      FROM unnest(v_steps.event_types, v_steps.names) AS s(event_type, name)
      JOIN analytics.rollup_hourly h
        ON h.project_id = v_project AND h.event_type = s.event_type AND (s.name IS NULL OR h.name = s.name)
       AND h.bucket > from_ts - interval '1 hour' AND h.bucket < to_ts;
    -- Every day of the range with per-user paths, and the steps' keys in
    -- them: at most a row per user and day, about 4 step events each.
    v_zone := analytics._setting('time_zone', v_project);
    SELECT coalesce(pg_catalog.sum(t.users), 0), pg_catalog.count(*) FILTER (WHERE t.paths_span IS NULL)
      INTO v_path_rows, v_unpathed_days
      FROM analytics.rollup_daily_totals t
     WHERE t.project_id = v_project
       AND t.day BETWEEN (from_ts AT TIME ZONE v_zone)::date AND (to_ts AT TIME ZONE v_zone)::date;
    IF v_unpathed_days = 0
       AND from_ts >= pg_catalog.now() - pg_catalog.make_interval(hours => 24 * analytics._setting('rollup_retention_days')::integer)
       AND (SELECT p.operator FROM analytics._funnel_step_patterns(v_project, v_steps.event_types, v_steps.names) p) = '~~' THEN
      -- The users with events in the hours written since the last refresh
      -- are probed instead, at 10 step events per step and day.
      v_written := analytics._users_written_since_refresh(v_project, from_ts, to_ts);
      IF v_path_rows * 4 + pg_catalog.cardinality(v_written) * (v_n + 1) * 10 < v_step_events THEN
        v_users := analytics._funnel_user_candidates(v_project, from_ts, to_ts, v_written);
      END IF;
    ELSE
      -- Probes only: first counted from analytics.users alone (the users
      -- whose first and last seen span the range), so that a range too
      -- short for it skips _funnel_user_candidates(), which reads the
      -- hours written since the last refresh too.
      v_probes := (v_n + EXTRACT(epoch FROM to_ts - from_ts)::float8 / 86400 + 1) * 10;
      IF (SELECT pg_catalog.count(*) FROM analytics.users u
           WHERE u.project_id = v_project AND u.last_seen >= from_ts AND u.first_seen < to_ts) * v_probes
         < v_step_events THEN
        v_users := analytics._funnel_user_candidates(v_project, from_ts, to_ts);
        IF pg_catalog.cardinality(v_users) * v_probes >= v_step_events THEN
          v_users := NULL;  -- joining the step events is cheaper
        END IF;
      END IF;
    END IF;
  END IF;

  IF v_saved IS NOT NULL AND count_by = 'user' THEN
    v_source := 'saved_funnel';
    v_counts := analytics._funnel_from_saved_users(v_n, v_project, v_saved, v_steps.event_types, v_steps.names,
                                                   from_ts, to_ts, v_within);
  ELSIF v_saved IS NOT NULL THEN
    v_source := 'saved_funnel';
    v_counts := analytics._funnel_from_saved(v_n, v_project, v_saved, v_steps.event_types, v_steps.names,
                                             from_ts, to_ts, v_within);
  ELSIF v_patterns IS NOT NULL THEN
    v_source := 'session_paths';
    v_counts := analytics._funnel_from_session_paths(v_n, v_project, v_steps.event_types, v_steps.names,
                                                     from_ts, to_ts, v_within, v_operator, v_patterns);
  ELSIF v_users IS NOT NULL THEN
    v_source := 'user_steps';
    v_counts := analytics._funnel_from_user_steps(v_n, v_project, v_steps.event_types, v_steps.names,
                                                  from_ts, to_ts, v_within, v_users, every_user => true);
  ELSE
    v_source := 'raw_events';
    EXECUTE analytics._funnel_sql(v_n, pg_catalog.format($q$
        SELECT CASE WHEN $1 IS NULL THEN pg_catalog.length(e.project_id) || ':' || e.project_id ELSE '' END || %1$s AS entity,
               e.occurred_at AS at, s.i
          FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS s(event_type, name, i)
          JOIN analytics.events e
            ON e.event_type = s.event_type AND (s.name IS NULL OR e.name = s.name)
         WHERE ($1 IS NULL OR e.project_id = $1) AND e.occurred_at >= $4 AND e.occurred_at < $5
           AND %1$s IS NOT NULL$q$, v_entity), 'counts')
      INTO v_counts USING v_project, v_steps.event_types, v_steps.names, from_ts, to_ts, v_within;
  END IF;

  RETURN pg_catalog.jsonb_build_object(
    'count_by', count_by,
    'within_s', EXTRACT(epoch FROM v_within)::float8,
    'saved_funnel', v_saved,
    'source', v_source,
    'steps', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                       'step', steps[k], 'event_type', v_steps.event_types[k], 'name', v_steps.names[k],
                       'count', v_counts[k],
                       'conversion_from_previous',
                         CASE WHEN k = 1 THEN NULL ELSE v_counts[k]::float8 / nullif(v_counts[k - 1], 0) END,
                       'conversion_from_first', v_counts[k]::float8 / nullif(v_counts[1], 0)) ORDER BY k)
                FROM pg_catalog.generate_series(1, v_n) AS k),
    'conversion_rate', v_counts[v_n]::float8 / nullif(v_counts[1], 0));
END
$function$;

COMMENT ON FUNCTION analytics.funnel(text[], timestamptz, timestamptz, interval, text, text) IS
  'RPC: ordered funnel: sessions or users reaching each step within a window, and the conversion between steps.';
