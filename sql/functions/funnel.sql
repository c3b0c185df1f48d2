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
  Three ways to the same counts, the first that applies:
  - a funnel saved with save_funnel() (the same steps and window), counted
    by session, from a range that starts within the hourly retention: the
    hourly rollup adds up the sessions that entered in the range's whole
    hours; sessions are read one by one only where they enter in the
    partial hours at its ends, reach a step in its last partial hour, or
    entered before the range and enter again inside it (these are walked
    again over their raw events in the range). As of the last
    refresh_rollups(), as every rollup.
  - any other funnel counted by session, in a project, from a range that
    starts within the raw retention: from the session paths
    (analytics.sessions.path, one character per event key). A session that
    starts in the range reaches step k when its path matches a LIKE (or a
    regular expression, for a step that is a type only) of the first k
    steps' characters: exact when all its events lie in the range, none
    share a timestamp, and it lasts no longer than the window. Every other
    session that may count is walked over its raw events: those that start
    before the range and end in it, end after it, tie, last longer than the
    window, or have events in an hour written since the last
    refresh_rollups(). So the counts are those of the raw events now, not
    as of the last refresh. Not when another key of the project shares a
    step's character (_funnel_step_patterns).
  - otherwise from raw events: the cost grows with the number of step
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
          "source" ('saved_funnel', 'session_paths' or 'raw_events'),
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
  v_first   timestamptz;  -- the first whole hour of the range
  v_last    timestamptz;  -- the end of its last whole hour
  v_again   text[];       -- sessions that entered before from_ts and may enter again
  v_operator text;        -- session paths: LIKE (~~) or a regular expression (~)
  v_patterns text[];      -- per step, the paths that reach it (_funnel_step_patterns)
  v_walk     text[];      -- sessions that straddle from_ts or changed since the last refresh
  v_unanswered text[];    -- sessions starting in the range that their path cannot answer
  v_count_sql  text;      -- the count over session paths, FROM left open
  v_walked_counts bigint[];  -- what that count gives for the sessions in v_walk
BEGIN
  PERFORM analytics._check_time_range(from_ts, to_ts);
  v_entity := CASE count_by WHEN 'session' THEN 'e.session_id' WHEN 'user' THEN 'e.user_id' END;
  IF v_entity IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('unknown count_by %L', count_by),
      HINT = 'count_by is ''session'' or ''user''.';
  END IF;
  IF count_by = 'session' AND v_project IS NOT NULL
     AND from_ts >= pg_catalog.now() - pg_catalog.make_interval(days => analytics._setting('rollup_retention_days')::integer) THEN
    SELECT f.funnel_id INTO v_saved FROM analytics.funnels f
     WHERE f.project_id = v_project AND f.steps = funnel.steps AND f.within = v_within;
  END IF;
  IF count_by = 'session' AND v_project IS NOT NULL AND v_saved IS NULL
     AND from_ts >= pg_catalog.now() - pg_catalog.make_interval(days => analytics._setting('raw_retention_days')::integer) THEN
    SELECT p.operator, p.patterns INTO v_operator, v_patterns
      FROM analytics._funnel_step_patterns(v_project, v_steps.event_types, v_steps.names) p;
  END IF;

  IF v_saved IS NULL AND v_patterns IS NOT NULL THEN
    -- Sessions whose path cannot answer: walked over their raw events.
    -- First those open at from_ts (found by the GiST index alone, in every
    -- tenant, then filtered), and those with events in an hour written since
    -- the last refresh_rollups() (their raw events now, and their facts as of
    -- that refresh: a session whose events there were deleted is one too).
    WITH open AS MATERIALIZED (
      SELECT s.project_id, s.session_id, s.first_seen FROM analytics.sessions s
       WHERE pg_catalog.tstzrange(s.first_seen, s.last_seen, '[]') @> from_ts AND s.last_seen > s.first_seen
    ), dirty AS MATERIALIZED (
      SELECT DISTINCT d.bucket FROM analytics.dirty_buckets d
       WHERE d.project_id = v_project AND d.bucket > from_ts - interval '1 hour' AND d.bucket < to_ts
    )
    SELECT pg_catalog.array_agg(DISTINCT w.session_id) INTO v_walk
      FROM (SELECT o.session_id FROM open o WHERE o.project_id = v_project AND o.first_seen < from_ts
            UNION ALL
            SELECT e.session_id FROM dirty d
             CROSS JOIN LATERAL (
               SELECT x.session_id FROM analytics.events x
                WHERE x.project_id = v_project AND x.occurred_at >= d.bucket AND x.occurred_at < d.bucket + interval '1 hour'
                  AND x.session_id IS NOT NULL
               OFFSET 0) e
            UNION ALL
            SELECT h.session_id FROM dirty d
              JOIN analytics.session_hours h ON h.project_id = v_project AND h.bucket = d.bucket) w;
    -- Every session that starts in the range: its path answers when all its
    -- events lie in the range, none share a timestamp, and its duration is
    -- within the window (which then never cuts it); the rest are walked too.
    -- One scan counts them all, and the sessions to walk, counted by the
    -- same query over their rows alone, are taken off again: cheaper than
    -- leaving them out of the scan (a hash of every session id).
    v_count_sql := pg_catalog.format($q$
        SELECT ARRAY[%s], pg_catalog.array_agg(s.session_id) FILTER (WHERE NOT s.answers)
          FROM (SELECT x.session_id, x.path,
                       (x.last_seen < $3 AND x.path IS NOT NULL AND x.last_seen - x.first_seen <= $4) AS answers
                  FROM %%s
                 WHERE x.project_id = $1 AND x.first_seen >= $2 AND x.first_seen < $3) s$q$,
        (SELECT pg_catalog.string_agg(
                  pg_catalog.format('pg_catalog.count(*) FILTER (WHERE s.answers AND s.path COLLATE "C" %s $6[%s])',
                                    v_operator, k), ', ' ORDER BY k)
           FROM pg_catalog.generate_series(1, v_n) AS k));
    EXECUTE pg_catalog.format(v_count_sql, 'analytics.sessions x')
      INTO v_counts, v_unanswered USING v_project, from_ts, to_ts, v_within, NULL, v_patterns;
    EXECUTE pg_catalog.format(v_count_sql, $q$(SELECT DISTINCT w.session_id FROM unnest($5::text[]) AS w(session_id)) w
                     CROSS JOIN LATERAL (SELECT y.* FROM analytics.sessions y  -- one probe per session
                                          WHERE y.project_id = $1 AND y.session_id = w.session_id OFFSET 0) x$q$)
      INTO v_walked_counts USING v_project, from_ts, to_ts, v_within, coalesce(v_walk, '{}'), v_patterns;
    SELECT pg_catalog.array_agg(c.n - p.n + w.n ORDER BY c.k) INTO v_counts
      FROM unnest(v_counts) WITH ORDINALITY AS c(n, k)
      JOIN unnest(v_walked_counts) WITH ORDINALITY AS p(n, k) ON p.k = c.k
      JOIN unnest(analytics._funnel_walk_sessions(v_n, v_project, v_steps.event_types, v_steps.names, from_ts, to_ts,
                                                  v_within, coalesce(v_walk, '{}') || coalesce(v_unanswered, '{}')))
             WITH ORDINALITY AS w(n, k) ON w.k = c.k;
  ELSIF v_saved IS NULL THEN
    EXECUTE analytics._funnel_sql(v_n, pg_catalog.format($q$
        SELECT CASE WHEN $1 IS NULL THEN pg_catalog.length(e.project_id) || ':' || e.project_id ELSE '' END || %1$s AS entity,
               e.occurred_at AS at, s.i
          FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS s(event_type, name, i)
          JOIN analytics.events e
            ON e.event_type = s.event_type AND (s.name IS NULL OR e.name = s.name)
         WHERE ($1 IS NULL OR e.project_id = $1) AND e.occurred_at >= $4 AND e.occurred_at < $5
           AND %1$s IS NOT NULL$q$, v_entity), 'counts')
      INTO v_counts USING v_project, v_steps.event_types, v_steps.names, from_ts, to_ts, v_within;
  ELSE
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
     WHERE o.project_id = v_project AND o.funnel_id = v_saved AND o.last_entry_at >= from_ts;
    v_counts := analytics._funnel_walk_sessions(v_n, v_project, v_steps.event_types, v_steps.names,
                                                from_ts, to_ts, v_within, v_again);
    -- The rest entered inside the range, and their saved walk is theirs
    -- there, cut at to_ts.
    SELECT pg_catalog.array_agg(v_counts[k] + coalesce(c.sessions, 0) ORDER BY k) INTO v_counts
      FROM pg_catalog.generate_series(1, v_n) AS k
      LEFT JOIN (
        SELECT x.step, pg_catalog.sum(x.sessions) AS sessions
          FROM (
            -- Whole hours of entry, steps reached before the last partial hour.
            SELECT r.step, r.sessions
              FROM analytics.rollup_hourly_funnel_steps r
             WHERE r.project_id = v_project AND r.funnel_id = v_saved
               AND r.bucket >= v_first AND r.bucket < v_last AND r.reached_bucket < v_last
            UNION ALL
            -- Whole hours of entry, steps reached in the last partial hour.
            SELECT w.step, 1
              FROM (SELECT fs.project_id, fs.funnel_id, fs.entered_at, fs.reached_at
                      FROM analytics.funnel_sessions fs
                     WHERE pg_catalog.tstzrange(fs.entered_at, fs.last_at, '(]') @> v_last AND fs.last_at > fs.entered_at
                    OFFSET 0) o  -- the GiST index alone, as above
             CROSS JOIN LATERAL unnest(o.reached_at) WITH ORDINALITY AS w(at, step)
             WHERE o.project_id = v_project AND o.funnel_id = v_saved
               AND o.entered_at >= v_first AND w.at >= v_last AND w.at < to_ts
            UNION ALL
            -- Partial hours of entry at either end.
            SELECT w.step, 1
              FROM analytics.funnel_sessions fs
             CROSS JOIN LATERAL unnest(fs.reached_at) WITH ORDINALITY AS w(at, step)
             WHERE fs.project_id = v_project AND fs.funnel_id = v_saved
               AND ((fs.entered_at >= from_ts AND fs.entered_at < least(v_first, to_ts))
                    OR (fs.entered_at >= v_last AND fs.entered_at < to_ts))
               AND w.at < to_ts
          ) x
         GROUP BY x.step
      ) c ON c.step = k;
  END IF;

  RETURN pg_catalog.jsonb_build_object(
    'count_by', count_by,
    'within_s', EXTRACT(epoch FROM v_within)::float8,
    'saved_funnel', v_saved,
    'source', CASE WHEN v_saved IS NOT NULL THEN 'saved_funnel'
                   WHEN v_patterns IS NOT NULL THEN 'session_paths' ELSE 'raw_events' END,
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
